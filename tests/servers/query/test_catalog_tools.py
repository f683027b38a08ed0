"""The catalog tools: databases, schemas, tables, descriptions, samples."""

from __future__ import annotations

import pytest

from mcp import Client

from tests.conftest import Backend
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio


async def test_list_databases_shows_the_demo_database(query_client: Client) -> None:
    result = await call_ok(query_client, "list_databases")
    assert "ANALYTICS" in [d["name"] for d in result["databases"]]


async def test_list_schemas_of_the_demo_database(query_client: Client) -> None:
    result = await call_ok(query_client, "list_schemas", {"database": "ANALYTICS"})
    assert {"SALES", "OPS"} <= {s["name"] for s in result["schemas"]}


async def test_list_schemas_of_a_missing_database_is_a_clear_error(query_client: Client) -> None:
    text = await call_error(query_client, "list_schemas", {"database": "NOPE"})
    assert "NOPE does not exist" in text and "Hint:" in text


async def test_list_tables_reports_kind_rows_and_comment(query_client: Client, backend: Backend) -> None:
    result = await call_ok(query_client, "list_tables", {"database": "ANALYTICS", "schema": "SALES"})
    tables = {t["name"]: t for t in result["tables"]}
    assert tables["ORDERS"]["kind"] == "table"
    assert tables["ORDERS"]["row_count"] >= backend.orders_at_least
    assert tables["ORDERS"]["comment"]
    assert tables[backend.view]["kind"] == "view"
    assert result["schema"] == "SALES"


async def test_list_tables_filters_by_name(query_client: Client) -> None:
    result = await call_ok(query_client, "list_tables", {"database": "ANALYTICS", "schema": "SALES", "name_like": "order"})
    names = [t["name"] for t in result["tables"]]
    assert "ORDERS" in names and all("ORDER" in name for name in names)
    result = await call_ok(query_client, "list_tables", {"database": "ANALYTICS", "schema": "SALES", "name_like": "cust%"})
    assert [t["name"] for t in result["tables"]] == ["CUSTOMERS"]


async def test_list_tables_of_a_missing_schema_is_a_clear_error(query_client: Client) -> None:
    text = await call_error(query_client, "list_tables", {"database": "ANALYTICS", "schema": "MISSING"})
    assert "ANALYTICS.MISSING does not exist" in text


ID_TYPE = {"duckdb": "BIGINT", "snowflake": "NUMBER(38,0)"}
AMOUNT_TYPE = {"duckdb": "DECIMAL(12,2)", "snowflake": "NUMBER(12,2)"}


async def test_describe_table_lists_columns_with_types_and_comments(query_client: Client, backend: Backend) -> None:
    result = await call_ok(query_client, "describe_table", {"table": "ANALYTICS.SALES.ORDERS"})
    columns = {c["name"]: c for c in result["columns"]}
    assert columns["ORDER_ID"]["type"] == ID_TYPE[backend.name]
    assert columns["AMOUNT"]["type"] == AMOUNT_TYPE[backend.name]
    assert columns["AMOUNT"]["comment"] and result["comment"]
    assert (result["database"], result["schema"], result["name"]) == ("ANALYTICS", "SALES", "ORDERS")


async def test_describe_table_accepts_short_and_quoted_names(query_client: Client) -> None:
    for name in ("SALES.ORDERS", "orders", '"ANALYTICS"."SALES"."ORDERS"', " analytics . sales . orders "):
        result = await call_ok(query_client, "describe_table", {"table": name})
        assert result["name"] == "ORDERS", name


async def test_describe_table_refuses_malformed_names(query_client: Client) -> None:
    for name in ('x"; DROP TABLE y; --', "a.b.c.d", "", "orders; drop table x", "f(1)"):
        text = await call_error(query_client, "describe_table", {"table": name})
        assert "table name" in text, (name, text)


async def test_describe_missing_table_says_so(query_client: Client) -> None:
    text = await call_error(query_client, "describe_table", {"table": "ANALYTICS.SALES.NOPE"})
    assert "does not exist" in text


async def test_sample_rows_returns_the_requested_columns(query_client: Client) -> None:
    result = await call_ok(query_client, "sample_rows", {"table": "SALES.ORDERS", "limit": 5, "columns": ["order_id", "AMOUNT"]})
    assert result["table"] == "ANALYTICS.SALES.ORDERS"
    assert [c["name"] for c in result["columns"]] == ["ORDER_ID", "AMOUNT"]
    assert result["row_count"] == 5 and len(result["rows"]) == 5


async def test_sample_rows_names_unknown_columns(query_client: Client) -> None:
    text = await call_error(query_client, "sample_rows", {"table": "SALES.ORDERS", "columns": ["NOPE"]})
    assert "'NOPE' is not a column of ANALYTICS.SALES.ORDERS" in text and "ORDER_ID" in text


async def test_sample_rows_validates_the_limit(query_client: Client) -> None:
    for limit in (0, -1, 100_000):
        text = await call_error(query_client, "sample_rows", {"table": "SALES.ORDERS", "limit": limit})
        assert "limit" in text
