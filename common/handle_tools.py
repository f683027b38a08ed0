"""`get_query_result` and `cancel_query`: the tools behind `query_handle` and `next_page`.

Every server with long tools (`Toolset.tool(long=True)`) adds them with `add_handle_tools`.
`get_query_result` takes either kind of token: a `query_handle` from a call that answered
`status: "running"` (`common.long_calls`), or a `next_page` token from a cut result
(`common.pages`; fetching a page is itself a long call, so it may answer `running` too). A stored
handle (`sf_...`, Snowflake) this process does not hold is read back from the warehouse by its
query id, and cancelled there.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from snowmcp.common.concurrency import current_session
from snowmcp.common.errors import InvalidArgument, NotFound, QueryTimeout
from snowmcp.common.long_calls import RunningCall, parse_stored_handle
from snowmcp.common.pages import is_page_token
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.toolkit import Toolset, structured_result
from snowmcp.common.warehouse.base import StoredResults

MAX_HANDLE_CHARS = 200


class PolledResult(BaseModel):
    """The polled call's own result plus `status: "done"`, or the running call again."""

    model_config = ConfigDict(extra="allow")
    status: str = Field(description='"done" (the tool\'s result follows) or "running" (poll again).')


class CancelOutcome(BaseModel):
    query_handle: str
    cancelled: bool = Field(description="False when the call had already finished.")


def add_handle_tools(tools: Toolset, runtime: ServerRuntime) -> None:
    long_calls = runtime.long_calls

    @tools.tool(title="Get query result", read_only=True, idempotent=True, open_world=False)
    async def get_query_result(query_handle: str) -> PolledResult:
        """Poll a "running" call, or fetch a next_page."""
        _check(query_handle)
        owner = current_session.get()
        stored = parse_stored_handle(query_handle)
        if is_page_token(query_handle):
            outcome: Any = await long_calls.start("get_query_result", lambda: runtime.page(query_handle), owner)
        elif stored is not None and not long_calls.holds(query_handle):
            outcome = await _stored(query_handle, *stored)
        else:
            outcome = await long_calls.result(query_handle, owner)
        return structured_result(outcome, status="done")  # type: ignore[return-value]

    async def _stored(handle: str, query_id: str, rows: int) -> Any:
        """A stored handle this process does not hold (another replica's, or from before a restart):
        the statement's result by id, or `running` again while it still runs."""
        started = time.monotonic()
        try:
            return await runtime.stored_result(query_id, rows_cap=runtime.row_limit(rows),
                                               timeout_s=runtime.settings.call_wait_s)
        except QueryTimeout:
            return RunningCall(query_handle=handle, tool="run_query", elapsed_ms=int((time.monotonic() - started) * 1000))

    @tools.tool(title="Cancel query", read_only=True, destructive=False, idempotent=True, open_world=False)
    async def cancel_query(query_handle: str) -> CancelOutcome:
        """Cancel a "running" call."""
        _check(query_handle)
        owner, stored = current_session.get(), parse_stored_handle(query_handle)
        if stored is not None and not long_calls.holds(query_handle):
            warehouse = await runtime.warehouse()
            if not isinstance(warehouse, StoredResults):
                raise NotFound(f"unknown query handle {query_handle!r}")
            cancelled = await runtime.catalog(lambda _: warehouse.cancel(stored[0]))
        else:
            cancelled = await long_calls.cancel(query_handle, owner)
        return CancelOutcome(query_handle=query_handle, cancelled=cancelled)


def _check(handle: str) -> None:
    if len(handle) > MAX_HANDLE_CHARS:
        raise InvalidArgument(f"not a query handle or next_page token ({len(handle)} characters)")
