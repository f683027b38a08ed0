"""One MCP server as the host sees it: connect, list tools, call, ping, and come back after a crash.

Each connection runs in its own task (MCP clients must be entered and left in
the same task): it connects, lists the tools, reports `ready`, and then holds
the session open until asked to stop. When the server dies (its process exits,
its HTTP endpoint goes away) the task ends and the connection is `down`; the
next call restarts it, no sooner than a backoff that doubles after each failed
start (0.5 s, 1 s, 2 s ... 30 s) so a server that keeps crashing is not
hammered. A failed call is returned as an error result naming the server and
the tool, never raised at the caller.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import anyio
from anyio.abc import TaskGroup, TaskStatus
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID as APPS_EXTENSION
from mcp.types import CallToolResult, TextContent, TextResourceContents, Tool

from snowmcp.clients.host.config import ServerSpec

log = logging.getLogger("snowmcp.host")
State = Literal["starting", "ready", "down", "stopped"]
ProgressFn = Callable[[float, float | None, str | None], Awaitable[None]]
BACKOFF_START_S = 0.5
_PING_VERSIONS = {"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}  # protocol versions that have ping
BACKOFF_MAX_S = 30.0


@dataclass
class CallOutcome:
    server: str
    tool: str
    is_error: bool
    text: str
    structured: dict[str, Any] | None
    elapsed_ms: float
    result: CallToolResult | None = field(default=None, repr=False)  # as received: images, _meta


class ServerConnection:
    def __init__(self, spec: ServerSpec, *, connect_timeout_s: float = 60.0,
                 target: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.spec = spec
        self.connect_timeout_s = connect_timeout_s
        self._target = target  # an in-memory server, for tests; else built from the spec
        self._clock = clock
        self.state: State = "stopped"
        self.error: str | None = None
        self.tools: list[Tool] = []
        self.server_name: str | None = None
        self.starts = 0
        self._failures = 0
        self._retry_at = 0.0
        self._client: Client | None = None
        self._stop: anyio.Event | None = None
        self._done: anyio.Event | None = None
        self._lock = anyio.Lock()

    # -- lifecycle ------------------------------------------------------------

    async def start(self, task_group: TaskGroup) -> None:
        """Connect (in a task of `task_group`); returns when ready or failed, never raises."""
        self.state = "starting"
        self.starts += 1
        self._stop, self._done = anyio.Event(), anyio.Event()
        await task_group.start(self._hold)

    async def _hold(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        started = False
        assert self._stop is not None and self._done is not None
        # The connect deadline is lifted once the tools are listed; the session then stays open.
        with anyio.CancelScope(deadline=anyio.current_time() + self.connect_timeout_s) as scope:
            try:
                # The host renders MCP Apps views (into saved pages, see artifacts.py): it says so.
                apps = advertise(APPS_EXTENSION, {"mimeTypes": [APP_MIME_TYPE]})
                async with Client(self._connect_target(), raise_exceptions=False, extensions=[apps]) as client:
                    listed = await client.list_tools()
                    scope.deadline = math.inf
                    self._client, self.tools = client, list(listed.tools)
                    self.state, self.error, self._failures = "ready", None, 0
                    task_status.started()
                    started = True
                    await self._stop.wait()
                    self._client = None
            except Exception as exc:  # noqa: BLE001 - any failure of a server is reported, not raised
                self._went_down(exc)
            except BaseExceptionGroup as group:  # the client's own tasks failed (the server vanished)
                if group.subgroup(anyio.get_cancelled_exc_class()) is not None and not scope.cancel_called:
                    raise
                self._went_down(group)
            finally:
                self._client = None
        if scope.cancelled_caught and not started:
            self._went_down(TimeoutError(f"no answer within {self.connect_timeout_s:g} s"))
        if self.state == "ready":  # the session ended without an error: asked to stop, or the server left
            if self._stop.is_set():
                self.state = "stopped"
            else:
                self._went_down(ConnectionError("the server closed the session"))
        self._done.set()
        if not started:
            task_status.started()

    def _connect_target(self) -> Any:
        if self._target is not None:
            return self._target
        spec = self.spec
        if spec.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, get_default_environment

            return StdioServerParameters(command=spec.command or "", args=list(spec.args),
                                         env={**get_default_environment(), **spec.env}, cwd=spec.cwd)
        if spec.transport == "sse":
            from mcp.client.sse import sse_client

            return sse_client(spec.url or "", headers=spec.headers or None)
        return _streamable_http(spec.url or "", spec.headers)

    def _went_down(self, exc: BaseException) -> None:
        self.state = "down"
        self.error = describe_failure(exc)
        self._failures += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_START_S * 2 ** (self._failures - 1))
        self._retry_at = self._clock() + delay
        log.warning("server %s is down: %s (next start in %.1f s at the earliest)", self.spec.name, self.error, delay)

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._done is not None:
            with anyio.move_on_after(10):
                await self._done.wait()
        self.state = "stopped"

    async def ensure_ready(self, task_group: TaskGroup) -> str | None:
        """Ready, or restarted if down and its backoff has passed; otherwise why not."""
        async with self._lock:
            if self.state == "ready" and self._client is not None:
                return None
            wait = self._retry_at - self._clock()
            if self.state == "down" and wait > 0:
                return f"server {self.spec.name} is down ({self.error}); next restart in {wait:.1f} s"
            log.info("restarting server %s", self.spec.name)
            await self.start(task_group)
            return None if self.state == "ready" else f"server {self.spec.name} failed to start: {self.error}"

    # -- requests -------------------------------------------------------------

    async def call(self, tool: str, arguments: dict[str, Any], *, timeout_s: float,
                   progress: ProgressFn | None = None) -> CallOutcome:
        started = time.perf_counter()

        def outcome(result: CallToolResult | None, error: str | None = None) -> CallOutcome:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            if error is not None:
                return CallOutcome(self.spec.name, tool, True, f"{self.spec.name}__{tool}: {error}", None, elapsed)
            assert result is not None
            text = "\n".join(b.text for b in result.content if isinstance(b, TextContent))
            return CallOutcome(self.spec.name, tool, bool(result.is_error), text, result.structured_content, elapsed,
                               result)

        client = self._client
        if client is None:
            return outcome(None, f"server is {self.state}")
        try:
            with anyio.fail_after(timeout_s):  # cancelling the request cancels it on the server too
                result = await client.call_tool(tool, arguments, progress_callback=progress)
        except TimeoutError:
            return outcome(None, f"no answer within {timeout_s:g} s (cancelled)")
        except Exception as exc:  # noqa: BLE001 - a dead server or a protocol error becomes an error result
            await self.check_alive()
            return outcome(None, describe_failure(exc))
        return outcome(result)

    async def read_text_resource(self, uri: str, timeout_s: float = 30.0) -> str | None:
        """The text of a resource (an MCP Apps view), or None when the server cannot give it."""
        client = self._client
        if client is None:
            return None
        try:
            with anyio.fail_after(timeout_s):
                read = await client.read_resource(uri)
        except Exception as exc:  # noqa: BLE001 - no page is not a failed call
            log.warning("server %s: cannot read %s: %s", self.spec.name, uri, describe_failure(exc))
            return None
        return next((c.text for c in read.contents if isinstance(c, TextResourceContents)), None)

    async def check_alive(self) -> bool:
        """Ping; a server that does not answer is marked down (restarted on its next call)."""
        if self.state != "ready":
            return False
        if await self.ping(timeout_s=2.0) is not None:
            return True
        self._went_down(ConnectionError("the server stopped answering"))
        if self._stop is not None:
            self._stop.set()  # let the holder task close what is left of the session
        return False

    async def ping(self, timeout_s: float = 5.0) -> float | None:
        """Round-trip milliseconds, or None if the server does not answer."""
        client = self._client
        if client is None:
            return None
        started = time.perf_counter()
        try:
            with anyio.fail_after(timeout_s):
                if client.protocol_version in _PING_VERSIONS:
                    await client.session.send_ping()
                else:  # protocol 2026-07-28 dropped ping: the cheapest round trip left is an uncached listing
                    await client.list_tools(cache_mode="bypass")
        except Exception:  # noqa: BLE001 - not answering is the answer
            return None
        return round((time.perf_counter() - started) * 1000, 3)


@asynccontextmanager
async def _streamable_http(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    """Streamable HTTP with our headers (auth); the HTTP client is closed with the transport."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers=headers) as http, streamable_http_client(url, http_client=http) as streams:
        yield streams


def describe_failure(exc: BaseException) -> str:
    """One line about why a server or call failed (the innermost error of a group)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    kind = type(exc).__name__
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{kind}: {text}" if text else kind
