"""The LLM loop with the scripted provider: tools called, errors fed back, a step limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from snowmcp.clients.host.agent import run_turn
from snowmcp.clients.host.config import ServerSpec
from snowmcp.clients.host.host import Host
from snowmcp.clients.host.providers.base import Message, ProviderError, Reply, ToolSpec
from snowmcp.clients.host.providers.scripted import ScriptedProvider
from tests.clients.toy_server import build as toy

pytestmark = pytest.mark.anyio
SPEC = ServerSpec(name="toy", transport="stdio", command="(in memory)")


async def test_tool_calls_results_and_a_final_answer() -> None:
    steps = [{"say": "echoing", "call": "toy__echo", "arguments": {"text": "one"}},
             {"calls": [{"call": "toy__echo", "arguments": {"text": "two"}}, {"call": "toy__pid"}]},
             {"say": "all done"}]
    async with Host([SPEC], targets={"toy": toy()}) as host:
        conversation = await run_turn(host, ScriptedProvider(steps), "please echo")
    kinds = [e.kind for e in conversation.events]
    assert kinds == ["user", "assistant", "tool_call", "tool_result", "tool_call", "tool_result", "tool_call",
                     "tool_result", "assistant"]
    assert conversation.answer == "all done" and conversation.steps == 3
    results = [r for m in conversation.messages for r in m.tool_results]
    assert [json.loads(r.content)["result"] for r in results[:2]] == ["one", "two"]
    assert not any(r.is_error for r in results)


async def test_a_tool_error_is_fed_back_to_the_model() -> None:
    steps = [{"call": "toy__fail", "arguments": {"reason": "bad input"}},
             {"expect_error": True, "say": "I see the error"}]
    async with Host([SPEC], targets={"toy": toy()}) as host:
        conversation = await run_turn(host, ScriptedProvider(steps), "try it")
    error = conversation.messages[2].tool_results[0]
    assert error.is_error and "bad input" in error.content and conversation.answer == "I see the error"


async def test_the_step_limit_stops_a_model_that_never_answers() -> None:
    class Looping:
        name = "looping"

        async def complete(self, system: str, messages: list[Message], tools: list[ToolSpec]) -> Reply:
            from snowmcp.clients.host.providers.base import ToolCall

            return Reply(text=None, tool_calls=[ToolCall(str(len(messages)), "toy__echo", {"text": "again"})])

    async with Host([SPEC], targets={"toy": toy()}) as host:
        conversation = await run_turn(host, Looping(), "loop", max_steps=3)
    assert conversation.answer is None and conversation.steps == 3
    assert conversation.events[-1].kind == "stopped" and "3 model requests" in conversation.events[-1].text


async def test_scripts_chain_results_and_refuse_unknown_tools(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": [{"call": "toy__pid"}, {"call": "toy__echo", "arguments": {"text": "x"}},
                                            {"call": "toy__nope"}]}))
    async with Host([SPEC], targets={"toy": toy()}) as host:
        with pytest.raises(ProviderError, match="no tool 'toy__nope'"):
            await run_turn(host, ScriptedProvider.from_file(script), "go")
    with pytest.raises(ProviderError, match="cannot read the script"):
        ScriptedProvider.from_file(tmp_path / "missing.json")


async def test_the_demo_session_runs_against_all_five_servers(settings) -> None:  # noqa: ANN001
    """The script `make demo` plays, in memory: every step's tool exists and only the planted write fails."""
    from snowmcp.clients.host.demo import SESSION
    from snowmcp.servers.analytics.server import build_server as analytics
    from snowmcp.servers.etl.server import build_server as etl
    from snowmcp.servers.quality.demo import SUITES
    from snowmcp.servers.quality.server import build_server as quality
    from snowmcp.servers.query.server import build_server as query
    from snowmcp.servers.semantic.server import build_server as semantic

    demo_settings = settings.model_copy(update={"warehouse": "demo"})
    demo_settings.state_path.mkdir(parents=True, exist_ok=True)
    (demo_settings.state_path / "demo").mkdir(exist_ok=True)
    (demo_settings.state_path / "demo" / "ANALYTICS.duckdb").symlink_to(Path(settings.warehouse.removeprefix("duckdb://")))
    session = json.loads(SESSION.read_text().replace("{{SUITES}}", SUITES.as_posix()))
    targets = {"query": query(demo_settings), "analytics": analytics(demo_settings), "etl": etl(demo_settings),
               "quality": quality(demo_settings), "semantic": semantic(demo_settings)}
    specs = [ServerSpec(name=n, transport="stdio", command="(in memory)") for n in targets]
    async with Host(specs, targets=targets) as host:
        conversation = await run_turn(host, ScriptedProvider(session["steps"]), session["prompt"],
                                      max_steps=len(session["steps"]) + 1)
    failed = [e.tool for e in conversation.events if e.kind == "tool_result" and e.is_error]
    assert failed == ["query__run_query"]  # the refused DELETE
    servers = {e.tool.split("__")[0] for e in conversation.events if e.kind == "tool_call"}
    assert servers == {"query", "analytics", "etl", "quality", "semantic"} and conversation.answer
