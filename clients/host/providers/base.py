"""The provider protocol: what the agent loop needs from an LLM, in a vendor-neutral shape.

The loop keeps the conversation as `Message`s and offers the host's tools as
`ToolSpec`s (name, description, JSON Schema of the arguments). A provider
converts both to its wire format, makes one request, and returns a `Reply`:
text, tool calls, or both. Tool results (including errors, `is_error=True`)
go back in the next request, so the model can read them and recover.
Providers never run tools themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    content: str  # the tool's text (JSON for structured results), or the error message
    is_error: bool = False


@dataclass
class Message:
    """One turn: the user's text, the assistant's text and tool calls, or tool results."""

    role: Literal["user", "assistant", "tool"]
    text: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_results: list[ToolResult] = field(default_factory=list)


@dataclass(frozen=True)
class Reply:
    text: str | None
    tool_calls: list[ToolCall]
    stop_reason: str | None = None


class ProviderError(Exception):
    """The provider could not answer (network, authentication, a malformed response)."""


class Provider(Protocol):
    name: str

    async def complete(self, system: str, messages: list[Message], tools: list[ToolSpec]) -> Reply:
        """One model request: the conversation so far and the tools it may call."""
        ...
