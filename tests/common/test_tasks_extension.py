"""The tasks extension (io.modelcontextprotocol/tasks): a client that declares it gets a task for a
long call, follows it with tasks/get and can cancel it with tasks/cancel; others keep the handles."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import pytest
from mcp import Client, types
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Result
from pydantic import ConfigDict

from snowmcp.common.settings import Settings
from snowmcp.servers.query.server import build_server

pytestmark = pytest.mark.anyio

SLOW = "SELECT count(*) AS n FROM range(2500000000) t(i) WHERE hash(i) % 2 < 2"


class CreateTask(Result):
    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"]
    taskId: str  # noqa: N815
    status: str = ""


class TaskState(Result):
    model_config = ConfigDict(extra="allow")
    status: str = ""


async def tasks_request(session: Any, method: str, task_id: str) -> dict[str, Any]:
    request = types.Request[dict[str, Any], str](method=method, params={"taskId": task_id})
    return (await session.send_request(request, TaskState)).model_dump(by_alias=True)


class TasksClient(ClientExtension):
    """A requester of the extension: polls tasks/get (or cancels at once when `cancel` is set)."""

    identifier = "io.modelcontextprotocol/tasks"

    def __init__(self, cancel: bool = False) -> None:
        self.cancel = cancel
        self.seen: list[dict[str, Any]] = []

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreateTask, resolve=self.resolve)]

    async def resolve(self, task: CreateTask, ctx: ClaimContext) -> CallToolResult:
        self.seen.append(task.model_dump(by_alias=True))
        if self.cancel:
            await tasks_request(ctx.session, "tasks/cancel", task.taskId)
        while True:
            state = await tasks_request(ctx.session, "tasks/get", task.taskId)
            self.seen.append(state)
            if state["status"] != "working":
                break
            await anyio.sleep(state["pollIntervalMs"] / 1000)
        if state["status"] == "completed":
            return CallToolResult.model_validate(state["result"])
        return CallToolResult(content=[types.TextContent(type="text", text=state["status"])], is_error=True)


async def test_a_client_with_the_extension_follows_a_task_to_its_result(settings: Settings) -> None:
    tasks = TasksClient()
    async with Client(build_server(settings.model_copy(update={"call_wait_s": 1.0})), extensions=[tasks]) as client:
        result = await client.call_tool("run_query", {"sql": SLOW, "timeout_s": 120})
    created = tasks.seen[0]
    assert created["resultType"] == "task" and created["status"] == "working" and created["taskId"].startswith("q_")
    assert created["ttlMs"] > 0 and created["pollIntervalMs"] > 0
    assert tasks.seen[-1]["status"] == "completed"
    assert not result.is_error and result.structured_content is not None
    assert result.structured_content["status"] == "done" and result.structured_content["rows"] == [[2_500_000_000]]


async def test_tasks_cancel_cancels_the_statement(settings: Settings) -> None:
    tasks = TasksClient(cancel=True)
    async with Client(build_server(settings.model_copy(update={"call_wait_s": 1.0})), extensions=[tasks]) as client:
        result = await client.call_tool("run_query", {"sql": SLOW + " -- cancel", "timeout_s": 120})
        assert result.is_error
        with anyio.fail_after(3):  # the server answers promptly afterwards
            quick = await client.call_tool("run_query", {"sql": "SELECT 1 AS one"})
    assert quick.structured_content["rows"] == [[1]]
    assert tasks.seen[-1]["status"] == "cancelled"


async def test_a_quick_call_is_an_ordinary_result_and_an_unknown_task_an_error(settings: Settings) -> None:
    tasks = TasksClient()
    async with Client(build_server(settings), extensions=[tasks]) as client:
        result = await client.call_tool("run_query", {"sql": "SELECT 7 AS n"})
        assert result.structured_content["rows"] == [[7]] and tasks.seen == []
        with pytest.raises(Exception, match="unknown query handle"):
            await tasks_request(client.session, "tasks/get", "q_nothing")
