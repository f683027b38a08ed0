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
    query_change = written.changes["snowmcp-query"]
    assert query_change.kept == ("disabled", "SNOWMCP_WAREHOUSE", "SNOWFLAKE_HOME")
    assert query_change.changed == ("command", "SNOWMCP_ETL_NOW") and written.changes["snowmcp-etl"].added
    overridden = claude.merge_into(path, claude.server_entries("demo"))
    assert json.loads(path.read_text())["mcpServers"]["snowmcp-query"]["env"]["SNOWMCP_WAREHOUSE"] == "demo"
    assert overridden.changes["snowmcp-query"].describe() == \
        "changed SNOWMCP_WAREHOUSE; kept disabled, SNOWFLAKE_HOME, SNOWMCP_ETL_NOW"
    again = claude.merge_into(path, claude.server_entries("demo"))
    assert again.changes["snowmcp-etl"].describe() == "unchanged; kept SNOWMCP_ETL_NOW"


def test_a_write_says_what_changed_by_name_and_keeps_the_file_private(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "claude_desktop_config.json"
    _config(path, {"snowmcp-query": {"command": "/old/snowmcp", "args": ["serve", "query"],
                                     "env": {**SNOWFLAKE_ENV, "SNOWFLAKE_PASSWORD": "hunter2-secret"}}})
    path.chmod(0o600)
    assert main(["config", "claude", "--write", "--path", str(path), "--env", "SNOWMCP_ETL_NOW=latest"]) == 0
    out = capsys.readouterr().out
    assert "snowmcp-query: changed command, SNOWMCP_ETL_NOW; kept SNOWMCP_WAREHOUSE, SNOWFLAKE_HOME, " \
           "SNOWFLAKE_PASSWORD" in out and "snowmcp-etl: added" in out and "hunter2" not in out
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["mcpServers"]["snowmcp-query"]["env"]["SNOWFLAKE_PASSWORD"] == "hunter2-secret"


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


def test_a_warehouse_given_as_env_is_checked_like_the_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["config", "claude", "--env", "SNOWMCP_WAREHOUSE=duckdb://shop.duckdb"]) == 0
    printed = capsys.readouterr()
    assert json.loads(printed.out)["mcpServers"]["snowmcp-query"]["env"] == \
        {"SNOWMCP_WAREHOUSE": f"duckdb://{tmp_path / 'shop.duckdb'}"} and "does not exist yet" in printed.err
    assert main(["config", "claude", "--warehouse", "demo", "--env", "SNOWMCP_WAREHOUSE=snowflake://"]) == 2
    assert "disagree" in capsys.readouterr().err
    assert main(["config", "claude", "--warehouse", "postgres://db"]) == 2  # a typo is refused, not written
    assert "unknown warehouse" in capsys.readouterr().err


def test_env_options_are_checked_and_secrets_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        claude.parse_env(["SNOWMCP_ETL_NOW"])
    assert main(["config", "claude", "--env", "bad key=x"]) == 2
    assert "hunter2" not in capsys.readouterr().err
    assert main(["config", "claude", "--env", "hunter2-secret"]) == 2  # a value passed without its key
    assert "hunter2" not in capsys.readouterr().err
    assert [k for k in ("SNOWFLAKE_PRIVATE_KEY_FILE_PWD", "SNOWMCP_AUTH_TOKEN", "SNOWFLAKE_PASSCODE",
                        "ANTHROPIC_API_KEY", "SNOWMCP_ETL_NOW", "SNOWFLAKE_HOME") if claude.is_secret(k)] == \
        ["SNOWFLAKE_PRIVATE_KEY_FILE_PWD", "SNOWMCP_AUTH_TOKEN", "SNOWFLAKE_PASSCODE", "ANTHROPIC_API_KEY"]
    assert main(["config", "claude", "--env", "SNOWFLAKE_PASSWORD=hunter2-secret", "--env", "SNOWMCP_ETL_NOW=latest"]) == 0
    out = capsys.readouterr().out
    env = json.loads(out)["mcpServers"]["snowmcp-query"]["env"]
    assert env == {"SNOWFLAKE_PASSWORD": "***", "SNOWMCP_ETL_NOW": "latest"} and "hunter2" not in out


def _script(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    os.chmod(path, 0o755)
    return path


def test_a_command_inside_a_cache_is_replaced_by_the_one_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(claude.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    cached = str(_script(tmp_path / "home/.cache/uv/archive-v0/abc/bin/snowmcp"))  # what uvx runs
    monkeypatch.setattr(claude, "snowmcp_command", lambda: [cached])
    monkeypatch.setattr(claude.shutil, "which", lambda name: None)
    command, warning = claude.stable_command()
    assert command == [cached] and warning and "uv tool install snowmcp" in warning
    other = str(_script(tmp_path / "home/.local/bin/snowmcp"))  # another installation, on PATH
    monkeypatch.setattr(claude.shutil, "which", lambda name: other)
    command, warning = claude.stable_command()
    assert command == [other] and warning and "another installation" in warning
    temporary = str(_script(tmp_path / "tmp/venv-1/bin/snowmcp"))  # a throwaway venv
    assert claude.in_cache(temporary) and not claude.in_cache(other)


def test_the_link_on_path_is_preferred_to_the_tool_venv_it_leads_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pipx and `uv tool install` link ~/.local/bin/snowmcp to the tool venv's script: the link lasts."""
    monkeypatch.setattr(claude.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    script = _script(tmp_path / "home/.local/share/uv/tools/snowmcp/bin/snowmcp")
    link = tmp_path / "home/.local/bin/snowmcp"
    link.parent.mkdir(parents=True)
    link.symlink_to(script)
    monkeypatch.setattr(claude, "snowmcp_command", lambda: [str(script)])
    monkeypatch.setattr(claude.shutil, "which", lambda name: str(link))
    assert claude.stable_command() == ([str(link)], None)
    monkeypatch.setattr(claude.shutil, "which", lambda name: None)  # not on PATH: the tool venv's script
    assert claude.stable_command() == ([str(script)], None)
