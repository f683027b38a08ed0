"""`snowmcp doctor`: for a warehouse URL, what a server would use and whether it works, never a secret.

Snowflake cases log in to the fake service through the real connector, as a server does; DuckDB
cases open the file as a server does (read-only, locked engine).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from snowmcp.cli import main
from tests.snowflake_fixtures import (  # noqa: F401  (fixtures)
    FakesnowServer,
    SnowflakeHome,
    fake_connection_params,
    fakesnow_server,
    snowflake_home,
)

PASSWORD = "doctor-planted-password-7f3a"
PASSPHRASE = "doctor-planted-passphrase-91c2"
TOKEN = "doctor-planted-token-0b5e"
SECRETS = (PASSWORD, PASSPHRASE, TOKEN)


def doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def rows(output: str) -> dict[str, str]:
    """The report's lines by label (the last line of a label that repeats)."""
    found = (re.match(r"^\s*(\S.*?)\s{2,}(.*)$", line) for line in output.splitlines())
    return {m.group(1): m.group(2) for m in found if m}


def assert_no_secret(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output


# -- Snowflake ------------------------------------------------------------------------------------


def test_a_named_connection_is_described_and_logs_in(
    snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snowflake_home.add("doc", **fake_connection_params(
        fakesnow_server, password=PASSWORD, private_key_file_pwd=PASSPHRASE, role="SNOWMCP_READER",
        warehouse="ANALYTICS_WH", database="ANALYTICS", schema="SALES"))
    monkeypatch.setenv("SNOWFLAKE_TOKEN", TOKEN)  # a generic variable the entry does not use
    monkeypatch.setenv("SNOWMCP_SNOWFLAKE_SCHEMA", "OPS")
    code, output = doctor(capsys, "--warehouse", "snowflake://doc")
    assert code == 0, output
    report = rows(output)
    assert report["connection"] == "'doc'"
    assert f"entry [doc] from {snowflake_home.path / 'connections.toml'}" in output
    assert "connection name 'doc' from the warehouse URL" in output
    assert "schema from SNOWMCP_SNOWFLAKE_SCHEMA" in output and report["schema"] == "OPS"
    assert report["authenticator"] == "snowflake (user and password)"
    assert (report["account"], report["user"], report["role"], report["warehouse"], report["database"]) == (
        "fakesnow", "fake", "SNOWMCP_READER", "ANALYTICS_WH", "ANALYTICS")
    assert report["login"].startswith("ok in ")
    assert report["session"].startswith("user FAKE, role SNOWMCP_READER, warehouse ANALYTICS_WH, database ANALYTICS")
    assert report["result"].startswith("ok")
    assert "token from SNOWFLAKE_TOKEN" in output  # named, its value never shown
    assert_no_secret(output)


def test_the_default_connection_says_where_its_name_came_from(
    snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    snowflake_home.add("doc", **fake_connection_params(fakesnow_server, password=PASSWORD, warehouse="WH"))
    (snowflake_home.path / "config.toml").write_text('default_connection_name = "doc"\n')
    (snowflake_home.path / "config.toml").chmod(0o600)
    snowflake_home.add("doc", **snowflake_home.connections["doc"])  # re-read both files
    code, output = doctor(capsys, "--warehouse", "snowflake://")
    assert code == 0, output
    assert f"connection name 'doc' from {snowflake_home.path / 'config.toml'}" in output
    monkeypatch.setenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "doc")
    code, output = doctor(capsys, "--warehouse", "snowflake://")
    assert code == 0 and "connection name 'doc' from SNOWFLAKE_DEFAULT_CONNECTION_NAME" in output
    assert_no_secret(output)


def test_failures_exit_non_zero_with_a_hint_and_no_secret(
    snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    from tests.common.test_snowflake_backend import _encrypted_key

    dead = FakesnowServer()  # nothing listens on its port
    snowflake_home.add("unreachable", **fake_connection_params(dead, password=PASSWORD, login_timeout=1))
    snowflake_home.add("bad_key", **fake_connection_params(
        fakesnow_server, authenticator="SNOWFLAKE_JWT", private_key_file=str(_encrypted_key(tmp_path / "k.p8", "other")),
        private_key_file_pwd=PASSPHRASE))
    snowflake_home.add("no_warehouse", **fake_connection_params(fakesnow_server, password=PASSWORD))

    code, output = doctor(capsys, "--warehouse", "snowflake://unreachable")
    assert code == 1 and "cannot reach Snowflake (connection 'unreachable')" in rows(output)["login"]
    assert rows(output)["hint"] and rows(output)["result"].startswith("failed")

    code, output = doctor(capsys, "--warehouse", "snowflake://bad_key")
    report = rows(output)
    assert code == 1 and "does not decrypt with the passphrase given" in report["login"], output
    assert report["authenticator"] == f"SNOWFLAKE_JWT, key file {tmp_path / 'k.p8'} (found)"

    code, output = doctor(capsys, "--warehouse", "snowflake://no_warehouse")
    report = rows(output)
    assert code == 1 and report["login"].startswith("ok") and "has no warehouse" in report["warehouse"], output
    assert "DEFAULT_WAREHOUSE" in report["hint"]

    code, output = doctor(capsys, "--warehouse", "snowflake://nope")
    assert code == 1 and "no Snowflake connection named 'nope'" in rows(output)["connection"]
    assert_no_secret(capsys.readouterr().out + output)


def test_a_misplaced_default_connection_name_is_reported_with_its_file(
    snowflake_home: SnowflakeHome, capsys: pytest.CaptureFixture[str]
) -> None:
    target = snowflake_home.path / "connections.toml"
    target.write_text(f'default_connection_name = "doc"\n\n[doc]\naccount = "x"\npassword = "{PASSWORD}"\n')
    code, output = doctor(capsys, "--warehouse", "snowflake://")
    assert code == 1 and str(target) in output and "belongs in config.toml" in output
    assert_no_secret(output)


# -- DuckDB ---------------------------------------------------------------------------------------


def test_the_demo_warehouse_before_and_after_it_is_built(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SNOWMCP_STATE_DIR", str(tmp_path))
    code, output = doctor(capsys, "--warehouse", "demo")
    assert code == 0 and "built on the first call" in rows(output)["exists"]
    assert rows(output)["file"] == str(tmp_path / "demo" / "ANALYTICS.duckdb")


def test_a_duckdb_file_opens_or_says_why_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import duckdb

    monkeypatch.setenv("SNOWMCP_STATE_DIR", str(tmp_path / "state"))
    path = tmp_path / "LAB.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA S; CREATE TABLE S.T AS SELECT 1 AS X; CREATE VIEW S.V AS SELECT * FROM S.T")
    code, output = doctor(capsys, "--warehouse", f"duckdb://{path}")
    assert code == 0 and rows(output)["opens"] == "yes, read-only: 2 tables and views in 1 schemas", output

    code, output = doctor(capsys, "--warehouse", f"duckdb://{tmp_path / 'missing.duckdb'}")
    assert code == 1 and "no such file" in rows(output)["exists"]

    writer = subprocess.Popen([sys.executable, "-c", f"import duckdb, sys; c = duckdb.connect({str(path)!r}); "
                               "print('ready', flush=True); sys.stdin.read()"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        code, output = doctor(capsys, "--warehouse", f"duckdb://{path}")
        assert code == 1 and "lock" in rows(output)["opens"].lower() and "dbt" in rows(output)["hint"], output
    finally:
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(timeout=10)

    code, output = doctor(capsys, "--warehouse", "postgres://x")
    assert code == 1 and "unknown warehouse" in output
