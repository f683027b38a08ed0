"""Security across the suite: identifiers stay identifiers, foreign web pages are refused, secrets stay out.

See SECURITY.md for the threat model these protect."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlglot
from mcp import Client
from sqlglot import exp

from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import open_warehouse
from tests.helpers import SpyWarehouse
from tests.lab_data import HOSTILE_COLUMN, HOSTILE_TABLE
from tests.processes import http_server

pytestmark = pytest.mark.anyio
TABLE = 'LAB.LAB."' + HOSTILE_TABLE.replace('"', '""') + '"'
CANARY = "canary-token-7f3a91"


def _servers(settings: Settings, warehouse: Any) -> dict[str, Any]:
    from snowmcp.servers.analytics.server import build_server as analytics
    from snowmcp.servers.etl.server import build_server as etl
    from snowmcp.servers.etl.settings import EtlSettings
    from snowmcp.servers.quality.server import build_server as quality
    from snowmcp.servers.query.server import build_server as query

    hostile_audit = EtlSettings(etl_audit_table=TABLE, etl_table_slas="", etl_now="2026-11-20T00:00:00Z")
    return {"query": query(settings, warehouse=warehouse), "analytics": analytics(settings, warehouse=warehouse),
            "quality": quality(settings, warehouse=warehouse),
            "etl": etl(settings, warehouse=warehouse, etl_settings=hostile_audit)}


CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("query", "describe_table", {"table": TABLE}),
    ("query", "sample_rows", {"table": TABLE, "columns": [HOSTILE_COLUMN]}),
    ("analytics", "profile_table", {"table": TABLE}),
    ("analytics", "aggregate", {"table": TABLE, "metrics": [{"fn": "sum", "column": HOSTILE_COLUMN, "as": HOSTILE_TABLE}],
                                "group_by": [HOSTILE_COLUMN],
                                "filters": [{"column": HOSTILE_COLUMN, "op": "in", "value": [HOSTILE_TABLE, 1]}]}),
    ("analytics", "value_counts", {"table": TABLE, "column": HOSTILE_COLUMN}),
    ("analytics", "histogram", {"table": TABLE, "column": HOSTILE_COLUMN}),
    ("quality", "run_checks", {"suite": json.dumps({"table": TABLE, "columns": {HOSTILE_COLUMN: [
        {"missing": {}}, {"duplicate": {}}, {"accepted_values": {"values": [HOSTILE_TABLE]}}, {"value_range": {"min": 0}},
        {"relationships": {"to": TABLE, "to_column": HOSTILE_COLUMN}}]}})}),
    ("quality", "suggest_checks", {"table": TABLE}),
    ("etl", "recent_runs", {}),
    ("etl", "freshness", {"tables": [TABLE]}),
]


async def test_hostile_names_reach_the_warehouse_only_as_quoted_identifiers(lab_duckdb: Path, tmp_path: Path) -> None:
    settings = Settings(warehouse=f"duckdb://{lab_duckdb}", state_dir=tmp_path / "state", cache_ttl_s=0)
    spy = SpyWarehouse(await open_warehouse(settings))
    servers = _servers(settings, spy)
    for server, tool, arguments in CALLS:
        async with Client(servers[server]) as client:
            await client.call_tool(tool, arguments)  # success or a clear error: either way, what was sent?
    assert len(spy.statements) >= 12
    for sql in spy.statements:
        statements = sqlglot.parse(sql, read="duckdb")
        assert len(statements) == 1, sql
        (statement,) = statements
        assert isinstance(statement, (exp.Select, exp.SetOperation, exp.Describe, exp.Show)), sql
        assert not list(statement.find_all(exp.Drop, exp.Delete, exp.Insert, exp.Update, exp.Command)), sql
        names = {node.name for node in statement.find_all(exp.Identifier)}
        values = {node.this for node in statement.find_all(exp.Literal)}
        for hostile in (HOSTILE_TABLE, HOSTILE_COLUMN):  # when sent at all, whole, as a name or a value
            if hostile.split(";")[1].strip() in sql:
                assert hostile in names | values, sql


async def test_a_page_from_another_origin_is_refused(demo_db: Path) -> None:
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    with http_server(f"duckdb://{demo_db}", "streamable-http") as url:
        async with httpx.AsyncClient(base_url=url) as http:
            foreign = await http.post("/mcp", json=initialize, headers={**headers, "Origin": "http://evil.example"})
            rebound = await http.post("/mcp", json=initialize, headers={**headers, "Host": "evil.example"})
            local = await http.post("/mcp", json=initialize, headers={**headers, "Origin": url})
    assert foreign.status_code == 403 and rebound.status_code in (400, 421)
    assert local.status_code == 200


async def test_secrets_never_reach_logs_errors_results_or_spans(demo_db: Path, tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from snowmcp.common import telemetry

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    telemetry.install(provider, MeterProvider())
    settings = Settings(warehouse=f"duckdb://{demo_db}", state_dir=tmp_path / "state", auth_token=CANARY)
    warehouse = await open_warehouse(settings)
    texts: list[str] = []
    try:
        with caplog.at_level(logging.DEBUG):
            servers = _servers(settings, warehouse)
            for server, tool, arguments in [*CALLS, ("query", "run_query", {"sql": "SELECT * FROM nowhere"}),
                                            ("query", "run_query", {"sql": "DROP TABLE x"}),
                                            ("etl", "diagnose_run", {"run_id": "nope"})]:
                async with Client(servers[server]) as client:
                    result = await client.call_tool(tool, arguments)
                texts += [getattr(block, "text", "") for block in result.content]
    finally:
        telemetry.install()
        await warehouse.close()
    attributes = [str(value) for span in spans.get_finished_spans() for value in (span.attributes or {}).values()]
    logged = [record.getMessage() for record in caplog.records]
    assert texts and attributes and logged
    for where, values in (("tool results", texts), ("spans", attributes), ("logs", logged)):
        assert not [v for v in values if CANARY in v], f"the token leaked into {where}"
    # Values callers put into SQL are not recorded in spans either (the SQL is hashed).
    assert not [v for v in attributes if HOSTILE_TABLE in v]
