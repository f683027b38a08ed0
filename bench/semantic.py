"""(j) the semantic server: a metric query against running its compiled SQL directly, and compile time.

`query_metrics` (in memory, cache off) of the demo's revenue, orders and average order value by month
and customer segment, filtered to 2026, against the same statement (`get_metrics_compiled_sql`) on a
direct DuckDB connection to a copy of the demo warehouse: the overhead of validating, compiling with
MetricFlow, guarding and capping. Compile time is `get_metrics_compiled_sql` end to end (no statement).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.side_by_side import tool_vs_direct

TARGET = 1.2
QUESTION = {
    "metrics": ["revenue", "orders", "average_order_value"],
    "group_by": [{"name": "metric_time", "type": "time_dimension", "grain": "month"}, {"name": "customer__segment"}],
    "where": ["{{ TimeDimension('metric_time', 'day') }} >= '2026-01-01'"],
}


async def metric_query_vs_compiled_sql(demo: Path, repeats: int) -> dict[str, Any]:
    from mcp import Client

    from snowmcp.common.settings import Settings
    from snowmcp.servers.semantic.demo import MODELS
    from snowmcp.servers.semantic.server import build_server

    settings = Settings(warehouse=f"duckdb://{demo}", cache_ttl_s=0, semantic_models=MODELS,
                        state_dir=Path(tempfile.mkdtemp(prefix="snowmcp-bench-state-")))
    async with Client(build_server(settings)) as client:
        compiled = await client.call_tool("get_metrics_compiled_sql", QUESTION)
        if compiled.is_error:
            raise RuntimeError(f"get_metrics_compiled_sql failed: {compiled.content}")
        sql = compiled.structured_content["sql"]  # type: ignore[index]
        compile_s = []
        for _ in range(max(repeats, 5) * 4):
            started = time.perf_counter()
            await client.call_tool("get_metrics_compiled_sql", QUESTION)
            compile_s.append(time.perf_counter() - started)
    ours, theirs, result, statements = await tool_vs_direct(
        build_server, settings, demo, "query_metrics", QUESTION, sql, repeats)
    rows = result.structured_content["row_count"]
    ratio = ours / theirs
    compile_ms = statistics.median(compile_s) * 1000
    return {
        "pass": ratio <= TARGET and set(statements) == {1} and rows > 0,
        "query_metrics_s": ours, "compiled_sql_s": theirs, "ratio": ratio, "compile_ms": compile_ms,
        "rows": rows, "statements_per_call": sorted(set(statements)),
        "summary": (f"query_metrics (3 metrics by month and segment, {rows} rows): {ours * 1000:.0f} ms; its compiled "
                    f"SQL on DuckDB directly {theirs * 1000:.0f} ms; ratio {ratio:.2f}x (target <= {TARGET}x); "
                    f"compile {compile_ms:.1f} ms"),
    }
