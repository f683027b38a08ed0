"""Round trips and query handles on the Snowflake backend, counted at a fakesnow server over HTTP (through
the real connector: 5.x in the project's venv, 4.8.1 in `make test`'s second run).

What fakesnow can show and what it cannot: the fakesnow service (`tests/fakesnow_service.py`) counts
every HTTP request, interrupts the DuckDB statement an abort request names (request id or query id)
and answers it with Snowflake's 604, serves results by query id through RESULT_SCAN, and answers the
query-id lookup (`QUERY_HISTORY_BY_SESSION ... WHERE QUERY_TAG = ?`) from what it served. That last
one is a stand-in for Snowflake's query history: these tests prove our side of that exchange (the
statement sent, the nonce matched, the id used), not that Snowflake's history lists a running query.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import anyio
import pytest

from snowmcp.common.errors import InvalidArgument, NotFound, QueryTimeout
from snowmcp.common.results import RowCollector
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import open_warehouse
from snowmcp.common.warehouse.snowflake import QUERY_ID_LOOKUP_AFTER_S, SnowflakeWarehouse
from tests.snowflake_fixtures import (  # noqa: F401  (fixtures)
    SLOW_SQL,
    TAG,
    warehouse,
    TWELVE_QUERIES,
    request_counts,
    FakesnowServer,
    direct_timeouts,
    fakesnow_server,
    snowflake_home,
    snowflake_settings,
)

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:Arrow output:UserWarning")]  # fakesnow's

VERY_SLOW_SQL = "SELECT SUM(SEQ8()) AS S FROM TABLE(GENERATOR(ROWCOUNT => 400000000))"  # half a minute or more


async def run(warehouse: SnowflakeWarehouse, sql: str, *, timeout_s: float = 20, **kwargs: Any) -> tuple[Any, RowCollector]:
    collector = RowCollector(max_rows=1000, max_bytes=1_000_000)
    outcome = await warehouse.execute(sql, collector, timeout_s=timeout_s, tag=TAG, **kwargs)
    return outcome, collector


def submit_async(server: FakesnowServer, sql: str) -> str:
    """A statement left running by another client (a process that has gone): its query id."""
    import snowflake.connector

    with snowflake.connector.connect(**server.connect_params(), **direct_timeouts(10)) as con:
        cursor = con.cursor()
        cursor.execute_async(sql)
        return str(cursor.sfqid)


# -- one round trip ----------------------------------------------------------------------------


async def test_an_uncached_query_costs_one_request(
    snowflake_settings: Settings, fakesnow_server: FakesnowServer, warehouse: SnowflakeWarehouse
) -> None:
    runtime = ServerRuntime("query", snowflake_settings, warehouse)  # cache_ttl_s=0: every call uncached
    await runtime.query("SELECT 1 AS WARM", tool="run_query")  # the pool's session exists (its login paid)
    before, texts = request_counts(fakesnow_server), len(fakesnow_server.sql_texts())
    for sql in TWELVE_QUERIES:
        result = await runtime.query(sql, tool="run_query")
        assert result.rows and result.query_id
    spent = request_counts(fakesnow_server) - before
    per_query = sum(spent.values()) / len(TWELVE_QUERIES)
    assert per_query <= 1.3, spent  # the acceptance; ours: exactly one query request each
    assert spent["POST /queries/v1/query-request"] == len(TWELVE_QUERIES)
    sent = fakesnow_server.sql_texts()[texts:]
    assert not any("RESULT_SCAN" in text for text in sent) and not any(p.startswith("GET /monitoring") for p in spent)


# -- cancellation reaches the warehouse --------------------------------------------------------


async def test_a_timeout_stops_the_statement_in_the_warehouse(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer
) -> None:
    """A statement of half a minute, abandoned after 0.5 s: the abort request names its request (the
    query id is not back yet), fakesnow's DuckDB statement is interrupted, and the session is free
    again long before the statement would have ended."""
    await run(warehouse, "SELECT 1 AS WARM")
    idle = warehouse._pool.idle_count
    sql = VERY_SLOW_SQL + " -- stopped"
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"statement cancelled after 0\.5 s"):
        await run(warehouse, sql, timeout_s=0.5)
    with anyio.fail_after(8):  # the statement ended in the warehouse: its session came back
        while warehouse._pool.idle_count < idle:
            await anyio.sleep(0.05)
    assert time.monotonic() - started < 8
    submitted = [r for r in fakesnow_server.requests if r.path.endswith("/query-request") and r.body.get("sqlText") == sql]
    aborts = [a for a in fakesnow_server.aborts() if a.body.get("requestId") == submitted[0].query["requestId"]]
    assert len(submitted) == 1 and aborts and aborts[0].body["sqlText"] == sql  # by request id
    assert (await run(warehouse, "SELECT 2 AS TWO"))[1].rows == [[2]]  # that session runs the next one


# -- query handles -------------------------------------------------------------------------------


async def test_the_query_id_of_a_statement_still_running_is_reported_before_it_ends(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer
) -> None:
    seen: list[tuple[str, float, str]] = []

    def on_query_id(query_id: str) -> None:
        seen.append((query_id, time.monotonic(), threading.current_thread().name))

    outcome, collector = await run(warehouse, SLOW_SQL + " -- reported", on_query_id=on_query_id)
    ended = time.monotonic()
    assert collector.rows and len(seen) == 1
    query_id, reported_at, thread = seen[0]
    assert query_id == outcome.query_id and reported_at < ended and thread != threading.main_thread().name
    submitted = [r for r in fakesnow_server.requests if r.body.get("sqlText") == SLOW_SQL + " -- reported"][0]
    nonce = json.loads(submitted.body["parameters"]["QUERY_TAG"])["run"]
    lookups = [r for r in fakesnow_server.requests if "QUERY_HISTORY_BY_SESSION" in r.body.get("sqlText", "")]
    assert lookups and nonce in json.dumps(lookups[-1].body["bindings"])

    fast: list[str] = []
    before = len(fakesnow_server.sql_texts())
    outcome, _ = await run(warehouse, "SELECT 3 AS THREE", on_query_id=fast.append)
    assert fast == [outcome.query_id]  # known with the answer: no lookup
    assert not any("QUERY_HISTORY" in text for text in fakesnow_server.sql_texts()[before:])
    assert QUERY_ID_LOOKUP_AFTER_S >= 0.5  # a statement quicker than that never costs a lookup


async def test_a_result_is_fetched_by_query_id_from_another_process(
    warehouse: SnowflakeWarehouse, snowflake_settings: Settings, fakesnow_server: FakesnowServer
) -> None:
    outcome, collector = await run(warehouse, TWELVE_QUERIES[2])
    later = await open_warehouse(snowflake_settings)  # a new server process: new sessions, same user
    assert isinstance(later, SnowflakeWarehouse)
    try:
        again = RowCollector(max_rows=1000, max_bytes=1_000_000)
        fetched = await later.fetch_result(outcome.query_id, again, timeout_s=10)
        assert again.rows == collector.rows and fetched.columns == outcome.columns
        assert fetched.query_id == outcome.query_id

        running = await anyio.to_thread.run_sync(submit_async, fakesnow_server, SLOW_SQL + " -- handle")
        with pytest.raises(QueryTimeout, match="still running after 0.2 s; it was not cancelled"):
            await later.fetch_result(running, RowCollector(max_rows=10, max_bytes=10_000), timeout_s=0.2)
        assert not [a for a in fakesnow_server.aborts() if running in a.path]
        done = RowCollector(max_rows=10, max_bytes=10_000)
        await later.fetch_result(running, done, timeout_s=20)
        assert len(done.rows) == 1 and done.rows[0][0] > 0

        with pytest.raises(NotFound):
            await later.fetch_result("01234567-89ab-cdef-0123-456789abcdef", RowCollector(max_rows=1, max_bytes=100),
                                     timeout_s=2)
        with pytest.raises(InvalidArgument):
            await later.fetch_result("x'); DROP TABLE t; --", RowCollector(max_rows=1, max_bytes=100), timeout_s=2)
    finally:
        await later.close()


async def test_cancel_by_query_id_stops_a_statement_another_process_started(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer
) -> None:
    running = await anyio.to_thread.run_sync(submit_async, fakesnow_server, VERY_SLOW_SQL + " -- cancel by id")
    await anyio.sleep(0.3)
    started = time.monotonic()
    assert await warehouse.cancel(running) is True
    with pytest.raises(QueryTimeout, match=r"Snowflake cancelled the statement \(604\)"):
        await warehouse.fetch_result(running, RowCollector(max_rows=1, max_bytes=100), timeout_s=8)
    assert time.monotonic() - started < 8  # it ended in the warehouse, not after its half minute
    assert [a for a in fakesnow_server.aborts() if a.path == f"/queries/{running}/abort-request"]
    finished, _ = await run(warehouse, "SELECT 4 AS FOUR")
    assert await warehouse.cancel(finished.query_id) is False  # not running any more


async def test_a_statement_may_run_longer_than_the_network_timeout(
    snowflake_home: Any, snowflake_settings: Settings, fakesnow_server: FakesnowServer
) -> None:
    """One request carries the whole statement: 5.x's `query_timeout` must not cut it at the network timeout."""
    from tests.snowflake_fixtures import fake_connection_params

    snowflake_home.add("short_network", **fake_connection_params(fakesnow_server, network_timeout=1))
    opened = await open_warehouse(snowflake_settings.model_copy(update={"warehouse": "snowflake://short_network"}))
    assert isinstance(opened, SnowflakeWarehouse)
    try:
        started = time.monotonic()
        _, collector = await run(opened, SLOW_SQL + " -- longer than the network timeout")
        assert collector.rows[0][0] > 0 and time.monotonic() - started > 1
    finally:
        await opened.close()
