from __future__ import annotations

from pathlib import Path

import pytest

from snowmcp.common.settings import Settings
from tests.servers.semantic import shop
from tests.snowflake_fixtures import create_database


@pytest.fixture(scope="session")
def shop_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("shop") / "SHOP_LAB.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA SHOP")
        for sql in shop.statements("duckdb"):
            con.execute(sql)
    return path


@pytest.fixture(scope="session")
def shop_reference(shop_duckdb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the shop for the tests' own hand-written SQL (a server in this process holds the original
    open with its locked settings, and DuckDB opens one file only one way per process)."""
    import shutil

    return Path(shutil.copy(shop_duckdb, tmp_path_factory.mktemp("reference") / shop_duckdb.name))


@pytest.fixture(scope="session")
def shop_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shop.write_models(tmp_path_factory.mktemp("models"))


@pytest.fixture(params=["duckdb", "snowflake"])
def shop_settings(request: pytest.FixtureRequest, shop_duckdb: Path, shop_models: Path, tmp_path: Path) -> Settings:
    if request.param == "duckdb":
        return Settings(warehouse=f"duckdb://{shop_duckdb}", state_dir=tmp_path / "state", semantic_models=shop_models)
    create_database(request.getfixturevalue("fakesnow_server"), "SHOP_LAB",
                    ["CREATE DATABASE SHOP_LAB", "CREATE SCHEMA SHOP_LAB.SHOP", *shop.statements("snowflake")])
    settings: Settings = request.getfixturevalue("snowflake_settings")
    return settings.model_copy(update={"snowflake_database": "SHOP_LAB", "semantic_models": shop_models})
