"""The README's Snowflake files, used as written: its connections.toml and config.toml (found by their
`<!-- example: ... -->` markers) log in through the real connector and run a query on the fake
service; the connector's config errors name the file, the line and the key, never a value."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from snowmcp.cli import main
from snowmcp.common.errors import ConfigError
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.snowflake_pool import resolve_config
from tests.processes import REPO
from tests.snowflake_fixtures import (  # noqa: F401  (fixtures)
    QUIET_CONNECTOR_ENV,
    FakesnowServer,
    SnowflakeHome,
    fakesnow_server,
)

KEY_PLACEHOLDER = "/Users/me/.snowflake/snowmcp_key.p8"
PASSPHRASE = "readme-passphrase-4d1e"


def readme_example(name: str) -> str:
    """The ```toml block after the README's `<!-- example: NAME ... -->` marker."""
    text = (REPO / "README.md").read_text()
    marker = text.index(f"<!-- example: {name} ")
    block = re.compile(r"```toml\n(.*?)```", re.DOTALL).search(text, marker)
    assert block is not None and text[marker:block.start()].count("\n") == 1, f"no toml block right after {name}"
    return block.group(1)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in os.environ if k.startswith("SNOWFLAKE_") and k not in QUIET_CONNECTOR_ENV]:
        monkeypatch.delenv(key)
    folder = tmp_path / "snowflake_home"
    folder.mkdir()
    monkeypatch.setenv("SNOWFLAKE_HOME", str(folder))
    SnowflakeHome(folder, monkeypatch)._point_connector_here()
    return folder


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def _as_a_user_fills_it(connections: str, key_file: Path, server: FakesnowServer) -> str:
    """The README's file with its placeholders filled and the fake service's address added (a real
    account needs no host, port or protocol); every other line stays as written."""
    filled = connections.replace(KEY_PLACEHOLDER, str(key_file))
    filled = re.sub(r'^(private_key_file_pwd\s*=\s*)"\.\.\."', rf'\1"{PASSPHRASE}"', filled, flags=re.MULTILINE)
    filled = re.sub(r'^(account\s*=\s*)".*?"', r'\1"fakesnow"', filled, flags=re.MULTILINE)
    address = f'host = "{server.host}"\nport = {server.port}\nprotocol = "http"\n'
    return filled.replace("[snowmcp]\n", "[snowmcp]\n" + address, 1)


@pytest.mark.anyio
async def test_the_readme_files_log_in_and_run_a_query_as_written(
    home: Path, fakesnow_server: FakesnowServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.common.test_snowflake_backend import _encrypted_key

    connections, config = readme_example("connections.toml"), readme_example("config.toml")
    assert "default_connection_name" not in connections and tomllib.loads(config) == {
        "default_connection_name": "snowmcp"}
    written: dict[str, Any] = tomllib.loads(connections)["snowmcp"]
    key = _encrypted_key(tmp_path / "snowmcp_key.p8", PASSPHRASE)
    _write(home / "connections.toml", _as_a_user_fills_it(connections, key, fakesnow_server))
    _write(home / "config.toml", config)
    used: dict[str, Any] = tomllib.loads((home / "connections.toml").read_text())["snowmcp"]
    filled = {"account", "private_key_file", "private_key_file_pwd"}
    assert {k: v for k, v in used.items() if k in written and k not in filled} == {
        k: v for k, v in written.items() if k not in filled}  # every other key of the README, unchanged
    assert set(used) == set(written) | {"host", "port", "protocol"}

    for url in ("snowflake://", "snowflake://snowmcp"):  # the default connection, and by name
        settings = Settings(warehouse=url, state_dir=tmp_path / "state", cache_ttl_s=0)
        runtime = ServerRuntime("query", settings)
        try:
            result = await runtime.query("SELECT COUNT(*) AS N FROM ORDERS", tool="run_query")  # its database, schema
            assert result.rows == [[300]]
            assert (await runtime.warehouse()).identity == "snowflake:fakesnow/SNOWMCP_SVC/SNOWMCP_READER"
        finally:
            await runtime.close()
    login = [r for r in fakesnow_server.requests if r.path.endswith("login-request")][-1]
    assert {k: login.query.get(k) for k in ("warehouse", "roleName", "databaseName", "schemaName")} == {
        "warehouse": "ANALYTICS_WH", "roleName": "SNOWMCP_READER", "databaseName": "ANALYTICS", "schemaName": "SALES"}

    assert main(["doctor", "--warehouse", "snowflake://"]) == 0  # the README's default connection
    output = capsys.readouterr().out
    assert f"connection name 'snowmcp' from {home / 'config.toml'}" in output
    assert "session          user SNOWMCP_SVC, role SNOWMCP_READER, warehouse ANALYTICS_WH" in output
    assert PASSPHRASE not in output


def test_timeouts_are_whole_seconds_whatever_their_source(home: Path) -> None:
    _write(home / "connections.toml", '[a]\naccount = "x"\nuser = "u"\nlogin_timeout = 2.5\n')
    resolved = resolve_config("a", Settings(warehouse="snowflake://a", snowflake_network_timeout_s=7.2))
    assert resolved.kwargs["login_timeout"] == 3 and resolved.kwargs["network_timeout"] == 8
    assert all(type(resolved.kwargs[k]) is int for k in ("login_timeout", "network_timeout"))


def test_a_misplaced_default_connection_name_is_named_with_its_file(home: Path) -> None:
    _write(home / "connections.toml", 'default_connection_name = "snowmcp"\n\n[snowmcp]\naccount = "x"\n'
                                      'password = "hunter2-secret"\n')
    with pytest.raises(ConfigError) as failure:
        resolve_config(None, Settings(warehouse="snowflake://"))
    message = str(failure.value)
    assert str(home / "connections.toml") in message and "'default_connection_name'" in message
    assert "config.toml" in message and "hunter2" not in message


@pytest.mark.parametrize(("text", "where"), [
    ('[snowmcp\npassword = "hunter2-secret"\n', "line 1, table [snowmcp (unclosed)"),
    ('[snowmcp]\naccount = "x"\npassword = "hunter2-secret"\npassword = "hunter2-secret"\n', "line 4, key 'password'"),
    ('[snowmcp]\npassword = hunter2-secret\n', "line 2, key 'password'"),
])
def test_a_file_that_is_not_toml_is_named_with_its_line_and_key_never_its_content(
    home: Path, text: str, where: str
) -> None:
    _write(home / "connections.toml", text)
    with pytest.raises(ConfigError) as failure:
        resolve_config("snowmcp", Settings(warehouse="snowflake://snowmcp"))
    message = str(failure.value)
    assert f"{home / 'connections.toml'} {where}" in message, message
    assert "hunter2" not in message


def test_a_broken_config_toml_is_named_as_such(home: Path) -> None:
    _write(home / "connections.toml", '[snowmcp]\naccount = "x"\n')
    _write(home / "config.toml", 'default_connection_name = \n')
    with pytest.raises(ConfigError, match=re.escape(f"{home / 'config.toml'} line 1, key 'default_connection_name'")):
        resolve_config(None, Settings(warehouse="snowflake://"))


def test_a_file_others_may_write_is_refused_by_name(home: Path) -> None:
    _write(home / "connections.toml", '[snowmcp]\naccount = "x"\npassword = "hunter2-secret"\n')
    (home / "connections.toml").chmod(0o666)
    with pytest.raises(ConfigError) as failure:
        resolve_config("snowmcp", Settings(warehouse="snowflake://snowmcp"))
    assert str(home / "connections.toml") in str(failure.value) and "chmod 0600" in str(failure.value)
    assert "hunter2" not in str(failure.value)


def test_connections_from_the_environment_are_named_as_such(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_CONNECTIONS", '[snowmcp]\naccount = "x"\npassword = hunter2-secret\n')
    with pytest.raises(ConfigError) as failure:
        resolve_config("snowmcp", Settings(warehouse="snowflake://snowmcp"))
    assert "SNOWFLAKE_CONNECTIONS line 3, key 'password'" in str(failure.value)
    assert "hunter2" not in str(failure.value)
