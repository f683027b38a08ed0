"""The demo warehouse: its shape and comments, the facts it plants, determinism, and safe racing builds."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

import snowmcp.common.demo_warehouse as demo
from snowmcp.common.demo_warehouse import (
    DEMO_ANOMALY_DATE,
    DEMO_DATABASE,
    build_demo_warehouse,
    demo_path,
    ensure_demo_warehouse,
)

SPAWN = multiprocessing.get_context("spawn")
TABLES = ("SALES.CUSTOMERS", "SALES.PRODUCTS", "SALES.ORDERS", "SALES.ORDER_ITEMS", "OPS.ETL_RUNS", "OPS.TABLE_SLAS",
          "SALES.ALL_DAYS")
COLUMNS = {
    "SALES.CUSTOMERS": "CUSTOMER_ID BIGINT, NAME VARCHAR, EMAIL VARCHAR, COUNTRY VARCHAR, SEGMENT VARCHAR, "
                       "SIGNUP_DATE DATE, IS_ACTIVE BOOLEAN, LIFETIME_VALUE DECIMAL(12,2)",
    "SALES.PRODUCTS": "PRODUCT_ID BIGINT, SKU VARCHAR, NAME VARCHAR, CATEGORY VARCHAR, UNIT_PRICE DECIMAL(10,2), "
                      "IS_DISCONTINUED BOOLEAN, UPDATED_AT TIMESTAMP",
    "SALES.ORDERS": "ORDER_ID BIGINT, CUSTOMER_ID BIGINT, ORDER_DATE DATE, ORDERED_AT TIMESTAMP WITH TIME ZONE, "
                    "STATUS VARCHAR, CHANNEL VARCHAR, CURRENCY VARCHAR, AMOUNT DECIMAL(12,2), DISCOUNT DECIMAL(12,2), "
                    "SHIPPING_COUNTRY VARCHAR, UPDATED_AT TIMESTAMP",
    "SALES.ORDER_ITEMS": "ORDER_ID BIGINT, LINE_NUMBER INTEGER, PRODUCT_ID BIGINT, QUANTITY INTEGER, "
                         "UNIT_PRICE DECIMAL(10,2), LINE_AMOUNT DECIMAL(12,2)",
    "SALES.DAILY_REVENUE": "ORDER_DATE DATE, ORDERS BIGINT, REVENUE DECIMAL(38,2)",
    "OPS.ETL_RUNS": "PIPELINE VARCHAR, RUN_ID VARCHAR, STATUS VARCHAR, STARTED_AT TIMESTAMP, ENDED_AT TIMESTAMP, "
                    "ROWS_LOADED BIGINT, ERROR_MESSAGE VARCHAR, TARGET_TABLE VARCHAR, TRIGGERED_BY VARCHAR",
    "OPS.TABLE_SLAS": "TABLE_NAME VARCHAR, MAX_AGE_HOURS INTEGER, OWNER VARCHAR",
    "SALES.ALL_DAYS": "DATE_DAY DATE",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_warehouse(demo_path(tmp_path_factory.mktemp("demo-state")))


@pytest.fixture(scope="module")
def con(built: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built), read_only=True)
    yield connection
    connection.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]  # type: ignore[index]


def checksums(path: Path | str) -> dict[str, Any]:
    with duckdb.connect(str(path), read_only=True) as c:
        return {t: c.execute(f"SELECT count(*), sum(hash(t)) FROM {t} t").fetchone() for t in TABLES}


# --- shape -------------------------------------------------------------------------------------


def test_the_file_is_database_analytics(built: Path, con: duckdb.DuckDBPyConnection) -> None:
    assert built.name == "ANALYTICS.duckdb" and built.parent.name == "demo"
    assert one(con, "SELECT current_database()") == DEMO_DATABASE == "ANALYTICS"


@pytest.mark.parametrize("table", COLUMNS)
def test_every_table_and_column_exists_with_a_comment(con: duckdb.DuckDBPyConnection, table: str) -> None:
    schema, name = table.split(".")
    comment = con.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
        "UNION ALL SELECT comment FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [schema, name, schema, name]).fetchall()
    assert len(comment) == 1 and comment[0][0], f"{table} is missing or has no comment"
    columns = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() "
                          "WHERE database_name = 'ANALYTICS' AND schema_name = ? AND table_name = ? "
                          "ORDER BY column_index", [schema, name]).fetchall()
    assert ", ".join(f"{c} {t}" for c, t, _ in columns) == COLUMNS[table]
    assert [c for c, _, text in columns if not text] == []


def test_sizes(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) FROM SALES.ORDERS") >= 1_000_000
    assert 49_000 <= one(con, "SELECT count(*) FROM SALES.CUSTOMERS") <= 51_000
    assert one(con, "SELECT count(*) FROM SALES.PRODUCTS") == 2_000
    assert one(con, "SELECT count(*) FROM SALES.ORDER_ITEMS") >= 2_000_000
    assert one(con, "SELECT count(*) FROM SALES.ORDERS ANTI JOIN SALES.ORDER_ITEMS USING (ORDER_ID)") == 0
    assert one(con, "SELECT min(ORDER_DATE)::VARCHAR || ' ' || max(ORDER_DATE) FROM SALES.ORDERS") \
        == "2024-11-20 2026-11-19"


# --- the time series ---------------------------------------------------------------------------


def test_daily_revenue_has_weekly_seasonality_and_a_trend(con: duckdb.DuckDBPyConnection) -> None:
    weekend, weekday = con.execute(
        "SELECT avg(REVENUE) FILTER (WHERE dayofweek(ORDER_DATE) IN (0, 6)), "
        "avg(REVENUE) FILTER (WHERE dayofweek(ORDER_DATE) NOT IN (0, 6)) FROM SALES.DAILY_REVENUE").fetchone()  # type: ignore[misc]
    assert weekend / weekday > 1.15
    first, last = con.execute(
        "SELECT avg(REVENUE) FILTER (WHERE ORDER_DATE < DATE '2025-02-18'), "
        "avg(REVENUE) FILTER (WHERE ORDER_DATE > DATE '2026-08-21' AND ORDER_DATE <> ?) FROM SALES.DAILY_REVENUE",
        [DEMO_ANOMALY_DATE]).fetchone()  # type: ignore[misc]
    assert last / first > 1.2


def test_one_day_is_the_clear_revenue_anomaly(con: duckdb.DuckDBPyConnection) -> None:
    (day, ratio), (_, runner_up) = con.execute(
        "SELECT ORDER_DATE, REVENUE / (SELECT median(REVENUE) FROM SALES.DAILY_REVENUE) "
        "FROM SALES.DAILY_REVENUE ORDER BY REVENUE DESC LIMIT 2").fetchall()
    assert day == DEMO_ANOMALY_DATE and ratio > 3 and runner_up < 2
    outliers = con.execute(
        "SELECT ORDER_DATE FROM (SELECT ORDER_DATE, (REVENUE - avg(REVENUE) OVER ()) / stddev(REVENUE) OVER () AS z "
        "FROM SALES.DAILY_REVENUE) WHERE abs(z) > 4").fetchall()
    assert outliers == [(DEMO_ANOMALY_DATE,)]


# --- planted defects ---------------------------------------------------------------------------


def test_customers_defects(con: duckdb.DuckDBPyConnection) -> None:
    assert 100 < one(con, "SELECT count(*) FROM SALES.CUSTOMERS WHERE EMAIL IS NULL") < 500
    assert one(con, "SELECT count(*) - count(DISTINCT CUSTOMER_ID) FROM SALES.CUSTOMERS") == 25


def test_orders_defects(con: duckdb.DuckDBPyConnection) -> None:
    assert one(con, "SELECT count(*) - count(DISTINCT ORDER_ID) FROM SALES.ORDERS") == 10
    assert 100 < one(con, "SELECT count(*) FROM SALES.ORDERS ANTI JOIN SALES.CUSTOMERS USING (CUSTOMER_ID)") < 1000
    assert 30 <= one(con, "SELECT count(*) FROM SALES.ORDERS WHERE AMOUNT < 0") <= 80
    assert one(con, "SELECT count(*) FROM SALES.ORDERS WHERE AMOUNT > 1000000") == 20
    assert 500 < one(con, "SELECT count(*) FROM SALES.ORDERS WHERE CHANNEL IS NULL") < 3000
    assert one(con, "SELECT count(*) FROM SALES.ORDER_ITEMS ANTI JOIN SALES.PRODUCTS USING (PRODUCT_ID)") > 10


def test_absurd_amounts_are_reversed_the_same_day(con: duckdb.DuckDBPyConnection) -> None:
    """So the one revenue anomaly stays the only one."""
    assert one(con, "SELECT count(*) FROM (SELECT ORDER_DATE, sum(AMOUNT) AS net FROM SALES.ORDERS "
                    "WHERE abs(AMOUNT) > 1000000 GROUP BY ORDER_DATE) WHERE net <> 0") == 0


def test_products_is_the_one_stale_table(con: duckdb.DuckDBPyConnection) -> None:
    age = "date_diff('hour', max(UPDATED_AT), TIMESTAMP '2026-11-20 00:00:00')"
    assert one(con, f"SELECT {age} FROM SALES.PRODUCTS") >= 14 * 24
    assert one(con, f"SELECT {age} FROM SALES.ORDERS") <= 24
    assert one(con, "SELECT max(ORDERED_AT) FROM SALES.ORDERS").date().isoformat() == "2026-11-19"
    assert one(con, "SELECT max(STARTED_AT) FROM OPS.ETL_RUNS").date().isoformat() == "2026-11-20"


def test_etl_runs_cover_90_days_with_one_running_run(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("SELECT min(STARTED_AT)::DATE, max(STARTED_AT)::DATE FROM OPS.ETL_RUNS").fetchone()  # type: ignore[misc]
    assert (last - first).days == 90
    assert one(con, "SELECT count(DISTINCT PIPELINE) FROM OPS.ETL_RUNS") == 8
    assert one(con, "SELECT count(DISTINCT RUN_ID) = count(*) FROM OPS.ETL_RUNS")
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE STATUS = 'running' AND ENDED_AT IS NULL") == 1
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE ENDED_AT IS NULL") == 1
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE (ERROR_MESSAGE IS NOT NULL) <> (STATUS = 'failed')") == 0
    assert one(con, "SELECT string_agg(DISTINCT STATUS, ',' ORDER BY STATUS) FROM OPS.ETL_RUNS") \
        == "cancelled,failed,running,success"


def test_load_products_has_been_failing_for_20_days(con: duckdb.DuckDBPyConnection) -> None:
    runs, failed, feed = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE STATUS = 'failed'), "
        "count(*) FILTER (WHERE ERROR_MESSAGE LIKE '%RAW.PRODUCTS_FEED%') "
        "FROM OPS.ETL_RUNS WHERE PIPELINE = 'load_products' AND STARTED_AT >= TIMESTAMP '2026-11-01'").fetchone()  # type: ignore[misc]
    assert runs == failed == feed == 20
    assert one(con, "SELECT max(STARTED_AT) FROM OPS.ETL_RUNS WHERE PIPELINE = 'load_products' "
                    "AND STATUS = 'success'").date().isoformat() == "2026-10-31"
    assert one(con, "SELECT count(*) FROM OPS.ETL_RUNS WHERE STATUS = 'failed' AND PIPELINE <> 'load_products'") > 10


def test_recent_late_and_slow_runs(con: duckdb.DuckDBPyConnection) -> None:
    late = con.execute("SELECT STARTED_AT::DATE::VARCHAR FROM OPS.ETL_RUNS WHERE PIPELINE = 'refresh_revenue_mart' "
                       "AND hour(STARTED_AT) >= 7 ORDER BY 1").fetchall()
    assert late == [("2026-11-17",), ("2026-11-19",)]
    slow, usual = con.execute(
        "SELECT min(date_diff('second', STARTED_AT, ENDED_AT)) FILTER (WHERE STARTED_AT >= TIMESTAMP '2026-11-18'), "
        "median(date_diff('second', STARTED_AT, ENDED_AT)) FROM OPS.ETL_RUNS "
        "WHERE PIPELINE = 'build_order_items' AND STATUS = 'success'").fetchone()  # type: ignore[misc]
    assert slow > 4 * usual


# --- building: determinism, atomicity, races, readers -----------------------------------------


def _race(state_dir: str) -> int:
    """A racing server: ensure the warehouse, then open it read-only straight away."""
    path = ensure_demo_warehouse(Path(state_dir))
    with duckdb.connect(str(path), read_only=True) as c:
        return c.execute("SELECT count(*) FROM SALES.ORDERS").fetchone()[0]  # type: ignore[index]


def _watch(path: str, out: Any) -> None:
    """An impatient reader: open the file the moment it appears; it must be complete."""
    deadline = time.monotonic() + 120
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.002)
    with duckdb.connect(path, read_only=True) as c:
        out.put(c.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'ANALYTICS'").fetchone()[0])


def test_four_racing_builders_build_once_deterministically(
        built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")  # the build must not depend on the builder's time zone
    path = demo_path(tmp_path)
    seen = SPAWN.Queue()
    watcher = SPAWN.Process(target=_watch, args=(str(path), seen))
    watcher.start()
    with SPAWN.Pool(4) as pool:
        counts = pool.map(_race, [str(tmp_path)] * 4)
    watcher.join(60)
    assert seen.get(timeout=5) == len(TABLES)
    assert len(set(counts)) == 1 and counts[0] >= 1_000_000
    assert sorted(p.name for p in path.parent.iterdir()) == ["ANALYTICS.duckdb", "ANALYTICS.lock"]
    assert checksums(path) == checksums(built)


def test_ensure_does_not_rebuild_or_lock_an_existing_file(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = built.stat()
    monkeypatch.setattr(demo.fcntl, "flock", lambda *_: pytest.fail("took the lock"))
    assert ensure_demo_warehouse(built.parent.parent) == built
    after = built.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_force_rebuilds_beside_open_readers_and_clears_abandoned_builds(
        built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "demo" / "ANALYTICS.duckdb"
    path.parent.mkdir()
    os.link(built, path)  # a second name for the module's file; the rebuild replaces this one only
    (path.parent / ".building-crashed").mkdir()
    (path.parent / ".building-crashed" / "ANALYTICS.duckdb").write_bytes(b"half a warehouse")
    during: list[Any] = []
    populate = demo._populate

    def watched(staged: Path) -> None:
        with duckdb.connect(str(path), read_only=True) as reader:  # the old file stays whole meanwhile
            populate(staged)
            during.append(reader.execute("SELECT count(*) FROM SALES.PRODUCTS").fetchone())
            during.append(staged.parent.parent == path.parent and staged.name == path.name)

    monkeypatch.setattr(demo, "_populate", watched)
    old_inode = path.stat().st_ino
    assert build_demo_warehouse(path, force=True) == path
    assert during == [(2000,), True]
    assert path.stat().st_ino != old_inode
    assert sorted(p.name for p in path.parent.iterdir()) == ["ANALYTICS.duckdb", "ANALYTICS.lock"]
    assert checksums(path) == checksums(built)


def _hold_read_only(path: str, barrier: Any, out: Any) -> None:
    with duckdb.connect(path, read_only=True) as c:
        barrier.wait(timeout=60)  # both processes hold the file open now
        out.put(c.execute("SELECT count(*) FROM SALES.PRODUCTS").fetchone()[0])
        barrier.wait(timeout=60)


def test_two_processes_read_it_at_once(built: Path) -> None:
    barrier, out = SPAWN.Barrier(2), SPAWN.Queue()
    readers = [SPAWN.Process(target=_hold_read_only, args=(str(built), barrier, out)) for _ in range(2)]
    for reader in readers:
        reader.start()
    results = [out.get(timeout=60) for _ in readers]
    for reader in readers:
        reader.join(60)
    assert results == [2000, 2000] and all(r.exitcode == 0 for r in readers)


@pytest.mark.anyio
async def test_a_first_call_that_builds_the_demo_reports_progress(tmp_path: Path) -> None:
    from mcp import Client

    from snowmcp.common.settings import Settings
    from snowmcp.servers.query.server import build_server

    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async with Client(build_server(Settings(warehouse="demo", state_dir=tmp_path / "state"))) as client:
        result = await client.call_tool("run_query", {"sql": "SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS"},
                                        progress_callback=on_progress)
        assert not result.is_error
        again: list[object] = []
        await client.call_tool("run_query", {"sql": "SELECT 1 AS one"}, progress_callback=lambda *a: again.append(a))
    steps = len(demo.demo_tables.TABLES) + 1
    assert [done for done, _, _ in seen] == list(range(steps + 1)) and {total for _, total, _ in seen} == {steps}
    assert "building the demo warehouse" in str(seen[0][2]) and seen[-1][2] == "demo warehouse built"
    assert again == []  # built once: later calls have nothing to report
