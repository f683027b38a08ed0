"""Over stateful streamable HTTP a query handle belongs to the MCP session that started the call."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.processes import http_server

pytestmark = pytest.mark.anyio

SLOW = "SELECT sum(hash(i)) AS s FROM range(20000000000) t(i)"  # runs for minutes unless cancelled
HEADERS = {"Accept": "application/json, text/event-stream"}


async def _open_session(http: httpx2.AsyncClient, url: str) -> dict[str, str]:
    initialize = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    opened = await http.post(f"{url}/mcp", json=initialize, headers=HEADERS)
    session = {**HEADERS, "Mcp-Session-Id": opened.headers["mcp-session-id"]}
    await http.post(f"{url}/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
    return session


async def _call(http: httpx2.AsyncClient, url: str, session: dict[str, str], tool: str,
                arguments: dict[str, Any]) -> dict[str, Any]:
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    reply = await http.post(f"{url}/mcp", json=request, headers=session)
    body = reply.text
    if body.startswith("event:") or "data:" in body:  # an SSE stream: the last data line is the answer
        body = [line[5:] for line in body.splitlines() if line.startswith("data:")][-1]
    return json.loads(body)["result"]


async def test_a_handle_is_unknown_to_another_session(demo_db: Path, tmp_path: Path) -> None:
    env = {"SNOWMCP_CALL_WAIT_S": "1", "SNOWMCP_STATE_DIR": str(tmp_path / "state")}
    with http_server(f"duckdb://{demo_db}", "streamable-http", env=env, log=tmp_path / "server.log") as url:
        async with httpx2.AsyncClient(timeout=30) as http:
            mine, theirs = await _open_session(http, url), await _open_session(http, url)
            running = (await _call(http, url, mine, "run_query", {"sql": SLOW, "timeout_s": 60}))["structuredContent"]
            assert running["status"] == "running"
            handle = running["query_handle"]
            foreign = await _call(http, url, theirs, "cancel_query", {"query_handle": handle})
            assert foreign["isError"] is True and "unknown query handle" in foreign["content"][0]["text"]
            polled = (await _call(http, url, mine, "get_query_result", {"query_handle": handle}))["structuredContent"]
            assert polled["status"] == "running"  # still there for its own session, not cancelled by the other
            cancelled = await _call(http, url, mine, "cancel_query", {"query_handle": handle})
            assert cancelled["structuredContent"]["cancelled"] is True
