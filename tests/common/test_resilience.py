"""The circuit breaker (fake clock) and the retries of transient faults only."""

from __future__ import annotations

import asyncio

import pytest

from common.errors import QueryFailed, WarehouseUnavailable
from common.resilience import BreakerState, CircuitBreaker, call_with_retries, is_transient, resilient_call

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def down() -> WarehouseUnavailable:
    return WarehouseUnavailable("connection refused", transient=True)


async def fail_with(exc: BaseException) -> None:
    raise exc


async def ok() -> str:
    return "ok"


def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker("wh", failure_threshold=3, reset_timeout_s=30, clock=clock)


async def test_the_breaker_opens_after_the_threshold_and_fails_fast() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(3):
        assert b.state is BreakerState.CLOSED
        with pytest.raises(WarehouseUnavailable):
            await b.call(lambda: fail_with(down()), counts_as_failure=is_transient)
    assert b.state is BreakerState.OPEN
    clock.now += 12
    with pytest.raises(WarehouseUnavailable, match="retry after 18 s") as raised:
        await b.call(ok, counts_as_failure=is_transient)
    assert raised.value.retry_after_s == pytest.approx(18) and raised.value.transient is False


async def test_half_open_lets_one_probe_through_and_recovers() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 30
    assert b.state is BreakerState.HALF_OPEN
    b.before_call()  # the probe
    with pytest.raises(WarehouseUnavailable, match="retry after"):
        b.before_call()  # a second caller meanwhile fails fast
    b.record_success()
    assert b.state is BreakerState.CLOSED
    assert await b.call(ok, counts_as_failure=is_transient) == "ok"


async def test_a_failed_probe_reopens_with_a_fresh_timeout() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 31
    with pytest.raises(WarehouseUnavailable):
        await b.call(lambda: fail_with(down()), counts_as_failure=is_transient)
    assert b.state is BreakerState.OPEN
    clock.now += 29
    assert b.state is BreakerState.OPEN
    clock.now += 1
    assert b.state is BreakerState.HALF_OPEN


async def test_sql_errors_do_not_open_the_breaker() -> None:
    b = breaker(FakeClock())
    for _ in range(10):
        with pytest.raises(QueryFailed):
            await b.call(lambda: fail_with(QueryFailed("syntax error")), counts_as_failure=is_transient)
    assert b.state is BreakerState.CLOSED


async def test_a_cancelled_probe_frees_the_slot() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    clock.now += 30
    task = asyncio.ensure_future(b.call(lambda: asyncio.sleep(10), counts_as_failure=is_transient))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    b.before_call()  # a new probe is allowed


class Flaky:
    def __init__(self, failures: int, exc: BaseException) -> None:
        self.failures, self.exc, self.attempts = failures, exc, 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.exc
        return "ok"


async def test_transient_faults_are_retried() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)

    flaky = Flaky(2, down())
    assert await call_with_retries(flaky, attempts=3, base_delay_s=0.1, max_delay_s=0.5, sleep=sleep) == "ok"
    assert flaky.attempts == 3 and len(delays) == 2 and all(0 <= d <= 0.5 for d in delays)


async def test_sql_errors_are_never_retried() -> None:
    flaky = Flaky(5, QueryFailed("no such column"))
    with pytest.raises(QueryFailed):
        await call_with_retries(flaky, attempts=3, sleep=_no_sleep)
    assert flaky.attempts == 1


async def test_exhausted_retries_raise_the_last_fault() -> None:
    flaky = Flaky(5, down())
    with pytest.raises(WarehouseUnavailable, match="connection refused"):
        await call_with_retries(flaky, attempts=3, sleep=_no_sleep)
    assert flaky.attempts == 3


async def test_retries_stop_once_the_breaker_opens() -> None:
    b = CircuitBreaker("wh", failure_threshold=2, reset_timeout_s=30, clock=FakeClock())
    flaky = Flaky(10, down())
    with pytest.raises(WarehouseUnavailable, match="circuit breaker open"):
        await resilient_call(flaky, breaker=b, attempts=5, sleep=_no_sleep)
    assert flaky.attempts == 2


async def _no_sleep(_: float) -> None:
    return None
