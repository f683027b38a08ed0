"""What an operator sees: the README's replica command works as written, and the server says on
stderr what it is, where it listens and how each call went."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from snowmcp import __version__
from snowmcp.clients.host.launch import snowmcp_command
from tests.helpers import call_ok
from tests.processes import REPO, http_server, serve_command, server_env

pytestmark = pytest.mark.anyio

TOKEN = "replica-token-0123456789"


def readme_replica_command() -> tuple[dict[str, str], list[str]]:
    """The README's `--host 0.0.0.0 --stateless` example: its variables and its snowmcp arguments."""
    text = (REPO / "README.md").read_text()
    match = re.search(r"^(SNOWMCP_AUTH_TOKEN=\S+ snowmcp serve .*--host 0\.0\.0\.0 \\\n.*)$", text, re.MULTILINE)
    assert match, "the README lost its replica example"
    words = shlex.split(match.group(1).replace("\\\n", " "), comments=True)
    env = dict(word.split("=", 1) for word in words[: words.index("snowmcp")])
    return env, words[words.index("snowmcp") + 2:]  # after "snowmcp serve"


async def test_the_readme_replica_example_answers_with_a_token(demo_db: Path, tmp_path: Path) -> None:
    env, args = readme_replica_command()
    assert env == {"SNOWMCP_AUTH_TOKEN": "..."} and args[:3] == ["query", "--transport", "streamable-http"]
    server, *options = args
    log = tmp_path / "server.log"
    with http_server(f"duckdb://{demo_db}", "streamable-http", env={"SNOWMCP_AUTH_TOKEN": TOKEN},
                     extra_args=tuple(options[2:]), log=log) as url:  # the README's flags after --transport X
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as client:
                result = await call_ok(client, "run_query", {"sql": "SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS"})
                assert result["rows"][0][0] >= 1_000_000
            foreign = await http.post(f"{url}/mcp", json={}, headers={"Host": "evil.example:80"})
        assert foreign.status_code in (400, 403, 421)  # DNS-rebinding protection stays on
    port = url.rsplit(":", 1)[1]
    lines = log.read_text()
    assert f"snowmcp {server} {__version__} on streamable-http (stateless), warehouse duckdb://{demo_db}" in lines
    assert f"listening on http://0.0.0.0:{port}/mcp" in lines
    assert re.search(r"query run_query ok in \d+ ms: 1 rows", lines)
    assert TOKEN not in lines and "SELECT" not in lines


def test_version() -> None:
    result = subprocess.run([*snowmcp_command(), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"snowmcp {__version__}"


def test_stdio_keeps_stdout_for_the_protocol_and_logs_its_start(demo_db: Path) -> None:
    process = subprocess.run(serve_command("query"), cwd=REPO, env=server_env(f"duckdb://{demo_db}"),
                             input="", capture_output=True, text=True, timeout=60)
    assert process.stdout == ""
    assert f"snowmcp query {__version__} on stdio, warehouse duckdb://{demo_db}" in process.stderr
