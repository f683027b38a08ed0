"""Tool calls that outlive a host's patience: wait a while, then hand back a handle.

Hosts drop a tool call after about a minute whatever the server allows (Claude Desktop:
~60 s). A tool declared `long=True` (`common.toolkit`) runs as a task of its own; the call
waits at most `SNOWMCP_CALL_WAIT_S` for it. Still running then, the call answers
`RunningCall` (`status: "running"`, a `query_handle`, `poll_after_ms`) and the work goes on:
`get_query_result(handle)` waits again (as long) and returns the tool's own result plus
`status: "done"` (a result with a status of its own, such as quality's pass/fail, keeps it); `cancel_query(handle)` cancels the task, which cancels its statement in the
warehouse (the runtime's cancellation path).

A handle belongs to whoever started it (`common.concurrency.current_session`: the MCP session
or the verified caller on HTTP); to anybody else it is unknown. Handles live in this process
(a restart forgets them: the error says so), except a stored one: when the call's result is one
statement's result on a warehouse that keeps results by query id (Snowflake), the runtime names
the call by that id (`stored_handle`: `sf_<query id>.<max_rows>`), which any replica, or this
server after a restart, can read back by id (`ServerRuntime.stored_result`). Finished results are kept `keep_s` after they
finish, at most `max_calls` handles at once; the oldest finished go first, and when every slot
runs, a new call waits for its result as a call without handles would.
"""

from __future__ import annotations

import asyncio
import contextvars
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from snowmcp.common.errors import NotFound

POLL_AFTER_MS = 2_000  # what a caller is told to wait before polling again
STORED_PREFIX = "sf_"


class RunningCall(BaseModel):
    """What a long call answers while its work goes on."""

    status: Literal["running"] = "running"
    query_handle: str = Field(description="Pass to get_query_result (waits for the result) or cancel_query.")
    tool: str
    elapsed_ms: int
    poll_after_ms: int = POLL_AFTER_MS


RUNNING_SCHEMA: dict[str, Any] = {  # RunningCall's schema, written out once for every long tool's output
    "type": "object",
    "properties": {
        "status": {"const": "running"},
        "query_handle": {"type": "string"},
        "tool": {"type": "string"},
        "elapsed_ms": {"type": "integer"},
        "poll_after_ms": {"type": "integer"},
    },
    "required": ["status", "query_handle", "tool", "elapsed_ms", "poll_after_ms"],
}


@dataclass(eq=False)
class _Call:
    handle: str
    tool: str
    owner: str | None
    task: asyncio.Task[Any]
    started: float = field(default_factory=time.monotonic)
    detached: bool = False  # the call that started it has answered `running`
    finished: float | None = None
    stored: str | None = None  # its stored handle, once the warehouse named its statement


_current: contextvars.ContextVar[_Call | None] = contextvars.ContextVar("snowmcp_long_call", default=None)


def stored_handle(query_id: str, max_rows: int) -> str:
    return f"{STORED_PREFIX}{query_id}.{max_rows}"


def parse_stored_handle(handle: str) -> tuple[str, int] | None:
    """(query id, max_rows) of a stored handle, or None for any other text."""
    if not handle.startswith(STORED_PREFIX):
        return None
    query_id, _, rows = handle[len(STORED_PREFIX):].rpartition(".")
    return (query_id, int(rows)) if query_id and rows.isdigit() and 0 < int(rows) <= 1_000_000 else None


class LongCalls:
    """The long calls of one server, by handle."""

    def __init__(self, wait_s: float, *, keep_s: float = 900.0, max_calls: int = 256) -> None:
        self.wait_s = wait_s
        self.keep_s = keep_s
        self.max_calls = max_calls
        self._calls: dict[str, _Call] = {}

    async def start(self, tool: str, work: Callable[[], Awaitable[Any]], owner: str | None,
                    on_detach: Callable[[], None] = lambda: None) -> Any:
        """Run `work`; its result if it finishes within the wait, else a `RunningCall`.

        `on_detach` runs when the call answers `running` (the toolkit silences progress then)."""
        self._evict()
        if len(self._calls) >= self.max_calls:  # every slot holds a running call: no handle to give
            return await work()
        handle = "q_" + secrets.token_urlsafe(12)
        call = _Call(handle, tool, owner, None)  # type: ignore[arg-type]
        token = _current.set(call)  # the task's context (a copy) sees its own call
        try:
            call.task = asyncio.get_running_loop().create_task(work())
        finally:
            _current.reset(token)
        call.task.add_done_callback(lambda _: setattr(call, "finished", time.monotonic()))
        self._calls[handle] = call
        try:
            outcome = await self._wait(call)
        except BaseException:
            if not call.detached:
                self._calls.pop(handle, None)
            raise
        if isinstance(outcome, RunningCall):
            call.detached = True
            on_detach()
        else:
            self._drop(call)  # answered in time: nobody will ask for it by handle
        return outcome

    def holds(self, handle: str) -> bool:
        """True when this process holds the call (whoever owns it: `result` and `cancel` check that)."""
        return handle in self._calls

    def name_stored(self, max_rows: int) -> Callable[[str], None] | None:
        """For the statement of the call in progress (None outside one): a callback, safe from any
        thread, that names the call by its stored handle once the warehouse gives `query_id`."""
        call = _current.get()
        if call is None:
            return None
        loop = asyncio.get_running_loop()

        def named(query_id: str) -> None:
            def register() -> None:
                if call.stored is None and not call.task.done():
                    call.stored = stored_handle(query_id, max_rows)
                    self._calls[call.stored] = call
            loop.call_soon_threadsafe(register)

        return named

    async def result(self, handle: str, owner: str | None) -> Any:
        """Wait (up to the call wait) for the call's result; `RunningCall` while it still runs."""
        return await self._wait(self._find(handle, owner))

    def peek(self, handle: str, owner: str | None) -> tuple[str, Any]:
        """The call's state without waiting: ("working", None), ("completed", result),
        ("failed", exception) or ("cancelled", None). Raises `NotFound` like `result`."""
        call = self._find(handle, owner)
        if not call.task.done():
            return "working", None
        if call.task.cancelled():
            return "cancelled", None
        error = call.task.exception()
        return ("failed", error) if error is not None else ("completed", call.task.result())

    async def cancel(self, handle: str, owner: str | None) -> bool:
        """Cancel a running call and wait for its statement to stop; False if it had finished."""
        call = self._find(handle, owner)
        if call.task.done():
            return False
        call.task.cancel()
        await asyncio.wait({call.task})  # kept: asked again, it says it was cancelled
        return True

    async def close(self) -> None:
        """Cancel every running call (server shutdown)."""
        running = list({c.task for c in self._calls.values() if not c.task.done()})
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=10)
        self._calls.clear()

    async def _wait(self, call: _Call) -> Any:
        try:
            await asyncio.wait({call.task}, timeout=self.wait_s)
        except asyncio.CancelledError:
            if not call.detached:  # the client gave up on the call itself: the work goes too
                call.task.cancel()
            raise
        if not call.task.done():
            return RunningCall(query_handle=call.stored or call.handle, tool=call.tool,
                               elapsed_ms=int((time.monotonic() - call.started) * 1000))
        if call.task.cancelled():
            self._drop(call)
            raise NotFound(f"call {call.handle} was cancelled", hint="Run the call again if you still need it.")
        if call.task.exception() is not None:  # the error is told once, then the handle is gone
            self._drop(call)
        return call.task.result()

    def _drop(self, call: _Call) -> None:
        self._calls.pop(call.handle, None)
        if call.stored is not None:
            self._calls.pop(call.stored, None)

    def _find(self, handle: str, owner: str | None) -> _Call:
        call = self._calls.get(handle)
        if call is None or call.owner != owner:
            raise NotFound(
                f"unknown query handle {handle!r}",
                hint="Handles last while the server runs, for the session that started them, and "
                f"{self.keep_s / 60:g} minutes after the work finished; run the call again.",
            )
        return call

    def _evict(self) -> None:
        now = time.monotonic()
        finished = sorted({c for c in self._calls.values() if c.finished is not None}, key=lambda c: c.finished or 0)
        for call in finished:
            if now - (call.finished or now) > self.keep_s or len(self._calls) >= self.max_calls:
                self._drop(call)


def admit_running(server: Any, name: str) -> None:
    """Let a long tool's published output schema (and the SDK's check of what it returns) admit
    both its own result plus `status: "done"`, and a `RunningCall`.

    FuncMetadata's fields are read on every call, so they are replaced after registration; the
    tool manager is private in SDK 2.3 (tests/common/test_long_calls.py covers this path)."""
    import typing

    from pydantic import create_model

    metadata = server._tool_manager.get_tool(name).fn_metadata  # type: ignore[union-attr]
    model = metadata.output_model
    done = dict(metadata.output_schema or {})
    defs = done.pop("$defs", None)
    if "status" in model.model_fields:  # its own status (never "running") says it is done
        done_model = model
    else:
        done_model = create_model(f"{model.__name__}Done", __base__=model, status=(typing.Literal["done"], "done"))
        done["properties"] = {"status": {"const": "done"}, **done.get("properties", {})}
        done["required"] = ["status", *done.get("required", [])]
    schema: dict[str, Any] = {"type": "object", "anyOf": [done, RUNNING_SCHEMA]}
    if defs:
        schema["$defs"] = defs
    metadata.output_schema = schema
    metadata.output_model = typing.Union[done_model, RunningCall]  # noqa: UP007 (a runtime union of types)
