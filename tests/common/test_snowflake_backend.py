"""The Snowflake backend against fakesnow over HTTP, through the real snowflake-connector-python.

fakesnow accepts and ignores session and per-statement parameters (QUERY_TAG,
MULTI_STATEMENT_COUNT, STATEMENT_TIMEOUT_IN_SECONDS) and abort requests, and runs an
async submit to completion; so these tests check what reached the server (the
`fakesnow_server.requests` record) rather than its effect. It cannot do ALTER SESSION
SET QUERY_TAG, SYSTEM$ functions, schema/database comments, views in
INFORMATION_SCHEMA.TABLES, TIMESTAMP_TZ offsets (kept as UTC) or NULL timestamps
(read back as the epoch); the tests stay clear of those.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import anyio
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from snowmcp.common import telemetry
from snowmcp.common.errors import ConfigError, NotFound, QueryFailed, QueryTimeout, WarehouseUnavailable
from snowmcp.common.results import RowCollector
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import TableRef
from snowmcp.common.warehouse.selection import open_warehouse
from snowmcp.common.warehouse.snowflake import SnowflakeWarehouse
from tests.snowflake_fixtures import (  # noqa: F401  (fixtures)
    SLOW_SQL,
    TAG,
    warehouse,
    FakesnowServer,
    SnowflakeHome,
    fake_connection_params,
    fakesnow_server,
    snowflake_home,
    snowflake_settings,
)

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:Arrow output:UserWarning")]  # fakesnow's

PASSWORD = "s3cret-canary-pw"
PASSPHRASE = "canary-passphrase"


async def run(warehouse: SnowflakeWarehouse, sql: str, *, max_rows: int = 100, max_bytes: int = 1_000_000,
              params: list[Any] | None = None, timeout_s: float = 20) -> tuple[Any, RowCollector]:
    collector = RowCollector(max_rows=max_rows, max_bytes=max_bytes)
    outcome = await warehouse.execute(sql, collector, params=params, timeout_s=timeout_s, tag=TAG)
    return outcome, collector


# -- opening ------------------------------------------------------------------


async def test_a_named_connection_opens_with_snowmcp_session_parameters(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer, snowflake_settings: Settings
) -> None:
    assert warehouse.dialect == "snowflake"
    assert warehouse.identity == "snowflake:fakesnow/fake/default-role"
    login = [r for r in fakesnow_server.requests if r.path.endswith("login-request")][-1]
    params = {k: str(v).lower() for k, v in login.body["SESSION_PARAMETERS"].items()}  # 5.x sends text
    assert params["MULTI_STATEMENT_COUNT"] == "1"
    assert params["STATEMENT_TIMEOUT_IN_SECONDS"] == str(int(snowflake_settings.max_timeout_s))
    assert json.loads(login.body["SESSION_PARAMETERS"]["QUERY_TAG"]) == {"app": "snowmcp"}
    assert params["CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED"] == "false"  # the entry's own parameters are kept
    assert (await warehouse.current_location())[0] == "ANALYTICS"  # the snowflake_database override


async def test_default_connection_env_overrides_and_unknown_names(
    snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def settings(url: str, **extra: Any) -> Settings:
        return Settings(warehouse=url, state_dir=tmp_path, **extra)

    monkeypatch.setenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "fake")
    monkeypatch.setenv("SNOWFLAKE_CONNECTIONS_FAKE_ROLE", "READER")  # Snowflake CLI's per-entry override
    opened = await open_warehouse(settings("snowflake://"))
    assert opened.identity == "snowflake:fakesnow/fake/READER"
    await opened.close()
    opened = await open_warehouse(settings("snowflake://fake", snowflake_role="ANALYST"))
    assert opened.identity == "snowflake:fakesnow/fake/ANALYST"  # SNOWMCP_SNOWFLAKE_ROLE wins
    await opened.close()

    with pytest.raises(ConfigError, match=r"no Snowflake connection named 'nope'.*known: fake"):
        await open_warehouse(settings("snowflake://nope"))
    monkeypatch.delenv("SNOWFLAKE_DEFAULT_CONNECTION_NAME")
    with pytest.raises(ConfigError, match="no default Snowflake connection"):
        await open_warehouse(settings("snowflake://"))

    for key, value in fakesnow_server.connect_params().items():  # no entry at all: generic variables
        monkeypatch.setenv(f"SNOWFLAKE_{key.upper()}", str(value))
    opened = await open_warehouse(settings("snowflake://"))
    assert opened.identity == "snowflake:fakesnow/fake/default-role"
    assert (await run(opened, "SELECT 1 AS ONE"))[1].rows == [[1]]
    await opened.close()


def test_connection_config_precedence_and_secrets(snowflake_home: SnowflakeHome, tmp_path: Path) -> None:
    from snowmcp.common.warehouse.snowflake_pool import resolve_config

    snowflake_home.add("tuned", account="a", user="u", password=PASSWORD, login_timeout=2,
                       session_parameters={"STATEMENT_TIMEOUT_IN_SECONDS": 30, "TIMEZONE": "UTC"})
    config = resolve_config("tuned", Settings(state_dir=tmp_path, snowflake_network_timeout_s=9))
    kwargs = config.kwargs
    assert kwargs["connection_name"] == "tuned" and "password" not in kwargs  # the connector reads the entry
    assert kwargs["login_timeout"] == 2 and kwargs["network_timeout"] == 9  # the entry's, unless set explicitly (whole seconds)
    assert kwargs["paramstyle"] == "qmark"
    assert kwargs["session_parameters"]["STATEMENT_TIMEOUT_IN_SECONDS"] == 30  # a stricter one is kept
    assert kwargs["session_parameters"]["TIMEZONE"] == "UTC"
    assert PASSWORD not in repr(config) and config.scrub(f"x {PASSWORD} y") == "x *** y"


async def test_without_per_statement_parameters_the_tag_is_set_once_per_session(
    warehouse: SnowflakeWarehouse,
) -> None:
    from snowmcp.common.warehouse.snowflake_statement import Statement
    from snowmcp.common.warehouse.snowflake_pool import PooledConnection

    class Cursor:
        statements: list[str] = []

        def execute(self, sql: str) -> None:
            self.statements.append(sql)

    warehouse._statement_params = False  # as with a driver that has no `_statement_params`
    pooled, cursor = PooledConnection(raw=None), Cursor()
    for tool in ("run_query", "run_query", "describe_table"):
        statement = Statement("SELECT 1", {"server": "query", "tool": tool}, with_request_id=False)
        assert warehouse._statement_kwargs(pooled, cursor, statement, request_id=True) == {"num_statements": 1}
    assert cursor.statements == [
        """ALTER SESSION SET QUERY_TAG = '{"app":"snowmcp","server":"query","tool":"run_query"}'""",
        """ALTER SESSION SET QUERY_TAG = '{"app":"snowmcp","server":"query","tool":"describe_table"}'""",
    ]


# -- catalog --------------------------------------------------------------------


async def test_catalog_lists_databases_schemas_and_tables_with_kinds(warehouse: SnowflakeWarehouse) -> None:
    assert "ANALYTICS" in [d.name for d in await warehouse.list_databases()]
    assert [s.name for s in await warehouse.list_schemas("ANALYTICS")] == ["OPS", "SALES"]

    sales = {t.name: t for t in await warehouse.list_tables("ANALYTICS", "SALES")}
    assert set(sales) == {"CUSTOMERS", "ORDERS", "ORDER_TOTALS"}
    assert sales["ORDERS"].kind == "table" and sales["ORDERS"].row_count == 300
    assert sales["ORDERS"].comment == "One row per order"
    assert sales["ORDER_TOTALS"].kind == "view"
    assert [t.name for t in await warehouse.list_tables("ANALYTICS", None, "cust")] == ["CUSTOMERS"]
    everything = {(t.schema_, t.name) for t in await warehouse.list_tables("ANALYTICS", None)}
    assert {("OPS", "ETL_RUNS"), ("SALES", "ORDERS")} <= everything
    assert not any(schema == "INFORMATION_SCHEMA" for schema, _ in everything)


async def test_describe_table_reports_types_nullability_defaults_and_comments(warehouse: SnowflakeWarehouse) -> None:
    table = await warehouse.describe_table(TableRef("ANALYTICS", "SALES", "ORDERS"))
    assert (table.kind, table.row_count, table.comment) == ("table", 300, "One row per order")
    columns = {c.name: c for c in table.columns}
    assert [c.name for c in table.columns][:3] == ["ORDER_ID", "CUSTOMER_ID", "ORDER_DATE"]
    assert columns["AMOUNT"].type == "NUMBER(12,2)" and columns["AMOUNT"].comment == "Order total in EUR"
    assert columns["ORDERED_AT"].type == "TIMESTAMP_TZ" and columns["STATUS"].type == "VARCHAR"
    assert columns["ORDER_ID"].nullable is False and columns["CHANNEL"].nullable is True
    assert columns["STATUS"].default == "'pending'"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda w: w.describe_table(TableRef("ANALYTICS", "SALES", "NOPE")), "table ANALYTICS.SALES.NOPE"),
        (lambda w: w.describe_table(TableRef("ANALYTICS", "sales", "ORDERS")), "table ANALYTICS.sales.ORDERS"),
        (lambda w: w.describe_table(TableRef("NOPE", "SALES", "ORDERS")), "table NOPE.SALES.ORDERS"),
        (lambda w: w.list_tables("ANALYTICS", "NOPE"), "schema ANALYTICS.NOPE"),
        (lambda w: w.list_schemas("NOPE"), "database NOPE"),
    ],
)
async def test_missing_objects_are_not_found(warehouse: SnowflakeWarehouse, call: Any, message: str) -> None:
    with pytest.raises(NotFound, match=message):
        await call(warehouse)


# -- statements -------------------------------------------------------------------


async def test_execute_binds_params_tags_the_statement_and_caps_rows(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snowflake.connector.cursor import SnowflakeCursor

    fetched: list[int] = []
    original = SnowflakeCursor.fetchmany

    def counting_fetchmany(self: Any, size: int | None = None) -> Any:
        rows = original(self, size)
        fetched.append(len(rows))
        return rows

    monkeypatch.setattr(SnowflakeCursor, "fetchmany", counting_fetchmany)
    sql = "SELECT ORDER_ID, STATUS, AMOUNT FROM ANALYTICS.SALES.ORDERS WHERE STATUS = ? ORDER BY ORDER_ID"
    outcome, collector = await run(warehouse, sql, params=["shipped"], max_rows=10)
    assert collector.truncated_by == "max_rows" and len(collector.rows) == 10
    assert collector.rows[0] == [1, "shipped", 0.0] and all(r[1] == "shipped" for r in collector.rows)
    assert sum(fetched) <= 11  # the cap plus one probe row, never the whole result
    assert [c.model_dump() for c in outcome.columns] == [
        {"name": "ORDER_ID", "type": "NUMBER(38,0)"}, {"name": "STATUS", "type": "VARCHAR"},
        {"name": "AMOUNT", "type": "NUMBER(12,2)"},
    ]
    assert uuid.UUID(outcome.query_id)

    submitted = [r for r in fakesnow_server.requests if r.body.get("sqlText") == sql][-1]
    assert submitted.body["asyncExec"] is False  # submitted and answered in one request
    assert submitted.query_id == outcome.query_id  # the id Snowflake answered with
    assert json.loads(submitted.body["parameters"]["QUERY_TAG"]) == {
        "app": "snowmcp", "server": "query", "tool": "run_query"}
    assert submitted.body["parameters"]["MULTI_STATEMENT_COUNT"] == 1

    _, collector = await run(warehouse, "SELECT * FROM ANALYTICS.SALES.ORDERS", max_rows=1000, max_bytes=2_000)
    assert collector.truncated_by == "max_bytes" and 0 < collector.bytes <= 2_000
    _, collector = await run(warehouse, "SELECT COUNT(*) AS N FROM ANALYTICS.OPS.ETL_RUNS WHERE STATUS = 'failed'")
    assert collector.rows == [[20]] and collector.truncated_by is None


async def test_values_serialize_faithfully(warehouse: SnowflakeWarehouse) -> None:
    outcome, collector = await run(warehouse, "SELECT * FROM ANALYTICS.OPS.TYPED_VALUES WHERE ID = 1")
    row = dict(zip([c.name for c in outcome.columns], collector.rows[0]))
    assert row == {
        "ID": 1,
        "BIG": "9007199254740993",  # beyond 2^53: a string, exact for JavaScript clients too
        "PRICE": 1234.56,
        "RATIO": 0.25,
        "DAY": "2024-02-29",
        "AT_TIME": "13:45:30.250000",
        "AT_TZ": "2024-02-29T08:45:30+00:00",  # fakesnow keeps the instant, not the +05:00 offset
        "AT_LTZ": "2024-02-29T13:45:30+00:00",
        "AT_NTZ": "2024-02-29T13:45:30.123456",
        "DOC": {"a": [1, 2.5, None], "b": {"c": "d"}},
        "ATTRS": {"k": 1, "name": "x"},
        "TAGS": ["x", 2, True],
        "PAYLOAD": "3q2+7w==",
        "FLAG": True,
    }
    types = {c.name: c.type for c in outcome.columns}
    assert types["DOC"] == "VARIANT" and types["PAYLOAD"] == "BINARY" and types["AT_NTZ"] == "TIMESTAMP_NTZ"
    json.dumps(collector.rows)


async def test_sql_errors_are_query_failed_and_never_retried(
    snowflake_settings: Settings, fakesnow_server: FakesnowServer
) -> None:
    runtime = ServerRuntime("query", snowflake_settings.model_copy(update={"retry_attempts": 3}))
    cases = {
        "SELEC 1": r"^Snowflake 1003 \(42000\): ",
        "SELECT * FROM ANALYTICS.SALES.NO_SUCH_TABLE": r"^Snowflake 2003 \(42S02\): ",
        "SELECT NO_SUCH_COLUMN FROM ANALYTICS.SALES.ORDERS": r"^Snowflake 2043 \(02000\): ",
    }
    try:
        for sql, pattern in cases.items():
            with pytest.raises(QueryFailed, match=pattern):
                await runtime.query(sql, tool="run_query", use_cache=False)
            # (the runtime may append its row cap as a LIMIT)
            assert len([text for text in fakesnow_server.sql_texts() if text.startswith(sql)]) == 1
        assert runtime.breaker.state.value == "closed"
    finally:
        await runtime.close()


# -- timeouts and cancellation -------------------------------------------------------


def _abort_for(server: FakesnowServer, sql: str, deadline_s: float = 5.0) -> Any:
    """The abort request naming the request that submitted `sql` (waits for it to arrive): by its
    request id in the body (4.x, before the query id is known), or by its query id in the path."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        submitted = [r for r in server.requests if r.body.get("sqlText") == sql]
        ids = {r.query.get("requestId") for r in submitted}
        query_ids = {r.query_id for r in submitted if r.query_id}
        found = [a for a in server.aborts()
                 if a.body.get("requestId") in ids or a.path.split("/")[2] in query_ids]
        if found:
            return found[0]
        time.sleep(0.05)
    return None


async def test_a_timeout_cancels_the_statement_in_snowflake(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer
) -> None:
    sql = SLOW_SQL + " -- timeout"
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"statement cancelled after 0\.5 s"):
        await run(warehouse, sql, timeout_s=0.5)
    assert time.monotonic() - started < 1.5
    abort = await anyio.to_thread.run_sync(_abort_for, fakesnow_server, sql)
    assert abort is not None, "no cancel reached the server"
    assert abort.at - started < 1.5  # ours, sent at the timeout (the driver's own would come at 2 s)
    assert abort.body.get("sqlText", sql) == sql
    # The warehouse stays usable while the cancelled statement winds down.
    assert (await run(warehouse, "SELECT 1 AS ONE", timeout_s=5))[1].rows == [[1]]


async def test_a_cancelled_call_cancels_the_statement_too(
    warehouse: SnowflakeWarehouse, fakesnow_server: FakesnowServer
) -> None:
    sql = SLOW_SQL + " -- cancelled"
    with anyio.move_on_after(0.4) as scope:
        await run(warehouse, sql, timeout_s=60)
    assert scope.cancelled_caught
    assert await anyio.to_thread.run_sync(_abort_for, fakesnow_server, sql) is not None


# -- sessions, outages, the breaker ----------------------------------------------------


async def test_an_expired_session_is_retried_once_on_a_new_session(
    warehouse: SnowflakeWarehouse, snowflake_settings: Settings, fakesnow_server: FakesnowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from snowflake.connector.connection import SnowflakeConnection
    from snowflake.connector.cursor import SnowflakeCursor
    from snowflake.connector.errors import ProgrammingError

    expired = warehouse._pool._idle[-1].raw  # the session the next statement will use
    original, raised = SnowflakeCursor.execute, []

    def expiring(original: Any) -> Any:
        def submit(self: Any, *args: Any, **kwargs: Any) -> Any:
            if self.connection is expired and not raised:
                raised.append(args[0])
                raise ProgrammingError(msg="Authentication token has expired.  The user must authenticate again.",
                                       errno=390114, sqlstate="08001")
            return original(self, *args, **kwargs)
        return submit

    # (4.x's execute_async calls execute; 5.x's does not)
    monkeypatch.setattr(SnowflakeCursor, "execute", expiring(original))
    monkeypatch.setattr(SnowflakeCursor, "execute_async", expiring(SnowflakeCursor.execute_async))
    closed: list[Any] = []
    original_close = SnowflakeConnection.close
    monkeypatch.setattr(SnowflakeConnection, "close", lambda self, *a, **k: (closed.append(self),
                                                                              original_close(self, *a, **k)))
    logins = len([r for r in fakesnow_server.requests if r.path.endswith("login-request")])
    runtime = ServerRuntime("query", snowflake_settings, warehouse)
    result = await runtime.query("SELECT COUNT(*) AS N FROM ANALYTICS.SALES.ORDERS", tool="run_query")
    assert result.rows == [[300]] and len(raised) == 1
    assert len([r for r in fakesnow_server.requests if r.path.endswith("login-request")]) == logins + 1
    assert expired not in [pooled.raw for pooled in warehouse._pool._idle]
    with anyio.fail_after(5):  # dropped from the pool and closed in the background
        while expired not in closed:
            await anyio.sleep(0.05)


# The driver's own cancel timer (started with every request) fails against the stopped server.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
async def test_an_outage_opens_the_breaker_and_the_warehouse_recovers(
    snowflake_home: SnowflakeHome, snowflake_settings: Settings
) -> None:
    server = FakesnowServer().start()  # our own server: stopping it leaves the shared one alone
    snowflake_home.add("outage", **fake_connection_params(server, network_timeout=1, login_timeout=1))
    settings = snowflake_settings.model_copy(update={"warehouse": "snowflake://outage"})
    runtime = ServerRuntime("query", settings)
    sql = "SELECT COUNT(*) AS N FROM ANALYTICS.SALES.CUSTOMERS"
    try:
        assert (await runtime.query(sql, tool="run_query")).rows == [[120]]
        server.stop()
        with pytest.raises(WarehouseUnavailable) as failure:
            await runtime.query(sql, tool="run_query")
        assert failure.value.transient or "circuit breaker open" in str(failure.value)
        assert runtime.breaker.state.value == "open"

        started = time.monotonic()
        with pytest.raises(WarehouseUnavailable, match="retry after"):
            await runtime.query(sql, tool="run_query")
        with pytest.raises(WarehouseUnavailable, match="retry after"):
            await runtime.catalog(lambda w: w.list_schemas("ANALYTICS"))
        assert time.monotonic() - started < 0.5

        server.start()  # same port
        await anyio.sleep(settings.breaker_reset_timeout_s + 0.1)
        assert (await runtime.query(sql, tool="run_query")).rows == [[120]]
        assert [s.name for s in await runtime.catalog(lambda w: w.list_schemas("ANALYTICS"))] == ["OPS", "SALES"]
        assert runtime.breaker.state.value == "closed"
    finally:
        await runtime.close()
        server.stop()


# -- secrets ---------------------------------------------------------------------------


def _encrypted_key(path: Path, passphrase: str) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(passphrase.encode())))
    return path


async def test_passwords_and_passphrases_never_leak(
    snowflake_home: SnowflakeHome, fakesnow_server: FakesnowServer, snowflake_settings: Settings,
    tmp_path: Path, caplog: pytest.LogCaptureFixture, spans: InMemorySpanExporter,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = _encrypted_key(tmp_path / "rsa_key.p8", PASSPHRASE)
    other_key = _encrypted_key(tmp_path / "other_key.p8", "another-passphrase")
    dead = FakesnowServer()  # never started: nothing listens on its port
    snowflake_home.add("with_password", **fake_connection_params(fakesnow_server, password=PASSWORD))
    snowflake_home.add("with_key", **fake_connection_params(
        fakesnow_server, authenticator="SNOWFLAKE_JWT", private_key_file=str(key), private_key_file_pwd=PASSPHRASE))
    snowflake_home.add("bad_key", **fake_connection_params(
        fakesnow_server, authenticator="SNOWFLAKE_JWT", private_key_file=str(other_key),
        private_key_file_pwd=PASSPHRASE))
    snowflake_home.add("unreachable", **fake_connection_params(dead, password=PASSWORD, login_timeout=1))

    seen: list[str] = []
    for name in ("with_password", "with_key"):
        runtime = ServerRuntime("query", snowflake_settings.model_copy(update={"warehouse": f"snowflake://{name}"}))
        with telemetry.tool_span("query", "run_query"):
            result = await runtime.query("SELECT CURRENT_DATABASE() AS D", tool="run_query")
        seen.append((await runtime.warehouse()).identity)
        await runtime.close()
        assert result.rows == [["ANALYTICS"]]
    for name, error in (("bad_key", ConfigError), ("unreachable", WarehouseUnavailable)):
        runtime = ServerRuntime("query", snowflake_settings.model_copy(update={"warehouse": f"snowflake://{name}"}))
        with pytest.raises(error) as failure, telemetry.tool_span("query", "run_query"):
            await runtime.query("SELECT 1", tool="run_query")
        seen.append(str(failure.value))
    assert "decrypt" in seen[2] and "'bad_key'" in seen[2]  # a clear reason, without the value
    assert "cannot reach Snowflake (connection 'unreachable')" in seen[3]

    attributes = repr([dict(s.attributes or {}) for s in spans.get_finished_spans()])
    assert "snowflake:fakesnow/fake" in attributes
    everything = "\n".join([caplog.text, attributes, *seen])
    assert any(r.name.startswith("snowflake.connector") and r.levelno == logging.DEBUG for r in caplog.records)
    for secret in (PASSWORD, PASSPHRASE):
        assert secret not in everything
