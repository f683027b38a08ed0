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
from collections import Counter
from pathlib import Path
from typing import Any

TARGET = 1.3
QUERIES = [
    "SELECT COUNT(*) AS N FROM ANALYTICS.SALES.ORDERS",
    "SELECT COUNT(*) AS N FROM ANALYTICS.SALES.CUSTOMERS",
    "SELECT STATUS, COUNT(*) AS N FROM ANALYTICS.SALES.ORDERS GROUP BY STATUS ORDER BY STATUS",
    "SELECT CHANNEL, SUM(AMOUNT) AS TOTAL FROM ANALYTICS.SALES.ORDERS GROUP BY CHANNEL ORDER BY CHANNEL",
    "SELECT * FROM ANALYTICS.SALES.ORDERS ORDER BY ORDER_ID LIMIT 50",
    "SELECT COUNTRY, COUNT(*) AS N FROM ANALYTICS.SALES.CUSTOMERS GROUP BY COUNTRY ORDER BY COUNTRY",
    "SELECT MAX(ORDER_DATE) AS LAST_DAY FROM ANALYTICS.SALES.ORDERS",
    "SELECT PIPELINE, COUNT(*) AS RUNS FROM ANALYTICS.OPS.ETL_RUNS GROUP BY PIPELINE ORDER BY PIPELINE",
    "SELECT * FROM ANALYTICS.OPS.ETL_RUNS WHERE STATUS = 'failed' ORDER BY RUN_ID",
    "SELECT * FROM ANALYTICS.SALES.ORDER_TOTALS ORDER BY CUSTOMER_ID LIMIT 20",
    "SELECT ID, PRICE, DAY FROM ANALYTICS.OPS.TYPED_VALUES ORDER BY ID",
    "SELECT AVG(ROWS_LOADED) AS AVG_ROWS FROM ANALYTICS.OPS.ETL_RUNS",
]


def _counts(server: Any) -> Counter[str]:
    from tests.snowflake_fixtures import _Service

    return Counter(_Service.get().call("GET", f"/listeners/{server.port}/counts")["counts"])


async def requests_per_query() -> dict[str, Any]:
    """Requests to fakesnow per uncached `run_query`, over 12 different statements."""
    from mcp import Client

    from snowmcp.common.settings import Settings
    from snowmcp.common.warehouse.selection import open_warehouse
    from snowmcp.servers.query.server import build_server
    from tests.snowflake_fixtures import FAKE_PASSWORD, FakesnowServer, seed

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
                before = _counts(server)
                for sql in QUERIES:
                    result = await client.call_tool("run_query", {"sql": sql})
                    if result.is_error:
                        raise RuntimeError(f"run_query failed: {result.content}")
                spent = _counts(server) - before
        finally:
            await warehouse.close()
    finally:
        server.stop()
    per_query = sum(spent.values()) / len(QUERIES)
    paths = ", ".join(f"{path} x{n}" for path, n in sorted(spent.items()))
    return {"pass": per_query <= TARGET, "requests_per_query": per_query, "by_path": dict(spent),
            "summary": f"{per_query:.2f} requests per uncached query on fakesnow (target <= {TARGET}; "
                       f"{len(QUERIES)} queries: {paths}); peers not counted"}
