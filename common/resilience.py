"""Retries for transient faults and a circuit breaker per warehouse.

Retries (tenacity) apply only to `WarehouseUnavailable(transient=True)`:
network errors, expired sessions, throttling. SQL errors and timeouts are
never retried. Each attempt passes through the breaker, which counts warehouse
faults (`WarehouseUnavailable.outage`: the transient ones, and a network fault
after a statement was sent, which is not retried): an SQL error proves the
warehouse is up. After
`failure_threshold` consecutive faults the breaker opens and every call fails
fast with "retry after N s"; once `reset_timeout_s` has passed one probe call
is let through (half-open) and its outcome closes or re-opens the breaker.
A cancelled call gives no verdict: it neither counts nor keeps the probe slot.

The breaker is plain state, not a lock: it is meant for one event loop (each
server process has one breaker per warehouse), and `call` never awaits
between checking the state and taking the probe slot. Tests inject `clock`
(breaker) and `sleep` (retries) so nothing waits for real time.
Retries are logged at WARNING with the exception type only, never its
message, which might carry SQL or values.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from snowmcp.common.errors import WarehouseUnavailable

if TYPE_CHECKING:  # tenacity is imported on first use: server start-up stays fast
    from tenacity import RetryCallState

T = TypeVar("T")
log = logging.getLogger("snowmcp.resilience")


class BreakerState(str, Enum):
    """CLOSED: calls pass. OPEN: calls fail fast. HALF_OPEN: one probe call may pass."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of one warehouse and fails fast while it is down."""

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The current state; OPEN reads as HALF_OPEN once `reset_timeout_s` has passed."""
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout_s:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def before_call(self) -> None:
        """Fail fast while open; in half-open let exactly one probe through."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._probing:
            self._probing = True
            return
        assert self._opened_at is not None
        retry_after = max(0.0, self.reset_timeout_s - (self._clock() - self._opened_at))
        raise WarehouseUnavailable(
            f"warehouse {self.name} is unavailable: circuit breaker open after {self._failures} consecutive "
            f"failures; retry after {max(1, math.ceil(retry_after))} s",
            transient=False,
            retry_after_s=retry_after,
        )

    def record_success(self) -> None:
        """The warehouse answered: close the breaker and forget past failures."""
        self._failures = 0
        self._opened_at = None
        self._probing = False

    def record_failure(self) -> None:
        """One more consecutive failure; open at the threshold, or re-open if the probe failed."""
        self._failures += 1
        if self._failures >= self.failure_threshold:  # kept while open: a failed probe re-opens
            self._opened_at = self._clock()  # a fresh timeout
        self._probing = False

    async def call(self, fn: Callable[[], Awaitable[T]], *, counts_as_failure: Callable[[BaseException], bool]) -> T:
        """Run `fn` through the breaker; only exceptions `counts_as_failure` accepts count against it."""
        is_probe = self.state is BreakerState.HALF_OPEN  # no await until before_call: no race
        self.before_call()
        try:
            result = await fn()
        except Exception as exc:
            if counts_as_failure(exc):
                self.record_failure()
            else:
                self.record_success()  # the warehouse answered, even if it said no
            raise
        except BaseException:  # cancelled (or interrupted): no verdict, free the probe slot
            if is_probe:
                self._probing = False
            raise
        self.record_success()
        return result


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: `WarehouseUnavailable(transient=True)` only."""
    return isinstance(exc, WarehouseUnavailable) and exc.transient


def is_outage(exc: BaseException) -> bool:
    """Counts against the breaker: a warehouse fault (`WarehouseUnavailable.outage`), never an SQL error."""
    return isinstance(exc, WarehouseUnavailable) and exc.outage


async def call_with_retries(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    base_delay_s: float = 0.2,
    max_delay_s: float = 2.0,
    retry_if: Callable[[BaseException], bool] = is_transient,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Call `fn`, retrying faults `retry_if` accepts with jittered exponential backoff."""

    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

    def log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.warning("%s on attempt %d of %d; retrying", type(exc).__name__, state.attempt_number, attempts)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(initial=base_delay_s, max=max_delay_s, jitter=base_delay_s),  # tenacity>=8.2 API
        retry=retry_if_exception(retry_if),
        reraise=True,
        before_sleep=log_retry,
        **({"sleep": sleep} if sleep is not None else {}),
    )

    async def attempt() -> T:
        return await fn()

    return await retrying(attempt)


async def resilient_call(
    fn: Callable[[], Awaitable[T]],
    *,
    breaker: CircuitBreaker,
    attempts: int = 3,
    base_delay_s: float = 0.2,
    max_delay_s: float = 2.0,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> T:
    """Retry transient faults, each attempt inside the breaker.

    Once the breaker is open it fails fast with a non-transient
    `WarehouseUnavailable`, which is not retried: the retries stop there.
    """
    return await call_with_retries(
        lambda: breaker.call(fn, counts_as_failure=is_outage),
        attempts=attempts,
        base_delay_s=base_delay_s,
        max_delay_s=max_delay_s,
        sleep=sleep,
    )
