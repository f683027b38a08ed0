"""pytest fixtures for the Snowflake backend: fakesnow served over HTTP, reached through the real connector.

Import the fixtures a test module needs (pytest picks them up from its namespace):

    from tests.snowflake_fixtures import fakesnow_server, snowflake_home, snowflake_settings  # noqa: F401

- `fakesnow_server` (session): one fake Snowflake on 127.0.0.1, seeded once with database
  ANALYTICS (schemas SALES and OPS, see `seed`); `.requests` is what reached it.
- `snowflake_home`: a temporary `SNOWFLAKE_HOME` whose `connections.toml` holds the
  connection `fake` (host, port, protocol="http", account, user, password, short
  timeouts); `snowflake_home.add(name, **params)` adds entries.
- `snowflake_settings`: `Settings` for `snowflake://fake` (small timeouts, breaker and retries).
- `FakesnowServer(port)`: `start()` / `stop()` / `start()` again on the same port, for fault tests;
  `faults.add("cut_query_responses")` / `faults.clear()`.

fakesnow 0.12 needs the 4.x connector, and these tests use the connector users get (5.x): fakesnow
runs in its own venv (`.tools/fakesnow-venv`, made by `make fakesnow`, which `make test` runs) as
`tests/fakesnow_service.py`, started once per test process and driven through its control API.
Every server it serves shares one in-memory fakesnow, so any server started here serves the seeded
data. It records requests without credentials and answers `USE SECONDARY ROLES` as a no-op.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import socket
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import QueryTag

FAKE_CONNECTION = "fake"
FAKE_PASSWORD = "snow"
REPO = Path(__file__).resolve().parents[1]
SERVICE_SCRIPT = Path(__file__).with_name("fakesnow_service.py")
# At login the connector probes cloud metadata addresses (169.254.169.254...) to report its platform;
# tests talk to loopback only. (Set here, so server subprocesses started by tests inherit it.)
QUIET_CONNECTOR_ENV = {"SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true", "AWS_EC2_METADATA_DISABLED": "true"}
os.environ.update(QUIET_CONNECTOR_ENV)


def fakesnow_python() -> Path:
    """The fakesnow venv's interpreter (SNOWMCP_FAKESNOW_PYTHON overrides it)."""
    return Path(os.environ.get("SNOWMCP_FAKESNOW_PYTHON") or REPO / ".tools" / "fakesnow-venv" / "bin" / "python")


@dataclass
class Recorded:
    """One request that reached the fake server (login bodies keep only their session parameters)."""

    path: str
    query: dict[str, str]
    body: dict[str, Any]
    at: float  # time.monotonic() when it arrived (the same clock in every process)
    query_id: str | None = None  # the query id an asynchronous submission was given


class _Service:
    """tests/fakesnow_service.py in the fakesnow venv: one per test process, ended with it."""

    _instance: _Service | None = None
    _lock = threading.Lock()

    @classmethod
    def get(cls) -> _Service:
        with cls._lock:
            if cls._instance is None or cls._instance.process.poll() is not None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        python = fakesnow_python()
        if not python.exists():
            raise RuntimeError(f"no fakesnow venv at {python.parent.parent}: run `make fakesnow` "
                               "(make test does) or point SNOWMCP_FAKESNOW_PYTHON at one")
        self.log = Path(tempfile.mkstemp(prefix="snowmcp-fakesnow-", suffix=".log")[1])
        with self.log.open("wb") as log:
            self.process = subprocess.Popen([str(python), str(SERVICE_SCRIPT)], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, cwd=REPO)
        atexit.register(self.close)
        self.control = f"http://127.0.0.1:{self._read_port(deadline_s=60)}"

    def _read_port(self, deadline_s: float) -> int:
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if selector.select(timeout=deadline_s):
                line = self.process.stdout.readline().decode().split()
                if len(line) == 2 and line[0] == "control":
                    return int(line[1])
        self.close()
        tail = self.log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the fakesnow service did not start ({fakesnow_python()}):\n{tail}")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.control + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"fakesnow service {method} {path}: {exc.read().decode(errors='replace')}") from None

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()  # the service exits when its stdin closes
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


def local_statements(database: str | None, schema: str | None, statements: list[str]) -> None:
    """Run statements through fakesnow's in-process API, in the service (what its HTTP server can't)."""
    _Service.get().call("POST", "/local", {"database": database, "schema": schema, "statements": statements})


class _Faults:
    """The faults planted in one server (a set kept in the service)."""

    def __init__(self, server: FakesnowServer) -> None:
        self._server = server
        self._names: set[str] = set()

    def add(self, name: str) -> None:
        self._names.add(name)
        self._push()

    def discard(self, name: str) -> None:
        self._names.discard(name)
        self._push()

    def clear(self) -> None:
        self._names.clear()
        self._push()

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def _push(self) -> None:
        _Service.get().call("PUT", f"/listeners/{self._server.port}/faults", {"faults": sorted(self._names)})


class FakesnowServer:
    """A fake Snowflake served by the fakesnow service, restartable on the same port."""

    def __init__(self, port: int | None = None, host: str = "127.0.0.1") -> None:
        if host != "127.0.0.1":
            raise ValueError("the fakesnow service serves on 127.0.0.1 only")
        self.host = host
        self.port = port or _free_port(host)
        self.faults = _Faults(self)  # "cut_query_responses": answer queries with half a body, then hang up
        self._seen: list[Recorded] = []
        self._seen_lock = threading.Lock()

    def start(self) -> FakesnowServer:
        _Service.get().call("POST", f"/listeners/{self.port}")
        return self

    def stop(self) -> None:
        """Stop at once, in-flight requests included (what an outage looks like to a client)."""
        _Service.get().call("DELETE", f"/listeners/{self.port}")

    @property
    def requests(self) -> list[Recorded]:
        """What reached this server so far (login, query and abort requests), oldest first."""
        with self._seen_lock:
            fresh = _Service.get().call("GET", f"/listeners/{self.port}/requests?since={len(self._seen)}")
            self._seen += [Recorded(**record) for record in fresh["records"]]
            return list(self._seen)

    def connect_params(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "protocol": "http", "account": "fakesnow",
                "user": "fake", "password": FAKE_PASSWORD}

    def sql_texts(self) -> list[str]:
        return [r.body.get("sqlText", "") for r in self.requests if r.path.endswith("/query-request")]

    def aborts(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/abort-request")]


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
# statement, so column comments are set through its in-process API (in the service).
COLUMN_COMMENTS = [
    "COMMENT ON COLUMN ANALYTICS.SALES.ORDERS.AMOUNT IS 'Order total in EUR'",
    "COMMENT ON COLUMN ANALYTICS.SALES.ORDERS.STATUS IS 'pending, shipped, delivered or cancelled'",
]


def create_database(server: FakesnowServer, database: str, statements: list[str]) -> bool:
    """Run `statements` through the real connector unless `database` exists already; True if it ran them."""
    import snowflake.connector

    with snowflake.connector.connect(**server.connect_params(), **direct_timeouts(10)) as con:
        cursor = con.cursor()
        cursor.execute("SHOW DATABASES")
        if any(row[1] == database for row in cursor.fetchall()):
            return False
        for sql in statements:
            cursor.execute(sql)
    return True


def seed(server: FakesnowServer) -> None:
    """Create and fill ANALYTICS (idempotent per process)."""
    if create_database(server, "ANALYTICS", SEED):
        local_statements("ANALYTICS", "SALES", COLUMN_COMMENTS)


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
        from snowflake.connector import config_manager, constants

        try:  # 4.x resolves the folder in Python
            from snowflake.connector import sf_dirs

            config_dir = sf_dirs._resolve_platform_dirs().user_config_path
            config_file, connections_file = config_dir / "config.toml", config_dir / "connections.toml"
        except ImportError:  # 5.x asks its core, which reads SNOWFLAKE_HOME again
            config_file, connections_file = config_manager._get_config_paths_from_core()
        manager = config_manager.CONFIG_MANAGER
        slices = [s._replace(path=connections_file) if s.section == "connections" else s for s in manager._slices]
        self._monkeypatch.setattr(manager, "file_path", config_file)
        self._monkeypatch.setattr(manager, "_slices", slices)
        self._monkeypatch.setattr(manager, "conf_file_cache", None)
        for module in (constants, config_manager):
            if hasattr(module, "CONNECTIONS_FILE"):
                self._monkeypatch.setattr(module, "CONNECTIONS_FILE", connections_file)
            if hasattr(module, "CONFIG_FILE"):
                self._monkeypatch.setattr(module, "CONFIG_FILE", config_file)


def direct_timeouts(seconds: int) -> dict[str, Any]:
    """Timeouts for a test's own connect() call, in the installed connector's names."""
    if connector_major() >= 5:
        return {"login_timeout": seconds, "query_timeout": seconds, "request_timeout": seconds,
                "enable_server_session_keep_alive_auto_detection": False}
    return {"login_timeout": seconds, "network_timeout": seconds}


def connector_major() -> int:
    """The installed connector's major version (without importing it)."""
    from importlib.metadata import version

    return int(version("snowflake-connector-python").split(".")[0])


def fake_connection_params(server: FakesnowServer, **extra: Any) -> dict[str, Any]:
    """A connections.toml entry for `server` with timeouts short enough that nothing hangs.

    5.x retries a failed request 6 times with a jittered backoff (4 to 20 s against a stopped
    server, whatever the timeouts): two attempts keep the outage tests short.
    """
    retries = {"retry_max_attempts": 2} if connector_major() >= 5 else {}
    return {**server.connect_params(), "network_timeout": 2, "login_timeout": 2, **retries,
            "session_parameters": {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}, **extra}


@pytest.fixture
def snowflake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakesnow_server: FakesnowServer) -> SnowflakeHome:
    home = tmp_path / "snowflake_home"
    home.mkdir()
    for key in list(os.environ):
        if key.startswith("SNOWFLAKE_") and key not in QUIET_CONNECTOR_ENV:
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


TAG = QueryTag(server="query", tool="run_query")
SLOW_SQL = "SELECT SUM(SEQ8()) AS S FROM TABLE(GENERATOR(ROWCOUNT => 30000000))"  # ~2-3 s in fakesnow
TWELVE_QUERIES = [  # different statements over the seeded demo tables, to count requests per uncached query
    "SELECT COUNT(*) AS N FROM ANALYTICS.SALES.ORDERS",
    "SELECT COUNT(*) AS N FROM ANALYTICS.SALES.CUSTOMERS",
    "SELECT STATUS, COUNT(*) AS N FROM ANALYTICS.SALES.ORDERS GROUP BY STATUS ORDER BY STATUS",
    "SELECT CHANNEL, SUM(AMOUNT) AS TOTAL FROM ANALYTICS.SALES.ORDERS GROUP BY CHANNEL ORDER BY CHANNEL",
    "SELECT * FROM ANALYTICS.SALES.ORDERS ORDER BY ORDER_ID LIMIT 50",
    "SELECT COUNTRY, COUNT(*) AS N FROM ANALYTICS.SALES.CUSTOMERS GROUP BY COUNTRY ORDER BY COUNTRY",
    "SELECT MAX(ORDER_DATE) AS LAST_DAY FROM ANALYTICS.SALES.ORDERS",
    "SELECT PIPELINE, COUNT(*) AS RUNS FROM ANALYTICS.OPS.ETL_RUNS GROUP BY PIPELINE ORDER BY PIPELINE",
    "SELECT * FROM ANALYTICS.OPS.ETL_RUNS WHERE STATUS = 'failed' ORDER BY RUN_ID",
    "SELECT * FROM ANALYTICS.SALES.ORDER_TOTALS ORDER BY CUSTOMER_ID LIMIT 20",
    "SELECT * FROM ANALYTICS.OPS.TYPED_VALUES ORDER BY ID",
    "SELECT AVG(ROWS_LOADED) AS AVG_ROWS FROM ANALYTICS.OPS.ETL_RUNS",
]


def request_counts(server: FakesnowServer) -> Counter[str]:
    """Every HTTP request that reached `server` so far, by method and path (query ids as <id>)."""
    return Counter(_Service.get().call("GET", f"/listeners/{server.port}/counts")["counts"])


@pytest.fixture
async def warehouse(snowflake_settings: Settings) -> AsyncIterator[Any]:
    """A Snowflake warehouse on the fake service, closed afterwards."""
    from snowmcp.common.warehouse.selection import open_warehouse
    from snowmcp.common.warehouse.snowflake import SnowflakeWarehouse

    opened = await open_warehouse(snowflake_settings)
    assert isinstance(opened, SnowflakeWarehouse)
    yield opened
    await opened.close()
