"""The circuit breaker (fake clock) and the retries of transient faults only (fake sleep)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from snowmcp.common.errors import QueryFailed, WarehouseUnavailable
from snowmcp.common.resilience import BreakerState, CircuitBreaker, call_with_retries, is_transient, resilient_call
from tests.helpers import FakeClock

pytestmark = pytest.mark.anyio


class FakeSleep:
    """Records the delays tenacity asks for instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def down() -> WarehouseUnavailable:
    return WarehouseUnavailable("connection refused", transient=True)


async def fail_with(exc: BaseException) -> None:
    raise exc


async def ok() -> str:
    return "ok"


def breaker(clock: FakeClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker("wh", failure_threshold=threshold, reset_timeout_s=30, clock=clock)


def opened(clock: FakeClock) -> CircuitBreaker:
    """A breaker that has just opened."""
    b = breaker(clock)
    for _ in range(3):
        b.record_failure()
    assert b.state is BreakerState.OPEN
    return b


async def test_the_breaker_opens_after_the_threshold_and_fails_fast() -> None:
    clock = FakeClock(100.0)
    b = breaker(clock)
    for _ in range(3):
        assert b.state is BreakerState.CLOSED
        with pytest.raises(WarehouseUnavailable, match="connection refused"):
            await b.call(lambda: fail_with(down()), counts_as_failure=is_transient)
    assert b.state is BreakerState.OPEN
    clock.now += 12
    calls = 0

    async def counted() -> str:
        nonlocal calls
        calls += 1
        return "ok"

    with pytest.raises(WarehouseUnavailable, match=r"after 3 consecutive failures; retry after 18 s") as raised:
        await b.call(counted, counts_as_failure=is_transient)
    assert calls == 0
    assert raised.value.retry_after_s == pytest.approx(18) and raised.value.transient is False
    assert "circuit breaker open" in str(raised.value) and "wh" in str(raised.value)


async def test_a_success_resets_the_consecutive_count() -> None:
    b = breaker(FakeClock(100.0))
    b.record_failure()
    b.record_failure()
    b.record_success()
    b.record_failure()
    b.record_failure()
    assert b.state is BreakerState.CLOSED


async def test_after_the_timeout_one_probe_passes_and_a_concurrent_call_fails_fast() -> None:
    clock = FakeClock(100.0)
    b = opened(clock)
    clock.now += 29.9
    assert b.state is BreakerState.OPEN
    clock.now += 0.1
    assert b.state is BreakerState.HALF_OPEN
    gate = asyncio.Event()

    async def probe() -> str:
        await gate.wait()
        return "probed"

    probing = asyncio.ensure_future(b.call(probe, counts_as_failure=is_transient))
    await asyncio.sleep(0)  # the probe takes the slot and blocks on the gate
    with pytest.raises(WarehouseUnavailable, match="retry after"):
        await b.call(ok, counts_as_failure=is_transient)
    gate.set()
    assert await probing == "probed"
    assert b.state is BreakerState.CLOSED
    assert await b.call(ok, counts_as_failure=is_transient) == "ok"


async def test_a_failed_probe_reopens_with_a_fresh_timeout() -> None:
    clock = FakeClock(100.0)
    b = opened(clock)
    clock.now += 31
    with pytest.raises(WarehouseUnavailable, match="connection refused"):
        await b.call(lambda: fail_with(down()), counts_as_failure=is_transient)
    assert b.state is BreakerState.OPEN
    with pytest.raises(WarehouseUnavailable) as raised:
        b.before_call()
    assert raised.value.retry_after_s == pytest.approx(30)
    clock.now += 29
    assert b.state is BreakerState.OPEN
    clock.now += 1
    assert b.state is BreakerState.HALF_OPEN


@pytest.mark.parametrize(
    ("exc", "counts"),
    [(QueryFailed("syntax error"), is_transient), (ValueError("bad"), lambda _: False)],
)
async def test_uncounted_errors_do_not_open_the_breaker(exc: Exception, counts: object) -> None:
    b = breaker(FakeClock(100.0))
    for _ in range(10):
        with pytest.raises(type(exc)):
            await b.call(lambda: fail_with(exc), counts_as_failure=counts)  # type: ignore[arg-type]
    assert b.state is BreakerState.CLOSED


async def test_a_cancelled_probe_frees_the_slot_without_counting() -> None:
    clock = FakeClock(100.0)
    b = opened(clock)
    clock.now += 30
    task = asyncio.ensure_future(b.call(asyncio.Event().wait, counts_as_failure=is_transient))
    await asyncio.sleep(0)
    with pytest.raises(WarehouseUnavailable):
        b.before_call()  # the slot is taken
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert b.state is BreakerState.HALF_OPEN  # not re-opened: a cancellation is no failure
    b.before_call()  # a new probe is allowed


async def test_a_cancelled_ordinary_call_does_not_free_someone_elses_probe() -> None:
    clock = FakeClock(100.0)
    b = breaker(clock)
    straggler = asyncio.ensure_future(b.call(asyncio.Event().wait, counts_as_failure=is_transient))
    await asyncio.sleep(0)  # started while closed
    for _ in range(3):
        b.record_failure()
    clock.now += 30
    b.before_call()  # the probe
    straggler.cancel()
    with pytest.raises(asyncio.CancelledError):
        await straggler
    with pytest.raises(WarehouseUnavailable, match="retry after"):
        b.before_call()


class Flaky:
    def __init__(self, failures: int, exc: BaseException) -> None:
        self.failures, self.exc, self.attempts = failures, exc, 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.exc
        return "ok"


async def test_transient_faults_are_retried_and_logged_without_their_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleep, flaky = FakeSleep(), Flaky(2, WarehouseUnavailable("secret value 42", transient=True))
    with caplog.at_level(logging.WARNING, logger="snowmcp.resilience"):
        assert await call_with_retries(flaky, attempts=3, sleep=sleep) == "ok"
    assert flaky.attempts == 3 and len(sleep.delays) == 2
    messages = [r.getMessage() for r in caplog.records if r.name == "snowmcp.resilience"]
    assert len(messages) == 2 and all("WarehouseUnavailable" in m for m in messages)
    assert "attempt 1" in messages[0] and "attempt 2" in messages[1]
    assert not any("secret" in m or "42" in m for m in messages)


async def test_backoff_grows_and_is_bounded_by_max_delay() -> None:
    sleep = FakeSleep()
    with pytest.raises(WarehouseUnavailable):
        await call_with_retries(Flaky(10, down()), attempts=6, base_delay_s=0.1, max_delay_s=0.5, sleep=sleep)
    assert len(sleep.delays) == 5
    assert all(0.1 <= d <= 0.5 for d in sleep.delays)
    assert sleep.delays[0] <= 0.2 and sleep.delays[-1] == pytest.approx(0.5)


async def test_sql_errors_are_never_retried() -> None:
    sleep, flaky = FakeSleep(), Flaky(5, QueryFailed("no such column"))
    with pytest.raises(QueryFailed):
        await call_with_retries(flaky, attempts=3, sleep=sleep)
    assert flaky.attempts == 1 and sleep.delays == []


async def test_non_transient_unavailability_is_not_retried() -> None:
    flaky = Flaky(5, WarehouseUnavailable("bad credentials", transient=False))
    with pytest.raises(WarehouseUnavailable):
        await call_with_retries(flaky, attempts=3, sleep=FakeSleep())
    assert flaky.attempts == 1


async def test_exhausted_retries_raise_the_last_fault() -> None:
    faults = iter([WarehouseUnavailable(f"fault {i}", transient=True) for i in range(3)])

    async def failing() -> str:
        raise next(faults)

    with pytest.raises(WarehouseUnavailable, match="fault 2"):
        await call_with_retries(failing, attempts=3, sleep=FakeSleep())


async def test_retries_stop_once_the_breaker_opens() -> None:
    b = breaker(FakeClock(100.0), threshold=2)
    flaky, sleep = Flaky(10, down()), FakeSleep()
    with pytest.raises(WarehouseUnavailable, match="circuit breaker open") as raised:
        await resilient_call(flaky, breaker=b, attempts=5, sleep=sleep)
    assert flaky.attempts == 2 and len(sleep.delays) == 2 and raised.value.transient is False
    assert b.state is BreakerState.OPEN


async def test_resilient_call_succeeds_through_a_transient_fault() -> None:
    b, flaky = breaker(FakeClock(100.0)), Flaky(1, down())
    assert await resilient_call(flaky, breaker=b, sleep=FakeSleep()) == "ok"
    assert flaky.attempts == 2 and b.state is BreakerState.CLOSED


async def test_is_transient() -> None:
    assert is_transient(down())
    assert not is_transient(WarehouseUnavailable("open", transient=False))
    assert not is_transient(QueryFailed("x")) and not is_transient(OSError("x"))


async def test_a_fault_after_the_statement_was_sent_is_not_retried_but_counts_against_the_breaker() -> None:
    b = breaker(FakeClock(100.0), threshold=2)
    sent = WarehouseUnavailable("Snowflake unreachable after the statement reached Snowflake; not resent",
                                transient=False, outage=True)
    for _ in range(2):
        flaky = Flaky(5, sent)
        with pytest.raises(WarehouseUnavailable, match="not resent"):
            await resilient_call(flaky, breaker=b, attempts=3, sleep=FakeSleep())
        assert flaky.attempts == 1  # never resent: it might run twice
    assert b.state is BreakerState.OPEN
    bad_login = Flaky(5, WarehouseUnavailable("bad credentials", transient=False))
    other = breaker(FakeClock(100.0), threshold=1)
    with pytest.raises(WarehouseUnavailable, match="bad credentials"):
        await resilient_call(bad_login, breaker=other, sleep=FakeSleep())
    assert other.state is BreakerState.CLOSED  # not an outage of the warehouse
