"""OpenAIProvider against a local server speaking OpenAI chat completions (as Ollama, vLLM do)."""

from __future__ import annotations

import json

import pytest

from snowmcp.clients.host.providers.base import Message, ProviderError, ToolSpec
from snowmcp.clients.host.providers.openai_chat import OpenAIProvider
from tests.clients.providers.conftest import follow_up
from tests.clients.providers.fake_http import AGGREGATE_SCHEMA, PREVIEW_SCHEMA, SYSTEM, FakeServer

pytestmark = pytest.mark.anyio

KEY = "sk-test-secret-0123456789"


def completion(content: str | None, calls: list[tuple[str, str, str]] = (), finish: str = "stop") -> dict:
    message: dict = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                                 for i, n, a in calls]
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "local-test",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}


@pytest.fixture
def provider(server: FakeServer, closing: list) -> OpenAIProvider:
    llm = OpenAIProvider("local-test", api_key=KEY, base_url=server.url + "/v1", max_tokens=512,
                         timeout_s=5, max_retries=0)
    closing.append(llm)
    return llm


async def test_tool_call_error_fed_back_and_final_answer(
        server: FakeServer, provider: OpenAIProvider, tools: list[ToolSpec]) -> None:
    server.answer(completion(None, [("call_a", "query__preview_table", '{"table": "ORDRS", "limit": 5}')],
                             "tool_calls"))
    server.answer(completion("Retrying.", [("call_b", "query__preview_table", '{"table": "ORDERS"}')],
                             "tool_calls"))
    server.answer(completion("There are 5 orders."))
    messages = [Message("user", text="How many orders?")]

    first = await provider.complete(SYSTEM, messages, tools)
    assert first.text is None and first.stop_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in first.tool_calls] == [
        ("call_a", "query__preview_table", {"table": "ORDRS", "limit": 5})]
    sent = server.received[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.body["model"] == "local-test" and sent.body["max_tokens"] == 512  # a compatible server
    assert sent.body["messages"] == [{"role": "system", "content": SYSTEM},
                                     {"role": "user", "content": "How many orders?"}]
    assert sent.body["tools"] == [
        {"type": "function", "function": {"name": "query__preview_table",
                                          "description": "Show the first rows of a table.",
                                          "parameters": PREVIEW_SCHEMA}},
        {"type": "function", "function": {"name": "analytics__aggregate",
                                          "description": "Aggregate columns of a table.",
                                          "parameters": AGGREGATE_SCHEMA}},
    ]

    follow_up(messages, first, "table not found: ORDRS", is_error=True)
    second = await provider.complete(SYSTEM, messages, tools)
    assert second.text == "Retrying." and [c.id for c in second.tool_calls] == ["call_b"]
    assistant, tool = server.last["messages"][2:]
    assert assistant["role"] == "assistant" and not assistant.get("content")
    assert [(c["id"], c["type"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in assistant["tool_calls"]] == [
        ("call_a", "function", "query__preview_table", {"table": "ORDRS", "limit": 5})]
    assert tool == {"role": "tool", "tool_call_id": "call_a", "content": "ERROR: table not found: ORDRS"}

    follow_up(messages, second, '{"rows": 5}')
    final = await provider.complete(SYSTEM, messages, tools)
    assert (final.text, final.tool_calls, final.stop_reason) == ("There are 5 orders.", [], "stop")
    assert server.last["messages"][-1] == {"role": "tool", "tool_call_id": "call_b", "content": '{"rows": 5}'}
    assert len(server.received) == 3


async def test_malformed_arguments_are_fed_back_not_raised(
        server: FakeServer, provider: OpenAIProvider, tools: list[ToolSpec]) -> None:
    server.answer(completion(None, [("call_x", "query__preview_table", '{"table": "ORDERS",')], "tool_calls"))
    server.answer(completion(None, [("call_y", "query__preview_table", '{"table": "ORDERS"}')], "tool_calls"))
    reply = await provider.complete(SYSTEM, [Message("user", text="Preview ORDERS")], tools)
    assert [(c.id, c.arguments) for c in reply.tool_calls] == [("call_y", {"table": "ORDERS"})]
    repair = server.received[1].body["messages"]
    assert repair[-2]["tool_calls"][0]["function"]["arguments"] == '{"table": "ORDERS",'
    assert repair[-1]["role"] == "tool" and repair[-1]["tool_call_id"] == "call_x"
    assert repair[-1]["content"].startswith("ERROR: the arguments of query__preview_table were not valid JSON")


async def test_arguments_that_never_parse_end_in_a_provider_error(
        server: FakeServer, provider: OpenAIProvider, tools: list[ToolSpec]) -> None:
    for _ in range(3):
        server.answer(completion(None, [("call_x", "query__preview_table", '["ORDERS"]')], "tool_calls"))
    with pytest.raises(ProviderError, match="malformed tool arguments 3 times"):
        await provider.complete(SYSTEM, [Message("user", text="Preview ORDERS")], tools)


async def test_empty_arguments_mean_no_arguments(server: FakeServer, provider: OpenAIProvider) -> None:
    server.answer(completion(None, [("call_z", "etl__list_pipelines", "")], "tool_calls"))
    tool = ToolSpec("etl__list_pipelines", "List pipelines.", {"type": "object", "properties": {}})
    reply = await provider.complete(SYSTEM, [Message("user", text="pipelines?")], [tool])
    assert reply.tool_calls[0].arguments == {}


@pytest.mark.parametrize("status, hint", [(401, "authentication failed"), (500, "server error")])
async def test_http_errors_become_provider_errors(
        server: FakeServer, provider: OpenAIProvider, status: int, hint: str) -> None:
    server.answer({"error": {"message": f"Incorrect API key provided: {KEY}", "type": "invalid_request_error",
                             "code": "invalid_api_key"}}, status=status)
    with pytest.raises(ProviderError) as caught:
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])
    text = str(caught.value)
    assert f"HTTP {status}" in text and hint in text
    assert KEY not in text and "\n" not in text
    assert len(server.received) == 1


async def test_local_server_needs_no_key(server: FakeServer, closing: list, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    llm = OpenAIProvider("llama3.2", base_url=server.url + "/v1", max_retries=0)
    closing.append(llm)
    server.answer(completion("hello"))
    assert (await llm.complete("", [Message("user", text="hi")], [])).text == "hello"
    assert "tools" not in server.last and server.last["messages"] == [{"role": "user", "content": "hi"}]


def test_official_api_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        OpenAIProvider("gpt-4o-mini")


async def test_a_response_without_an_answer_is_a_provider_error(server: FakeServer, provider: OpenAIProvider) -> None:
    server.answer({"unexpected": True})
    with pytest.raises(ProviderError, match="no (content|choices|answer)"):
        await provider.complete(SYSTEM, [Message("user", text="hi")], [])
