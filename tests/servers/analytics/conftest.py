"""An analytics client on a lab warehouse with known tables, on DuckDB and on Snowflake (fakesnow)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from common.settings import Settings
from tests.servers.analytics import lab_data
from tests.snowflake_fixtures import FakesnowServer


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
    import snowflake.connector

    with snowflake.connector.connect(**server.connect_params(), network_timeout=10, login_timeout=10) as con:
        cursor = con.cursor()
        cursor.execute("SHOW DATABASES")
        if any(row[1] == "LAB" for row in cursor.fetchall()):
            return
        cursor.execute("CREATE DATABASE LAB")
        cursor.execute("CREATE SCHEMA LAB.LAB")
        for sql in lab_data.statements("snowflake"):
            cursor.execute(sql)


@pytest.fixture(params=["duckdb", "snowflake"])
def lab_settings(request: pytest.FixtureRequest, lab_duckdb: Path, tmp_path: Path) -> Settings:
    if request.param == "duckdb":
        return Settings(warehouse=f"duckdb://{lab_duckdb}", state_dir=tmp_path / "state")
    seed_lab(request.getfixturevalue("fakesnow_server"))
    settings: Settings = request.getfixturevalue("snowflake_settings")
    return settings.model_copy(update={"snowflake_database": "LAB"})


@pytest.fixture
async def lab(lab_settings: Settings) -> AsyncIterator[Client]:
    from servers.analytics.server import build_server

    async with Client(build_server(lab_settings)) as client:
        yield client


@pytest.fixture
def dialect(lab_settings: Settings) -> str:
    return "snowflake" if lab_settings.warehouse.startswith("snowflake") else "duckdb"
