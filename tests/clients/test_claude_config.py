"""`snowmcp config claude`: a write keeps what the user set, backs up every time, and warns
about what would make the servers fail."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from snowmcp.clients.host import claude_desktop as claude
from snowmcp.clients.host.cli import main
from snowmcp.common.errors import ConfigError

SNOWFLAKE_ENV = {"SNOWMCP_WAREHOUSE": "snowflake://prod", "SNOWFLAKE_HOME": "/Users/me/.snowflake"}


def _config(path: Path, servers: dict[str, object]) -> None:
    path.write_text(json.dumps({"theme": "dark", "mcpServers": servers}))


def test_a_write_keeps_the_env_and_keys_of_existing_entries(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    _config(path, {"snowmcp-query": {"command": "/old/snowmcp", "args": ["serve", "query"], "env": SNOWFLAKE_ENV,
                                     "disabled": False}, "mine": {"command": "x"}})
    written = claude.merge_into(path, claude.server_entries(None, {"SNOWMCP_ETL_NOW": "latest"}))
    query = json.loads(path.read_text())["mcpServers"]["snowmcp-query"]
    assert query["env"] == {**SNOWFLAKE_ENV, "SNOWMCP_ETL_NOW": "latest"} and query["disabled"] is False
    assert query["command"] != "/old/snowmcp"  # what this write sets wins
    assert written.kept == {"snowmcp-query": ["SNOWFLAKE_HOME", "SNOWMCP_WAREHOUSE"]}
    overridden = claude.merge_into(path, claude.server_entries("demo"))
    assert json.loads(path.read_text())["mcpServers"]["snowmcp-query"]["env"]["SNOWMCP_WAREHOUSE"] == "demo"
    assert overridden.kept["snowmcp-query"] == ["SNOWFLAKE_HOME", "SNOWMCP_ETL_NOW"]


def test_two_writes_in_the_same_second_keep_both_backups(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    _config(path, {"original": {"command": "x"}})
    backups = [claude.merge_into(path, claude.server_entries(None)).backup for _ in range(3)]
    assert len({str(b) for b in backups}) == 3
    assert json.loads(backups[0].read_text())["mcpServers"] == {"original": {"command": "x"}}  # type: ignore[union-attr]


def test_a_missing_duckdb_file_is_warned_about_and_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "claude.json"
    assert main(["config", "claude", "--write", "--path", str(path), "--warehouse", "duckdb://warehouse.duckdb",
                 "--env", "SNOWMCP_DBT_TARGET_DIR=/p/target"]) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'warehouse.duckdb'} does not exist yet" in err
    env = json.loads(path.read_text())["mcpServers"]["snowmcp-etl"]["env"]
    assert env == {"SNOWMCP_WAREHOUSE": f"duckdb://{tmp_path / 'warehouse.duckdb'}", "SNOWMCP_DBT_TARGET_DIR": "/p/target"}
    (tmp_path / "warehouse.duckdb").write_bytes(b"")
    assert main(["config", "claude", "--warehouse", "duckdb://warehouse.duckdb"]) == 0
    assert "does not exist" not in capsys.readouterr().err


def test_env_options_are_checked_and_secrets_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        claude.parse_env(["SNOWMCP_ETL_NOW"])
    assert main(["config", "claude", "--env", "bad key=x"]) == 2
    assert main(["config", "claude", "--env", "SNOWFLAKE_PASSWORD=hunter2-secret", "--env", "SNOWMCP_ETL_NOW=latest"]) == 0
    out = capsys.readouterr().out
    env = json.loads(out)["mcpServers"]["snowmcp-query"]["env"]
    assert env == {"SNOWFLAKE_PASSWORD": "***", "SNOWMCP_ETL_NOW": "latest"} and "hunter2" not in out


def test_a_command_inside_a_cache_is_replaced_by_the_one_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached = "/home/me/.cache/uv/archive-v0/abc/bin/snowmcp"
    monkeypatch.setattr(claude, "snowmcp_command", lambda: [cached])
    monkeypatch.setattr(claude.shutil, "which", lambda name: None)
    command, warning = claude.stable_command()
    assert command == [cached] and warning and "uv tool install snowmcp" in warning
    linked = tmp_path / "bin" / "snowmcp"
    linked.parent.mkdir()
    linked.write_text("#!/bin/sh\n")
    os.chmod(linked, 0o755)
    monkeypatch.setattr(claude.shutil, "which", lambda name: str(linked))
    assert claude.stable_command() == ([str(linked)], None)
