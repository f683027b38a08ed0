"""A readable transcript of an agent session, for `snowmcp host chat` and the demo."""

from __future__ import annotations

import json
import textwrap
from typing import Any, TextIO

from snowmcp.clients.host.agent import Event

MAX_LINES = 16
_PROVENANCE = {"sql", "statements", "elapsed_ms", "cached", "duration_ms", "query_id"}
WIDTH = 100


def print_event(event: Event, out: TextIO) -> None:
    if event.kind == "user":
        out.write(f"\nyou> {event.text}\n")
    elif event.kind == "assistant":
        out.write("\n" + textwrap.fill(event.text, WIDTH, initial_indent="model> ", subsequent_indent="       ") + "\n")
    elif event.kind == "tool_call":
        arguments = json.dumps(event.arguments or {}, default=str)
        out.write(f"  -> {event.tool}({_clip(arguments, 300)})\n")
    elif event.kind == "tool_result":
        label = "  <- ERROR " if event.is_error else "  <- "
        body = event.text if event.is_error or event.structured is None else render(event.structured)
        lines = body.strip().splitlines() or [""]
        out.write(label + lines[0] + "\n")
        for line in lines[1:MAX_LINES]:
            out.write("     " + line + "\n")
        if len(lines) > MAX_LINES:
            out.write(f"     ... ({len(lines) - MAX_LINES} more lines)\n")
        for path in event.files:
            out.write(f"     saved {path}\n")
    else:
        out.write(f"\n[{event.text}]\n")
    out.flush()


def render(structured: dict[str, Any]) -> str:
    """A table for row results, indented JSON (trimmed) for the rest."""
    columns, rows = structured.get("columns"), structured.get("rows")
    if isinstance(columns, list) and isinstance(rows, list) and rows and isinstance(rows[0], list):
        names = [c["name"] if isinstance(c, dict) else str(c) for c in columns]
        cells = [[_clip(_text(v), 24) for v in row] for row in rows[:10]]
        widths = [max(len(n), *(len(r[i]) for r in cells)) for i, n in enumerate(names)]
        lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
        if len(rows) > 10 or structured.get("truncated"):
            lines.append(f"({structured.get('row_count', len(rows))} rows shown, truncated={structured.get('truncated')})")
        return "\n".join(lines)
    lines = []
    for key, value in structured.items():
        if key in _PROVENANCE:
            continue
        if isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{key}: ({len(value)})")
            lines += ["  " + _clip(json.dumps(_brief(item), default=str), WIDTH) for item in value[:6]]
            if len(value) > 6:
                lines.append(f"  ... {len(value) - 6} more")
        else:
            lines.append(_clip(f"{key}: {json.dumps(value, default=str)}", WIDTH))
    return "\n".join(lines)


def _brief(item: dict[str, Any]) -> dict[str, Any]:
    """An item without the fields that make lines long and say little (SQL, provenance)."""
    return {k: v for k, v in item.items() if k not in _PROVENANCE and v is not None}


def _text(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
