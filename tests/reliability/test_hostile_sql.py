"""Hostile SQL through a real server, on DuckDB and on Snowflake (fakesnow): nothing reaches the warehouse.

The guard's table-driven cases (tests/common/test_guard.py) are sent through the
query server as a model would send them. For each refused statement, validate_sql
and run_query agree (same verdict, one guard), run_query is an isError result, and
the warehouse never sees a statement; the server keeps answering afterwards. The
benign statements an analyst writes run.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import pytest
from mcp import Client

from snowmcp.common.warehouse.selection import open_warehouse
from snowmcp.servers.query.server import build_server
from tests.common.test_guard import REFUSED
from tests.conftest import Backend
from tests.helpers import SpyWarehouse, call_error, call_ok

pytestmark = pytest.mark.anyio


@pytest.fixture
async def spied(backend: Backend) -> AsyncIterator[tuple[Client, SpyWarehouse]]:
    warehouse = SpyWarehouse(await open_warehouse(backend.settings))
    try:
        async with Client(build_server(backend.settings, warehouse=warehouse)) as client:
            yield client, warehouse
    finally:
        await warehouse.inner.close()


async def test_every_refused_case_is_refused_by_both_tools_and_never_reaches_the_warehouse(
    spied: tuple[Client, SpyWarehouse], backend: Backend,
) -> None:
    client, warehouse = spied
    cases = [sql for sql, dialects, _ in REFUSED if backend.dialect in dialects]
    assert len(cases) > 60
    for sql in cases:
        verdict = await call_ok(client, "validate_sql", {"sql": sql})
        assert verdict["allowed"] is False, sql
        text = await call_error(client, "run_query", {"sql": sql})
        assert "refused" in text, (sql, text)
    assert warehouse.statements == []
    await call_ok(client, "list_databases")
    assert (await call_ok(client, "run_query", {"sql": "SELECT 1 AS one"}))["rows"] == [[1]]


@pytest.mark.parametrize("sql", [
    "SHOW DATABASES", "SHOW SCHEMAS", "SHOW ALL TABLES", "SHOW TABLES FROM ANALYTICS.SALES",
    "SELECT * FROM (SHOW ALL TABLES)", "DESCRIBE ANALYTICS.SALES.ORDERS", "SUMMARIZE ANALYTICS.SALES.CUSTOMERS",
    "PIVOT ANALYTICS.SALES.ORDERS ON STATUS USING count(*) GROUP BY CHANNEL ORDER BY CHANNEL",
    "SELECT 'abc' ~ 'b' AS partial", "SELECT * FROM ANALYTICS.SALES.ORDERS LIMIT 10 PERCENT",
])
async def test_the_statements_an_analyst_writes_run_on_duckdb(sql: str, settings: object) -> None:
    async with Client(build_server(settings)) as client:  # type: ignore[arg-type]
        result = await call_ok(client, "run_query", {"sql": sql, "max_rows": 5})
    assert result["row_count"] >= 1
    if "~" in sql:
        assert result["rows"] == [[True]]  # DuckDB's partial match, not sqlglot's full match


async def test_limit_percent_is_honoured_not_replaced_by_the_row_cap(settings: object) -> None:
    async with Client(build_server(settings)) as client:  # type: ignore[arg-type]
        half = await call_ok(client, "run_query", {"sql": "SELECT * FROM range(100) LIMIT 50 PERCENT", "max_rows": 70})
        capped = await call_ok(client, "run_query", {"sql": "SELECT * FROM range(100) LIMIT 50 PERCENT", "max_rows": 20})
    assert half["row_count"] == 50 and half["truncated"] is False
    assert capped["row_count"] == 20 and capped["truncated"] is True and capped["truncated_by"] == "max_rows"


async def test_a_probe_answers_while_six_long_statements_are_validated(settings: object) -> None:
    long_sql = "SELECT " + ", ".join(f"a{i} + {i} AS c{i}" for i in range(1_800)) + " FROM t"  # just under the cap
    huge_sql = "SELECT " + " + ".join(["1"] * 45_000)  # 90 kB: over the cap
    assert len(long_sql) < 40_000 < len(huge_sql)
    async with Client(build_server(settings)) as client:  # type: ignore[arg-type]
        await call_ok(client, "list_databases")
        probe_s: list[float] = []

        async def probe() -> None:
            await anyio.sleep(0.05)
            started = time.perf_counter()
            await call_ok(client, "list_databases")
            probe_s.append(time.perf_counter() - started)

        async with anyio.create_task_group() as tasks:
            for i in range(6):
                sql = (long_sql if i % 2 else huge_sql) + f" -- {i}"  # distinct texts: no cache
                tasks.start_soon(client.call_tool, "validate_sql", {"sql": sql})
            tasks.start_soon(probe)
    assert probe_s and probe_s[0] < 3.0, probe_s


HOSTILE_FRAGMENTS = [
    {"custom_metric": {"sql": "SELECT count(*) FROM enable_logging(storage := 'file', storage_path := '/tmp/x')"}},
    {"custom_metric": {"sql": "SELECT count(*) FROM ANALYTICS.SALES.ORDERS ->> SELECT 1"}},
    {"failed_rows": {"sql": "SELECT * FROM read_text('/etc/passwd')"}},
    {"failed_rows": {"sql": "SELECT * FROM \"query\"('SELECT 1')"}},
    {"expression": {"sql": "current_setting('memory_limit') = '1GB'"}},
    {"expression": {"sql": "1 = 1) OR (SELECT count(*) FROM duckdb_logs()) > 0 OR (1 = 1"}},
]


@pytest.mark.parametrize("check", HOSTILE_FRAGMENTS, ids=lambda c: next(iter(c)))
async def test_quality_fragments_pass_the_same_guard(check: dict, settings: object) -> None:
    from snowmcp.servers.quality.server import build_server as build_quality

    async with Client(build_quality(settings)) as client:  # type: ignore[arg-type]
        result = await client.call_tool("run_checks", {"table": "ANALYTICS.SALES.ORDERS", "checks": [check]})
        text = str(result.structured_content or "") + " ".join(getattr(b, "text", "") for b in result.content)
        assert "refused" in text, text
        assert (await call_ok(client, "list_check_types"))["types"]
