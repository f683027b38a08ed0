"""`snowmcp host ...` and `snowmcp config claude` as a user runs them: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import REPO, server_env
from snowmcp.clients.host.launch import snowmcp_command

HERE = Path(__file__).parent


def snowmcp(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*snowmcp_command(), *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def toy_config(tmp_path: Path) -> Path:
    """A host config with the toy server (stdio) and a server that cannot start."""
    path = tmp_path / "host.json"
    path.write_text(json.dumps({"mcpServers": {
        "toy": {"command": sys.executable, "args": [str(HERE / "toy_server.py")], "env": {"PYTHONPATH": str(REPO)}},
        "broken": {"command": "/nonexistent/server"},
    }}))
    return path


@pytest.fixture
def env(demo_db: Path, tmp_path: Path) -> dict[str, str]:
    return server_env(f"duckdb://{demo_db}", SNOWMCP_STATE_DIR=str(tmp_path / "state"))


def test_servers_lists_each_server_and_fails_when_one_is_down(toy_config: Path, env: dict[str, str]) -> None:
    result = snowmcp("host", "--config", str(toy_config), "servers", env=env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("toy") and "ready" in lines[0] and "5 tools" in lines[0] and "ping" in lines[0]
    assert any(line.startswith("broken") and "down" in line for line in lines)
    assert "server broken did not start" in result.stderr


def test_tools_and_call_on_the_default_servers(env: dict[str, str]) -> None:
    tools = snowmcp("host", "tools", "--server", "quality", env=env)
    assert tools.returncode == 0 and tools.stdout.splitlines()[0].startswith("quality__")
    assert len(tools.stdout.splitlines()) == 9
    called = snowmcp("host", "call", "query__run_query", '{"sql": "SELECT 6 * 7 AS answer"}', env=env)
    assert called.returncode == 0 and json.loads(called.stdout)["rows"] == [[42]]


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (("call", "toy__fail", '{"reason": "planted"}'), 1, "planted"),
    (("call", "toy__nope", "{}"), 1, "no tool 'toy__nope'"),
    (("call", "toy__echo", "{not json"), 2, "not valid JSON"),
    (("call", "toy__echo", "[1, 2]"), 2, "must be a JSON object"),
    (("call", "toy__sleep", '{"seconds": 30}', "--timeout", "0.5"), 1, "no answer within 0.5 s"),
    (("tools", "--server", "nope"), 2, "no server 'nope'"),
])
def test_call_errors_and_exit_codes(toy_config: Path, env: dict[str, str], args: tuple[str, ...], code: int,
                                    stderr: str) -> None:
    result = snowmcp("host", "--config", str(toy_config), *args, env=env)
    assert result.returncode == code and stderr in result.stderr


def test_a_bad_config_is_a_usage_error(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "bad.json"
    config.write_text(json.dumps({"mcpServers": {"a": {"command": "x", "env": {"K": "${UNSET_FOR_TEST}"}}}}))
    result = snowmcp("host", "--config", str(config), "servers", env=env)
    assert result.returncode == 2 and "UNSET_FOR_TEST is not set" in result.stderr


def test_chat_with_a_scripted_model(toy_config: Path, env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": [{"say": "Let me echo.", "call": "toy__echo", "arguments": {"text": "hi"}},
                                            {"say": "It said hi."}]}))
    result = snowmcp("host", "--config", str(toy_config), "chat", "--provider", "scripted", "--script", str(script),
                     "--prompt", "echo hi", "--out", str(tmp_path / "out"), env=env)
    assert result.returncode == 0, result.stderr
    assert "you> echo hi" in result.stdout and "-> toy__echo" in result.stdout and "model> It said hi." in result.stdout
    interactive = subprocess.run([*snowmcp_command(), "host", "--config", str(toy_config), "chat",
                                  "--provider", "scripted", "--script", str(script), "--out", str(tmp_path / "out")],
                                 cwd=REPO, env=env,
                                 input="echo hi\nquit\n", capture_output=True, text=True, timeout=120)
    assert interactive.returncode == 0 and "model> It said hi." in interactive.stdout


def test_chat_with_an_unknown_provider_is_a_usage_error(toy_config: Path, env: dict[str, str]) -> None:
    result = snowmcp("host", "--config", str(toy_config), "chat", "--provider", "oracle", "--prompt", "hi", env=env)
    assert result.returncode == 2 and "oracle" in result.stderr


def test_config_claude_prints_and_writes(tmp_path: Path, env: dict[str, str]) -> None:
    printed = snowmcp("config", "claude", "--warehouse", "demo", env=env)
    entries = json.loads(printed.stdout)["mcpServers"]
    assert printed.returncode == 0 and sorted(entries) == ["snowmcp-analytics", "snowmcp-etl", "snowmcp-quality",
                                                           "snowmcp-query", "snowmcp-semantic"]
    assert entries["snowmcp-etl"]["env"] == {"SNOWMCP_WAREHOUSE": "demo"}
    target = tmp_path / "claude_desktop_config.json"
    target.write_text(json.dumps({"mcpServers": {"mine": {"command": "x"}}}))
    written = snowmcp("config", "claude", "--write", "--path", str(target), env=env)
    assert written.returncode == 0 and "previous version" in written.stdout
    assert set(json.loads(target.read_text())["mcpServers"]) == {"mine", *entries}
