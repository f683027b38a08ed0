"""The Anthropic Messages API, through the official `anthropic` SDK (extra: `snowmcp[anthropic]`).

Wire shape: tools are `{name, description, input_schema}`; the assistant's tool
calls are `tool_use` blocks; their results go back in the next user turn as
`tool_result` blocks (`is_error: true` for a failed call); the system prompt is
the top-level `system` field.
"""

from __future__ import annotations

from typing import Any

from snowmcp.clients.host.providers.base import Message, ProviderError, Reply, ToolCall, ToolSpec
from snowmcp.clients.host.providers.support import api_message, import_sdk, one_line, resolve_key, status_hint

KEY_VARS = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN")


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None,
                 max_tokens: int = 4096, timeout_s: float = 120, max_retries: int = 2) -> None:
        self._sdk = import_sdk("anthropic", "anthropic")
        self.model = model
        self.max_tokens = max_tokens
        self._secrets = (api_key, resolve_key(None, *KEY_VARS))
        options: dict[str, Any] = {"timeout": timeout_s, "max_retries": max_retries}
        if api_key:
            options["api_key"] = api_key
        if base_url:
            options["base_url"] = base_url
        try:
            self._client = self._sdk.AsyncAnthropic(**options)
        except Exception as exc:  # the SDK validates credentials and options here
            raise ProviderError(f"anthropic: cannot create the client: {one_line(exc, self._secrets)}") from None

    async def complete(self, system: str, messages: list[Message], tools: list[ToolSpec]) -> Reply:
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "messages": to_wire(messages),
        }
        if system:
            request["system"] = system
        if tools:
            request["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools
            ]
        try:
            response = await self._client.messages.create(**request)
        except self._sdk.APIStatusError as exc:
            hint = status_hint(exc.status_code)
            raise ProviderError(f"anthropic: HTTP {exc.status_code}: {hint}: {self._clean(api_message(exc))}") from None
        except self._sdk.APITimeoutError:
            raise ProviderError(f"anthropic: no answer from {self._client.base_url} in time") from None
        except self._sdk.APIConnectionError as exc:
            raise ProviderError(f"anthropic: cannot reach {self._client.base_url}: {self._clean(exc)}") from None
        except self._sdk.AnthropicError as exc:  # bad responses and the like
            raise ProviderError(f"anthropic: {self._clean(exc)}") from None
        except TypeError as exc:  # how the SDK says that it found no credentials at all
            if "authentication" not in str(exc):
                raise
            raise ProviderError("anthropic: no API key: set ANTHROPIC_API_KEY") from None
        if getattr(response, "content", None) is None:
            raise ProviderError("anthropic: the response has no content")
        return from_wire(response)

    async def aclose(self) -> None:
        """Close the SDK's connection pool (call it when the chat ends, on the same event loop)."""
        await self._client.close()

    def _clean(self, text: object) -> str:
        return one_line(text, self._secrets)


def to_wire(messages: list[Message]) -> list[dict[str, Any]]:
    """Our turns as Messages API turns: tool results become user `tool_result` blocks, and
    consecutive turns of the same role are merged (the API wants them alternating)."""
    wire: list[dict[str, Any]] = []
    for message in messages:
        blocks: list[dict[str, Any]] = []
        if message.role == "tool":
            role = "user"
        else:
            role = message.role
        for result in message.tool_results:
            blocks.append({"type": "tool_result", "tool_use_id": result.call_id,
                           "content": result.content, "is_error": result.is_error})
        if message.text:
            blocks.append({"type": "text", "text": message.text})
        for call in message.tool_calls:
            blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments})
        if not blocks:
            continue
        if wire and wire[-1]["role"] == role:
            wire[-1]["content"].extend(blocks)
        else:
            wire.append({"role": role, "content": blocks})
    return wire


def from_wire(response: Any) -> Reply:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in response.content or []:
        kind = getattr(block, "type", None)
        if kind == "text" and block.text:
            texts.append(block.text)
        elif kind == "tool_use":
            arguments = block.input if isinstance(block.input, dict) else {}
            calls.append(ToolCall(id=block.id, name=block.name, arguments=arguments))
    return Reply(text="\n".join(texts) or None, tool_calls=calls, stop_reason=response.stop_reason)
