"""Saved MCP Apps pages: a tool's `ui://` view with its result, as one HTML file a browser opens.

The file is a small host: the view's HTML runs unchanged in a sandboxed iframe (`srcdoc`, scripts
only: no access to the page around it), and `app_host.js` hands it the recorded call through the
MCP Apps postMessage protocol, as Claude Desktop or VS Code would. Nothing is fetched.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from snowmcp import __version__

_HOST_SCRIPT = resources.files("snowmcp.clients.host") / "app_host.js"


def app_page(view_html: str, *, tool: dict[str, Any], arguments: dict[str, Any], result: dict[str, Any],
             title: str, tool_calls: Sequence[dict[str, Any]] = ()) -> str:
    """The page: `view_html` (the ui:// resource) fed `result` (a CallToolResult as JSON) of the call of
    `tool` (its Tool definition as JSON) with `arguments`. `tool_calls` ([{name, result}]) answer the
    tool calls the view makes, if any."""
    session = {"tool": tool, "arguments": arguments, "result": result, "toolCalls": list(tool_calls),
               "hostVersion": __version__}
    data = json.dumps(session, default=str).replace("<", "\\u003c")  # the JSON cannot end its element
    script = _HOST_SCRIPT.read_text(encoding="utf-8")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; background: #f4f4f4; }}
header {{ padding: 8px 16px; font-size: 13px; color: #555; }}
iframe {{ display: block; width: calc(100% - 32px); height: 420px; margin: 0 16px 16px; border: 1px solid #ddd;
  border-radius: 6px; background: #fff; }}
</style>
<script type="application/json" id="snowmcp-session">{data}</script>
<script>
{script}
</script>
</head>
<body>
<header>{html.escape(title)}</header>
<iframe id="snowmcp-app" sandbox="allow-scripts" title="{html.escape(title)}" srcdoc="{html.escape(view_html, quote=True)}"></iframe>
</body>
</html>
"""
