"""Latency under abuse: light calls never wait behind statements; slots are bounded, per session
too, and a timed-out (or hung) statement gives its slot back (common/concurrency.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client

from snowmcp.common.concurrency import WorkerPools, current_session, session_slot
from snowmcp.common.errors import QueryTimeout
from snowmcp.common.settings import Settings
from snowmcp.servers.query.server import build_server
from tests.helpers import call_ok, error_text
from tests.processes import http_server

pytestmark = pytest.mark.anyio

SLOW = "SELECT sum(hash(i)) + {n} AS s FROM range(20000000000) t(i)"  # runs for minutes unless cancelled


async def _probe_while_flooded(settings: Settings, statements: int, timeout_s: float) -> tuple[float, list[str]]:
    """Start `statements` slow statements in one session; time a list_databases sent meanwhile."""
    errors: list[str] = []
    async with Client(build_server(settings)) as client:
        await call_ok(client, "list_databases")  # the warehouse is open before the flood

        async def slow(n: int) -> None:
            result = await client.call_tool("run_query", {"sql": SLOW.format(n=n), "timeout_s": timeout_s})
            errors.append(error_text(result) if result.is_error else "finished")

        async with anyio.create_task_group() as tasks:
            for n in range(statements):
                tasks.start_soon(slow, n)
            await anyio.sleep(0.5)  # the flood is in flight
            started = time.perf_counter()
            databases = await call_ok(client, "list_databases")
            probe_s = time.perf_counter() - started
            assert databases["databases"]
    return probe_s, errors


@pytest.mark.parametrize("per_session", [None, 64], ids=["default-session-limit", "statement-pool-saturated"])
async def test_a_probe_answers_within_5_s_while_one_session_runs_48_slow_statements(
    settings: Settings, per_session: int | None
) -> None:
    if per_session is not None:  # let all 48 reach the statement pool (8 slots) at once
        settings = settings.model_copy(update={"max_session_statements": per_session})
    probe_s, errors = await _probe_while_flooded(settings, 48, timeout_s=3)
    assert probe_s < 5, f"list_databases took {probe_s:.1f} s"
    assert len(errors) == 48 and all("cancelled" in e or "statement" in e for e in errors), errors[:3]


async def test_a_session_over_its_limit_waits_then_is_told_why() -> None:
    token = current_session.set("session:abc")
    try:
        async with session_slot(1, wait_s=5):
            started = time.perf_counter()
            with pytest.raises(QueryTimeout, match="already runs 1 statements"):
                async with session_slot(1, wait_s=0.3):
                    pass
            assert 0.25 < time.perf_counter() - started < 2
            current_session.set("session:other")  # another session is not held up
            async with session_slot(1, wait_s=0.1):
                pass
    finally:
        current_session.reset(token)


@pytest.mark.slow
async def test_per_session_limits_over_stateful_http(demo_db: Path, tmp_path: Path) -> None:
    """Real streamable HTTP with a handshake session (Mcp-Session-Id): 3 slow statements in one
    session with a limit of 1 - one runs, the others wait their turn and say why."""
    env = {"SNOWMCP_MAX_SESSION_STATEMENTS": "1", "SNOWMCP_STATE_DIR": str(tmp_path / "state")}
    headers = {"Accept": "application/json, text/event-stream"}
    initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    with http_server(f"duckdb://{demo_db}", "streamable-http", env=env, log=tmp_path / "server.log") as url:
        async with httpx2.AsyncClient(timeout=30) as http:
            opened = await http.post(f"{url}/mcp", json=initialize, headers=headers)
            session = {**headers, "Mcp-Session-Id": opened.headers["mcp-session-id"]}
            await http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                            headers=session)
            texts: list[str] = []

            async def slow(n: int) -> None:
                call = {"jsonrpc": "2.0", "id": n + 1, "method": "tools/call", "params": {
                    "name": "run_query", "arguments": {"sql": SLOW.format(n=n), "timeout_s": 1.5}}}
                reply = await http.post(f"{url}/mcp", json=call, headers=session)
                texts.append(reply.text)

            async with anyio.create_task_group() as tasks:
                for n in range(3):
                    tasks.start_soon(slow, n)
    assert sum("already runs 1 statements" in t for t in texts) >= 1, texts
    assert sum("cancelled after 1.5 s" in t for t in texts) >= 1, texts


async def test_a_timed_out_statement_frees_its_slot(settings: Settings) -> None:
    narrow = settings.model_copy(update={"max_concurrent_statements": 1})
    async with Client(build_server(narrow)) as client:
        timed_out = await client.call_tool("run_query", {"sql": SLOW.format(n=0), "timeout_s": 1})
        assert timed_out.is_error and "cancelled after 1 s" in error_text(timed_out)
        started = time.perf_counter()
        quick = await call_ok(client, "run_query", {"sql": "SELECT 42 AS answer"})
        assert quick["rows"] == [[42]] and time.perf_counter() - started < 2


async def test_a_hung_driver_holds_its_slot_only_for_the_grace_period() -> None:
    pools = WorkerPools(1, 1, grace_s=0.3)
    release = threading.Event()
    interrupted = threading.Event()

    def hung() -> None:  # ignores the interrupt, like a driver stuck in a socket read
        release.wait(10)

    with anyio.move_on_after(0.2):
        await pools.run(hung, interrupt=interrupted.set)
    assert interrupted.is_set()  # and the caller had its answer at once
    started = time.perf_counter()
    assert await pools.run(lambda: 7) == 7  # the slot came back after the grace period, not before
    assert 0.2 < time.perf_counter() - started < 1
    release.set()


async def test_light_calls_have_their_own_slots() -> None:
    pools = WorkerPools(1, 1)
    release = threading.Event()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(pools.run, lambda: release.wait(10))
        await anyio.sleep(0.1)
        with anyio.fail_after(1):
            assert await pools.run(lambda: "catalog", light=True) == "catalog"
        release.set()


def test_settings_have_the_documented_defaults(tmp_path: Path) -> None:
    defaults = Settings(state_dir=tmp_path)
    assert (defaults.max_concurrent_statements, defaults.max_concurrent_light_calls,
            defaults.max_session_statements) == (8, 8, 4)
