"""The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) on top of `common.long_calls`.

For a client that declares the extension, a long call still running after `SNOWMCP_CALL_WAIT_S`
answers a `CreateTaskResult` (`resultType: "task"`) instead of `status: "running"`; its task id
is the call's query handle. `tasks/get` returns the task: `working`, `completed` with the
CallToolResult (a tool error is a completed task whose result has `isError: true`, as the
extension asks), or `cancelled`; `tasks/cancel` cancels the statement in the warehouse;
`tasks/update` has nothing to answer (no snowmcp tool asks the client for input). Clients
without the extension keep the handle path (`get_query_result`, `cancel_query`). Tasks belong
to the session or caller that started them, like handles.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from cachetools import LRUCache
from mcp.server.extension import Extension, MethodBinding
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent
from mcp_types import INVALID_PARAMS, CallToolRequestParams, RequestParams
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from snowmcp.common.errors import NotFound, SnowmcpError
from snowmcp.common.long_calls import POLL_AFTER_MS, LongCalls

IDENTIFIER = "io.modelcontextprotocol/tasks"


class TaskParams(RequestParams):
    taskId: str  # noqa: N815 (the wire name)


class UpdateParams(TaskParams):
    inputResponses: dict[str, Any] = {}  # noqa: N815


class TasksExtension(Extension):
    identifier = IDENTIFIER

    def __init__(self, long_calls: LongCalls) -> None:
        self._calls = long_calls
        self._created: LRUCache[str, str] = LRUCache(maxsize=4 * long_calls.max_calls)  # task id -> createdAt

    def methods(self) -> list[MethodBinding]:
        modern = frozenset(MODERN_PROTOCOL_VERSIONS)
        return [MethodBinding("tasks/get", TaskParams, self._get, modern),
                MethodBinding("tasks/cancel", TaskParams, self._cancel, modern),
                MethodBinding("tasks/update", UpdateParams, self._update, modern)]

    async def intercept_tool_call(self, params: CallToolRequestParams, ctx: Any, call_next: Any) -> Any:
        result = await call_next(ctx)
        running = _running(result)
        if running is None or not _declared(ctx):
            return result
        now = _now()
        self._created[running["query_handle"]] = now
        return {"resultType": "task", **self._task(running["query_handle"], "working", now),
                "statusMessage": f"{running['tool']} is running"}

    async def _get(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        state, value = self._peek(ctx, params.taskId)
        task = self._task(params.taskId, state, _now())
        if state == "completed":
            task["result"] = _dumped(value)
        elif state == "failed":  # our errors are tool errors: a completed task with isError, per the extension
            task["status"], task["result"] = "completed", _dumped(_error_result(value))
        return task

    async def _cancel(self, ctx: Any, params: TaskParams) -> dict[str, Any]:
        self._peek(ctx, params.taskId)  # unknown or foreign: an error
        try:
            await self._calls.cancel(params.taskId, _owner(ctx))
        except NotFound:
            pass  # finished and forgotten meanwhile: cancelling is cooperative
        return {}

    async def _update(self, ctx: Any, params: UpdateParams) -> dict[str, Any]:
        self._peek(ctx, params.taskId)
        return {}

    def _peek(self, ctx: Any, task_id: str) -> tuple[str, Any]:
        try:
            return self._calls.peek(task_id, _owner(ctx))
        except NotFound as exc:
            raise MCPError(code=INVALID_PARAMS, message=exc.message) from None

    def _task(self, task_id: str, status: str, now: str) -> dict[str, Any]:
        return {"taskId": task_id, "status": status, "createdAt": self._created.get(task_id, now),
                "lastUpdatedAt": now, "ttlMs": int(self._calls.keep_s * 1000), "pollIntervalMs": POLL_AFTER_MS}


def _running(result: Any) -> dict[str, Any] | None:
    """The `RunningCall` a long tool answered, if that is what `result` is."""
    content = getattr(result, "structured_content", None)
    if isinstance(content, dict) and content.get("status") == "running" and "query_handle" in content:
        return content
    return None


def _declared(ctx: Any) -> bool:
    if getattr(ctx, "protocol_version", None) not in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = getattr(ctx.session, "client_capabilities", None)
    return IDENTIFIER in (getattr(capabilities, "extensions", None) or {})


def _owner(ctx: Any) -> str | None:
    from snowmcp.common.toolkit import session_of

    return session_of(ctx)


def _error_result(error: BaseException) -> CallToolResult:
    text = str(error) if isinstance(error, SnowmcpError) else "internal error; the server's log (stderr) has the details"
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _dumped(value: Any) -> dict[str, Any]:
    from snowmcp.common.toolkit import structured_result

    result = value if isinstance(value, CallToolResult) else structured_result(value, status="done")
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
