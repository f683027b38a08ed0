"""`completeness_query` counts empty buckets over the whole range, with no cap; `series_query` keeps
the newest buckets and says how many there are in all. Run on DuckDB, rendered as the tools render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from snowmcp.common.sql.columns import TableColumns
from snowmcp.common.sql.metrics import Metric
from snowmcp.common.sql.time_series import SeriesSpec, completeness_query, read_series, series_query
from snowmcp.common.warehouse.base import ColumnDescription, TableDescription

HOURS = 150_000  # more buckets than any spine cap (the quality server's was 100,000)
START = dt.datetime(2020, 1, 1)
HOLE_AT, HOLE_HOURS = 120_000, 48  # a 48-hour hole past the 100,000th bucket


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    import duckdb

    path: Path = tmp_path_factory.mktemp("series") / "W.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA S")
    con.execute(f"CREATE TABLE S.HOURLY AS SELECT TIMESTAMP '{START}' + INTERVAL (i) HOUR AS TS, i AS V "
                f"FROM range({HOURS}) t(i) WHERE i NOT BETWEEN {HOLE_AT} AND {HOLE_AT + HOLE_HOURS - 1}")
    con.execute("CREATE TABLE S.DAYS AS SELECT DATE '2026-01-01' + INTERVAL (i) DAY AS D FROM range(10) t(i) "
                "WHERE i NOT IN (0, 4, 5, 9)")
    con.execute("CREATE TABLE S.NONE (D DATE)")
    yield con
    con.close()


def spec(table: str, column: str, kind: str, grain: str, start: str | None = None,
         end: str | None = None) -> SeriesSpec:
    description = TableDescription(database="W", schema="S", name=table, kind="table",
                                   columns=[ColumnDescription(name=column, type=kind, nullable=True)])
    return SeriesSpec(description.ref, TableColumns(description, "duckdb"), column, Metric(fn="count"), grain,
                      start=start, end=end)


def run(con: object, query: object) -> list[tuple]:
    return con.execute(query.sql(dialect="duckdb")).fetchall()  # type: ignore[attr-defined]


def test_a_48_hour_hole_past_the_100000th_bucket_is_found(con: object) -> None:
    [(unexpected, tested, first_empty)] = run(con, completeness_query(spec("HOURLY", "TS", "TIMESTAMP", "hour")))
    assert (unexpected, tested) == (HOLE_HOURS, HOURS)
    assert first_empty == START + dt.timedelta(hours=HOLE_AT)


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, (2, 8, dt.date(2026, 1, 5))),  # the data's own range: Jan 2 .. Jan 9
    ("2026-01-01", "2026-01-11", (4, 10, dt.date(2026, 1, 1))),  # empty first and last days count too
    ("2026-01-02", "2026-01-04", (0, 2, None)),
    ("2026-03-01", "2026-03-04", (3, 3, dt.date(2026, 3, 1))),  # no rows at all in the range
])
def test_empty_days_at_the_edges_and_inside_are_counted(con: object, start: str | None, end: str | None,
                                                        expected: tuple) -> None:
    assert run(con, completeness_query(spec("DAYS", "D", "DATE", "day", start, end))) == [expected]


def test_an_empty_table_has_nothing_to_test(con: object) -> None:
    assert run(con, completeness_query(spec("NONE", "D", "DATE", "day"))) == [(0, 0, None)]


def test_a_capped_series_keeps_the_newest_buckets_and_counts_them_all(con: object) -> None:
    rows = [list(r) for r in run(con, series_query(spec("HOURLY", "TS", "TIMESTAMP", "hour"), max_points=1_000))]
    series = read_series(rows)
    assert len(series.points) == 1_000 and series.buckets_total == HOURS and series.left_out == HOURS - 1_000
    assert series.points[-1][0] == START + dt.timedelta(hours=HOURS - 1) and series.first_bucket == START
    sparse = read_series([list(r) for r in run(con, series_query(
        spec("HOURLY", "TS", "TIMESTAMP", "hour"), max_points=1_000, fill_gaps=False))])
    assert sparse.buckets_total == HOURS - HOLE_HOURS and sparse.points == series.points
