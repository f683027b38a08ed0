"""Small tables with known values, created identically in DuckDB and in fakesnow (Snowflake).

The tests compute every expected figure from these Python rows, independently of
the SQL the server builds.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

D, T = dt.date, dt.datetime
MEASURES_COLUMNS = ("ID", "GRP", "AMOUNT", "QTY", "DAY", "TS", "FLAG", "CONST", "SPARSE")
MEASURES_TYPES = ("INTEGER", "VARCHAR", "DECIMAL(10,2)", "INTEGER", "DATE", "TIMESTAMP", "BOOLEAN", "VARCHAR", "VARCHAR")
MEASURES: list[tuple[Any, ...]] = [
    (1, "a", Decimal("10.00"), 1, D(2026, 1, 1), T(2026, 1, 1, 8, 0), True, "x", None),
    (2, "a", Decimal("20.00"), 2, D(2026, 1, 1), T(2026, 1, 1, 9, 30), True, "x", None),
    (3, "b", Decimal("30.00"), 0, D(2026, 1, 2), T(2026, 1, 2, 10, 0), False, "x", "s1"),
    (4, "b", None, 3, D(2026, 1, 4), T(2026, 1, 4, 11, 0), True, "x", None),
    (5, "c", Decimal("-5.00"), None, D(2026, 1, 4), T(2026, 1, 4, 23, 59), None, "x", None),
    (6, "a", Decimal("20.00"), 2, D(2026, 1, 5), T(2026, 1, 5, 0, 0), False, "x", None),
    (7, None, Decimal("0.00"), 1, D(2026, 1, 5), None, True, "x", None),
    (8, "b", Decimal("40.00"), 5, None, T(2026, 1, 6, 12, 0), True, "x", "s2"),
    (9, "a", Decimal("15.50"), 4, D(2026, 1, 8), T(2026, 1, 8, 7, 15), False, "x", None),
    (10, "c", Decimal("20.00"), 2, D(2026, 1, 8), T(2026, 1, 8, 18, 45), True, "x", None),
]

# A table and column named to break out of string-built SQL.
HOSTILE_TABLE = 'x"; DROP TABLE y; --'
HOSTILE_COLUMN = "v'); DROP TABLE z; --"

# 70 days of a metric with a weekly pattern; 2026-02-03 has no rows, 2026-02-20 is a spike.
SERIES_START = D(2026, 1, 1)
GAP_DAY = D(2026, 2, 3)
SPIKE_DAY = D(2026, 2, 20)
SPIKE_VALUE = 500.0


def series_rows() -> list[tuple[Any, ...]]:
    rows = []
    for i in range(70):
        day = SERIES_START + dt.timedelta(days=i)
        if day == GAP_DAY:
            continue
        value = SPIKE_VALUE if day == SPIKE_DAY else 100.0 + (20.0 if day.weekday() >= 5 else 0.0) + (i * 7) % 5
        rows.append((day, T(day.year, day.month, day.day, 12, 0), value))
    return rows


def statements(dialect: str) -> list[str]:
    """DDL and inserts for LAB.LAB.{MEASURES, EMPTY, SINGLE, SERIES} and the hostile table, in `dialect`."""
    from sqlglot import exp

    def create(name: str, columns: tuple[str, ...], types: tuple[str, ...]) -> str:
        schema = exp.Schema(this=exp.to_table(f"LAB.LAB.{name}"), expressions=[
            exp.ColumnDef(this=exp.to_identifier(c), kind=exp.DataType.build(t)) for c, t in zip(columns, types)])
        return exp.Create(this=schema, kind="TABLE").sql(dialect=dialect)

    def insert(name: str, rows: list[tuple[Any, ...]]) -> str:
        values = exp.values([tuple(exp.convert(v) for v in row) for row in rows])
        return exp.insert(values, f"LAB.LAB.{name}").sql(dialect=dialect)

    hostile = exp.Create(kind="TABLE", this=exp.Schema(
        this=exp.table_(HOSTILE_TABLE, db="LAB", catalog="LAB", quoted=True),
        expressions=[exp.ColumnDef(this=exp.to_identifier(HOSTILE_COLUMN, quoted=True), kind=exp.DataType.build("INT"))]))
    hostile_rows = exp.insert(exp.values([(exp.convert(1),), (exp.convert(-2),)]),
                              exp.table_(HOSTILE_TABLE, db="LAB", catalog="LAB", quoted=True))
    series_columns, series_types = ("DAY", "TS", "V"), ("DATE", "TIMESTAMP", "DOUBLE")
    return [
        create("MEASURES", MEASURES_COLUMNS, MEASURES_TYPES), insert("MEASURES", MEASURES),
        create("EMPTY", MEASURES_COLUMNS, MEASURES_TYPES),
        create("SINGLE", MEASURES_COLUMNS, MEASURES_TYPES), insert("SINGLE", MEASURES[:1]),
        create("SERIES", series_columns, series_types), insert("SERIES", series_rows()),
        hostile.sql(dialect=dialect), hostile_rows.sql(dialect=dialect),
    ]
