"""etl clients on the demo warehouse's audit table, on the committed dbt artifacts, and on both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.etl.demo_slas import DEMO_SLAS
from snowmcp.servers.etl.server import build_server
from snowmcp.servers.etl.settings import EtlSettings

ROOT = Path(__file__).resolve().parents[3]
DBT_ARTIFACTS = ROOT / "tests" / "fixtures" / "dbt_project" / "artifacts"
DEMO_NOW = "2026-11-20T09:10:00Z"  # five minutes after the demo's last run started
DBT_NOW = "2026-12-01T22:00:00Z"  # after the committed dbt invocation


def etl_settings(**overrides: Any) -> EtlSettings:
    values: dict[str, Any] = dict(etl_now=DEMO_NOW, etl_sla_file=None, etl_sources=("audit",),
                                  dbt_target_dir=None, etl_audit_mapping=None)
    values.update(overrides)
    return EtlSettings(**values)


@pytest.fixture(scope="session")
def demo_sla_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SLAs the demo warehouse gets by default, as a file (what SNOWMCP_ETL_SLA_FILE would name)."""
    path = tmp_path_factory.mktemp("slas") / "demo_slas.toml"
    path.write_text(DEMO_SLAS)
    return path


@pytest.fixture
def make_client(settings: Settings, demo_sla_file: Path) -> Callable[..., Any]:
    """`async with make_client(**etl overrides) as client` - an etl server on the demo warehouse,
    with the demo SLAs, the audit source only and "now" fixed at DEMO_NOW unless overridden."""

    def make(warehouse_settings: Settings | None = None, **overrides: Any) -> Client:
        overrides.setdefault("etl_sla_file", demo_sla_file)
        return Client(build_server(warehouse_settings or settings, etl_settings=etl_settings(**overrides)))

    return make


@pytest.fixture
async def etl(make_client: Callable[..., Client]) -> AsyncIterator[Client]:
    async with make_client() as client:
        yield client


@pytest.fixture
async def dbt(make_client: Callable[..., Client]) -> AsyncIterator[Client]:
    async with make_client(etl_sources=("dbt",), dbt_target_dir=DBT_ARTIFACTS, etl_now=DBT_NOW,
                           etl_sla_file=None) as client:
        yield client
