"""The query server as a real subprocess: stdio, streamable HTTP (with and without a token), SSE."""

from __future__ import annotations

import pytest

import subprocess
from pathlib import Path

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.helpers import call_ok
from tests.processes import REPO, http_server, serve_command, server_env

pytestmark = pytest.mark.anyio

COUNT = {"sql": "SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS"}
TOKEN = "test-token-0123456789"


async def _count_orders(client: Client) -> int:
    result = await call_ok(client, "run_query", COUNT)
    return int(result["rows"][0][0])


async def test_stdio(demo_db: Path) -> None:
    command, *args = serve_command("query")
    params = StdioServerParameters(command=command, args=args, env=server_env(f"duckdb://{demo_db}"), cwd=str(REPO))
    async with Client(params) as client:
        assert len((await client.list_tools()).tools) == 10
        assert await _count_orders(client) >= 1_000_000


async def test_streamable_http(demo_db: Path) -> None:
    with http_server(f"duckdb://{demo_db}", "streamable-http") as url:
        async with Client(f"{url}/mcp") as client:
            assert await _count_orders(client) >= 1_000_000


async def test_streamable_http_stateless(demo_db: Path) -> None:
    with http_server(f"duckdb://{demo_db}", "streamable-http", extra_args=("--stateless",)) as url:
        async with Client(f"{url}/mcp") as client:
            assert await _count_orders(client) >= 1_000_000


async def test_streamable_http_with_a_token(demo_db: Path) -> None:
    with http_server(f"duckdb://{demo_db}", "streamable-http", env={"SNOWMCP_AUTH_TOKEN": TOKEN}) as url:
        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        headers = {"Accept": "application/json, text/event-stream"}
        async with httpx2.AsyncClient() as http:
            missing = await http.post(f"{url}/mcp", json=initialize, headers=headers)
            wrong = await http.post(f"{url}/mcp", json=initialize, headers={**headers, "Authorization": "Bearer nope"})
        assert missing.status_code == 401 and "www-authenticate" in missing.headers
        assert wrong.status_code == 401
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                assert await _count_orders(client) >= 1_000_000


async def test_foreign_host_header_is_refused(demo_db: Path) -> None:
    with http_server(f"duckdb://{demo_db}", "streamable-http") as url:
        async with httpx2.AsyncClient() as http:
            response = await http.post(f"{url}/mcp", json={}, headers={"Host": "evil.example:80"})
    assert response.status_code in (400, 403, 421)


async def test_sse(demo_db: Path) -> None:
    with http_server(f"duckdb://{demo_db}", "sse") as url:
        async with Client(sse_client(f"{url}/sse")) as client:
            assert await _count_orders(client) >= 1_000_000


def test_listening_beyond_loopback_without_a_token_is_refused(demo_db: Path) -> None:
    result = subprocess.run(
        serve_command("query", "--transport", "streamable-http", "--host", "0.0.0.0", "--port", "1"),
        cwd=REPO, env=server_env(f"duckdb://{demo_db}"), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "without a bearer token" in result.stderr and result.stdout == ""


def test_a_malformed_warehouse_url_fails_at_start(demo_db: Path) -> None:
    result = subprocess.run(serve_command("query", "--warehouse", "postgres://x"), cwd=REPO,
                            env=server_env("demo"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unknown warehouse 'postgres://x'" in result.stderr and result.stdout == ""
