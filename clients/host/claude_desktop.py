"""`snowmcp config claude`: the `mcpServers` entries for the four snowmcp servers in Claude Desktop's config.

Prints them, or with `--write` merges them into Claude Desktop's config file
for this platform (other servers and settings are kept; the old file is saved
as `claude_desktop_config.json.bak-<time>` first). The command is this
installation's `snowmcp` script, by absolute path, as Claude Desktop needs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from snowmcp.clients.host.config import SNOWMCP_SERVERS
from snowmcp.common.errors import ConfigError
from snowmcp.clients.host.launch import snowmcp_command


def config_path(platform: str = sys.platform, environ: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """Where Claude Desktop keeps its config on this platform."""
    environ = dict(os.environ) if environ is None else environ
    home = home or Path.home()
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if platform.startswith("win"):
        return Path(environ.get("APPDATA", home / "AppData" / "Roaming")) / "Claude" / "claude_desktop_config.json"
    return Path(environ.get("XDG_CONFIG_HOME", home / ".config")) / "Claude" / "claude_desktop_config.json"


def server_entries(warehouse: str | None, prefix: str = "snowmcp-") -> dict[str, Any]:
    command, *launch = snowmcp_command()
    entries = {}
    for name in SNOWMCP_SERVERS:
        entry: dict[str, Any] = {"command": command, "args": [*launch, "serve", name]}
        if warehouse:
            entry["env"] = {"SNOWMCP_WAREHOUSE": warehouse}
        entries[f"{prefix}{name}"] = entry
    return entries


def merge_into(path: Path, entries: dict[str, Any]) -> Path | None:
    """Merge `entries` into the config at `path` (created if absent); returns the backup's path, if any."""
    current: dict[str, Any] = {}
    backup = None
    if path.exists():
        try:
            current = json.loads(path.read_text() or "{}")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}): fix or move it, then run again") from None
        if not isinstance(current, dict) or not isinstance(current.get("mcpServers", {}), dict):
            raise ConfigError(f"{path}: expected an object whose mcpServers is an object")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = path.with_name(f"{path.name}.bak-{stamp}")
        shutil.copy2(path, backup)
    merged = {**current, "mcpServers": {**current.get("mcpServers", {}), **entries}}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(merged, indent=2) + "\n")
    os.replace(scratch, path)
    return backup
