"""Helpers for calling tools in tests, and a warehouse that records what reaches it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcp import Client

from snowmcp.common.results import RowCollector
from snowmcp.common.warehouse.base import FetchOutcome, QueryTag, Warehouse


async def call_ok(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured result."""
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, f"{tool} failed: {error_text(result)}"
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, arguments: dict[str, Any]) -> str:
    """Call a tool that must fail with an isError result; return the error text."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return error_text(result)


def error_text(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


class FakeClock:
    """A clock that moves only when a test sets `now`."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class SpyWarehouse:
    """Wraps any warehouse and records every statement that reaches it."""

    def __init__(self, inner: Warehouse) -> None:
        self.inner = inner
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def execute(self, sql: str, collector: RowCollector, *, params: Sequence[Any] | None = None,
                      timeout_s: float, tag: QueryTag, **more: Any) -> FetchOutcome:
        self.statements.append(sql)  # `more`: what a backend takes beyond the protocol (on_query_id)
        return await self.inner.execute(sql, collector, params=params, timeout_s=timeout_s, tag=tag, **more)
