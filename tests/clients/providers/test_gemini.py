"""GeminiProvider against a local server speaking the Gemini API (generateContent)."""

from __future__ import annotations

import base64

import pytest

from snowmcp.clients.host.providers.base import Message, ProviderError, ToolSpec
from snowmcp.clients.host.providers.gemini import GeminiProvider
from tests.clients.providers.conftest import follow_up
from tests.clients.providers.fake_http import SYSTEM, FakeServer

pytestmark = pytest.mark.anyio

KEY = "AIza-test-secret-0123456789"
SIGNATURE = base64.b64encode(b"signed thought").decode()


def generated(parts: list[dict], finish: str = "STOP") -> dict:
    return {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
            "modelVersion": "gemini-test"}


@pytest.fixture
def provider(server: FakeServer, closing: list) -> GeminiProvider:
    llm = GeminiProvider("gemini-test", api_key=KEY, base_url=server.url, max_tokens=512, timeout_s=5,
                         max_retries=0)
    closing.append(llm)
    return llm


async def test_tool_call_error_fed_back_and_final_answer(
        server: FakeServer, provider: GeminiProvider, tools: list[ToolSpec]) -> None:
    server.answer(generated([{"functionCall": {"name": "query__preview_table", "args": {"table": "ORDRS", "limit": 5}},
                              "thoughtSignature": SIGNATURE}]))
    server.answer(generated([{"text": "Retrying."},
                             {"functionCall": {"id": "fc-2", "name": "query__preview_table",
                                               "args": {"table": "ORDERS"}}}]))
    server.answer(generated([{"text": "Let me sum up.", "thought": True}, {"text": "There are 5 orders."}]))
    messages = [Message("user", text="How many orders?")]

    first = await provider.complete(SYSTEM, messages, tools)
    [call] = first.tool_calls
    assert (call.name, call.arguments) == ("query__preview_table", {"table": "ORDRS", "limit": 5})
    assert call.id.startswith("gemini_")  # Gemini gave none: generated
    assert first.text is None and first.stop_reason == "STOP"
    sent = server.received[0]
    assert sent.path.endswith("/models/gemini-test:generateContent")  # the SDK picks the API version
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.body["systemInstruction"]["parts"] == [{"text": SYSTEM}]
    assert sent.body["generationConfig"]["maxOutputTokens"] == 512
    assert sent.body["contents"] == [{"role": "user", "parts": [{"text": "How many orders?"}]}]
    [wire_tools] = sent.body["tools"]
    preview, aggregate = wire_tools["functionDeclarations"]
    assert preview == {
        "name": "query__preview_table", "description": "Show the first rows of a table.",
        "parameters": {"type": "OBJECT", "required": ["table"], "properties": {
            "table": {"type": "STRING", "description": "a table name, DB.SCHEMA.TABLE"},
            "limit": {"type": "INTEGER", "nullable": True}}},
    }
    assert aggregate["parameters"] == {
        "type": "OBJECT", "required": ["table", "metrics"], "properties": {
            "table": {"type": "STRING"},
            "metrics": {"type": "ARRAY", "items": {
                "type": "OBJECT", "required": ["column"], "properties": {
                    "column": {"type": "STRING"},
                    "fn": {"type": "STRING", "enum": ["sum", "avg", "count"], "description": 'Default "sum"'}}}}}}

    follow_up(messages, first, "table not found: ORDRS", is_error=True)
    second = await provider.complete(SYSTEM, messages, tools)
    assert second.text == "Retrying."
    assert [(c.id, c.arguments) for c in second.tool_calls] == [("fc-2", {"table": "ORDERS"})]
    model_turn, tool_turn = server.last["contents"][1:]
    assert model_turn == {"role": "model", "parts": [{
        "functionCall": {"name": "query__preview_table", "args": {"table": "ORDRS", "limit": 5}},
        "thoughtSignature": SIGNATURE}]}  # the signature goes back with its call
    assert tool_turn == {"role": "user", "parts": [{"functionResponse": {
        "name": "query__preview_table", "response": {"error": "table not found: ORDRS"}}}]}

    follow_up(messages, second, '{"rows": 5}')
    final = await provider.complete(SYSTEM, messages, tools)
    assert (final.text, final.tool_calls) == ("There are 5 orders.", [])  # the thought is not the answer
    model_turn, tool_turn = server.last["contents"][3:]
    assert model_turn["parts"][1]["functionCall"]["id"] == "fc-2"  # Gemini's own ids go back
    assert tool_turn["parts"] == [{"functionResponse": {
        "id": "fc-2", "name": "query__preview_table", "response": {"output": {"rows": 5}}}}]
    assert len(server.received) == 3


async def test_argument_less_tool_has_no_parameters(server: FakeServer, provider: GeminiProvider) -> None:
    server.answer(generated([{"text": "none"}]))
    tool = ToolSpec("etl__list_pipelines", "List pipelines.", {"type": "object", "properties": {}})
    await provider.complete("", [Message("user", text="pipelines?")], [tool])
    assert server.last["tools"] == [{"functionDeclarations": [
        {"name": "etl__list_pipelines", "description": "List pipelines."}]}]
    assert "systemInstruction" not in server.last


async def test_blocked_prompt_is_a_provider_error(server: FakeServer, provider: GeminiProvider) -> None:
    server.answer({"promptFeedback": {"blockReason": "SAFETY"}})
    with pytest.raises(ProviderError, match="blocked"):
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])


@pytest.mark.parametrize("status, code, hint", [
    (401, "UNAUTHENTICATED", "authentication failed"),
    (500, "INTERNAL", "server error"),
])
async def test_http_errors_become_provider_errors(
        server: FakeServer, provider: GeminiProvider, status: int, code: str, hint: str) -> None:
    server.answer({"error": {"code": status, "message": f"API key not valid: {KEY}", "status": code}}, status=status)
    with pytest.raises(ProviderError) as caught:
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])
    text = str(caught.value)
    assert f"HTTP {status}" in text and hint in text
    assert KEY not in text and "\n" not in text
    assert len(server.received) == 1


async def test_unreachable_server_is_a_provider_error(closing: list) -> None:
    llm = GeminiProvider("gemini-test", api_key=KEY, base_url="http://127.0.0.1:9", timeout_s=2, max_retries=0)
    closing.append(llm)
    with pytest.raises(ProviderError, match="cannot reach"):
        await llm.complete(SYSTEM, [Message("user", text="hi")], [])


def test_missing_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="GEMINI_API_KEY"):
        GeminiProvider("gemini-2.5-flash")


async def test_a_response_without_an_answer_is_a_provider_error(server: FakeServer, provider: GeminiProvider) -> None:
    server.answer({"unexpected": True})
    with pytest.raises(ProviderError, match="no (content|choices|answer)"):
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])
