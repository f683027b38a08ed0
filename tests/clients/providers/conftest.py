from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from snowmcp.clients.host.providers.base import Message, Reply, ToolResult, ToolSpec
from tests.clients.providers.fake_http import AGGREGATE_SCHEMA, PREVIEW_SCHEMA, FakeServer, fake_server


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with fake_server() as running:
        yield running


@pytest.fixture
def tools() -> list[ToolSpec]:
    return [
        ToolSpec("query__preview_table", "Show the first rows of a table.", PREVIEW_SCHEMA),
        ToolSpec("analytics__aggregate", "Aggregate columns of a table.", AGGREGATE_SCHEMA),
    ]


@pytest.fixture
async def closing() -> AsyncIterator[list[Any]]:
    """Providers appended here are closed at the end of the test, on the test's event loop."""
    opened: list[Any] = []
    yield opened
    for provider in opened:
        await provider.aclose()


def follow_up(messages: list[Message], reply: Reply, content: str, is_error: bool = False) -> None:
    """Append the assistant's turn and one result for its (single) tool call, as the loop does."""
    messages.append(Message("assistant", text=reply.text, tool_calls=list(reply.tool_calls)))
    call = reply.tool_calls[0]
    messages.append(Message("tool", tool_results=[ToolResult(call.id, call.name, content, is_error)]))
