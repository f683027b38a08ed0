"""The LLM loop: the model sees the host's tools, calls them, reads the results, and answers.

Each step sends the conversation and the tool catalog to the provider; the
reply's tool calls are run through the host (in order), their results — errors
included, marked as such — go back to the model, and the loop continues until
the model answers without calling a tool or `max_steps` requests were made.
Every event is reported to `on_event` as it happens, for a live transcript.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from snowmcp.clients.host.connection import CallOutcome, ProgressFn
from snowmcp.clients.host.host import Host
from snowmcp.clients.host.providers.base import Message, Provider, ToolResult, ToolSpec

DEFAULT_SYSTEM = (
    "You are a data assistant with tools on a data warehouse: query (catalog and read-only SQL), analytics "
    "(profiles, aggregates, time series, anomalies), etl (pipeline runs, failures, freshness, SLAs), quality "
    "(data-quality checks) and semantic (certified metrics by name). Use the tools to answer; for a business figure "
    "prefer a certified metric; prefer aggregates over fetching rows; say what you found."
)
MAX_RESULT_CHARS = 20_000  # what one tool result may put into the model's context


@dataclass
class Event:
    kind: Literal["user", "assistant", "tool_call", "tool_result", "stopped"]
    text: str
    tool: str | None = None
    arguments: dict[str, Any] | None = None
    is_error: bool = False
    structured: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)  # what the call left besides text (images, app pages)


@dataclass
class Conversation:
    messages: list[Message] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    answer: str | None = None
    steps: int = 0


def tool_specs(host: Host) -> list[ToolSpec]:
    return [ToolSpec(t.name, t.description, t.input_schema) for t in host.catalog()]


# Per call: a progress callback (or None) and what to do when it ends; and what to keep of an outcome.
CallWatcher = Callable[[str], tuple[ProgressFn | None, Callable[[], None]]]
Keeper = Callable[[str, dict[str, Any], CallOutcome], Awaitable[list[Path]]]


async def run_turn(host: Host, provider: Provider, prompt: str, *, conversation: Conversation | None = None,
                   system: str = DEFAULT_SYSTEM, max_steps: int = 12,
                   on_event: Callable[[Event], None] = lambda _: None,
                   watch: CallWatcher | None = None, keep: Keeper | None = None) -> Conversation:
    """One user turn: loop model -> tools -> model until an answer or `max_steps` model requests.
    `watch(tool)` gives each call its progress callback; `keep` saves what a call left (its paths go
    into the tool_result event)."""
    conversation = conversation or Conversation()

    def emit(event: Event) -> None:
        conversation.events.append(event)
        on_event(event)

    conversation.messages.append(Message(role="user", text=prompt))
    emit(Event("user", prompt))
    tools = tool_specs(host)
    for _ in range(max_steps):
        conversation.steps += 1
        reply = await provider.complete(system, conversation.messages, tools)
        conversation.messages.append(Message(role="assistant", text=reply.text, tool_calls=list(reply.tool_calls)))
        if reply.text:
            emit(Event("assistant", reply.text))
        if not reply.tool_calls:
            conversation.answer = reply.text
            return conversation
        results = []
        for call in reply.tool_calls:
            emit(Event("tool_call", "", tool=call.name, arguments=call.arguments))
            progress, done = watch(call.name) if watch else (None, lambda: None)
            try:
                outcome = await host.call(call.name, call.arguments, progress=progress)
            finally:
                done()
            files = [str(p) for p in await keep(call.name, call.arguments, outcome)] if keep else []
            text = outcome.text if outcome.structured is None else json.dumps(outcome.structured, default=str)
            if len(text) > MAX_RESULT_CHARS:
                text = text[:MAX_RESULT_CHARS] + f"... [truncated: {len(text)} characters in all]"
            results.append(ToolResult(call.id, call.name, text, outcome.is_error))
            emit(Event("tool_result", outcome.text, tool=call.name, is_error=outcome.is_error,
                       structured=outcome.structured, files=files))
        conversation.messages.append(Message(role="tool", tool_results=results))
    emit(Event("stopped", f"stopped after {max_steps} model requests without a final answer"))
    return conversation
