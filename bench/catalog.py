"""(h) The tool catalog: what `tools/list` puts in front of the model in every conversation.

Each server is built in memory (no warehouse is touched) and listed through an MCP client; a tool's
entry is its name, description and input schema as compact JSON (`common.catalog.catalog_bytes`).
Reported: bytes and approximate tokens (bytes / 4: no tokenizer is installed here) per server,
the total, and the budget of issue 13.                         target <= 16 KB in all
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from mcp import Client

from snowmcp.common.catalog import CATALOG_TARGET_BYTES, approximate_tokens, catalog_bytes
from snowmcp.common.settings import Settings

SERVERS = ("query", "analytics", "etl", "quality")


async def catalog_sizes(demo: Path) -> dict[str, Any]:
    settings = Settings(warehouse=f"duckdb://{demo}", tools=())
    servers: dict[str, Any] = {}
    for name in SERVERS:
        server = importlib.import_module(f"snowmcp.servers.{name}.server").build_server(settings)
        async with Client(server) as client:
            tools = (await client.list_tools()).tools
        size = catalog_bytes(tools)
        servers[name] = {"tools": len(tools), "bytes": size, "approx_tokens": approximate_tokens(size)}
    total = sum(s["bytes"] for s in servers.values())
    summary = ", ".join(f"{name} {s['bytes']} B ~{s['approx_tokens']} tok ({s['tools']} tools)"
                        for name, s in servers.items())
    summary += (f"; total {total} B ~{approximate_tokens(total)} tok (bytes/4), "
                f"target <= {CATALOG_TARGET_BYTES} B")
    return {"pass": total <= CATALOG_TARGET_BYTES, "summary": summary, "servers": servers,
            "total_bytes": total, "approx_tokens": approximate_tokens(total), "target_bytes": CATALOG_TARGET_BYTES}
