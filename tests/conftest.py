"""Fixtures shared by the whole suite: one demo warehouse per session, settings, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from common.settings import Settings


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run under anyio (the MCP SDK's own async library): its plugin runs an
    async fixture's setup, the test and the teardown in one task, which the SDK's cancel
    scopes require. Each async test module sets `pytestmark = pytest.mark.anyio`."""
    return "asyncio"


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse, built once for the whole run."""
    from common.demo_warehouse import build_demo_warehouse, demo_path

    return build_demo_warehouse(demo_path(tmp_path_factory.mktemp("state")))


@pytest.fixture
def settings(demo_db: Path, tmp_path: Path) -> Settings:
    return Settings(warehouse=f"duckdb://{demo_db}", state_dir=tmp_path / "state")


@pytest.fixture
async def query_client(settings: Settings) -> AsyncIterator[Client]:
    from servers.query.server import build_server

    async with Client(build_server(settings)) as client:
        yield client
