"""The demo warehouse: what it plants, that it is deterministic, and that racing builders are safe."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from common.demo_warehouse import DEMO_ANOMALY_DATE, build_demo_warehouse, demo_path, ensure_demo_warehouse


@pytest.fixture(scope="module")
def con(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(demo_db), read_only=True)
    yield connection
    connection.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]  # type: ignore[index]


def test_the_database_is_named_analytics_and_every_object_is_commented(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT current_database()") == "ANALYTICS"
    tables = con.execute("SELECT schema_name || '.' || table_name, comment FROM duckdb_tables()").fetchall()
    assert {name for name, _ in tables} >= {"SALES.ORDERS", "SALES.ORDER_ITEMS", "SALES.CUSTOMERS", "SALES.PRODUCTS",
                                           "OPS.ETL_RUNS"}
    assert all(comment for _, comment in tables)
    assert one(con, "SELECT count(*) FROM duckdb_columns() WHERE database_name = 'ANALYTICS' AND comment IS NULL") == 0


def test_orders_hold_a_million_rows_with_weekly_seasonality(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM SALES.ORDERS") >= 1_000_000
    weekend, weekday = con.execute(
        "SELECT avg(REVENUE) FILTER (WHERE dayofweek(ORDER_DATE) IN (0, 6)), "
        "avg(REVENUE) FILTER (WHERE dayofweek(ORDER_DATE) NOT IN (0, 6)) FROM SALES.DAILY_REVENUE").fetchone()  # type: ignore[misc]
    assert weekend / weekday > 1.15


def test_one_day_is_a_clear_revenue_anomaly(con: duckdb.DuckDBPyConnection) -> None:
    top = con.execute("SELECT ORDER_DATE, REVENUE / (SELECT median(REVENUE) FROM SALES.DAILY_REVENUE) "
                      "FROM SALES.DAILY_REVENUE ORDER BY REVENUE DESC LIMIT 2").fetchall()
    (day, ratio), (_, runner_up) = top
    assert day == DEMO_ANOMALY_DATE and ratio > 3 and runner_up < 1.8


def test_the_planted_defects_are_there(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM SALES.CUSTOMERS WHERE EMAIL IS NULL") > 100
    assert one(con, "SELECT count(*) - count(DISTINCT CUSTOMER_ID) FROM SALES.CUSTOMERS") == 25
    assert one(con, "SELECT count(*) - count(DISTINCT ORDER_ID) FROM SALES.ORDERS") == 10
    assert one(con, "SELECT count(*) FROM SALES.ORDERS o ANTI JOIN SALES.CUSTOMERS c USING (CUSTOMER_ID)") > 100
    assert one(con, "SELECT count(*) FROM SALES.ORDERS WHERE AMOUNT < 0") > 10
    assert one(con, "SELECT count(*) FROM SALES.ORDERS WHERE AMOUNT > 100000") == 3
    assert one(con, "SELECT count(*) FROM SALES.ORDERS WHERE CHANNEL IS NULL") > 100
    assert one(con, "SELECT count(*) FROM SALES.ORDER_ITEMS i ANTI JOIN SALES.PRODUCTS p USING (PRODUCT_ID)") > 10


def test_products_is_the_one_stale_table(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT date_diff('day', max(UPDATED_AT), TIMESTAMP '2026-11-20') FROM SALES.PRODUCTS") >= 14
    assert one(con, "SELECT date_diff('hour', max(UPDATED_AT), TIMESTAMP '2026-11-20') FROM SALES.ORDERS") <= 24


def test_etl_runs_show_failures_late_slow_and_running_runs(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("SELECT min(STARTED_AT)::DATE, max(STARTED_AT)::DATE FROM OPS.ETL_RUNS").fetchone()  # type: ignore[misc]
    assert (last - first).days == 90
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE STATUS = 'running' AND ENDED_AT IS NULL") == 1
    assert one(con, "SELECT count(DISTINCT RUN_ID) = count(*) FROM OPS.ETL_RUNS")
    assert one(con, "SELECT bool_and(STATUS = 'failed') FROM OPS.ETL_RUNS "
                    "WHERE PIPELINE = 'load_products' AND STARTED_AT >= TIMESTAMP '2026-11-13'")
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE STATUS = 'failed' AND PIPELINE <> 'load_products'") > 10
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE PIPELINE = 'refresh_revenue_mart' "
                    "AND STARTED_AT >= TIMESTAMP '2026-11-13' AND hour(STARTED_AT) >= 7") == 2
    slow, usual = con.execute(
        "SELECT max(date_diff('second', STARTED_AT, ENDED_AT)) FILTER (WHERE STARTED_AT >= TIMESTAMP '2026-11-18'), "
        "median(date_diff('second', STARTED_AT, ENDED_AT)) FROM OPS.ETL_RUNS WHERE PIPELINE = 'build_order_items' "
        "AND STATUS = 'success'").fetchone()  # type: ignore[misc]
    assert slow > 4 * usual


def _checksums(path: Path) -> list[Any]:
    with duckdb.connect(str(path), read_only=True) as c:
        return [c.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchone()
                for table in ("SALES.ORDERS", "SALES.CUSTOMERS", "SALES.ORDER_ITEMS", "OPS.ETL_RUNS")]


def test_builds_are_deterministic(demo_db: Path, tmp_path: Path) -> None:
    again = build_demo_warehouse(tmp_path / "ANALYTICS.duckdb")
    assert _checksums(again) == _checksums(demo_db)


def _race(state_dir: str) -> str:
    return str(ensure_demo_warehouse(Path(state_dir)))


def test_racing_builders_build_once_and_never_expose_a_partial_file(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        paths = pool.map(_race, [str(tmp_path)] * 4)
    assert set(paths) == {str(demo_path(tmp_path))}
    folder = demo_path(tmp_path).parent
    assert sorted(p.name for p in folder.iterdir()) == ["ANALYTICS.duckdb", "ANALYTICS.duckdb.lock"]
    mtime = demo_path(tmp_path).stat().st_mtime_ns
    ensure_demo_warehouse(tmp_path)
    assert demo_path(tmp_path).stat().st_mtime_ns == mtime  # not rebuilt
    with duckdb.connect(paths[0], read_only=True) as a, duckdb.connect(paths[0], read_only=True) as b:
        assert a.execute("SELECT count(*) FROM SALES.PRODUCTS").fetchone() == b.execute(
            "SELECT count(*) FROM SALES.PRODUCTS").fetchone() == (2000,)
