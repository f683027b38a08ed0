"""The analytics benchmark: profile_table on the demo's ORDERS against DuckDB's own SUMMARIZE.

The profile must send one statement for the whole table (counted at the
warehouse, not taken from the tool's report) and, measured in the same run,
take at most half the time of `SUMMARIZE ANALYTICS.SALES.ORDERS` on a direct
DuckDB connection. The profile is timed end to end as a client sees it (an
in-memory MCP call: describe, build, run, decode, validate); the result cache
is off so every call runs in the warehouse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


from bench.side_by_side import tool_vs_direct

PROFILE_TARGET = 0.5
TABLE = "ANALYTICS.SALES.ORDERS"


async def profile_vs_summarize(demo: Path, repeats: int) -> dict[str, Any]:
    from snowmcp.common.settings import Settings
    from snowmcp.servers.analytics.server import build_server

    settings = Settings(warehouse=f"duckdb://{demo}", cache_ttl_s=0)
    profile_s, summarize_s, result, statements = await tool_vs_direct(
        build_server, settings, demo, "profile_table", {"table": TABLE}, f"SUMMARIZE {TABLE}", repeats)
    ratio = profile_s / summarize_s
    columns = len(result.structured_content["columns"])  # type: ignore[index]
    one_statement = set(statements) == {1}
    return {
        "pass": one_statement and ratio <= PROFILE_TARGET,
        "profile_s": profile_s, "summarize_s": summarize_s,
        "ratio": ratio, "statements_per_profile": sorted(set(statements)), "columns": columns,
        "summary": (f"profile_table {TABLE} ({columns} columns): {profile_s * 1000:.0f} ms, "
                    f"{statements[0]} statement(s); SUMMARIZE {summarize_s * 1000:.0f} ms; "
                    f"ratio {ratio:.2f}x (target <= {PROFILE_TARGET}x)"),
    }
