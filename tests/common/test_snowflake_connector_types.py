"""The connect() arguments snowmcp builds have the names and types the installed connector takes.

Proved against the real connector (5.x in the project's venv, 4.8.1 in `make test`'s second run):
5.x's core refuses a float timeout before any network traffic ("Expected type Int ... got
Double") and warns on 4.x names. Values come from every source a user has: a connections.toml
entry with fractional timeouts, SNOWMCP_ settings with fractional seconds, SNOWFLAKE_* variables.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from snowmcp.common.errors import ConfigError
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.snowflake_config import connect_arguments, resolve_config
from snowmcp.common.warehouse.snowflake_pool import connect
from tests.snowflake_fixtures import (  # noqa: F401  (fixtures)
    FakesnowServer,
    SnowflakeHome,
    connector_major,
    fake_connection_params,
    fakesnow_server,
    snowflake_home,
)

TIMEOUTS = ("login_timeout", "network_timeout", "query_timeout", "request_timeout")


def _settings(tmp_path: Path, name: str, **extra: float) -> Settings:
    return Settings(warehouse=f"snowflake://{name}", state_dir=tmp_path, **extra)


@pytest.mark.parametrize("source", ["entry", "settings", "defaults"])
def test_arguments_pass_the_real_connectors_checks_and_log_in(
    source: str, snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import snowflake.connector

    params = fake_connection_params(fakesnow_server, private_key_file_pwd="not-used-by-a-password-login")
    for key in ("login_timeout", "network_timeout"):
        params.pop(key)
    extra: dict[str, float] = {}
    if source == "entry":
        params.update(login_timeout=2.5, network_timeout=1.5)  # TOML floats, as a user may write them
    elif source == "settings":
        extra = {"snowflake_login_timeout_s": 2.5, "snowflake_network_timeout_s": 7.2}  # SNOWMCP_..._S=7.2
    monkeypatch.setenv("SNOWFLAKE_CONNECTIONS_TYPED_PORT", str(fakesnow_server.port))  # text from the environment
    snowflake_home.add("typed", **params)
    config = resolve_config("typed", _settings(tmp_path, "typed", **extra))
    arguments = connect_arguments(snowflake.connector, config)

    present = [key for key in TIMEOUTS if key in arguments]
    assert present and all(type(arguments[key]) is int for key in present), {k: arguments[k] for k in present}
    assert type(arguments["port"]) is int
    if connector_major() >= 5:  # 5.x's names: no DeprecationWarning, and the logout behaviour chosen
        assert "network_timeout" not in arguments and "private_key_file_pwd" not in arguments
        statement_s = arguments["session_parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"]  # a statement is one request
        assert arguments["query_timeout"] == statement_s + arguments["request_timeout"]
        assert arguments["enable_server_session_keep_alive_auto_detection"] is False
    else:
        assert "query_timeout" not in arguments

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        raw = connect(snowflake.connector, config)  # the connector's own validation, then a real login
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT 1 AS ONE")
        assert cursor.fetchall() == [(1,)]
        expected = {"entry": 3, "settings": 3, "defaults": 30}[source]  # whole seconds, rounded up
        assert raw.login_timeout == expected
    finally:
        raw.close()
    about_arguments = [str(w.message) for w in seen
                       if issubclass(w.category, (DeprecationWarning, FutureWarning))
                       and ("deprecated" in str(w.message) or "was not set" in str(w.message))]
    assert not about_arguments


@pytest.mark.skipif(connector_major() < 5, reason="4.x takes floats")
def test_the_5x_connector_refuses_what_snowmcp_no_longer_sends(fakesnow_server: FakesnowServer) -> None:
    """The control: a float timeout fails before any traffic, so the test above can see a regression."""
    import snowflake.connector

    with pytest.raises(snowflake.connector.errors.ProgrammingError, match="Expected type Int"):
        snowflake.connector.connect(**fakesnow_server.connect_params(), login_timeout=2.5,
                                    enable_server_session_keep_alive_auto_detection=False)


@pytest.mark.skipif(connector_major() < 5, reason="4.x takes floats")
def test_a_value_of_the_wrong_type_is_named_with_its_file(
    snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, tmp_path: Path
) -> None:
    import snowflake.connector

    snowflake_home.add("odd", **fake_connection_params(
        fakesnow_server, password="hunter2-secret", client_session_keep_alive_heartbeat_frequency=900.5))
    config = resolve_config("odd", _settings(tmp_path, "odd"))
    with pytest.raises(ConfigError) as failure:
        connect(snowflake.connector, config)
    message = str(failure.value)
    assert "CLIENT_SESSION_KEEP_ALIVE_HEARTBEAT_FREQUENCY" in message and "got Double" in message
    assert str(snowflake_home.path / "connections.toml") in message and "hunter2" not in message


def test_the_connector_is_imported_only_when_snowflake_is_used() -> None:
    """snowflake.connector costs ~260 ms at import: configuration and the CLI never pay it."""
    code = ("import sys; import snowmcp.cli, snowmcp.common.warehouse.selection, "
            "snowmcp.common.warehouse.snowflake_config, snowmcp.common.warehouse.doctor; "
            "print([m for m in sys.modules if m.startswith('snowflake')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
