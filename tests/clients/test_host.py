"""The host: one catalog over many servers, routing, failures, timeouts, restarts, a foreign server."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from snowmcp.clients.host.config import ServerSpec
from snowmcp.clients.host.host import Host, safe_name
from snowmcp.common.settings import Settings
from tests.clients.toy_server import build as toy

pytestmark = pytest.mark.anyio
HERE = Path(__file__).parent
REPO = HERE.parents[1]


def in_memory(name: str) -> ServerSpec:
    return ServerSpec(name=name, transport="stdio", command="(in memory)")


def toy_process(name: str = "toy") -> ServerSpec:
    return ServerSpec(name=name, transport="stdio", command=sys.executable, args=(str(HERE / "toy_server.py"), name),
                      env={"PYTHONPATH": str(REPO)}, timeout_s=20)


async def test_one_catalog_namespaces_tools_by_server(settings: Settings) -> None:
    from snowmcp.servers.analytics.server import build_server as analytics
    from snowmcp.servers.query.server import build_server as query

    targets = {"query": query(settings), "analytics": analytics(settings), "toy": toy()}
    async with Host([in_memory(n) for n in targets], targets=targets) as host:
        names = [t.name for t in host.catalog()]
        assert "query__run_query" in names and "analytics__profile_table" in names and "toy__echo" in names
        assert len(names) == 10 + 10 + 5 and host.collisions == []
        assert {t.server for t in host.catalog("toy")} == {"toy"}
        run = host.resolve("query__run_query")
        assert run is not None and run.read_only is True and run.input_schema["properties"]["sql"]
        result = await host.call("query__run_query", {"sql": "SELECT 6 * 7 AS answer"})
        assert not result.is_error and result.structured["rows"] == [[42]]
        echoed = await host.call("toy__echo", {"text": "routed"})
        assert (echoed.server, echoed.tool, echoed.text) == ("toy", "echo", "routed")


async def test_the_same_tool_name_on_two_servers_and_a_true_collision() -> None:
    targets = {"a": toy("a"), "b": toy("b")}
    async with Host([in_memory(n) for n in targets], targets=targets) as host:
        assert {t.name for t in host.catalog() if t.tool == "echo"} == {"a__echo", "b__echo"}
    # Server "a" with tool "b__c" and server "a__b" with tool "c" both namespace to "a__b__c".
    clash = {"a": _server_with_tool("b__c"), "a__b": _server_with_tool("c")}
    async with Host([in_memory(n) for n in clash], targets=clash) as host:
        names = sorted(t.name for t in host.catalog())
        assert names == ["a__b__c", "a__b__c_2"]
        assert len(host.collisions) == 1 and "a__b__c was taken" in host.collisions[0]
        first, second = [await host.call(n, {}) for n in names]
        assert {first.server, second.server} == {"a", "a__b"} and not first.is_error


def _server_with_tool(tool: str):  # noqa: ANN202
    from mcp.server.mcpserver import MCPServer

    server = MCPServer("named")
    server.add_tool(lambda: tool, name=tool, description=f"answers {tool}")
    return server


def test_names_are_made_safe_for_every_llm_api() -> None:
    assert safe_name("my server__get.value") == "my_server__get_value"
    long = safe_name("s__" + "x" * 100)
    assert len(long) == 64 and long != safe_name("s__" + "x" * 99 + "y")


async def test_a_server_that_fails_to_start_is_reported_and_the_rest_work() -> None:
    broken = ServerSpec(name="broken", transport="stdio", command="/nonexistent/mcp-server")
    silent = ServerSpec(name="silent", transport="stdio", command=sys.executable, args=("-c", "import time; time.sleep(60)"))
    async with Host([broken, silent, toy_process()], connect_timeout_s=3) as host:
        statuses = {s.name: s for s in await host.statuses()}
        assert statuses["toy"].state == "ready" and statuses["broken"].state == "down"
        assert statuses["broken"].error and statuses["silent"].state == "down" and "timed out" in statuses["silent"].error
        assert not (await host.call("toy__echo", {"text": "still here"})).is_error
        failed = await host.call("broken__anything", {})
        assert failed.is_error and failed.server == "broken"


async def test_a_slow_call_times_out_and_the_server_keeps_serving() -> None:
    async with Host([toy_process()]) as host:
        slow = await host.call("toy__sleep", {"seconds": 30}, timeout_s=0.5)
        assert slow.is_error and "no answer within 0.5 s" in slow.text
        assert (await host.call("toy__echo", {"text": "after"})).text == "after"


async def test_a_killed_server_is_restarted_on_its_next_call() -> None:
    async with Host([toy_process()]) as host:
        first_pid = int((await host.call("toy__pid", {})).text)
        died = await host.call("toy__crash", {})
        assert died.is_error and died.server == "toy"
        statuses = await host.statuses()
        assert statuses[0].state == "down"
        await anyio.sleep(0.6)  # the first restart waits out a 0.5 s backoff
        second_pid = int((await host.call("toy__pid", {})).text)
        assert second_pid != first_pid and host.connections["toy"].starts == 2


async def test_a_tool_error_comes_back_as_an_error_outcome() -> None:
    async with Host([toy_process()]) as host:
        failed = await host.call("toy__fail", {"reason": "planted"})
        assert failed.is_error and "planted" in failed.text
        unknown = await host.call("toy__nope", {})
        assert unknown.is_error and "no tool 'toy__nope'" in unknown.text


async def test_progress_notifications_pass_through(settings: Settings) -> None:
    from snowmcp.servers.analytics.server import build_server as analytics

    seen: list[float] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append(done)

    targets = {"analytics": analytics(settings)}
    async with Host([in_memory("analytics")], targets=targets) as host:
        result = await host.call("analytics__profile_table", {"table": "ANALYTICS.SALES.CUSTOMERS"}, progress=progress)
    assert not result.is_error and seen == [1, 2, 3]


async def test_a_foreign_server_we_did_not_write() -> None:
    """The reference 'everything' server (npm @modelcontextprotocol/server-everything, installed by make tools)."""
    binary = REPO / ".tools" / "node_modules" / ".bin" / "mcp-server-everything"
    if not binary.exists():
        pytest.fail("the reference server is not installed: run `make tools` (make test does it)")
    node_path = f"{binary.parent}{os.pathsep}{os.environ.get('PATH', '')}"
    spec = ServerSpec(name="everything", transport="stdio", command=str(binary), args=("stdio",), env={"PATH": node_path})
    async with Host([spec, toy_process()]) as host:
        statuses = {s.name: s for s in await host.statuses(ping=True)}
        assert statuses["everything"].state == "ready" and statuses["everything"].ping_ms is not None
        names = {t.name for t in host.catalog("everything")}
        assert {"everything__echo", "everything__get-sum"} <= names
        echoed = await host.call("everything__echo", {"message": "hello"})
        assert not echoed.is_error and "hello" in echoed.text
        summed = await host.call("everything__get-sum", {"a": 2, "b": 3})
        assert not summed.is_error and "5" in summed.text


async def test_http_servers_with_a_bearer_token_and_over_sse(demo_db: Path) -> None:
    from tests.processes import http_server

    token = "host-test-token"
    with http_server(f"duckdb://{demo_db}", "streamable-http", env={"SNOWMCP_AUTH_TOKEN": token}) as url, \
            http_server(f"duckdb://{demo_db}", "sse") as sse_url:
        specs = [
            ServerSpec(name="remote", transport="streamable-http", url=f"{url}/mcp",
                       headers={"Authorization": f"Bearer {token}"}),
            ServerSpec(name="unauthorized", transport="streamable-http", url=f"{url}/mcp"),
            ServerSpec(name="legacy", transport="sse", url=f"{sse_url}/sse"),
        ]
        async with Host(specs, connect_timeout_s=15) as host:
            statuses = {s.name: s for s in await host.statuses(ping=True)}
            assert statuses["remote"].state == "ready" and statuses["legacy"].state == "ready"
            assert statuses["unauthorized"].state == "down" and statuses["unauthorized"].error  # refused: 401
            for server in ("remote", "legacy"):
                result = await host.call(f"{server}__run_query", {"sql": "SELECT 1 AS one"})
                assert not result.is_error and result.structured["rows"] == [[1]]
