"""Bounded worker threads for blocking drivers, and per-session statement limits.

`WorkerPools` gives a backend two capacity limiters of its own: one for
statements (`SNOWMCP_MAX_CONCURRENT_STATEMENTS`) and one for light calls -
catalog lookups, session set-up - (`SNOWMCP_MAX_CONCURRENT_LIGHT_CALLS`), so
a catalog call never waits behind statements, and neither uses anyio's shared
default thread pool (the MCP SDK runs sync tools there).

A slot is held until the work really ends. When the caller gives up (timeout,
cancellation) the backend's `interrupt` is called at once and the slot is kept
for up to `grace_s` more while the interrupted work winds down; a driver that
hangs past that loses its slot (logged), so it cannot hold slots forever.

Per-session limits: the tool wrapper (`common.toolkit`) records the MCP session
of each call in a context variable; `session_slot()` lets one session run at
most `SNOWMCP_MAX_SESSION_STATEMENTS` statements at once. Further statements of
that session wait their turn (their wait counts against their own timeout), so
one client's burst queues behind itself and not in front of other sessions.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio

log = logging.getLogger("snowmcp.concurrency")
T = TypeVar("T")

current_session: contextvars.ContextVar[object | None] = contextvars.ContextVar("snowmcp_session", default=None)
"""The MCP session (ServerSession) of the tool call being served, when the call came through a session."""


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

        async with limiter:
            try:
                return await anyio.to_thread.run_sync(tracked, abandon_on_cancel=True, limiter=self._threads)
            except BaseException:
                if not finished.is_set():  # the caller gave up while the work runs
                    if interrupt is not None:
                        interrupt()
                    await self._wind_down(finished)
                raise

    async def _wind_down(self, finished: threading.Event) -> None:
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(self.grace_s):
                while not finished.is_set():
                    await anyio.sleep(0.01)
        if not finished.is_set():
            log.warning("an interrupted driver call is still running after %.1f s; its slot is released", self.grace_s)


_session_limiters: weakref.WeakKeyDictionary[object, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def session_slot(limit: int) -> AsyncIterator[None]:
    """Hold one of the current MCP session's `limit` statement slots (no session: no limit)."""
    session = current_session.get()
    if session is None:
        yield
        return
    try:
        limiter = _session_limiters[session]
    except KeyError:
        limiter = _session_limiters.setdefault(session, anyio.CapacityLimiter(limit))
    except TypeError:  # not weak-referenceable: no per-session limit
        yield
        return
    async with limiter:
        yield
