"""The analytics benchmark: profile_table on the demo's ORDERS against DuckDB's own SUMMARIZE.

The profile must send one statement for the whole table (counted at the
warehouse, not taken from the tool's report) and, measured in the same run,
take at most half the time of `SUMMARIZE ANALYTICS.SALES.ORDERS` on a direct
DuckDB connection. The profile is timed end to end as a client sees it (an
in-memory MCP call: describe, build, run, decode, validate); the result cache
is off so every call runs in the warehouse.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from mcp import Client

PROFILE_TARGET = 0.5
TABLE = "ANALYTICS.SALES.ORDERS"


class _CountingWarehouse:
    """Delegates to a real warehouse and counts the statements it executes."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(sql)
        return await self._inner.execute(sql, *args, **kwargs)


async def profile_vs_summarize(demo: Path, repeats: int) -> dict[str, Any]:
    import duckdb

    from common.settings import Settings
    from common.warehouse.selection import open_warehouse
    from servers.analytics.server import build_server

    settings = Settings(warehouse=f"duckdb://{demo}", cache_ttl_s=0)
    warehouse = _CountingWarehouse(await open_warehouse(settings))
    # DuckDB allows one configuration per file in a process, and the server's differs: the
    # direct side reads an identical copy.
    scratch = Path(tempfile.mkdtemp(prefix="snowmcp-bench-"))
    shutil.copy(demo, scratch / demo.name)
    direct = duckdb.connect(str(scratch / demo.name), read_only=True)
    profile_s, summarize_s, statements = [], [], []
    async with Client(build_server(settings, warehouse=warehouse)) as client:  # type: ignore[arg-type]
        await client.call_tool("profile_table", {"table": TABLE})  # warm both sides once
        direct.sql(f"SUMMARIZE {TABLE}").fetchall()
        for _ in range(repeats):
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
    direct.close()
    shutil.rmtree(scratch, ignore_errors=True)
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
