"""Warehouse faults on the Snowflake backend (a fakesnow server reached by the real connector), seen
through a whole MCP server: every call ends in a result or a clear error within its timeout, the
breaker opens and recovers, and no partial result is passed off as complete."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from common.settings import Settings
from servers.query.server import build_server
from tests.snowflake_fixtures import FakesnowServer, SnowflakeHome, fake_connection_params, seed

pytestmark = [pytest.mark.anyio,
              # The driver's own cancel timers fail against a stopped server, in their threads.
              pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")]
COUNT = "SELECT COUNT(*) AS N FROM ANALYTICS.SALES.CUSTOMERS"
DEADLINE_S = 25.0  # query_timeout_s (20) plus the breaker's and the client's overhead


@pytest.fixture
def own_server() -> Iterator[FakesnowServer]:
    """A fakesnow server of this test's own, so stopping or breaking it leaves the shared one alone."""
    server = FakesnowServer().start()
    seed(server)
    try:
        yield server
    finally:
        server.faults.clear()
        server.stop()


@pytest.fixture
def faulty_settings(own_server: FakesnowServer, snowflake_home: SnowflakeHome, snowflake_settings: Settings) -> Settings:
    snowflake_home.add("faulty", **fake_connection_params(own_server, network_timeout=2, login_timeout=2))
    return snowflake_settings.model_copy(update={"warehouse": "snowflake://faulty", "breaker_reset_timeout_s": 1.0})


async def call(client: Client, sql: str) -> tuple[bool, str, Any, float]:
    started = time.monotonic()
    with anyio.fail_after(DEADLINE_S):  # no call may hang
        result = await client.call_tool("run_query", {"sql": sql})
    text = " ".join(getattr(b, "text", "") for b in result.content)
    return result.is_error, text, result.structured_content, time.monotonic() - started


async def test_a_connection_dropped_mid_result_is_an_error_not_a_short_result(
    own_server: FakesnowServer, faulty_settings: Settings
) -> None:
    async with Client(build_server(faulty_settings)) as client:
        ok, _, result, _ = await call(client, COUNT)
        assert not ok and result["rows"] == [[120]]
        own_server.faults.add("cut_query_responses")
        is_error, text, structured, elapsed = await call(client, "SELECT * FROM ANALYTICS.SALES.CUSTOMERS")
        assert is_error and structured is None and elapsed < DEADLINE_S
        assert "unreachable" in text or "connection" in text.lower() or "retry after" in text
        own_server.faults.clear()
        await anyio.sleep(faulty_settings.breaker_reset_timeout_s + 0.2)
        is_error, _, structured, _ = await call(client, "SELECT * FROM ANALYTICS.SALES.CUSTOMERS")
        assert not is_error and structured["row_count"] == 120 and structured["truncated"] is False


async def test_a_flapping_warehouse_never_hangs_a_call_and_recovers(
    own_server: FakesnowServer, faulty_settings: Settings
) -> None:
    stop_flapping = threading.Event()

    def flap() -> None:  # down for 4 s (longer than the connector's 2 s network timeout), up for 2 s, ...
        while not stop_flapping.is_set():
            own_server.stop()
            stop_flapping.wait(4)
            own_server.start()
            stop_flapping.wait(2)

    outcomes: list[tuple[bool, str, float]] = []
    async with Client(build_server(faulty_settings)) as client:
        await call(client, COUNT)
        flapper = threading.Thread(target=flap, daemon=True)
        flapper.start()
        try:
            for _ in range(8):
                is_error, text, structured, elapsed = await call(client, COUNT)
                outcomes.append((is_error, text, elapsed))
                if not is_error:
                    assert structured["rows"] == [[120]]
                await anyio.sleep(0.25)
        finally:
            stop_flapping.set()
            flapper.join(timeout=20)
        if own_server._server is None:
            own_server.start()
        await anyio.sleep(faulty_settings.breaker_reset_timeout_s + 0.2)
        recovered, _, structured, _ = await call(client, COUNT)
    errors = [text for is_error, text, _ in outcomes if is_error]
    assert errors, "the flapping never showed"
    assert all(("retry after" in t) or ("unreachable" in t) or ("connection" in t.lower()) for t in errors), errors
    assert max(elapsed for _, _, elapsed in outcomes) < DEADLINE_S
    assert not recovered and structured["rows"] == [[120]]
