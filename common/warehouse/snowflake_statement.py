"""One Snowflake statement in flight: submitted and answered in one request, cancellable from another thread.

Submission is a synchronous `cursor.execute` with per-statement parameters: Snowflake answers the
query request with the first result batch, so an uncached query costs one request (a statement
still running after about 45 s is polled by the driver itself, as every Snowflake driver does).
Snowflake tells the query id only in that answer, so until it comes the statement is cancelled the
way Snowflake's drivers cancel it - the recommended way, per "Canceling statements"
(https://docs.snowflake.com/en/user-guide/querying-cancel-statements): the driver's abort request,
`POST /queries/v1/abort-request {"requestId": <the submission's request id>, "sqlText": ...}`.

- 4.x: our own request id rides in `_statement_params["requestId"]`, and
  `connection._cancel_query(sql, request_id)` sends that abort request (what the 4.x driver's own
  `timeout=` calls).
- 5.x: the Rust core makes the request id itself and hands it out only with the answer, but it
  sends that same abort request when the operation's cancellation token fires - which it does when
  the awaitable of the core's async entry point is dropped. So the request runs as
  `async_core_driver.statement_execute_query` on a private event loop in the worker thread (the
  cursor's `_execute_query`, replaced on that one cursor), and cancelling means cancelling that
  task (`CoreOperation`). Checked against 5.2.0: the abort request reaches the server at once.
- A connector with neither hook: the statement's QUERY_TAG carries a nonce (`"run"`), and the
  query id is looked up by it in `INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION` on another session
  (`snowflake_handles.py`), then aborted by id.

Once the query id is known (the answer came, or the lookup found it), cancel is
`cursor.abort_query(query_id)` (`POST /queries/<id>/abort-request`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from snowmcp.common.warehouse.snowflake_pool import BASE_QUERY_TAG, ConnectionAbandoned, PooledConnection

log = logging.getLogger("snowmcp.snowflake")
T = TypeVar("T")


class CoreOperation:
    """5.x: one core call run as a task on a private event loop, so another thread can cancel it
    (the core then aborts the request in Snowflake by its request id)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._cancelled = False

    def run(self, call: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.new_event_loop()

        async def main() -> T:
            with self._lock:
                if self._cancelled:
                    raise ConnectionAbandoned
                self._loop, self._task = loop, asyncio.current_task()
            return await call()

        try:
            return loop.run_until_complete(main())
        except asyncio.CancelledError:
            raise ConnectionAbandoned from None
        finally:
            with self._lock:
                self._loop = self._task = None
            loop.close()

    def cancel(self) -> bool:
        """Cancel the call if it runs (True), or the next one before it starts (False)."""
        with self._lock:
            self._cancelled = True
            if self._loop is None or self._task is None:
                return False
            self._loop.call_soon_threadsafe(self._task.cancel)
            return True


def core_execute_hook() -> Callable[[CoreOperation], Callable[[Any, Any], Any]] | None:
    """5.x: a factory of cancellable replacements for a cursor's `_execute_query`, or None when the
    installed connector lacks the hook (4.x, or a 5.x that changed it)."""
    try:
        from snowflake.connector._internal.api_client.client_api import async_core_driver
        from snowflake.connector.cursor import SnowflakeCursor
    except ImportError:
        return None
    hook = getattr(SnowflakeCursor, "_execute_query", None)
    if hook is None or list(inspect.signature(hook).parameters) != ["self", "stmt_handle", "bindings"]:
        return None

    def cancellable(operation: CoreOperation) -> Callable[[Any, Any], Any]:
        def execute_query(stmt_handle: Any, bindings: Any) -> Any:
            return operation.run(lambda: async_core_driver.statement_execute_query(
                stmt_handle=stmt_handle, bindings=bindings))
        return execute_query

    return cancellable


class Statement:
    """One statement in flight, and what another thread needs to cancel it."""

    def __init__(self, sql: str, tag: dict[str, str], *, with_request_id: bool, nonce: bool = False,
                 on_query_id: Callable[[str], None] | None = None) -> None:
        self.sql = sql
        self.nonce = uuid.uuid4().hex if nonce else None
        run = {"run": self.nonce} if self.nonce else {}
        self.tag = json.dumps({**BASE_QUERY_TAG, **tag, **run}, separators=(",", ":"))
        self.request_id = uuid.uuid4() if with_request_id else None
        self.pooled: PooledConnection | None = None
        self.session_id: int | None = None
        self.query_id: str | None = None
        self.timeout_s: float | None = None  # a statement's own timeout (4.x's driver is told it too)
        self.sent = False  # its request was handed to the driver: it may run in Snowflake from now on
        self.core: CoreOperation | None = None  # 5.x: the cancellable execute request
        self.cancelled = threading.Event()
        self.finished = threading.Event()  # the execute request was answered (or failed)
        self.on_query_id = on_query_id
        self.find_query_id: Callable[[Statement], str | None] | None = None  # the lookup by nonce, where needed
        self._reported = False
        self._lock = threading.Lock()

    def known(self, query_id: str) -> None:
        """The query id is known: keep it (for a cancel by id) and report it, at most once."""
        with self._lock:
            self.query_id = self.query_id or query_id
            report, self._reported = self.on_query_id is not None and not self._reported, True
        if report and self.on_query_id is not None:
            try:
                self.on_query_id(self.query_id)
            except Exception:  # the caller's bug must not break the statement
                log.exception("on_query_id callback failed")

    def abandon(self) -> None:
        """The caller gave up: stop the worker and cancel in Snowflake, without blocking the loop."""
        if self.cancelled.is_set():
            return
        self.cancelled.set()
        threading.Thread(target=self.send_cancel, name="snowmcp-cancel", daemon=True).start()

    def send_cancel(self) -> bool:
        """Cancel in Snowflake by the best handle known now; True when a cancel was sent."""
        pooled, query_id = self.pooled, self.query_id
        if pooled is None:
            return False  # it never reached Snowflake
        how = f"query {query_id}" if query_id else f"request {self.request_id or '(core)'}"
        try:
            if query_id:
                pooled.raw.cursor().abort_query(query_id)
            elif self.core is not None:
                if not self.core.cancel():
                    return False  # not submitted yet: the worker stops before it submits
            elif self.request_id is not None and hasattr(pooled.raw, "_cancel_query"):
                pooled.raw._cancel_query(self.sql, self.request_id)
            elif self.find_query_id is not None and (found := self.find_query_id(self)):
                how = f"query {found} (found by its tag)"
                pooled.raw.cursor().abort_query(found)
            else:
                return False
            log.debug("cancel sent for %s", how)
            return True
        except Exception as exc:  # finished already, or the network is gone
            log.debug("cancel of %s failed: %s", how, type(exc).__name__)
            return False
