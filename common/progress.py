"""Progress of long work inside a tool call, sent to the client as MCP progress notifications.

The tool wrapper (`common.toolkit`) binds the call's `Context` here; code deeper down calls
`report(done, total, message)` from the event loop or from a worker thread started with
`anyio.to_thread` (which carries this context variable). Outside a tool call, or when the
client asked for no progress (no progress token), a report costs nothing and goes nowhere;
a report that cannot be delivered never fails the work it describes.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.from_thread

Reporter = Callable[[float, "float | None", "str | None"], Awaitable[None]]

_reporter: contextvars.ContextVar[tuple[Reporter, int] | None] = contextvars.ContextVar(
    "snowmcp_progress", default=None)
log = logging.getLogger("snowmcp.progress")


def bind(context: Any, active: Callable[[], bool] | None = None) -> contextvars.Token[tuple[Reporter, int] | None]:
    """Send this call's progress through `context.report_progress` (reset with `unbind`); while
    `active()` is false reports go nowhere (a long call's work after its call has answered)."""
    reporter = getattr(context, "report_progress", None) if context is not None else None
    if reporter is not None and active is not None:
        send = reporter

        async def reporter(done: float, total: float | None, message: str | None) -> None:
            if active():
                await send(done, total, message)

    return _reporter.set((reporter, threading.get_ident()) if reporter is not None else None)


def unbind(token: contextvars.Token[tuple[Reporter, int] | None]) -> None:
    _reporter.reset(token)


def report(done: float, total: float | None = None, message: str | None = None) -> None:
    """Tell the client how far the current call's work has come (blocking: use it from a thread)."""
    bound = _reporter.get()
    if bound is None:
        return
    reporter, loop_thread = bound
    if threading.get_ident() == loop_thread:
        return  # on the loop itself a blocking send would deadlock; await `report_async` there
    try:
        anyio.from_thread.run(reporter, done, total, message)
    except Exception as exc:  # a closed session, a thread anyio did not start: the work goes on
        log.debug("progress not delivered: %s", type(exc).__name__)


async def report_async(done: float, total: float | None = None, message: str | None = None) -> None:
    """`report` for code running on the event loop."""
    bound = _reporter.get()
    if bound is not None:
        try:
            await bound[0](done, total, message)
        except Exception as exc:
            log.debug("progress not delivered: %s", type(exc).__name__)
