"""Capping cell sizes inside a DuckDB statement, so a huge value never reaches Python.

`DESCRIBE <statement>` binds the statement without running it and gives its
column types. For the columns that can hold a big value (text, binary,
lists, maps) the statement is wrapped:

    SELECT left(c1, B) AS "name", ..., strlen(c1)   -- hidden: original size in bytes
    FROM (<statement>) AS _snowmcp_cells(c1, c2, ...)

(the plainest expressions DuckDB offers: a CASE per column costs twice as much
to plan as the statement itself on a 200-row read)

so DuckDB hands Python at most the budget of each cell, plus the original size
of every cut cell, which `CappedRows` turns into `Cut` values for the
collector to report.

The same wrapper selects the columns whose values DuckDB's Python conversion
would change (intervals, ±infinity dates and timestamps, nanoseconds; also
inside lists, structs and maps) as exact text (`duckdb_values.py`). Structs,
unions and values nested inside lists are size-checked after the fetch
(`common.result_cells`). A statement DESCRIBE cannot bind (EXPLAIN, or one
with an error) runs as written; the collector's own check still applies to it
(and such a statement's intervals come back as Python timedeltas, without months).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from snowmcp.common.result_cells import Cut
from snowmcp.common.results import ColumnInfo
from snowmcp.common.warehouse.duckdb_values import Fix, exact

_ALIAS = "_snowmcp_cells"


@dataclass(frozen=True)
class CappedStatement:
    """The statement to run, its visible columns, and where the hidden size columns are."""

    sql: str
    columns: list[ColumnInfo]
    sized: list[tuple[int, int, int]]  # (visible column, hidden size column, size above which it was cut)
    fixes: tuple[tuple[int, Fix], ...] = ()  # (visible column, what makes its DuckDB text exact: duckdb_values)

    def rows(self, batch: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
        """Visible rows of a fetched batch: values made exact, cut cells as `Cut` values."""
        if not self.sized and not self.fixes:
            return list(batch)
        width = len(self.columns)
        out: list[Sequence[Any]] = []
        for raw in batch:
            row = list(raw[:width])
            for visible, fix in self.fixes:
                if (value := row[visible]) is not None:
                    row[visible] = fix(value)
            for visible, hidden, over in self.sized:
                size = raw[hidden]
                if size is not None and size > over:
                    row[visible] = Cut(row[visible], int(size))
            out.append(row)
        return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _kind(type_name: str) -> str | None:
    """Which cap a DuckDB column type gets in the statement: text, blob, list, map, or none."""
    upper = type_name.upper()
    if upper.endswith("]"):  # LIST (T[]) and ARRAY (T[n]), VARCHAR[] included
        return "list"
    if upper.startswith("VARCHAR") or upper == "JSON":
        return "text"
    if upper == "BLOB":
        return "blob"
    if upper.startswith("MAP("):
        return "map"
    return None


def _capped(column: str, kind: str, type_name: str, budget: int, exact: str | None = None) -> tuple[str, str, int]:
    """(value expression, original-size expression, size above which the value was cut) of one column;
    `exact` is the value as `exact_text` gives it, for a list or map holding values to convert."""
    if kind == "text":  # at most `budget` characters; the collector trims to bytes and reports the size
        text = column if type_name.upper() == "VARCHAR" else f"CAST({column} AS VARCHAR)"
        return f"left({text}, {budget})", f"strlen({text})", budget
    if kind == "blob":  # base64 in the result: 4 bytes per 3
        over = f"octet_length({column}) > {budget * 3 // 4}"
        return f"CASE WHEN {over} THEN NULL ELSE {column} END", f"CASE WHEN {over} THEN octet_length({column}) END", -1
    count = f"cardinality({column})" if kind == "map" else f"len({column})"
    per_item = 6 if kind == "map" else 2  # the fewest JSON bytes an entry can take
    over = f"{count} > {budget // per_item}"
    return (f"CASE WHEN {over} THEN NULL ELSE {exact or column} END",
            f"CASE WHEN {over} THEN {per_item} * {count} + 1 END", -1)


class CellCapper:
    """`cap_cells` with a small memory of statements already described (DESCRIBE costs ~1 ms).

    The file is open read-only for the life of the connection, so a statement's
    column types cannot change under it."""

    def __init__(self, error: type[BaseException], size: int = 512) -> None:
        self._error = error
        self._size = size
        self._known: OrderedDict[tuple[Any, ...], CappedStatement | None] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, cursor: Any, sql: str, params: list[Any] | None, budget: int) -> CappedStatement | None:
        key = (sql, budget, tuple(type(p).__name__ for p in params or ()))
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return self._known[key]
        capped = cap_cells(cursor, self._error, sql, params, budget)
        with self._lock:
            self._known[key] = capped
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return capped


def cap_cells(cursor: Any, error: type[BaseException], sql: str, params: list[Any] | None,
              budget: int) -> CappedStatement | None:
    """The statement wrapped so no cell exceeds `budget` bytes, or None to run it as written.

    `cursor` is a DuckDB cursor (used only for DESCRIBE); `error` is `duckdb.Error`."""
    statement = sql.strip().rstrip(";").strip()
    try:
        described = cursor.execute(f"DESCRIBE {statement}", params).fetchall()
    except error:
        return None
    columns = [ColumnInfo(name=str(row[0]), type=str(row[1])) for row in described]
    kinds = [_kind(column.type) for column in columns]
    inner = [f"c{i}" for i in range(len(columns))]
    exacts = [exact(name, column.type) for name, column in zip(inner, columns)]
    if not any(kinds) and not any(exacts):
        return None
    values, sizes, sized = [], [], []
    fixes = tuple((i, e.fix) for i, e in enumerate(exacts) if e is not None and e.fix is not None)
    for i, (column, kind) in enumerate(zip(columns, kinds)):
        sql = exacts[i].sql if exacts[i] else None
        if kind is None:
            values.append(f"{sql or inner[i]} AS {_quote(column.name)}")
            continue
        value, size, over = _capped(inner[i], kind, column.type, budget, sql)
        values.append(f"{value} AS {_quote(column.name)}")
        sized.append((i, len(columns) + len(sizes), over))
        sizes.append(f"{size} AS _snowmcp_size{i}")
    wrapped = (
        f"SELECT {', '.join(values + sizes)}\nFROM (\n{statement}\n) AS {_ALIAS}({', '.join(inner)})"
    )
    return CappedStatement(sql=wrapped, columns=columns, sized=sized, fixes=fixes)
