"""Malformed JSON-RPC over stdio and HTTP: protocol errors come back, and the server keeps serving."""

from __future__ import annotations

import json
import select
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import REPO, http_server, serve_command, server_env

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "fuzz", "version": "1"}}}


class StdioPeer:
    def __init__(self, demo_db: Path) -> None:
        self.process = subprocess.Popen(serve_command("query"), cwd=REPO, env=server_env(f"duckdb://{demo_db}"),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def send(self, raw: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(raw + b"\n")
        self.process.stdin.flush()

    def read(self, timeout_s: float = 10.0) -> dict[str, Any] | None:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout_s)
        if not ready:
            return None
        line = self.process.stdout.readline()
        return json.loads(line) if line else None

    def until_id(self, wanted: Any, timeout_s: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self.read(max(0.1, deadline - time.monotonic()))
            if message is not None and message.get("id") == wanted:
                return message
        raise AssertionError(f"no response with id {wanted!r}")

    def close(self) -> str:
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err.decode(errors="replace")


def test_stdio_survives_garbage_and_answers_what_it_can(demo_db: Path) -> None:
    peer = StdioPeer(demo_db)
    try:
        peer.send(json.dumps(INITIALIZE).encode())
        assert "result" in peer.until_id(1)
        peer.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode())
        peer.send(b'{"jsonrpc": "2.0", "id": 2, "method": "tools/list"')  # truncated
        peer.send(b"not json at all")
        peer.send(b'{"jsonrpc": "2.0", "id": {"nested": 1}, "method": "tools/list"}')  # an id may not be an object
        peer.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}).encode())
        peer.send(json.dumps({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
                              "params": {"name": "run_query", "arguments": {"sql": "x" * 3_000_000}}}).encode())
        peer.send(b'{"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ' + b"[" * 5000 + b"]" * 5000 + b"}")
        peer.send(json.dumps({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
                              "params": {"name": "run_query", "arguments": {"sql": "SELECT 42 AS answer"}}}).encode())
        unknown = peer.until_id(3)
        assert unknown["error"]["code"] == -32601
        huge = peer.until_id(4)
        assert huge.get("result", {}).get("isError") is True or "error" in huge
        answer = peer.until_id(6)
        assert answer["result"]["structuredContent"]["rows"] == [[42]]
        assert peer.process.poll() is None  # still serving
    finally:
        stderr = peer.close()
    assert "Traceback" not in stderr and "crashed" not in stderr, stderr[-2000:]


def test_http_refuses_malformed_and_oversized_bodies_and_keeps_serving(demo_db: Path) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    with http_server(f"duckdb://{demo_db}", "streamable-http", extra_args=("--stateless",)) as url, \
            httpx.Client(base_url=url, timeout=30) as http:
        for body in (b"{not json", b"[]", b'{"jsonrpc": "2.0"}', b'{"jsonrpc": "2.0", "id": [1], "method": 5}',
                     b"[" * 100_000 + b"]" * 100_000):
            response = http.post("/mcp", content=body, headers=headers)
            assert 400 <= response.status_code < 500, (body[:40], response.status_code, response.text[:200])
        oversized = http.post("/mcp", content=b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"x": "'
                              + b"a" * 20_000_000 + b'"}}', headers=headers)
        assert oversized.status_code in (400, 413), oversized.status_code
        unknown = http.post("/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "no/such/method"}, headers=headers)
        assert "error" in _first_message(unknown)
        ok = http.post("/mcp", json={"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {
            "name": "run_query", "arguments": {"sql": "SELECT 42 AS answer"}}}, headers=headers)
        assert ok.status_code == 200 and _first_message(ok)["result"]["structuredContent"]["rows"] == [[42]]


def _first_message(response: httpx.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[0])
    return response.json()


def test_a_client_that_disappears_mid_call_leaves_no_work_running(demo_db: Path) -> None:
    """The client closes the pipe during a long statement: the server interrupts it and exits promptly."""
    peer = StdioPeer(demo_db)
    try:
        peer.send(json.dumps(INITIALIZE).encode())
        assert "result" in peer.until_id(1)
        peer.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode())
        peer.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "run_query", "arguments": {"sql": "SELECT sum(hash(i)) FROM range(20000000000) t(i)",
                                               "timeout_s": 600}}}).encode())
        time.sleep(1.5)  # the statement is running now
        assert peer.process.stdin is not None
        peer.process.stdin.close()  # the client is gone
        started = time.monotonic()
        peer.process.wait(timeout=20)
        assert time.monotonic() - started < 15
    finally:
        if peer.process.poll() is None:
            peer.process.kill()


@pytest.mark.anyio
async def test_a_bad_prompt_request_is_an_invalid_params_error(settings) -> None:  # noqa: ANN001
    from mcp import Client
    from mcp.shared.exceptions import MCPError

    from snowmcp.servers.query.server import build_server

    async with Client(build_server(settings)) as client:
        with pytest.raises(MCPError) as unknown:
            await client.get_prompt("nope")
        with pytest.raises(MCPError) as missing:
            await client.get_prompt("explore_table", {})
        prompt = await client.get_prompt("explore_table", {"table": "ANALYTICS.SALES.ORDERS"})
    assert unknown.value.code == -32602 and "Unknown prompt: nope" in str(unknown.value)
    assert missing.value.code == -32602 and "table" in str(missing.value)
    assert "ANALYTICS.SALES.ORDERS" in prompt.messages[0].content.text
