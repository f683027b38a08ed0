"""Bounded worker threads for blocking drivers, and per-session statement limits.

`WorkerPools` gives a backend two capacity limiters of its own: one for
statements (`SNOWMCP_MAX_CONCURRENT_STATEMENTS`) and one for light calls -
catalog lookups, session set-up - (`SNOWMCP_MAX_CONCURRENT_LIGHT_CALLS`), so
a catalog call never waits behind statements, and neither uses anyio's shared
default thread pool (the MCP SDK runs sync tools there).

A slot is held until the work really ends. When the caller gives up (timeout,
cancellation) the backend's `interrupt` is called at once and the caller gets
its answer; the slot stays taken while the interrupted work winds down, for up
to `grace_s`; a driver that hangs past that loses its slot (logged), so it
cannot hold slots forever.

Per-session limits: the tool wrapper (`common.toolkit`) records who a call
belongs to in a context variable - the MCP session id (stateful HTTP), else the
authenticated caller (bearer/OAuth) - and `session_slot()` lets one session run at
most `SNOWMCP_MAX_SESSION_STATEMENTS` statements at once. Further statements of
that session wait their turn, for at most their own timeout (then `QueryTimeout`
says why), so one client's burst queues behind itself and not in front of other
sessions. Calls outside a session (stateless HTTP, direct runtime use) are not
limited per session; the statement pool still bounds them.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import anyio.from_thread
import anyio.lowlevel

from snowmcp.common.errors import QueryTimeout

log = logging.getLogger("snowmcp.concurrency")
T = TypeVar("T")

current_session: contextvars.ContextVar[str | None] = contextvars.ContextVar("snowmcp_session", default=None)
"""Who the tool call being served belongs to, for per-session limits (see `common.toolkit`), or None."""


class WorkerPools:
    """The statement and light-call limiters of one backend."""

    def __init__(self, statements: int, light: int, *, grace_s: float = 5.0) -> None:
        self.statements = anyio.CapacityLimiter(statements)
        self.light = anyio.CapacityLimiter(light)
        self.grace_s = grace_s
        # anyio's threads for our work: never the shared default limiter (the MCP SDK's sync tools use it);
        # our two limiters above decide how many run.
        self._threads = anyio.CapacityLimiter(statements + light)

    @classmethod
    def from_settings(cls, settings: Any) -> WorkerPools:
        return cls(settings.max_concurrent_statements, settings.max_concurrent_light_calls)

    async def run(self, work: Callable[[], T], *, light: bool = False,
                  interrupt: Callable[[], None] | None = None) -> T:
        """Run blocking `work` in a worker thread under the statement (or light) limiter."""
        limiter = self.light if light else self.statements
        finished = threading.Event()

        def tracked() -> T:
            try:
                return work()
            finally:
                finished.set()

        borrower = object()  # the slot's holder: released here, or later by the wind-down thread
        await limiter.acquire_on_behalf_of(borrower)
        try:
            result = await anyio.to_thread.run_sync(tracked, abandon_on_cancel=True, limiter=self._threads)
        except BaseException:
            if finished.is_set():
                limiter.release_on_behalf_of(borrower)
            else:  # the caller gave up while the work runs: it answers now, the slot waits
                if interrupt is not None:
                    interrupt()
                self._release_when_done(limiter, borrower, finished, interrupt)
            raise
        limiter.release_on_behalf_of(borrower)
        return result

    def _release_when_done(self, limiter: anyio.CapacityLimiter, borrower: object, finished: threading.Event,
                           interrupt: Callable[[], None] | None) -> None:
        """Give the slot back once the interrupted work ends, or after `grace_s` at the latest.

        The interrupt is repeated meanwhile: one sent while the work was between two driver calls
        (nothing running yet to interrupt) would otherwise be lost."""
        token = anyio.lowlevel.current_token()

        def wait_then_release() -> None:
            deadline = time.monotonic() + self.grace_s
            while not finished.wait(min(0.2, max(0.0, deadline - time.monotonic()))):
                if time.monotonic() >= deadline:
                    break
                if interrupt is not None:
                    try:
                        interrupt()
                    except Exception:  # the driver is gone already
                        pass
            if not finished.is_set():
                log.warning("an interrupted driver call still runs after %.1f s; its slot is released", self.grace_s)
            try:
                anyio.from_thread.run_sync(limiter.release_on_behalf_of, borrower, token=token)
            except Exception:  # the event loop is gone: nothing left to release
                pass

        threading.Thread(target=wait_then_release, name="snowmcp-slot", daemon=True).start()


_MAX_SESSIONS = 4_096
_session_limiters: OrderedDict[str, anyio.Semaphore] = OrderedDict()  # most recently used last


@asynccontextmanager
async def session_slot(limit: int, wait_s: float) -> AsyncIterator[None]:
    """Hold one of the current MCP session's `limit` statement slots (no session: no limit).

    A statement waits at most `wait_s` for a slot, then fails with `QueryTimeout`."""
    session = current_session.get()
    if session is None:
        yield
        return
    limiter = _limiter_of(session, limit)
    acquired = False
    with anyio.move_on_after(wait_s):
        await limiter.acquire()
        acquired = True  # no await in between: a deadline cannot strike after the acquire
    if not acquired:
        raise QueryTimeout(
            f"this session already runs {limit} statements; waited {wait_s:g} s for one to finish",
            hint="Wait for your running statements (or cancel them) before sending more.",
        )
    try:
        yield
    finally:
        limiter.release()


def _limiter_of(session: str, limit: int) -> anyio.Semaphore:
    """The session's limiter; the least recently used idle ones are forgotten past 4,096 sessions."""
    limiter = _session_limiters.pop(session, None) or anyio.Semaphore(limit, max_value=limit)
    _session_limiters[session] = limiter
    if len(_session_limiters) > _MAX_SESSIONS:
        for key in [k for k, v in _session_limiters.items() if v.value == limit][: len(_session_limiters) - _MAX_SESSIONS]:
            del _session_limiters[key]
    return limiter
