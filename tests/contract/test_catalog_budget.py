"""The tool catalog every host pays for in tokens: its size, its order, and `SNOWMCP_TOOLS`.

Sizes are measured on the live servers (what `tools/list` sends), never on the snapshot.
"""

from __future__ import annotations

import importlib

import pytest
from mcp import Client
from mcp.types import Tool

from snowmcp.cli import main as cli_main
from snowmcp.common.catalog import CATALOG_TARGET_BYTES, catalog_bytes
from snowmcp.common.errors import ConfigError
from snowmcp.common.settings import Settings

pytestmark = pytest.mark.anyio

SERVERS = ("query", "analytics", "etl", "quality")
QUERY_ORDER = ["list_databases", "list_schemas", "list_tables", "describe_table", "sample_rows", "run_query",
               "explain_query", "validate_sql", "get_query_result", "cancel_query"]


async def _tools(server_name: str, settings: Settings) -> list[Tool]:
    server = importlib.import_module(f"snowmcp.servers.{server_name}.server").build_server(settings)
    async with Client(server) as client:
        return (await client.list_tools()).tools


async def test_the_four_catalogs_fit_the_budget(settings: Settings) -> None:
    sizes = {name: catalog_bytes(await _tools(name, settings)) for name in SERVERS}
    assert all(sizes.values())
    assert sum(sizes.values()) <= CATALOG_TARGET_BYTES, sizes


SEMANTIC_TARGET_BYTES = 4_096


async def test_the_semantic_catalog_fits_its_own_budget(settings: Settings) -> None:
    """The fifth server is counted apart: the four's 16 KB stays what a host pays without it."""
    assert catalog_bytes(await _tools("semantic", settings)) <= SEMANTIC_TARGET_BYTES


async def test_descriptions_are_single_lines_without_indentation(settings: Settings) -> None:
    for name in (*SERVERS, "semantic"):
        for tool in await _tools(name, settings):
            assert tool.description and "\n" not in tool.description and "  " not in tool.description, tool.name


async def test_the_order_is_the_declared_one_every_time(settings: Settings) -> None:
    assert [t.name for t in await _tools("query", settings)] == QUERY_ORDER
    for name in SERVERS:
        assert [t.name for t in await _tools(name, settings)] == [t.name for t in await _tools(name, settings)]


async def test_snowmcp_tools_registers_only_the_named_tools_in_server_order(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWMCP_TOOLS", " run_query, list_tables ")
    chosen = Settings(warehouse=settings.warehouse, state_dir=settings.state_dir)
    assert chosen.tools == ("run_query", "list_tables")
    assert [t.name for t in await _tools("query", chosen)] == ["list_tables", "run_query"]
    server = importlib.import_module("snowmcp.servers.query.server").build_server(chosen)
    async with Client(server) as client:
        assert (await client.call_tool("run_query", {"sql": "SELECT 1 AS one"})).is_error is False
        refused = await client.call_tool("describe_table", {"table": "ANALYTICS.SALES.ORDERS"})
        assert refused.is_error is True


async def test_an_unknown_tool_name_stops_the_server_naming_its_tools(settings: Settings) -> None:
    wrong = settings.model_copy(update={"tools": ("run_query", "profile_table")})
    with pytest.raises(ConfigError) as raised:
        importlib.import_module("snowmcp.servers.query.server").build_server(wrong)
    message = str(raised.value)
    assert "profile_table" in message and "query server" in message
    assert all(name in message for name in QUERY_ORDER)
    analytics = importlib.import_module("snowmcp.servers.analytics.server")
    with pytest.raises(ConfigError, match="analytics server does not have"):
        analytics.build_server(settings.model_copy(update={"tools": ("run_query",)}))


def test_the_cli_reports_an_unknown_tool_at_start_up(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SNOWMCP_TOOLS", "run_querry")
    monkeypatch.setenv("SNOWMCP_STATE_DIR", str(settings.state_dir))
    assert cli_main(["serve", "query", "--warehouse", settings.warehouse]) == 2
    err = capsys.readouterr().err
    assert "SNOWMCP_TOOLS names run_querry" in err and "run_query" in err.split("Hint:")[1]
