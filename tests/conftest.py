"""Fixtures shared by the whole suite: one demo warehouse per session, settings, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from snowmcp.common.settings import Settings
from tests import lab_data
from tests.snowflake_fixtures import FakesnowServer, create_database, fakesnow_server, snowflake_home, snowflake_settings  # noqa: F401


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run under anyio (the MCP SDK's own async library): its plugin runs an
    async fixture's setup, the test and the teardown in one task, which the SDK's cancel
    scopes require. Each async test module sets `pytestmark = pytest.mark.anyio`."""
    return "asyncio"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans of the tool calls made in the test, kept in memory."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from snowmcp.common import telemetry

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.install(provider)
    yield exporter
    telemetry.install()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse, built once for the whole run."""
    from snowmcp.common.demo_warehouse import build_demo_warehouse, demo_path

    return build_demo_warehouse(demo_path(tmp_path_factory.mktemp("state")))


@pytest.fixture
def settings(demo_db: Path, tmp_path: Path) -> Settings:
    """Settings for the demo warehouse (DuckDB)."""
    return Settings(warehouse=f"duckdb://{demo_db}", state_dir=tmp_path / "state")


@dataclass(frozen=True)
class Backend:
    """A warehouse the server suites run against, and what its data makes true."""

    name: str
    settings: Settings
    orders_at_least: int  # rows in ANALYTICS.SALES.ORDERS
    view: str  # a view in ANALYTICS.SALES
    slow_sql: str  # runs for seconds
    dialect: str


@pytest.fixture(params=["duckdb", "snowflake"])
def backend(request: pytest.FixtureRequest, settings: Settings) -> Backend:
    """Each server test that takes this runs on DuckDB (the demo) and on Snowflake (fakesnow
    reached over HTTP by the real connector, started only when a Snowflake case runs)."""
    if request.param == "duckdb":
        return Backend("duckdb", settings, 1_000_000, "DAILY_REVENUE",
                       "SELECT sum(hash(i)) FROM range(20000000000) t(i)", "duckdb")
    snowflake = request.getfixturevalue("snowflake_settings").model_copy(update={"cache_ttl_s": 300.0})
    return Backend("snowflake", snowflake, 300, "ORDER_TOTALS",
                   "SELECT SUM(SEQ8()) AS S FROM TABLE(GENERATOR(ROWCOUNT => 300000000))", "snowflake")


@pytest.fixture
async def query_client(backend: Backend) -> AsyncIterator[Client]:
    from snowmcp.servers.query.server import build_server

    async with Client(build_server(backend.settings)) as client:
        yield client


# -- the lab warehouse: small tables with known values (tests/lab_data.py) --------------------------


@pytest.fixture(scope="session")
def lab_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("lab") / "LAB.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA LAB")
        for sql in lab_data.statements("duckdb"):
            con.execute(sql)
    return path


def seed_lab(server: FakesnowServer) -> None:
    create_database(server, "LAB", ["CREATE DATABASE LAB", "CREATE SCHEMA LAB.LAB", *lab_data.statements("snowflake")])


@pytest.fixture(params=["duckdb", "snowflake"])
def lab_settings(request: pytest.FixtureRequest, lab_duckdb: Path, tmp_path: Path) -> Settings:
    if request.param == "duckdb":
        return Settings(warehouse=f"duckdb://{lab_duckdb}", state_dir=tmp_path / "state")
    seed_lab(request.getfixturevalue("fakesnow_server"))
    settings: Settings = request.getfixturevalue("snowflake_settings")
    return settings.model_copy(update={"snowflake_database": "LAB"})


@pytest.fixture
def dialect(lab_settings: Settings) -> str:
    """The SQL dialect of the lab warehouse under test."""
    return "snowflake" if lab_settings.warehouse.startswith("snowflake") else "duckdb"
