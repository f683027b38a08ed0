"""Host configuration: Claude Desktop's format, variable expansion, the default, and `snowmcp config claude`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from snowmcp.clients.host.claude_desktop import config_path, merge_into, server_entries
from snowmcp.clients.host.config import default_servers, load_config, parse_config
from snowmcp.common.errors import ConfigError
from snowmcp.clients.host.launch import snowmcp_command

ENV = {"WH": "duckdb:///tmp/x.duckdb", "TOKEN": "s3cret"}


def test_stdio_http_and_sse_entries_with_variables() -> None:
    specs = parse_config({"mcpServers": {
        "q": {"command": "snowmcp", "args": ["serve", "query"], "env": {"SNOWMCP_WAREHOUSE": "${WH}"}, "cwd": "/tmp"},
        "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
        "legacy": {"url": "http://127.0.0.1:8001/sse"},
        "typed": {"url": "http://127.0.0.1:8002/events", "type": "sse", "timeout_s": 5},
        "dflt": {"command": "x", "args": ["${MISSING:-fallback}", "${MISSING:-}"]},
    }}, ENV)
    by_name = {s.name: s for s in specs}
    assert by_name["q"].env == {"SNOWMCP_WAREHOUSE": "duckdb:///tmp/x.duckdb"} and by_name["q"].cwd == "/tmp"
    assert by_name["remote"].transport == "streamable-http" and by_name["remote"].headers["Authorization"] == "Bearer s3cret"
    assert by_name["legacy"].transport == "sse" and by_name["typed"].transport == "sse"
    assert by_name["typed"].timeout_s == 5 and by_name["dflt"].args == ("fallback", "")
    assert "s3cret" not in by_name["remote"].describe()


@pytest.mark.parametrize(("config", "expected"), [
    ({"servers": {}}, 'expected an object with "mcpServers"'),
    ({"mcpServers": {}}, "mcpServers is empty"),
    ({"mcpServers": {"a": {"command": "x", "env": {"K": "${NOPE}"}}}}, "mcpServers.a.env.K: environment variable NOPE is not set"),
    ({"mcpServers": {"a": {}}}, 'either "command" (stdio) or "url" (HTTP)'),
    ({"mcpServers": {"a": {"command": "x", "url": "http://h"}}}, 'either "command"'),
    ({"mcpServers": {"a": {"url": "ftp://h"}}}, "expected an http:// or https:// URL"),
    ({"mcpServers": {"a": {"command": "x", "args": "serve"}}}, "mcpServers.a.args: expected a list"),
    ({"mcpServers": {"a": {"command": "x", "bogus": 1}}}, "unknown key(s) bogus"),
    ({"mcpServers": {"a b": {"command": "x"}}}, "a server name is"),
    ({"mcpServers": {"a": {"url": "http://h", "transport": "websocket"}}}, "expected sse or streamable-http"),
    ({"mcpServers": {"a": {"command": "x", "timeout_s": 0}}}, "timeout_s: expected a positive number"),
])
def test_bad_configs_name_the_problem(config: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config, ENV)
    assert expected in str(caught.value)


def test_a_config_file_disabled_entries_and_json_errors(tmp_path: Path) -> None:
    good = tmp_path / "servers.json"
    good.write_text(json.dumps({"mcpServers": {"on": {"command": "x"}, "off": {"command": "y", "disabled": True}}}))
    assert [s.name for s in load_config(good, ENV)] == ["on"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"mcpServers": {')
    with pytest.raises(ConfigError, match="not valid JSON at line 1"):
        load_config(bad, ENV)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.json", ENV)


def test_the_default_is_the_five_servers_with_our_variables() -> None:
    specs = default_servers({"SNOWMCP_STATE_DIR": "/s", "SNOWFLAKE_HOME": "/h", "AWS_SECRET": "no"}, warehouse="demo")
    assert [s.name for s in specs] == ["query", "analytics", "etl", "quality", "semantic"]
    assert [specs[0].command, *specs[0].args] == [*snowmcp_command(), "serve", "query"]
    assert specs[0].env == {"SNOWMCP_STATE_DIR": "/s", "SNOWFLAKE_HOME": "/h", "SNOWMCP_WAREHOUSE": "demo"}


def test_claude_desktop_config_paths() -> None:
    home = Path("/home/ann")
    assert config_path("darwin", {}, home) == home / "Library/Application Support/Claude/claude_desktop_config.json"
    assert config_path("win32", {"APPDATA": "C:/Users/ann/AppData/Roaming"}, home) == \
        Path("C:/Users/ann/AppData/Roaming/Claude/claude_desktop_config.json")
    assert config_path("linux", {}, home) == home / ".config/Claude/claude_desktop_config.json"


def test_writing_claude_desktop_config_merges_and_backs_up(tmp_path: Path) -> None:
    path = tmp_path / "Claude" / "claude_desktop_config.json"
    assert merge_into(path, server_entries("demo")).backup is None  # created
    path.write_text(json.dumps({"globalShortcut": "Ctrl+Space", "mcpServers": {"other": {"command": "x"}}}))
    backup = merge_into(path, server_entries(None)).backup
    merged = json.loads(path.read_text())
    assert merged["globalShortcut"] == "Ctrl+Space" and "other" in merged["mcpServers"]
    assert set(merged["mcpServers"]) >= {"snowmcp-query", "snowmcp-analytics", "snowmcp-etl", "snowmcp-quality",
                                       "snowmcp-semantic"}
    entry = merged["mcpServers"]["snowmcp-query"]
    assert Path(entry["command"]).is_absolute() and entry["args"][-2:] == ["serve", "query"]
    assert backup is not None and json.loads(backup.read_text())["mcpServers"] == {"other": {"command": "x"}}
    path.write_text("{broken")
    with pytest.raises(ConfigError, match="not valid JSON"):
        merge_into(path, server_entries(None))
    assert path.read_text() == "{broken"  # left as it was
