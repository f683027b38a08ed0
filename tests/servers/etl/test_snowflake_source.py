"""The Snowflake source. fakesnow serves none of TASK_HISTORY, COMPLETE_TASK_GRAPHS, COPY_HISTORY,
LOAD_HISTORY, DYNAMIC_TABLE_REFRESH_HISTORY or SYSTEM$PIPE_STATUS, so the generated SQL is parsed
with sqlglot (Snowflake dialect) and rows in Snowflake's documented column layouts are mapped -
directly, and through the whole server on a stand-in warehouse that answers with those rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from mcp import Client
from sqlglot import exp

from snowmcp.common.errors import NotFound, QueryFailed
from snowmcp.common.results import ColumnInfo, RowCollector
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import FetchOutcome, QueryTag, TableRef
from snowmcp.servers.etl.server import build_server
from snowmcp.servers.etl.sources import snowflake_sql as sql
from snowmcp.servers.etl.sources.snowflake import dynamic_run, graph_run, load_run, pipe_pipeline, task_run
from tests.helpers import call_ok
from tests.servers.etl.conftest import etl_settings

pytestmark = pytest.mark.anyio
SINCE = dt.datetime(2026, 11, 19, 6, 0, tzinfo=dt.timezone.utc)

# Rows as Snowflake documents the columns (timestamps are TIMESTAMP_LTZ; the session zone is US/Pacific).
TASKS = [
    {"NAME": "LOAD_RAW_ORDERS", "DATABASE_NAME": "RAW", "SCHEMA_NAME": "PUBLIC", "STATE": "FAILED",
     "SCHEDULED_TIME": "2026-11-19T22:00:00-08:00", "QUERY_START_TIME": "2026-11-19T22:00:02.125-08:00",
     "COMPLETED_TIME": "2026-11-19T22:00:09.500-08:00", "ERROR_CODE": 2003,
     "ERROR_MESSAGE": "SQL compilation error: Object 'RAW.PUBLIC.ORDERS_STAGE' does not exist or not authorized.",
     "QUERY_ID": "01b8a1f2-0000-4d1e-0000-0001a2b3c4d5", "ROOT_TASK_ID": "r-1", "RUN_ID": 1732082400000},
    {"NAME": "LOAD_RAW_ORDERS", "DATABASE_NAME": "RAW", "SCHEMA_NAME": "PUBLIC", "STATE": "SUCCEEDED",
     "SCHEDULED_TIME": "2026-11-19T21:00:00-08:00", "QUERY_START_TIME": "2026-11-19T21:00:01-08:00",
     "COMPLETED_TIME": "2026-11-19T21:00:40-08:00", "ERROR_CODE": None, "ERROR_MESSAGE": None,
     "QUERY_ID": "01b8a1f2-0000-4d1e-0000-0001a2b3c4c0", "ROOT_TASK_ID": "r-1", "RUN_ID": 1732078800000},
    {"NAME": "BUILD_MART", "DATABASE_NAME": "RAW", "SCHEMA_NAME": "PUBLIC", "STATE": "SCHEDULED",
     "SCHEDULED_TIME": "2026-11-19T23:00:00-08:00", "QUERY_START_TIME": None, "COMPLETED_TIME": None,
     "ERROR_CODE": None, "ERROR_MESSAGE": None, "QUERY_ID": None, "ROOT_TASK_ID": "r-1", "RUN_ID": 1732086000000},
]
GRAPHS = [
    {"ROOT_TASK_NAME": "LOAD_RAW_ORDERS", "DATABASE_NAME": "RAW", "SCHEMA_NAME": "PUBLIC", "STATE": "FAILED",
     "SCHEDULED_TIME": "2026-11-19T22:00:00-08:00", "QUERY_START_TIME": "2026-11-19T22:00:02-08:00",
     "COMPLETED_TIME": "2026-11-19T22:00:10-08:00", "FIRST_ERROR_TASK_NAME": "LOAD_RAW_ORDERS",
     "FIRST_ERROR_CODE": 2003, "FIRST_ERROR_MESSAGE": "Object 'RAW.PUBLIC.ORDERS_STAGE' does not exist",
     "RUN_ID": 1732082400000},
]
DYNAMIC = [
    {"QUALIFIED_NAME": "ANALYTICS.MARTS.DAILY_SALES", "NAME": "DAILY_SALES", "STATE": "UPSTREAM_FAILED",
     "STATE_CODE": "UPSTREAM_FAILURE", "STATE_MESSAGE": "Skipped refreshing because an input DT failed.",
     "QUERY_ID": None, "DATA_TIMESTAMP": "2026-11-19T22:05:00-08:00", "REFRESH_START_TIME": None,
     "REFRESH_END_TIME": None, "STATISTICS": None},
    {"QUALIFIED_NAME": "ANALYTICS.MARTS.DAILY_SALES", "NAME": "DAILY_SALES", "STATE": "SUCCEEDED",
     "STATE_CODE": "SUCCESS", "STATE_MESSAGE": None, "QUERY_ID": "01b8a1f2-0000-4d1e-0000-00000000dt01",
     "DATA_TIMESTAMP": "2026-11-19T21:05:00-08:00", "REFRESH_START_TIME": "2026-11-19T21:05:03-08:00",
     "REFRESH_END_TIME": "2026-11-19T21:06:03-08:00",
     "STATISTICS": json.dumps({"numInsertedRows": 1200, "numDeletedRows": 1100})},
]
LOADS = [
    {"SCHEMA_NAME": "PUBLIC", "TABLE_NAME": "ORDERS_STAGE", "FILE_NAME": "orders/2026-11-19.csv.gz",
     "LAST_LOAD_TIME": "2026-11-19T20:30:00-08:00", "STATUS": "PARTIALLY_LOADED", "ROW_COUNT": 980,
     "FIRST_ERROR_MESSAGE": "Numeric value 'N/A' is not recognized", "ERROR_COUNT": 20,
     "TABLE_CATALOG_NAME": "RAW"},  # the last column is the statement's CURRENT_DATABASE()
    {"SCHEMA_NAME": "PUBLIC", "TABLE_NAME": "ORDERS_STAGE", "FILE_NAME": "orders/2026-11-18.csv.gz",
     "LAST_LOAD_TIME": "2026-11-18T20:30:00-08:00", "STATUS": "LOADED", "ROW_COUNT": 1000,
     "FIRST_ERROR_MESSAGE": None, "ERROR_COUNT": 0, "TABLE_CATALOG_NAME": "RAW"},
]
COPIES = [
    {"TABLE_CATALOG_NAME": "RAW", "TABLE_SCHEMA_NAME": "PUBLIC", "TABLE_NAME": "EVENTS", "FILE_NAME": "e/1.json",
     "LAST_LOAD_TIME": "2026-11-19T20:00:00-08:00", "STATUS": "Load failed", "ROW_COUNT": 0,
     "FIRST_ERROR_MESSAGE": "Error parsing JSON: incomplete object value", "ERROR_COUNT": 1,
     "PIPE_NAME": "EVENTS_PIPE", "PIPE_CATALOG_NAME": "RAW", "PIPE_SCHEMA_NAME": "PUBLIC",
     "PIPE_RECEIVED_TIME": "2026-11-19T19:59:58-08:00"},
]
PIPES = [
    {"PIPE_CATALOG": "RAW", "PIPE_SCHEMA": "PUBLIC", "PIPE_NAME": "EVENTS_PIPE",
     "DEFINITION": "COPY INTO events FROM @raw.public.events_stage FILE_FORMAT = (TYPE = 'JSON')",
     "PIPE_STATUS": json.dumps({"executionState": "STOPPED_STAGE_DROPPED", "pendingFileCount": 3,
                                "lastIngestedTimestamp": "2026-11-19T20:00:00.000Z",
                                "error": "Stage RAW.PUBLIC.EVENTS_STAGE was dropped"})},
]


def parse(query: exp.Expression) -> exp.Expression:
    text = query.sql(dialect="snowflake")
    parsed = sqlglot.parse_one(text, read="snowflake")
    assert parsed.sql(dialect="snowflake") == text  # stable round trip: what is sent is what was built
    return parsed


def kwargs(parsed: exp.Expression, function: str) -> dict[str, str]:
    call = next(a for a in parsed.find_all(exp.Anonymous) if a.name.upper() == function)
    return {k.this.name: k.expression.sql(dialect="snowflake") for k in call.expressions}


def test_task_history_sql() -> None:
    parsed = parse(sql.task_history(SINCE, 5000))
    assert isinstance(parsed, exp.Select) and parsed.find(exp.TableFromRows) is not None
    assert kwargs(parsed, "TASK_HISTORY") == {
        "SCHEDULED_TIME_RANGE_START": "CAST('2026-11-19T06:00:00Z' AS TIMESTAMPLTZ)", "RESULT_LIMIT": "5000"}
    assert [c.name for c in parsed.expressions] == list(sql.TASK_COLUMNS)


def test_graph_dynamic_load_and_copy_history_sql() -> None:
    graphs = parse(sql.complete_task_graphs(SINCE, 100))
    assert kwargs(graphs, "COMPLETE_TASK_GRAPHS") == {"RESULT_LIMIT": "100"}
    assert "SCHEDULED_TIME >= CAST('2026-11-19T06:00:00Z' AS TIMESTAMPLTZ)" in graphs.sql(dialect="snowflake")
    dynamic = parse(sql.dynamic_table_refresh_history(SINCE, 100))
    assert set(kwargs(dynamic, "DYNAMIC_TABLE_REFRESH_HISTORY")) == {"DATA_TIMESTAMP_START", "RESULT_LIMIT"}
    loads = parse(sql.load_history(SINCE, 100))
    assert [t.sql(dialect="snowflake") for t in loads.find_all(exp.Table)] == ["INFORMATION_SCHEMA.LOAD_HISTORY"]
    assert loads.expressions[-1].sql(dialect="snowflake") == "CURRENT_DATABASE() AS TABLE_CATALOG_NAME"
    copies = parse(sql.copy_history("RAW.PUBLIC.\"odd'name\"", SINCE))
    assert kwargs(copies, "COPY_HISTORY")["TABLE_NAME"] == "'RAW.PUBLIC.\"odd\\'name\"'"  # a literal, escaped


def test_pipe_status_sql_quotes_each_name_part() -> None:
    parsed = parse(sql.pipe_status())
    call = next(a for a in parsed.find_all(exp.Anonymous) if a.name.upper() == "SYSTEM$PIPE_STATUS")
    assert call.sql(dialect="snowflake") == (
        "SYSTEM$PIPE_STATUS(CONCAT('\"', PIPE_CATALOG, '\".\"', PIPE_SCHEMA, '\".\"', PIPE_NAME, '\"'))")


def test_task_rows_map_to_runs() -> None:
    failed, good, scheduled = (task_run(r) for r in TASKS)
    assert (failed.pipeline_id, failed.status, failed.raw_status) == ("RAW.PUBLIC.LOAD_RAW_ORDERS", "failed", "FAILED")
    assert (failed.started_at, failed.ended_at) == ("2026-11-20T06:00:02.125Z", "2026-11-20T06:00:09.500Z")
    assert failed.duration_s == 7.375 and failed.error_code == "2003" and failed.run_id == failed.query_id
    assert good.status == "success" and good.error_message is None
    assert scheduled.status == "queued" and scheduled.run_id == "RAW.PUBLIC.BUILD_MART@2026-11-20T07:00:00Z"
    graph = graph_run(GRAPHS[0])
    assert graph.pipeline_id == "graph:RAW.PUBLIC.LOAD_RAW_ORDERS" and graph.status == "failed"
    assert graph.error_message.startswith("task LOAD_RAW_ORDERS failed first:")


def test_dynamic_table_load_and_copy_rows_map_to_runs() -> None:
    upstream, good = (dynamic_run(r) for r in DYNAMIC)
    assert upstream.status == "upstream_failed" and upstream.error_code == "UPSTREAM_FAILURE"
    assert good.status == "success" and good.rows_loaded == 1200 and good.duration_s == 60
    partial, loaded = (load_run(r) for r in LOADS)
    assert (partial.pipeline_id, partial.status, partial.rows_loaded) == ("copy:RAW.PUBLIC.ORDERS_STAGE", "partial", 980)
    assert loaded.status == "success" and loaded.ended_at == "2026-11-19T04:30:00Z"
    failed = load_run(COPIES[0])
    assert (failed.pipeline_id, failed.status) == ("pipe:RAW.PUBLIC.EVENTS_PIPE", "failed")
    pipe, error = pipe_pipeline(PIPES[0])
    assert pipe.state == "STOPPED_STAGE_DROPPED" and error == "Stage RAW.PUBLIC.EVENTS_STAGE was dropped"
    assert "pending files: 3" in pipe.description and pipe.targets == ["RAW.PUBLIC.EVENTS"]


class StandInSnowflake:
    """A Snowflake stand-in: answers each history statement with the documented rows above."""

    dialect = "snowflake"
    identity = "snowflake://stand-in"

    def __init__(self, broken: Sequence[str] = ()) -> None:
        self.broken = set(broken)
        self.sent: list[str] = []

    async def execute(self, sql_text: str, collector: RowCollector, *, params: Any = None, timeout_s: float,
                      tag: QueryTag) -> FetchOutcome:
        self.sent.append(sql_text)
        sqlglot.parse_one(sql_text, read="snowflake")
        for marker, rows in (("TASK_HISTORY", TASKS), ("COPY_HISTORY", COPIES), ("COMPLETE_TASK_GRAPHS", GRAPHS),
                             ("DYNAMIC_TABLE_REFRESH_HISTORY", DYNAMIC), ("LOAD_HISTORY", LOADS),
                             ("PIPE_STATUS", PIPES)):
            if marker in sql_text:
                if marker in self.broken:
                    raise QueryFailed(f"Insufficient privileges to operate on {marker}")
                collector.add_batch([list(r.values()) for r in rows])
                return FetchOutcome([ColumnInfo(name=k, type="TEXT") for k in rows[0]], None)
        raise QueryFailed(f"unexpected statement {sql_text[:60]}")

    async def current_location(self) -> tuple[str | None, str | None]:
        return "RAW", "PUBLIC"

    async def describe_table(self, table: TableRef) -> Any:
        raise NotFound(f"{table} does not exist")

    async def list_tables(self, *args: Any) -> list[Any]:
        return []

    async def close(self) -> None:
        pass


def snowflake_client(tmp_path: Path, warehouse: StandInSnowflake) -> Client:
    settings = Settings(warehouse="snowflake://stand-in", state_dir=tmp_path / "state", cache_ttl_s=0)
    return Client(build_server(settings, warehouse=warehouse, etl_settings=etl_settings(
        etl_sources=None, etl_sla_file=None, etl_now="2026-11-20T08:00:00Z")))


async def test_the_server_reads_every_snowflake_history(tmp_path: Path) -> None:
    warehouse = StandInSnowflake()
    async with snowflake_client(tmp_path, warehouse) as client:
        listing = await call_ok(client, "list_pipelines", {"source": "snowflake"})
        failures = await call_ok(client, "failed_runs", {"since": "24h"})
        report = await call_ok(client, "diagnose_run", {"run_id": TASKS[0]["QUERY_ID"]})
        fresh = await call_ok(client, "freshness", {})
    tables = {t["table"]: t for t in fresh["tables"]}
    assert tables["RAW.PUBLIC.EVENTS"]["status"] == "never_loaded"
    assert tables["RAW.PUBLIC.ORDERS_STAGE"]["last_success_at"] == "2026-11-19T04:30:00Z"
    assert tables["ANALYTICS.MARTS.DAILY_SALES"]["last_run_status"] == "upstream_failed"
    kinds = {p["id"]: p["kind"] for p in listing["pipelines"]}
    assert kinds == {"RAW.PUBLIC.LOAD_RAW_ORDERS": "snowflake_task", "RAW.PUBLIC.BUILD_MART": "snowflake_task",
                     "graph:RAW.PUBLIC.LOAD_RAW_ORDERS": "snowflake_task_graph",
                     "ANALYTICS.MARTS.DAILY_SALES": "snowflake_dynamic_table",
                     "copy:RAW.PUBLIC.ORDERS_STAGE": "snowflake_copy", "pipe:RAW.PUBLIC.EVENTS_PIPE": "snowflake_pipe"}
    assert [s["name"] for s in listing["sources"]] == ["audit", "snowflake"]  # audit table absent here
    assert not listing["sources"][0]["ok"] and listing["sources"][1] == {"name": "snowflake", "ok": True, "error": None, "left_out": None}
    groups = {g["pipeline_id"]: g for g in failures["groups"]}
    assert set(groups) == {"RAW.PUBLIC.LOAD_RAW_ORDERS", "graph:RAW.PUBLIC.LOAD_RAW_ORDERS",
                           "ANALYTICS.MARTS.DAILY_SALES", "pipe:RAW.PUBLIC.EVENTS_PIPE",
                           "copy:RAW.PUBLIC.ORDERS_STAGE"}  # a partial load is reported too
    assert groups["copy:RAW.PUBLIC.ORDERS_STAGE"]["error_category"] == "bad_value"
    assert groups["RAW.PUBLIC.LOAD_RAW_ORDERS"]["last_success_at"] == "2026-11-20T05:00:40Z"
    assert report["error_category"] == "missing_object" and report["last_good_run"]["status"] == "success"
    assert all("INFORMATION_SCHEMA" in s for s in warehouse.sent)


async def test_one_unreadable_history_does_not_hide_the_others(tmp_path: Path) -> None:
    warehouse = StandInSnowflake(broken=["TASK_HISTORY", "PIPE_STATUS"])
    async with snowflake_client(tmp_path, warehouse) as client:
        failures = await call_ok(client, "failed_runs", {"since": "24h"})
    status = next(s for s in failures["sources"] if s["name"] == "snowflake")
    assert status["ok"] and "task_history: Insufficient privileges" in status["error"]
    assert "pipe_status" in status["error"]
    assert "ANALYTICS.MARTS.DAILY_SALES" in {g["pipeline_id"] for g in failures["groups"]}
    assert "RAW.PUBLIC.LOAD_RAW_ORDERS" not in {g["pipeline_id"] for g in failures["groups"]}
