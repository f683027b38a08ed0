"""The analytics benchmark: profile_table on the demo's ORDERS against DuckDB's own SUMMARIZE.

The profile must send one statement for the whole table (counted at the
warehouse, not taken from the tool's report) and, measured in the same run,
take at most half the time of `SUMMARIZE ANALYTICS.SALES.ORDERS` on a direct
DuckDB connection. The profile is timed end to end as a client sees it (an
in-memory MCP call: describe, build, run, decode, validate); the result cache
is off so every call runs in the warehouse.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from mcp import Client

from bench.warehouse_copy import CountingWarehouse, direct_copy

PROFILE_TARGET = 0.5
TABLE = "ANALYTICS.SALES.ORDERS"


async def profile_vs_summarize(demo: Path, repeats: int) -> dict[str, Any]:
    from common.settings import Settings
    from common.warehouse.selection import open_warehouse
    from servers.analytics.server import build_server

    settings = Settings(warehouse=f"duckdb://{demo}", cache_ttl_s=0)
    warehouse = CountingWarehouse(await open_warehouse(settings))
    profile_s, summarize_s, statements = [], [], []
    server = build_server(settings, warehouse=warehouse)  # type: ignore[arg-type]
    with direct_copy(demo) as direct:
        async with Client(server) as client:
            await client.call_tool("profile_table", {"table": TABLE})  # warm both sides once
            direct.sql(f"SUMMARIZE {TABLE}").fetchall()
            for _ in range(repeats):  # interleaved, so both see the same machine
                warehouse.statements.clear()
                started = time.perf_counter()
                result = await client.call_tool("profile_table", {"table": TABLE})
                profile_s.append(time.perf_counter() - started)
                if result.is_error:
                    raise RuntimeError(f"profile_table failed: {result.content}")
                statements.append(len(warehouse.statements))
                started = time.perf_counter()
                direct.sql(f"SUMMARIZE {TABLE}").fetchall()
                summarize_s.append(time.perf_counter() - started)
    ratio = statistics.median(profile_s) / statistics.median(summarize_s)
    columns = len(result.structured_content["columns"])  # type: ignore[index]
    one_statement = set(statements) == {1}
    return {
        "pass": one_statement and ratio <= PROFILE_TARGET,
        "profile_s": statistics.median(profile_s), "summarize_s": statistics.median(summarize_s),
        "ratio": ratio, "statements_per_profile": sorted(set(statements)), "columns": columns,
        "summary": (f"profile_table {TABLE} ({columns} columns): {statistics.median(profile_s) * 1000:.0f} ms, "
                    f"{statements[0]} statement(s); SUMMARIZE {statistics.median(summarize_s) * 1000:.0f} ms; "
                    f"ratio {ratio:.2f}x (target <= {PROFILE_TARGET}x)"),
    }
