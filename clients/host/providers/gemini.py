"""Gemini, through the `google-genai` SDK (extra: `snowmcp[gemini]`).

Wire shape: tools are `function_declarations` whose parameters are converted
to the schema subset Gemini accepts (`gemini_schema.to_gemini_schema`); the
model's calls are `function_call` parts (ids generated when Gemini sends
none); results go back as `function_response` parts, `{"output": ...}` or
`{"error": ...}` for a failed call; the system prompt is `system_instruction`.

Gemini's thinking models sign their function calls (`thought_signature`) and
want the signature back with the call in later requests; the provider keeps
the signatures of the calls it returned, by call id.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from snowmcp.clients.host.providers.base import Message, ProviderError, Reply, ToolCall, ToolSpec
from snowmcp.clients.host.providers.gemini_schema import to_gemini_schema
from snowmcp.clients.host.providers.support import import_sdk, one_line, resolve_key, status_hint

KEY_VARS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")  # the SDK prefers GOOGLE_API_KEY too


class GeminiProvider:
    name = "gemini"

    def __init__(self, model: str, api_key: str | None = None, base_url: str | None = None,
                 max_tokens: int = 4096, timeout_s: float = 120, max_retries: int = 2) -> None:
        genai = import_sdk("google.genai", "gemini")
        self._types = import_sdk("google.genai.types", "gemini")
        self._errors = import_sdk("google.genai.errors", "gemini")
        self.model = model
        self.max_tokens = max_tokens
        key = resolve_key(api_key, *KEY_VARS)
        if key is None:
            raise ProviderError("gemini: no API key: set GEMINI_API_KEY (or GOOGLE_API_KEY)")
        self._secrets = (key,)
        self._base_url = base_url or "https://generativelanguage.googleapis.com"
        self._signatures: dict[str, bytes] = {}  # call id -> thought signature
        self._native_ids: set[str] = set()  # ids Gemini itself gave (others are not sent back)
        options: dict[str, Any] = {"timeout": int(timeout_s * 1000)}  # milliseconds
        if base_url:
            options["base_url"] = base_url
        if max_retries > 0:
            options["retry_options"] = self._types.HttpRetryOptions(attempts=max_retries + 1)
        try:
            self._client = genai.Client(api_key=key, http_options=self._types.HttpOptions(**options))
        except Exception as exc:  # the SDK validates credentials and options here
            raise ProviderError(f"gemini: cannot create the client: {one_line(exc, self._secrets)}") from None

    async def complete(self, system: str, messages: list[Message], tools: list[ToolSpec]) -> Reply:
        t = self._types
        config: dict[str, Any] = {
            "max_output_tokens": self.max_tokens,
            "automatic_function_calling": t.AutomaticFunctionCallingConfig(disable=True),
        }
        if system:
            config["system_instruction"] = system
        if tools:
            config["tools"] = [t.Tool(function_declarations=[self._declaration(spec) for spec in tools])]
        try:
            response = await self._client.aio.models.generate_content(
                model=self.model, contents=self._contents(messages), config=t.GenerateContentConfig(**config))
        except self._errors.APIError as exc:
            raise ProviderError(
                f"gemini: HTTP {exc.code}: {status_hint(exc.code)}: {self._clean(exc.message or exc.status)}"
            ) from None
        except (OSError, TimeoutError) as exc:
            raise ProviderError(f"gemini: cannot reach {self._base_url}: {self._clean(exc)}") from None
        except Exception as exc:
            if _is_transport_error(exc):
                raise ProviderError(f"gemini: cannot reach {self._base_url}: {self._clean(exc)}") from None
            raise
        return self._reply(response)

    def _declaration(self, spec: ToolSpec) -> Any:
        parameters = to_gemini_schema(spec.input_schema)
        declaration: dict[str, Any] = {"name": spec.name, "description": spec.description}
        if parameters.get("properties"):  # Gemini wants no parameters at all for an argument-less tool
            declaration["parameters"] = self._types.Schema.model_validate(parameters)
        return self._types.FunctionDeclaration(**declaration)

    def _contents(self, messages: list[Message]) -> list[Any]:
        t = self._types
        contents: list[Any] = []
        for message in messages:
            role = "model" if message.role == "assistant" else "user"
            parts: list[Any] = []
            for result in message.tool_results:
                response = {"error": result.content} if result.is_error else {"output": _jsonish(result.content)}
                parts.append(t.Part(function_response=t.FunctionResponse(
                    id=result.call_id if result.call_id in self._native_ids else None,
                    name=result.name, response=response)))
            if message.text:
                parts.append(t.Part(text=message.text))
            for call in message.tool_calls:
                parts.append(t.Part(
                    function_call=t.FunctionCall(id=call.id if call.id in self._native_ids else None,
                                                 name=call.name, args=call.arguments),
                    thought_signature=self._signatures.get(call.id)))
            if not parts:
                continue
            if contents and contents[-1].role == role:
                contents[-1].parts.extend(parts)
            else:
                contents.append(t.Content(role=role, parts=parts))
        return contents

    def _reply(self, response: Any) -> Reply:
        candidates = response.candidates or []
        if not candidates:
            feedback = getattr(response, "prompt_feedback", None)
            reason = getattr(feedback, "block_reason", None)
            raise ProviderError(f"gemini: no answer (prompt blocked: {reason})" if reason else "gemini: no answer")
        candidate = candidates[0]
        finish = getattr(candidate.finish_reason, "value", candidate.finish_reason)
        texts: list[str] = []
        calls: list[ToolCall] = []
        for part in (candidate.content.parts if candidate.content else None) or []:
            if part.function_call is not None:
                call_id = part.function_call.id
                if call_id:
                    self._native_ids.add(call_id)
                else:
                    call_id = f"gemini_{uuid.uuid4().hex[:12]}"
                if part.thought_signature:
                    self._signatures[call_id] = part.thought_signature
                calls.append(ToolCall(id=call_id, name=part.function_call.name or "",
                                      arguments=dict(part.function_call.args or {})))
            elif part.text and not part.thought:
                texts.append(part.text)
        if not calls and not texts and finish == "MALFORMED_FUNCTION_CALL":
            raise ProviderError("gemini: the model produced a malformed function call")
        return Reply(text="".join(texts) or None, tool_calls=calls, stop_reason=finish)

    async def aclose(self) -> None:
        """Close the SDK's connection pool (call it when the chat ends, on the same event loop)."""
        await self._client.aio.aclose()

    def _clean(self, text: object) -> str:
        return one_line(text, self._secrets)


def _jsonish(content: str) -> Any:
    """A tool's JSON text as a value (Gemini reads structure better than escaped text)."""
    try:
        return json.loads(content)
    except (ValueError, TypeError):
        return content


def _is_transport_error(exc: Exception) -> bool:
    """httpx / httpx2 / aiohttp transport failures, without importing any of them."""
    module = type(exc).__module__.split(".")[0]
    return module in {"httpx", "httpx2", "httpcore", "aiohttp"}
