"""AnthropicProvider against a local server speaking the Messages API."""

from __future__ import annotations

import pytest

from snowmcp.clients.host.providers.anthropic_messages import AnthropicProvider
from snowmcp.clients.host.providers.base import Message, ProviderError, ToolSpec
from tests.clients.providers.conftest import follow_up
from tests.clients.providers.fake_http import AGGREGATE_SCHEMA, PREVIEW_SCHEMA, SYSTEM, FakeServer

pytestmark = pytest.mark.anyio

KEY = "sk-ant-test-secret-0123456789"


def message(content: list[dict], stop_reason: str) -> dict:
    return {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test",
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5}}


@pytest.fixture
def provider(server: FakeServer, closing: list) -> AnthropicProvider:
    llm = AnthropicProvider("claude-test", api_key=KEY, base_url=server.url, max_tokens=512,
                            timeout_s=5, max_retries=0)
    closing.append(llm)
    return llm


async def test_tool_call_error_fed_back_and_final_answer(
        server: FakeServer, provider: AnthropicProvider, tools: list[ToolSpec]) -> None:
    server.answer(message([{"type": "text", "text": "Let me look."},
                           {"type": "tool_use", "id": "toolu_1", "name": "query__preview_table",
                            "input": {"table": "ORDRS", "limit": 5}}], "tool_use"))
    server.answer(message([{"type": "tool_use", "id": "toolu_2", "name": "query__preview_table",
                            "input": {"table": "ORDERS"}}], "tool_use"))
    server.answer(message([{"type": "text", "text": "There are 5 orders."}], "end_turn"))
    llm = provider
    messages = [Message("user", text="How many orders?")]

    first = await llm.complete(SYSTEM, messages, tools)
    assert first.text == "Let me look."
    assert [(c.id, c.name, c.arguments) for c in first.tool_calls] == [
        ("toolu_1", "query__preview_table", {"table": "ORDRS", "limit": 5})]
    assert first.stop_reason == "tool_use"
    sent = server.received[0]
    assert sent.path == "/v1/messages"
    assert KEY in (sent.headers.get("x-api-key"), sent.headers.get("authorization", "").removeprefix("Bearer "))
    assert sent.body["system"] == SYSTEM
    assert sent.body["model"] == "claude-test" and sent.body["max_tokens"] == 512
    assert sent.body["tools"] == [
        {"name": "query__preview_table", "description": "Show the first rows of a table.",
         "input_schema": PREVIEW_SCHEMA},
        {"name": "analytics__aggregate", "description": "Aggregate columns of a table.",
         "input_schema": AGGREGATE_SCHEMA},
    ]
    assert sent.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "How many orders?"}]}]

    follow_up(messages, first, "table not found: ORDRS", is_error=True)
    second = await llm.complete(SYSTEM, messages, tools)
    assert [c.id for c in second.tool_calls] == ["toolu_2"]
    assert server.last["messages"][1:] == [
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "query__preview_table",
             "input": {"table": "ORDRS", "limit": 5}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "table not found: ORDRS",
             "is_error": True}]},
    ]

    follow_up(messages, second, '{"rows": 5}')
    final = await llm.complete(SYSTEM, messages, tools)
    assert (final.text, final.tool_calls, final.stop_reason) == ("There are 5 orders.", [], "end_turn")
    assert server.last["messages"][-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": '{"rows": 5}', "is_error": False}]
    assert len(server.received) == 3


async def test_no_tools_and_no_system_are_left_out(server: FakeServer, provider: AnthropicProvider) -> None:
    server.answer(message([{"type": "text", "text": "hi"}], "end_turn"))
    reply = await provider.complete("", [Message("user", text="hello")], [])
    assert reply.text == "hi"
    assert "tools" not in server.last and "system" not in server.last


@pytest.mark.parametrize("status, kind, hint", [
    (401, "authentication_error", "authentication failed"),
    (500, "api_error", "server error"),
    (429, "rate_limit_error", "rate limited"),
])
async def test_http_errors_become_provider_errors(
        server: FakeServer, provider: AnthropicProvider, status: int, kind: str, hint: str) -> None:
    server.answer({"type": "error", "error": {"type": kind, "message": f"bad key {KEY}"}}, status=status)
    with pytest.raises(ProviderError) as caught:
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])
    text = str(caught.value)
    assert f"HTTP {status}" in text and hint in text
    assert KEY not in text and "\n" not in text
    assert len(server.received) == 1  # no retries


async def test_unreachable_server_is_a_provider_error(closing: list) -> None:
    llm = AnthropicProvider("claude-test", api_key=KEY, base_url="http://127.0.0.1:9", timeout_s=2, max_retries=0)
    closing.append(llm)
    with pytest.raises(ProviderError, match="cannot reach"):
        await llm.complete(SYSTEM, [Message("user", text="hi")], [])


async def test_no_credentials_at_all_is_a_clear_provider_error(
        closing: list, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for var in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_PROFILE", "ANTHROPIC_IDENTITY_TOKEN",
                "ANTHROPIC_IDENTITY_TOKEN_FILE", "ANTHROPIC_CONFIG_DIR", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no profile on disk either
    llm = AnthropicProvider("claude-test", base_url="http://127.0.0.1:9", max_retries=0)
    closing.append(llm)
    with pytest.raises(ProviderError, match="no API key: set ANTHROPIC_API_KEY"):
        await llm.complete(SYSTEM, [Message("user", text="hi")], [])


async def test_a_response_without_an_answer_is_a_provider_error(server: FakeServer, provider: AnthropicProvider) -> None:
    server.answer({"unexpected": True})
    with pytest.raises(ProviderError, match="no (content|choices|answer)"):
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])
