"""The query server's resources, prompt and tool annotations."""

from __future__ import annotations

import json

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError

pytestmark = pytest.mark.anyio


async def test_every_tool_is_annotated_read_only(query_client: Client) -> None:
    tools = (await query_client.list_tools()).tools
    assert {t.name for t in tools} == {
        "list_databases", "list_schemas", "list_tables", "describe_table",
        "sample_rows", "run_query", "explain_query", "validate_sql", "get_query_result", "cancel_query",
    }
    for tool in tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True, tool.name
        assert tool.annotations.destructive_hint is False and tool.output_schema is not None
        assert tool.description and len(tool.description) > 20, tool.name


async def test_table_resource_template_describes_a_table(query_client: Client) -> None:
    templates = (await query_client.list_resource_templates()).resource_templates
    assert [t.uri_template for t in templates] == ["snowmcp://tables/{database}/{schema}/{table}"]
    result = await query_client.read_resource("snowmcp://tables/ANALYTICS/SALES/ORDERS")
    body = json.loads(result.contents[0].text)  # type: ignore[union-attr]
    assert body["name"] == "ORDERS" and body["schema"] == "SALES"
    assert "ORDER_ID" in [c["name"] for c in body["columns"]]


async def test_missing_table_resource_is_a_not_found_error(query_client: Client) -> None:
    with pytest.raises(MCPError, match="does not exist"):
        await query_client.read_resource("snowmcp://tables/ANALYTICS/SALES/NOPE")


async def test_catalog_resource_lists_the_tables(query_client: Client) -> None:
    resources = (await query_client.list_resources()).resources
    assert [str(r.uri) for r in resources] == ["snowmcp://catalog"]
    body = json.loads((await query_client.read_resource("snowmcp://catalog")).contents[0].text)  # type: ignore[union-attr]
    assert body["database"] == "ANALYTICS"
    assert {"ORDERS", "ETL_RUNS"} <= {t["name"] for t in body["tables"]}


async def test_explore_table_prompt(query_client: Client) -> None:
    prompts = (await query_client.list_prompts()).prompts
    assert [p.name for p in prompts] == ["explore_table"]
    result = await query_client.get_prompt("explore_table", {"table": "ANALYTICS.SALES.ORDERS"})
    text = result.messages[0].content.text  # type: ignore[union-attr]
    assert "describe_table" in text and "ANALYTICS.SALES.ORDERS" in text
