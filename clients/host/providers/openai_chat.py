"""Any OpenAI-compatible chat-completions endpoint, through the official `openai` SDK
(extra: `snowmcp[openai]`). With `base_url` this reaches local models served by
Ollama (`http://localhost:11434/v1`), vLLM or llama.cpp.

Wire shape: tools are `{"type": "function", "function": {name, description,
parameters}}`; the assistant's calls are `tool_calls` whose arguments are JSON
text; each result goes back as a `tool` message with its `tool_call_id`, a
failed call's text prefixed with `ERROR:` (the format has no error flag).

Arguments that are not a JSON object are not passed on to a tool: the provider
answers the model at once with an `ERROR:` tool message saying what was wrong
and asks again (at most `REPAIRS` times), so a sloppy local model can correct
itself instead of crashing the loop.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlparse

from snowmcp.clients.host.providers.base import Message, ProviderError, Reply, ToolCall, ToolSpec
from snowmcp.clients.host.providers.support import (api_message, import_sdk, one_line, parse_arguments, resolve_key,
                                            status_hint)

KEY_VARS = ("OPENAI_API_KEY",)
ERROR_PREFIX = "ERROR: "
REPAIRS = 2
LOCAL_PLACEHOLDER_KEY = "not-needed"  # local servers (Ollama, llama.cpp) ignore the key; the SDK wants one


class OpenAIProvider:
    name = "openai"

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None,
                 max_tokens: int = 4096, timeout_s: float = 120, max_retries: int = 2) -> None:
        self._sdk = import_sdk("openai", "openai")
        self.model = model
        self.max_tokens = max_tokens
        key = resolve_key(api_key, *KEY_VARS)
        if key is None and base_url is None:
            raise ProviderError("openai: no API key: set OPENAI_API_KEY (or pass a base URL for a local server)")
        self._secrets = (key,)
        # The official API wants `max_completion_tokens` (reasoning models refuse `max_tokens`);
        # compatible servers know `max_tokens`.
        official = base_url is None or urlparse(base_url).hostname == "api.openai.com"
        self._max_field = "max_completion_tokens" if official else "max_tokens"
        try:
            self._client = self._sdk.AsyncOpenAI(api_key=key or LOCAL_PLACEHOLDER_KEY, base_url=base_url,
                                                 timeout=timeout_s, max_retries=max_retries)
        except Exception as exc:  # the SDK validates credentials and options here
            raise ProviderError(f"openai: cannot create the client: {one_line(exc, self._secrets)}") from None

    async def complete(self, system: str, messages: list[Message], tools: list[ToolSpec]) -> Reply:
        wire = ([{"role": "system", "content": system}] if system else []) + to_wire(messages)
        request: dict[str, Any] = {"model": self.model, "messages": wire, self._max_field: self.max_tokens}
        if tools:
            request["tools"] = [
                {"type": "function",
                 "function": {"name": t.name, "description": t.description, "parameters": t.input_schema}}
                for t in tools
            ]
        for _attempt in range(REPAIRS + 1):
            choice = await self._request(request)
            reply, raw_calls, problems = from_wire(choice)
            if not problems:
                return reply
            # Feed the malformed calls back at once: the assistant turn as the model sent it,
            # then an ERROR tool message for every call in it (none of them was run).
            request["messages"] = request["messages"] + [
                {"role": "assistant", "content": reply.text, "tool_calls": raw_calls},
                *({"role": "tool", "tool_call_id": call["id"],
                   "content": ERROR_PREFIX + problems.get(call["id"], "not run: another call in the same "
                                                          "turn had invalid arguments; call it again")}
                  for call in raw_calls),
            ]
        raise ProviderError(f"openai: the model sent malformed tool arguments {REPAIRS + 1} times in a row")

    async def _request(self, request: dict[str, Any]) -> Any:
        sdk = self._sdk
        try:
            response = await self._client.chat.completions.create(**request)
        except sdk.APIStatusError as exc:
            hint = status_hint(exc.status_code)
            raise ProviderError(f"openai: HTTP {exc.status_code}: {hint}: {self._clean(api_message(exc))}") from None
        except sdk.APITimeoutError:
            raise ProviderError(f"openai: no answer from {self._client.base_url} in time") from None
        except sdk.APIConnectionError as exc:
            raise ProviderError(f"openai: cannot reach {self._client.base_url}: {self._clean(exc)}") from None
        except sdk.OpenAIError as exc:  # bad responses and the like
            raise ProviderError(f"openai: {self._clean(exc)}") from None
        if not getattr(response, "choices", None):
            raise ProviderError("openai: the response has no choices")
        return response.choices[0]

    async def aclose(self) -> None:
        """Close the SDK's connection pool (call it when the chat ends, on the same event loop)."""
        await self._client.close()

    def _clean(self, text: object) -> str:
        return one_line(text, self._secrets)


def to_wire(messages: list[Message]) -> list[dict[str, Any]]:
    wire: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "user":
            wire.append({"role": "user", "content": message.text or ""})
        elif message.role == "assistant":
            turn: dict[str, Any] = {"role": "assistant", "content": message.text}
            if message.tool_calls:
                turn["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": _dump(c.arguments)}}
                    for c in message.tool_calls
                ]
            elif message.text is None:
                turn["content"] = ""
            wire.append(turn)
        else:  # tool results, each its own message; any text after them as a user turn
            for result in message.tool_results:
                content = ERROR_PREFIX + result.content if result.is_error else result.content
                wire.append({"role": "tool", "tool_call_id": result.call_id, "content": content})
            if message.text:
                wire.append({"role": "user", "content": message.text})
    return wire


def from_wire(choice: Any) -> tuple[Reply, list[dict[str, Any]], dict[str, str]]:
    """The reply, the calls as sent (for feeding back), and what is wrong with each malformed call."""
    message = choice.message
    calls: list[ToolCall] = []
    raw_calls: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        if function is None:  # a non-function tool call type: nothing we offered
            continue
        call_id = call.id or f"call_{uuid.uuid4().hex[:12]}"
        raw_calls.append({"id": call_id, "type": "function",
                          "function": {"name": function.name, "arguments": _as_text(function.arguments)}})
        try:
            arguments = parse_arguments(function.arguments)
        except ValueError as exc:
            problems[call_id] = (f"the arguments of {function.name} were {exc}; "
                                 "call it again with a JSON object matching its schema")
            continue
        calls.append(ToolCall(id=call_id, name=function.name, arguments=arguments))
    reply = Reply(text=message.content or None, tool_calls=calls, stop_reason=choice.finish_reason)
    return reply, raw_calls, problems


def _dump(arguments: dict[str, Any]) -> str:
    return json.dumps(arguments, ensure_ascii=False)


def _as_text(raw: Any) -> str:
    """Arguments as the wire wants them back: JSON text (some local servers send an object)."""
    return raw if isinstance(raw, str) else ("" if raw is None else json.dumps(raw, ensure_ascii=False))
