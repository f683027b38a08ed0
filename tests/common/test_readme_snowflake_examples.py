"""The README's Snowflake files, used as written: its connections.toml and config.toml resolve to
its connection, and the connect arguments have the types the 5.x connector requires."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from snowmcp.common.errors import ConfigError
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.snowflake_pool import resolve_config
from tests.processes import REPO
from tests.snowflake_fixtures import SnowflakeHome


def readme_toml_blocks() -> list[str]:
    """The ```toml blocks of the README's Snowflake section, in order."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("\n## Snowflake"):text.index("\n## Running as a network service")]
    return re.findall(r"```toml\n(.*?)```", section, re.DOTALL)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in __import__("os").environ if k.startswith("SNOWFLAKE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SNOWFLAKE_HOME", str(tmp_path))
    SnowflakeHome(tmp_path, monkeypatch)._point_connector_here()
    return tmp_path


def _write(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o600)


def test_the_readme_files_resolve_to_its_connection(home: Path) -> None:
    connections, config = readme_toml_blocks()
    assert "[snowmcp]" in connections and "default_connection_name" not in connections
    _write(home / "connections.toml", connections)
    _write(home / "config.toml", config)
    for url_name in (None, "snowmcp"):  # snowflake:// (the default connection) and snowflake://snowmcp
        resolved = resolve_config(url_name, Settings(warehouse="snowflake://"))
        assert resolved.kwargs["connection_name"] == "snowmcp" and resolved.label == "connection 'snowmcp'"
        for key in ("login_timeout", "network_timeout"):
            assert type(resolved.kwargs[key]) is int, key


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


def test_a_file_that_is_not_toml_is_named_without_its_content(home: Path) -> None:
    _write(home / "connections.toml", '[snowmcp\npassword = "hunter2-secret"\n')
    with pytest.raises(ConfigError) as failure:
        resolve_config("snowmcp", Settings(warehouse="snowflake://snowmcp"))
    assert str(home / "connections.toml") in str(failure.value) and "hunter2" not in str(failure.value)
