"""Helpers the benchmarks share: a statement-counting warehouse, and a private copy of the demo file.

DuckDB allows one configuration per database file in a process, and the server's
differs from a plain connection's, so the "direct DuckDB" side of a comparison
reads an identical copy of the demo warehouse.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
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
        try:
            yield connection
        finally:
            connection.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
