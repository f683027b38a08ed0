"""run_query, explain_query and validate_sql: guarded, capped, cached, cancellable."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import open_warehouse
from snowmcp.servers.query.server import build_server
from tests.conftest import Backend
from tests.helpers import SpyWarehouse, call_error, call_ok

pytestmark = pytest.mark.anyio


@pytest.fixture
async def duckdb_client(settings: Settings) -> AsyncIterator[Client]:
    """For behaviour that only a DuckDB warehouse has (its SQL, its file access)."""
    async with Client(build_server(settings)) as client:
        yield client


async def test_run_query_returns_columns_rows_and_timing(query_client: Client) -> None:
    result = await call_ok(query_client, "run_query", {
        "sql": "SELECT STATUS, count(*) AS n FROM ANALYTICS.SALES.ORDERS GROUP BY STATUS ORDER BY n DESC"})
    assert [c["name"].upper() for c in result["columns"]] == ["STATUS", "N"]
    assert result["row_count"] == len(result["rows"]) >= 4
    assert result["truncated"] is False and result["cached"] is False
    assert result["elapsed_ms"] >= 0


async def test_run_query_caps_rows_and_says_it_truncated(query_client: Client) -> None:
    result = await call_ok(query_client, "run_query", {"sql": "SELECT * FROM ANALYTICS.SALES.ORDERS", "max_rows": 7})
    assert result["row_count"] == 7 and result["truncated"] is True and result["truncated_by"] == "max_rows"


async def test_run_query_exactly_at_the_cap_is_not_truncated(query_client: Client) -> None:
    result = await call_ok(query_client, "run_query", {"sql": "SELECT * FROM ANALYTICS.SALES.ORDERS LIMIT 7", "max_rows": 7})
    assert result["row_count"] == 7 and result["truncated"] is False


async def test_run_query_caps_bytes(backend: Backend) -> None:
    small = backend.settings.model_copy(update={"max_result_tokens": 500})
    async with Client(build_server(small)) as client:
        result = await call_ok(client, "run_query", {
            "sql": "SELECT repeat('x', 100) AS s, ORDER_ID FROM ANALYTICS.SALES.ORDERS", "max_rows": 1000})
    assert result["truncated"] is True and result["truncated_by"] == "max_bytes"
    assert 0 < result["row_count"] < 20


async def test_a_repeated_query_is_served_from_the_cache(query_client: Client) -> None:
    sql = "SELECT count(*) AS n FROM ANALYTICS.SALES.CUSTOMERS"
    first = await call_ok(query_client, "run_query", {"sql": sql})
    second = await call_ok(query_client, "run_query", {"sql": "select   COUNT(*) as n from analytics.sales.customers"})
    assert first["cached"] is False and second["rows"] == first["rows"]
    third = await call_ok(query_client, "run_query", {"sql": sql})
    assert third["cached"] is True


async def test_values_are_json_safe(duckdb_client: Client) -> None:
    result = await call_ok(duckdb_client, "run_query", {"sql": (
        "SELECT 12.34::DECIMAL(10,2) AS d, DATE '2026-01-02' AS day, TIMESTAMPTZ '2026-01-02 03:04:05+00' AS ts, "
        "'\\x01\\x02'::BLOB AS b, [1, 2] AS l, {'a': 1} AS s, 'nan'::DOUBLE AS f, INTERVAL 90 MINUTE AS i, "
        "123456789012345678.99::DECIMAL(38,2) AS big")})
    row = dict(zip([c["name"] for c in result["columns"]], result["rows"][0]))
    assert row["d"] == 12.34 and row["day"] == "2026-01-02"
    assert row["ts"].startswith("2026-01-02") and ("+00:00" in row["ts"] or row["ts"].endswith("Z"))
    assert row["l"] == [1, 2] and row["s"] == {"a": 1} and row["f"] == "NaN"
    assert row["i"] == "PT1H30M" and row["big"] == "123456789012345678.99"
    assert isinstance(row["b"], str)


async def test_snowflake_values_are_json_safe(backend: Backend) -> None:
    if backend.name != "snowflake":
        return  # the DuckDB twin is test_values_are_json_safe
    async with Client(build_server(backend.settings)) as client:
        result = await call_ok(client, "run_query", {"sql": "SELECT * FROM ANALYTICS.OPS.TYPED_VALUES ORDER BY ID"})
    row = dict(zip([c["name"] for c in result["columns"]], result["rows"][0]))
    assert row["BIG"] == "9007199254740993" and row["PRICE"] == 1234.56 and row["DAY"] == "2024-02-29"
    assert row["DOC"] == {"a": [1, 2.5, None], "b": {"c": "d"}} and row["TAGS"] == ["x", 2, True]
    assert row["AT_NTZ"].startswith("2024-02-29T13:45:30") and isinstance(row["PAYLOAD"], str)


async def test_sql_errors_are_tool_errors_the_model_can_fix(query_client: Client, backend: Backend) -> None:
    text = await call_error(query_client, "run_query", {"sql": "SELECT NOPE FROM ANALYTICS.SALES.ORDERS"})
    assert {"duckdb": "DuckDB", "snowflake": "Snowflake"}[backend.name] in text
    assert "NOPE" in text.upper() and "Hint:" in text
    text = await call_error(query_client, "run_query", {"sql": "SELEC 1"})
    assert "refused" in text or "Invalid" in text


async def test_a_slow_statement_is_cancelled_at_its_timeout(query_client: Client, backend: Backend) -> None:
    text = await call_error(query_client, "run_query", {"sql": backend.slow_sql, "timeout_s": 0.5})
    assert "cancelled after 0.5 s" in text
    # the server is still responsive afterwards
    assert (await call_ok(query_client, "run_query", {"sql": "SELECT 1 AS one"}))["rows"] == [[1]]


async def test_limits_are_validated(query_client: Client) -> None:
    assert "max_rows" in await call_error(query_client, "run_query", {"sql": "SELECT 1", "max_rows": 10_000_000})
    assert "max_rows" in await call_error(query_client, "run_query", {"sql": "SELECT 1", "max_rows": 0})
    assert "timeout_s" in await call_error(query_client, "run_query", {"sql": "SELECT 1", "timeout_s": 10_000})
    assert "sql" in await call_error(query_client, "run_query", {"sql": 42})


HOSTILE = [
    "DELETE FROM ANALYTICS.SALES.ORDERS",
    "SELECT 1; DROP TABLE ANALYTICS.SALES.ORDERS",
    "COPY ANALYTICS.SALES.ORDERS TO 'leak.csv'",
    "COPY (SELECT * FROM ANALYTICS.SALES.ORDERS) TO 'leak.parquet' (FORMAT parquet)",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM '/etc/passwd'",
    "ATTACH 'other.duckdb' AS o",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "CREATE TABLE leak AS SELECT * FROM ANALYTICS.SALES.ORDERS",
    "WITH d AS (DELETE FROM ANALYTICS.SALES.ORDERS RETURNING *) SELECT * FROM d",
]


@pytest.mark.parametrize("sql", HOSTILE)
async def test_refused_statements_never_reach_the_warehouse_and_nothing_changes_on_disk(
    sql: str, backend: Backend, demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = (demo_db.stat().st_mtime_ns, demo_db.stat().st_size)
    spy = SpyWarehouse(await open_warehouse(backend.settings))
    async with Client(build_server(backend.settings, warehouse=spy)) as client:  # type: ignore[arg-type]
        text = await call_error(client, "run_query", {"sql": sql})
        count = await call_ok(client, "run_query", {"sql": "SELECT count(*) FROM ANALYTICS.SALES.ORDERS"})
    assert "refused" in text
    assert len(spy.statements) == 1  # only the count
    assert count["rows"][0][0] >= backend.orders_at_least
    assert os.listdir(cwd) == []
    assert (demo_db.stat().st_mtime_ns, demo_db.stat().st_size) == before


async def test_external_access_is_off_even_for_allowed_functions(settings: Settings, tmp_path: Path) -> None:
    lenient = settings.model_copy(update={"allow_functions": frozenset({"READ_TEXT"})})
    async with Client(build_server(lenient)) as client:
        text = await call_error(client, "run_query", {"sql": "SELECT * FROM read_text('/etc/passwd')"})
    assert "disabled" in text or "Permission" in text


async def test_explain_query_shows_the_plan(duckdb_client: Client) -> None:
    result = await call_ok(duckdb_client, "explain_query", {"sql": "SELECT STATUS, count(*) FROM ANALYTICS.SALES.ORDERS GROUP BY 1"})
    assert "ORDERS" in result["plan"] and result["sql"].upper().startswith("SELECT")
    assert "refused" in await call_error(duckdb_client, "explain_query", {"sql": "DROP TABLE ANALYTICS.SALES.ORDERS"})


async def test_explain_query_asks_snowflake_for_a_text_plan(backend: Backend) -> None:
    if backend.name != "snowflake":
        return  # DuckDB: test_explain_query_shows_the_plan
    spy = SpyWarehouse(await open_warehouse(backend.settings))
    async with Client(build_server(backend.settings, warehouse=spy)) as client:  # type: ignore[arg-type]
        result = await client.call_tool("explain_query", {"sql": "SELECT STATUS FROM ANALYTICS.SALES.ORDERS"})
    assert spy.statements[0].startswith("EXPLAIN USING TEXT SELECT STATUS FROM ANALYTICS.SALES.ORDERS")
    # fakesnow cannot run EXPLAIN (HTTP 500): what matters here is a clean tool error, not a crash
    assert result.is_error is False or "Snowflake" in result.content[0].text  # type: ignore[union-attr]


async def test_validate_sql_gives_the_verdict_without_running(query_client: Client, backend: Backend) -> None:
    ok = await call_ok(query_client, "validate_sql", {"sql": "WITH x AS (SELECT * FROM ANALYTICS.SALES.ORDERS) SELECT count(*) FROM x"})
    assert ok["allowed"] is True and ok["statement_type"] == "SELECT"
    assert ok["tables"] == ["ANALYTICS.SALES.ORDERS"] and ok["dialect"] == backend.dialect
    refused = await call_ok(query_client, "validate_sql", {"sql": "DELETE FROM ANALYTICS.SALES.ORDERS"})
    assert refused["allowed"] is False and "DELETE" in refused["reason"] and refused["transpiled"] is None


FOREIGN = {  # SQL in the other dialect, and a function name that must not survive transpiling
    "duckdb": ("snowflake", "SELECT IFF(AMOUNT > 100, 'big', 'small') AS size FROM ANALYTICS.SALES.ORDERS", "IFF"),
    "snowflake": ("duckdb", "SELECT list_value(1, 2) AS l, AMOUNT FROM ANALYTICS.SALES.ORDERS", "LIST_VALUE"),
}


async def test_validate_sql_transpiles_from_another_dialect(query_client: Client, backend: Backend) -> None:
    dialect, sql, foreign = FOREIGN[backend.name]
    result = await call_ok(query_client, "validate_sql", {"sql": sql, "dialect": dialect})
    assert result["allowed"] is True and foreign not in result["transpiled"].upper()
    assert "unknown SQL dialect" in await call_error(query_client, "validate_sql", {"sql": "SELECT 1", "dialect": "klingon"})
