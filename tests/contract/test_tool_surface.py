"""The tool surface (names, descriptions, input/output schemas, annotations) is a contract.

A change to it must be deliberate: regenerate the snapshot with
`SNOWMCP_UPDATE_SNAPSHOT=1 pytest tests/contract/test_tool_surface.py` and
commit the diff together with the README.
"""

from __future__ import annotations

import pytest

import json
import os
from pathlib import Path
from typing import Any

from mcp import Client

from snowmcp.common.settings import Settings

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).with_name("tool_surface.json")
SERVERS = ("query", "analytics", "etl", "quality", "semantic")


async def _surface(server_name: str, settings: Settings) -> list[dict[str, Any]]:
    import importlib

    server = importlib.import_module(f"servers.{server_name}.server").build_server(settings)
    async with Client(server) as client:
        tools = (await client.list_tools()).tools
    return [
        {
            "name": t.name,
            "title": t.title,
            "description": t.description,
            "input_schema": t.input_schema,
            "output_schema": t.output_schema,
            "annotations": t.annotations.model_dump(mode="json", exclude_none=True) if t.annotations else None,
        }
        for t in sorted(tools, key=lambda t: t.name)
    ]


async def test_tool_surface_matches_the_committed_snapshot(settings: Settings) -> None:
    current = {name: await _surface(name, settings) for name in SERVERS}
    if os.environ.get("SNOWMCP_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    committed = json.loads(SNAPSHOT.read_text())
    assert current == committed, "tool surface changed: regenerate the snapshot if this is deliberate"
