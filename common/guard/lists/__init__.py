"""The guard's allow-lists, as committed data files (one name a line, `#` comments).

`duckdb_*.txt` are generated from the installed engine by `build_duckdb.py`,
`sqlglot_*.txt` from the installed sqlglot by `build_sqlglot.py`; the Snowflake
lists and `sqlglot_nodes.txt` are written by hand from Snowflake's function
reference and sqlglot's expression classes. Tests hold each list to the
installed library (tests/common/test_guard_lists.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent


def read_list(name: str) -> frozenset[str]:
    lines = (HERE / name).read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


@dataclass(frozen=True)
class DialectLists:
    """Normalised function names a dialect may call: in expressions, and as a table source."""

    expressions: frozenset[str]
    tables: frozenset[str]


@functools.cache
def dialect_lists(dialect: str) -> DialectLists:
    if dialect == "duckdb":  # DuckDB names are case-insensitive: kept lower-case
        return DialectLists(read_list("duckdb_functions.txt"), read_list("duckdb_table_functions.txt"))
    if dialect == "snowflake":  # Snowflake's built-ins resolve upper-case
        return DialectLists(read_list("snowflake_functions.txt"), read_list("snowflake_table_functions.txt"))
    raise ValueError(f"no function lists for dialect {dialect}")


@functools.cache
def sqlglot_functions() -> frozenset[str]:
    """Typed sqlglot function classes (by class name) that compute only on their arguments."""
    return read_list("sqlglot_functions.txt")


@functools.cache
def sqlglot_nodes() -> frozenset[str]:
    """Other sqlglot expression classes a read query may contain."""
    return read_list("sqlglot_nodes.txt")
