"""What the warehouse benchmarks share: a tool call timed side by side with a direct DuckDB query,
the statements it sent counted at the warehouse.

DuckDB allows one configuration per database file in a process, and the server's
differs from a plain connection's, so the "direct DuckDB" side of a comparison
reads an identical copy of the demo warehouse.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any


class CountingWarehouse:
    """Delegates to a real warehouse and records the statements it executes."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self.statements.append(sql)
        return await self._inner.execute(sql, *args, **kwargs)


@contextlib.contextmanager
def direct_copy(demo: Path) -> Iterator[Any]:
    """A read-only DuckDB connection to a copy of `demo`, removed afterwards."""
    import duckdb

    scratch = Path(tempfile.mkdtemp(prefix="snowmcp-bench-"))
    try:
        shutil.copy(demo, scratch / demo.name)
        connection = duckdb.connect(str(scratch / demo.name), read_only=True)
        connection.execute("SET enable_progress_bar = false")
        try:
            yield connection
        finally:
            connection.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


async def side_by_side(ours: Callable[[], Awaitable[Any]], theirs: Callable[[], Any], repeats: int,
                       after_ours: Callable[[Any], None] = lambda _: None) -> tuple[float, float, Any]:
    """Median seconds of `ours` and of `theirs`, run interleaved (so both see the same machine) after
    one warm-up each; `after_ours` inspects each of our results, the warm-up's included.
    Returns (ours, theirs, last result)."""
    result = await ours()
    after_ours(result)
    theirs()
    ours_s, theirs_s = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        result = await ours()
        ours_s.append(time.perf_counter() - started)
        after_ours(result)
        started = time.perf_counter()
        theirs()
        theirs_s.append(time.perf_counter() - started)
    return statistics.median(ours_s), statistics.median(theirs_s), result


async def tool_vs_direct(build_server: Callable[..., Any], settings: Any, demo: Path, tool: str,
                         arguments: dict[str, Any], direct_sql: str, repeats: int) -> tuple[float, float, Any, list[int]]:
    """Median seconds of an in-memory `tool` call and of `direct_sql` on a copy of `demo`, interleaved;
    also the last result and how many statements each call sent to the warehouse."""
    from mcp import Client

    from snowmcp.common.warehouse.selection import open_warehouse

    warehouse = CountingWarehouse(await open_warehouse(settings))
    statements: list[int] = []

    def check(result: Any) -> None:
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {result.content}")
        statements.append(len(warehouse.statements))
        warehouse.statements.clear()

    server = build_server(settings, warehouse=warehouse)
    with direct_copy(demo) as direct:
        async with Client(server) as client:
            ours, theirs, result = await side_by_side(lambda: client.call_tool(tool, arguments),
                                                      lambda: direct.sql(direct_sql).fetchall(), repeats, check)
    return ours, theirs, result, statements
