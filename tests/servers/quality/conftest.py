"""A quality client on the lab warehouse (tests/conftest.py), on DuckDB and on Snowflake (fakesnow)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mcp import Client

from snowmcp.common.settings import Settings


@pytest.fixture
async def quality(lab_settings: Settings) -> AsyncIterator[Client]:
    from snowmcp.servers.quality.server import build_server

    async with Client(build_server(lab_settings)) as client:
        yield client
