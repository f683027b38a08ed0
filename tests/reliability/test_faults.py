"""Warehouse faults on the Snowflake backend (a fakesnow server reached by the real connector), seen
through a whole MCP server: every call ends in a result or a clear error within its timeout, the
breaker opens and recovers, and no partial result is passed off as complete."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.query.server import build_server
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
    """Down, up, down, up...: each call while down ends in a clear error in time, each call after the
    breaker's reset period while up gets the full result."""
    async with Client(build_server(faulty_settings)) as client:
        assert not (await call(client, COUNT))[0]
        for _ in range(3):
            own_server.stop()
            for _ in range(2):  # the first fails on the network, the next fast on the open breaker
                is_error, text, structured, elapsed = await call(client, COUNT)
                assert is_error and structured is None and elapsed < DEADLINE_S
                assert "retry after" in text or "unreachable" in text or "connection" in text.lower(), text
            own_server.start()
            await anyio.sleep(faulty_settings.breaker_reset_timeout_s + 0.2)
            is_error, text, structured, _ = await call(client, COUNT)
            assert not is_error and structured["rows"] == [[120]], text
