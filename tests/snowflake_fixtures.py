"""pytest fixtures for the Snowflake backend: fakesnow served over HTTP, reached through the real connector.

Import the fixtures a test module needs (pytest picks them up from its namespace):

    from tests.snowflake_fixtures import fakesnow_server, snowflake_home, snowflake_settings  # noqa: F401

- `fakesnow_server` (session): one fakesnow HTTP server on 127.0.0.1, seeded once with
  database ANALYTICS (schemas SALES and OPS, see `seed`); it records what reached it.
- `snowflake_home`: a temporary `SNOWFLAKE_HOME` whose `connections.toml` holds the
  connection `fake` (host, port, protocol="http", account, user, password, short
  timeouts); `snowflake_home.add(name, **params)` adds entries.
- `snowflake_settings`: `Settings` for `snowflake://fake` (small timeouts, breaker and retries).
- `FakesnowServer(port)`: `start()` / `stop()` / `start()` again on the same port, for fault tests.
  fakesnow cannot run `USE SECONDARY ROLES`: the recorder answers it as a no-op (still recorded).

All fakesnow sessions in a process share one in-memory instance, so any server
started here serves the seeded data. fakesnow 0.12 needs the 4.x connector.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from snowmcp.common.settings import Settings

FAKE_CONNECTION = "fake"
FAKE_PASSWORD = "snow"


@dataclass
class Recorded:
    """One request that reached the fake server (login bodies keep only their session parameters)."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]
    at: float


class FakesnowServer:
    """A fakesnow HTTP server in a thread, restartable on the same port."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.requests: list[Recorded] = []
        self.faults: set[str] = set()  # "cut_query_responses": answer queries with half a body, then hang up
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakesnowServer:
        import fakesnow.server
        import uvicorn

        config = uvicorn.Config(_Recorder(fakesnow.server.app, self.requests, self.faults), host=self.host, port=self.port,
                                log_config=None, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"fakesnow:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"fakesnow did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop at once, in-flight requests included (what an outage looks like to a client)."""
        if self._server is not None:
            self._server.should_exit = self._server.force_exit = True
            assert self._thread is not None
            self._thread.join(timeout=15)
            self._server = None

    def connect_params(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "protocol": "http", "account": "fakesnow",
                "user": "fake", "password": FAKE_PASSWORD}

    def sql_texts(self) -> list[str]:
        return [r.body.get("sqlText", "") for r in self.requests if r.path.endswith("/query-request")]

    def aborts(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/abort-request")]


class _Recorder:
    """ASGI middleware noting login, query and abort requests (their JSON bodies) in a list."""

    _PATHS = ("/session/v1/login-request", "/queries/v1/query-request", "/abort-request")

    def __init__(self, app: Any, log: list[Recorded], faults: set[str]) -> None:
        self.app, self.log, self.faults = app, log, faults

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(self._PATHS):
            return await self.app(scope, receive, send)
        path = scope["path"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode()))
        gzipped = (b"content-encoding", b"gzip") in [(k.lower(), v) for k, v in scope.get("headers", [])]
        arrived = time.monotonic()
        chunks: list[bytes] = []
        message = await receive()  # read the whole body up front: some routes never read it
        pending = [message]
        while message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
            message = await receive()
            pending.append(message)
        body = _parse(b"".join(chunks), gzipped, login=path.endswith("login-request"))
        self.log.append(Recorded(path, query, body, arrived))

        if path.endswith("query-request") and _SECONDARY_ROLES.match(str(body.get("sqlText", ""))):
            scope, pending = _as_noop(scope, body, gzipped)  # fakesnow cannot run USE SECONDARY ROLES

        async def replay() -> dict[str, Any]:
            return pending.pop(0) if pending else await receive()

        if "cut_query_responses" in self.faults and path.endswith("query-request"):
            send = _cut_after_half(send)
        await self.app(scope, replay, send)


_SECONDARY_ROLES = re.compile(r"^\s*USE\s+SECONDARY\s+ROLES\s+(NONE|ALL)\s*$", re.IGNORECASE)


def _as_noop(scope: dict[str, Any], body: dict[str, Any], gzipped: bool) -> tuple[dict[str, Any], list[Any]]:
    """The request with its statement replaced by one fakesnow runs (it is recorded as sent)."""
    raw = json.dumps({**body, "sqlText": "SELECT 'Statement executed successfully.' AS \"status\""}).encode()
    raw = gzip.compress(raw) if gzipped else raw
    headers = [(k, str(len(raw)).encode() if k.lower() == b"content-length" else v) for k, v in scope["headers"]]
    return {**scope, "headers": headers}, [{"type": "http.request", "body": raw, "more_body": False}]


class _ConnectionCut(Exception):
    """Raised inside the ASGI app to make the server drop the connection mid-response."""


def _cut_after_half(send: Any) -> Any:
    async def cut(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            await send({**message, "headers": headers})  # chunked, so the cut is visible to the client
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise _ConnectionCut("connection dropped mid-result (planted fault)")
        else:
            await send(message)

    return cut


def _parse(raw: bytes, gzipped: bool, *, login: bool) -> dict[str, Any]:
    try:
        body = json.loads(gzip.decompress(raw) if gzipped else raw or b"{}")
    except ValueError:
        return {}
    if login:  # never keep credentials
        return {"SESSION_PARAMETERS": body.get("data", {}).get("SESSION_PARAMETERS", {})}
    return body if isinstance(body, dict) else {}


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


SEED = [
    "CREATE DATABASE IF NOT EXISTS ANALYTICS",
    "CREATE SCHEMA IF NOT EXISTS ANALYTICS.SALES",
    "CREATE SCHEMA IF NOT EXISTS ANALYTICS.OPS",
    """CREATE TABLE ANALYTICS.SALES.ORDERS (ORDER_ID NUMBER(38,0) NOT NULL, CUSTOMER_ID NUMBER(38,0),
       ORDER_DATE DATE, ORDERED_AT TIMESTAMP_TZ, STATUS VARCHAR DEFAULT 'pending', CHANNEL VARCHAR(20),
       AMOUNT NUMBER(12,2), UPDATED_AT TIMESTAMP_NTZ) COMMENT = 'One row per order'""",
    """INSERT INTO ANALYTICS.SALES.ORDERS
       SELECT SEQ4() + 1, MOD(SEQ4(), 120) + 1, DATEADD(day, MOD(SEQ4(), 90), '2024-01-01'::DATE),
         DATEADD(minute, SEQ4() * 17, '2024-01-01 08:00:00 +01:00'::TIMESTAMP_TZ),
         CASE MOD(SEQ4(), 4) WHEN 0 THEN 'shipped' WHEN 1 THEN 'delivered' WHEN 2 THEN 'pending'
           ELSE 'cancelled' END,
         IFF(MOD(SEQ4(), 3) = 0, 'web', 'store'), (MOD(SEQ4() * 3737, 100000) / 100)::NUMBER(12,2),
         DATEADD(hour, SEQ4(), '2024-01-02 00:00:00'::TIMESTAMP_NTZ)
       FROM TABLE(GENERATOR(ROWCOUNT => 300))""",
    """CREATE TABLE ANALYTICS.SALES.CUSTOMERS (CUSTOMER_ID NUMBER(38,0) NOT NULL, NAME VARCHAR,
       EMAIL VARCHAR, COUNTRY VARCHAR(2), SIGNED_UP DATE) COMMENT = 'Customers, one row each'""",
    """INSERT INTO ANALYTICS.SALES.CUSTOMERS
       SELECT SEQ4() + 1, 'Customer ' || (SEQ4() + 1), 'c' || (SEQ4() + 1) || '@example.com',
         CASE MOD(SEQ4(), 3) WHEN 0 THEN 'FR' WHEN 1 THEN 'DE' ELSE 'US' END,
         DATEADD(day, SEQ4(), '2023-01-01'::DATE)
       FROM TABLE(GENERATOR(ROWCOUNT => 120))""",
    """CREATE VIEW ANALYTICS.SALES.ORDER_TOTALS AS
       SELECT CUSTOMER_ID, COUNT(*) AS ORDERS, SUM(AMOUNT) AS TOTAL FROM ANALYTICS.SALES.ORDERS GROUP BY 1""",
    """CREATE TABLE ANALYTICS.OPS.ETL_RUNS (RUN_ID NUMBER(38,0) NOT NULL, PIPELINE VARCHAR,
       STARTED_AT TIMESTAMP_NTZ, FINISHED_AT TIMESTAMP_NTZ, STATUS VARCHAR, ROWS_LOADED NUMBER(38,0),
       ERROR_MESSAGE VARCHAR) COMMENT = 'One row per pipeline run'""",
    """INSERT INTO ANALYTICS.OPS.ETL_RUNS
       SELECT SEQ4() + 1, CASE MOD(SEQ4(), 3) WHEN 0 THEN 'orders_daily' WHEN 1 THEN 'customers_sync'
           ELSE 'events_hourly' END,
         DATEADD(hour, SEQ4(), '2024-03-01 00:00:00'::TIMESTAMP_NTZ),
         DATEADD(minute, 5 + MOD(SEQ4(), 50), DATEADD(hour, SEQ4(), '2024-03-01 00:00:00'::TIMESTAMP_NTZ)),
         IFF(MOD(SEQ4(), 10) = 0, 'failed', 'success'), MOD(SEQ4() * 7919, 50000),
         IFF(MOD(SEQ4(), 10) = 0, 'upstream timeout', NULL)
       FROM TABLE(GENERATOR(ROWCOUNT => 200))""",
    """CREATE TABLE ANALYTICS.OPS.TYPED_VALUES (ID NUMBER(38,0), BIG NUMBER(38,0), PRICE NUMBER(12,2),
       RATIO FLOAT, DAY DATE, AT_TIME TIME, AT_TZ TIMESTAMP_TZ, AT_LTZ TIMESTAMP_LTZ, AT_NTZ TIMESTAMP_NTZ,
       DOC VARIANT, ATTRS OBJECT, TAGS ARRAY, PAYLOAD BINARY, FLAG BOOLEAN)""",
    """INSERT INTO ANALYTICS.OPS.TYPED_VALUES SELECT 1, 9007199254740993, 1234.56, 0.25,
       '2024-02-29'::DATE, '13:45:30.25'::TIME, '2024-02-29 13:45:30 +05:00'::TIMESTAMP_TZ,
       '2024-02-29 13:45:30'::TIMESTAMP_LTZ, '2024-02-29 13:45:30.123456'::TIMESTAMP_NTZ,
       PARSE_JSON('{"a": [1, 2.5, null], "b": {"c": "d"}}'), OBJECT_CONSTRUCT('k', 1, 'name', 'x'),
       ARRAY_CONSTRUCT('x', 2, TRUE), TO_BINARY('DEADBEEF', 'HEX'), TRUE""",
    """INSERT INTO ANALYTICS.OPS.TYPED_VALUES (ID) VALUES (2)""",
]
# fakesnow applies COMMENT ON COLUMN but its HTTP server then fails to describe the
# statement, so column comments are set through the in-process API.
COLUMN_COMMENTS = [
    "COMMENT ON COLUMN ANALYTICS.SALES.ORDERS.AMOUNT IS 'Order total in EUR'",
    "COMMENT ON COLUMN ANALYTICS.SALES.ORDERS.STATUS IS 'pending, shipped, delivered or cancelled'",
]


def create_database(server: FakesnowServer, database: str, statements: list[str]) -> bool:
    """Run `statements` through the real connector unless `database` exists already; True if it ran them."""
    import snowflake.connector

    with snowflake.connector.connect(**server.connect_params(), network_timeout=10, login_timeout=10) as con:
        cursor = con.cursor()
        cursor.execute("SHOW DATABASES")
        if any(row[1] == database for row in cursor.fetchall()):
            return False
        for sql in statements:
            cursor.execute(sql)
    return True


def seed(server: FakesnowServer) -> None:
    """Create and fill ANALYTICS (idempotent per process)."""
    import fakesnow.server

    if not create_database(server, "ANALYTICS", SEED):
        return
    local = fakesnow.server.shared_fs.connect("ANALYTICS", "SALES")
    for sql in COLUMN_COMMENTS:
        local.cursor().execute(sql)


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[FakesnowServer]:
    server = FakesnowServer().start()
    try:
        seed(server)
        yield server
    finally:
        server.stop()


class SnowflakeHome:
    """A temporary SNOWFLAKE_HOME; entries written here are what the connector reads."""

    def __init__(self, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = path
        self.connections: dict[str, dict[str, Any]] = {}
        self._monkeypatch = monkeypatch

    def add(self, name: str, **params: Any) -> None:
        self.connections[name] = params
        lines = []
        for entry, values in self.connections.items():
            lines.append(f"[{entry}]")
            lines += [f"{key} = {json.dumps(value)}" for key, value in values.items() if not isinstance(value, dict)]
            for key, table in ((k, v) for k, v in values.items() if isinstance(v, dict)):
                lines.append(f"[{entry}.{key}]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
        target = self.path / "connections.toml"
        target.write_text("\n".join(lines) + "\n")
        target.chmod(0o600)  # the connector refuses files others may write, warns on readable ones
        self._point_connector_here()

    def _point_connector_here(self) -> None:
        """The connector resolves SNOWFLAKE_HOME once, at import, and caches the file: redo both.

        (A real server process has SNOWFLAKE_HOME set before it starts; tests change it later.)
        """
        from snowflake.connector import config_manager, constants, sf_dirs

        config_dir = sf_dirs._resolve_platform_dirs().user_config_path
        manager = config_manager.CONFIG_MANAGER
        slices = [s._replace(path=config_dir / "connections.toml") if s.section == "connections" else s
                  for s in manager._slices]
        self._monkeypatch.setattr(manager, "file_path", config_dir / "config.toml")
        self._monkeypatch.setattr(manager, "_slices", slices)
        self._monkeypatch.setattr(manager, "conf_file_cache", None)
        self._monkeypatch.setattr(constants, "CONNECTIONS_FILE", config_dir / "connections.toml")


def fake_connection_params(server: FakesnowServer, **extra: Any) -> dict[str, Any]:
    """A connections.toml entry for `server` with timeouts short enough that nothing hangs."""
    return {**server.connect_params(), "network_timeout": 2, "login_timeout": 2,
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}, **extra}


@pytest.fixture
def snowflake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakesnow_server: FakesnowServer) -> SnowflakeHome:
    home = tmp_path / "snowflake_home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("SNOWFLAKE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SNOWFLAKE_HOME", str(home))
    result = SnowflakeHome(home, monkeypatch)
    result.add(FAKE_CONNECTION, **fake_connection_params(fakesnow_server))
    return result


@pytest.fixture
def snowflake_settings(snowflake_home: SnowflakeHome, tmp_path: Path) -> Settings:
    return Settings(
        warehouse=f"snowflake://{FAKE_CONNECTION}", state_dir=tmp_path / "state", snowflake_database="ANALYTICS",
        query_timeout_s=20, retry_attempts=2, breaker_failure_threshold=2, breaker_reset_timeout_s=1.0,
        cache_ttl_s=0,
    )
