"""Long work outlives a host's call: a handle after SNOWMCP_CALL_WAIT_S, the result later, cancel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import jsonschema
import pytest
from mcp import Client

from snowmcp.common.errors import NotFound
from snowmcp.common.long_calls import LongCalls, RunningCall
from snowmcp.servers.query.server import build_server
from tests.conftest import Backend
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio

ROWS = {"duckdb": 2_500_000_000, "snowflake": 300_000_000}


def counting_sql(backend: Backend) -> str:
    """A statement that runs for seconds and whose answer is known: every row passes the filter."""
    if backend.dialect == "duckdb":
        return f"SELECT count(*) AS n FROM range({ROWS['duckdb']}) t(i) WHERE hash(i) % 2 < 2"
    return f"SELECT COUNT(*) AS N FROM TABLE(GENERATOR(ROWCOUNT => {ROWS['snowflake']})) WHERE SEQ8() % 2 < 2"


@pytest.fixture
async def patient_client(backend: Backend) -> AsyncIterator[Client]:
    settings = backend.settings.model_copy(update={"call_wait_s": 2.0, "cache_ttl_s": 0.0})
    async with Client(build_server(settings)) as client:
        yield client


async def test_a_long_query_answers_a_handle_in_time_and_its_rows_later(
    patient_client: Client, backend: Backend
) -> None:
    started = time.monotonic()
    running = await call_ok(patient_client, "run_query", {"sql": counting_sql(backend), "timeout_s": 120})
    assert time.monotonic() - started < 3.0
    assert running["status"] == "running" and running["tool"] == "run_query"
    assert running["elapsed_ms"] >= 1_900 and running["poll_after_ms"] > 0
    polled = running
    while polled["status"] == "running":  # each poll waits up to call_wait_s for the result
        polled = await call_ok(patient_client, "get_query_result", {"query_handle": running["query_handle"]})
        assert time.monotonic() - started < 120
    assert polled["status"] == "done"
    assert polled["rows"] == [[ROWS[backend.dialect]]] and polled["truncated"] is False


async def test_cancel_query_cancels_and_the_server_answers_promptly(patient_client: Client, backend: Backend) -> None:
    running = await call_ok(patient_client, "run_query", {"sql": counting_sql(backend) + " -- to cancel",
                                                          "timeout_s": 120})
    handle = running["query_handle"]
    cancelled = await call_ok(patient_client, "cancel_query", {"query_handle": handle})
    assert cancelled == {"query_handle": handle, "cancelled": True}
    started = time.monotonic()
    after = await call_ok(patient_client, "run_query", {"sql": "SELECT 1 AS one"})
    assert after["rows"] == [[1]] and time.monotonic() - started < 3.0
    error = await call_error(patient_client, "get_query_result", {"query_handle": handle})
    assert "was cancelled" in error


async def test_a_quick_call_answers_done_and_an_unknown_handle_is_a_clear_error(patient_client: Client) -> None:
    done = await call_ok(patient_client, "run_query", {"sql": "SELECT 42 AS answer"})
    assert done["status"] == "done" and done["rows"] == [[42]]
    error = await call_error(patient_client, "get_query_result", {"query_handle": "q_nothing-here"})
    assert "unknown query handle" in error and "run the call again" in error


async def test_long_tools_publish_an_output_schema_admitting_both_answers(patient_client: Client) -> None:
    tools = {t.name: t for t in (await patient_client.list_tools()).tools}
    schema = tools["run_query"].output_schema
    assert schema is not None and schema["type"] == "object"
    running = RunningCall(query_handle="q_x", tool="run_query", elapsed_ms=2000).model_dump()
    jsonschema.validate(running, schema)
    done = {"status": "done", "columns": [], "rows": [], "row_count": 0, "truncated": False, "elapsed_ms": 1.0}
    jsonschema.validate(done, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status": "done"}, schema)
    assert "get_query_result" in tools and "cancel_query" in tools


# -- the registry itself ------------------------------------------------------------------------


async def test_a_handle_belongs_to_whoever_started_it() -> None:
    calls = LongCalls(wait_s=0.05)
    gate = asyncio.Event()

    async def work() -> str:
        await gate.wait()
        return "rows"

    running = await calls.start("run_query", work, owner="session:a")
    assert isinstance(running, RunningCall)
    with pytest.raises(NotFound):
        await calls.result(running.query_handle, owner="session:b")
    with pytest.raises(NotFound):
        await calls.cancel(running.query_handle, owner="session:b")
    gate.set()
    assert await calls.result(running.query_handle, owner="session:a") == "rows"
    await calls.close()


async def test_an_error_in_the_background_is_reported_once_to_the_poller() -> None:
    calls = LongCalls(wait_s=0.05)

    async def work() -> str:
        await asyncio.sleep(0.2)
        raise NotFound("table gone")

    running = await calls.start("run_query", work, owner=None)
    assert isinstance(running, RunningCall)
    await asyncio.sleep(0.3)
    with pytest.raises(NotFound, match="table gone"):
        await calls.result(running.query_handle, owner=None)
    with pytest.raises(NotFound, match="unknown query handle"):
        await calls.result(running.query_handle, owner=None)


async def test_a_client_that_gives_up_on_the_call_itself_stops_the_work() -> None:
    calls = LongCalls(wait_s=10)
    stopped = asyncio.Event()

    async def work() -> str:
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()
        return "never"

    waiter = asyncio.create_task(calls.start("run_query", work, owner=None))
    await asyncio.sleep(0.1)
    waiter.cancel()
    await asyncio.wait_for(stopped.wait(), 2)


async def test_finished_results_are_kept_a_while_and_then_forgotten() -> None:
    calls = LongCalls(wait_s=0.05, keep_s=0.2, max_calls=2)

    async def slow() -> str:
        await asyncio.sleep(0.1)
        return "done"

    first = await calls.start("run_query", slow, owner=None)
    await asyncio.sleep(0.15)
    assert await calls.result(first.query_handle, owner=None) == "done"
    assert await calls.result(first.query_handle, owner=None) == "done"  # asked again: still there
    await asyncio.sleep(0.3)
    await calls.start("run_query", slow, owner=None)  # a new call sweeps out what expired
    with pytest.raises(NotFound):
        await calls.result(first.query_handle, owner=None)
    await calls.close()


async def test_on_snowflake_a_handle_is_the_query_id_and_another_server_reads_it(backend: Backend) -> None:
    if backend.dialect != "snowflake":
        pytest.skip("DuckDB keeps no results by id: its handles live in the process")
    settings = backend.settings.model_copy(update={"call_wait_s": 2.0, "cache_ttl_s": 0.0})
    async with Client(build_server(settings)) as first:
        running = await call_ok(first, "run_query", {"sql": counting_sql(backend) + " -- stored", "timeout_s": 120})
        assert running["status"] == "running" and running["query_handle"].startswith("sf_")
        polled = running
        while polled["status"] == "running":
            polled = await call_ok(first, "get_query_result", {"query_handle": running["query_handle"]})
    # fakesnow answers a status by id only for statements it finished, so the other server reads it then.
    async with Client(build_server(settings)) as other:  # a replica, or this server after a restart
        again = await call_ok(other, "get_query_result", {"query_handle": running["query_handle"]})
    assert again["status"] == "done" and again["rows"] == polled["rows"] == [[ROWS["snowflake"]]]
