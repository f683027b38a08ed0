"""(h) requests per uncached query on Snowflake, counted at a fakesnow server (issue 13: at most 1.3).

snowmcp's `run_query` (an in-memory MCP client, cache off) sends 12 different statements to a fakesnow
server reached over HTTP by the installed snowflake-connector-python; the fakesnow service
(`tests/fakesnow_service.py`, in `.tools/fakesnow-venv`: `make fakesnow`) counts every HTTP request
that reaches it, by path. The session's login is paid before counting (a warm server).

Only snowmcp is counted: the peers' Snowflake servers (snowflake-labs-mcp, mcp-snowflake-server) were
not installed for this figure (mcp-snowflake-server 0.4.0 needs `mcp<2`; see the field notes).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

TARGET = 1.3


async def requests_per_query() -> dict[str, Any]:
    """Requests to fakesnow per uncached `run_query`, over 12 different statements."""
    from mcp import Client

    from snowmcp.common.settings import Settings
    from snowmcp.common.warehouse.selection import open_warehouse
    from snowmcp.servers.query.server import build_server
    from tests.snowflake_fixtures import FAKE_PASSWORD, TWELVE_QUERIES, FakesnowServer, request_counts, seed

    server = FakesnowServer().start()
    try:
        seed(server)
        # No connections.toml: the connector's generic SNOWFLAKE_* variables (read at connect time).
        os.environ.update({f"SNOWFLAKE_{key.upper()}": str(value) for key, value in server.connect_params().items()})
        os.environ["SNOWFLAKE_PASSWORD"] = FAKE_PASSWORD
        settings = Settings(warehouse="snowflake://", state_dir=Path(tempfile.mkdtemp(prefix="snowmcp-bench-")),
                            snowflake_database="ANALYTICS", cache_ttl_s=0)
        warehouse = await open_warehouse(settings)
        try:
            async with Client(build_server(settings, warehouse=warehouse)) as client:
                await client.call_tool("run_query", {"sql": "SELECT 1 AS WARM"})
                before = request_counts(server)
                for sql in TWELVE_QUERIES:
                    result = await client.call_tool("run_query", {"sql": sql})
                    if result.is_error:
                        raise RuntimeError(f"run_query failed: {result.content}")
                spent = request_counts(server) - before
        finally:
            await warehouse.close()
    finally:
        server.stop()
    per_query = sum(spent.values()) / len(TWELVE_QUERIES)
    paths = ", ".join(f"{path} x{n}" for path, n in sorted(spent.items()))
    return {"pass": per_query <= TARGET, "requests_per_query": per_query, "by_path": dict(spent),
            "summary": f"{per_query:.2f} requests per uncached query on fakesnow (target <= {TARGET}; "
                       f"{len(TWELVE_QUERIES)} queries: {paths}); peers not counted"}
