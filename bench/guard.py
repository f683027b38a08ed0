"""(g) The SQL guard on the benign statements an analyst writes (the guard tests' allowed cases).

Each statement is checked by a fresh guard (no verdict cache), interleaved with
sqlglot alone parsing and rendering the same text: the guard's extra work is its
allow-list walk and, on DuckDB, the engine's own parse (a second parse, so DuckDB
costs more). Reported: the guard's p50 and p95 per dialect and their ratio to
bare sqlglot.                                                 target <= 4x
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import sqlglot

from snowmcp.common.guard import Guard

TARGET = 4.0


def guard_vs_sqlglot(repeats: int) -> dict[str, Any]:
    from tests.common.test_guard import ALLOWED

    figures: dict[str, Any] = {}
    ratios = []
    for dialect in ("duckdb", "snowflake"):
        corpus = [sql for sql, dialects, _ in ALLOWED if dialect in dialects]
        guarded: list[float] = []
        bare: list[float] = []
        for _ in range(repeats):
            guard = Guard(dialect)
            for sql in corpus:
                started = time.perf_counter()
                verdict = guard.check(sql)
                guarded.append(time.perf_counter() - started)
                assert verdict.allowed, verdict.reason
                started = time.perf_counter()
                try:
                    for statement in sqlglot.parse(sql, read=dialect):
                        if statement is not None:
                            statement.sql(dialect=dialect)
                except sqlglot.errors.SqlglotError:
                    pass
                bare.append(time.perf_counter() - started)
        p50, bare_p50 = statistics.median(guarded), statistics.median(bare)
        ratios.append(p50 / bare_p50)
        figures[dialect] = {"statements": len(corpus), "guard_p50_ms": round(p50 * 1000, 3),
                            "guard_p95_ms": round(sorted(guarded)[int(len(guarded) * 0.95)] * 1000, 3),
                            "sqlglot_p50_ms": round(bare_p50 * 1000, 3), "ratio": round(p50 / bare_p50, 2)}
    summary = "; ".join(f"{d}: p50 {f['guard_p50_ms']} ms ({f['ratio']}x sqlglot alone, "
                        f"{f['statements']} statements)" for d, f in figures.items())
    return {"pass": max(ratios) <= TARGET, "summary": summary, **figures}
