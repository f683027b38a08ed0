"""Logs a person (or a log pipeline) can read: one line per tool call, JSON with trace ids on request,
and never a value, SQL text or secret."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from mcp import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from snowmcp.common.logs import configure_logging
from snowmcp.common.settings import Settings
from snowmcp.servers.query.server import build_server
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio

CANARY = "canary-77ab01"
SQL = f"SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS WHERE STATUS <> '{CANARY}'"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, ours = logging.getLogger(), logging.getLogger("snowmcp")
    handlers, level, our_level = list(root.handlers), root.level, ours.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    ours.setLevel(our_level)


async def test_each_call_logs_one_line_with_its_outcome_and_no_values(
        settings: Settings, capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    configure_logging("INFO", "text")
    async with Client(build_server(settings)) as client:
        await call_ok(client, "run_query", {"sql": SQL})
        await call_ok(client, "run_query", {"sql": SQL})
        await call_error(client, "run_query", {"sql": f"DELETE FROM ANALYTICS.SALES.ORDERS WHERE STATUS = '{CANARY}'"})
    lines = [line for line in capsys.readouterr().err.splitlines() if "snowmcp.calls" in line]
    assert len(lines) == 3, lines
    assert "query run_query ok in" in lines[0] and "1 rows" in lines[0] and "cached" not in lines[0]
    assert lines[1].endswith("cached")
    assert "query run_query refused (" in lines[2] and "no statement" in lines[2]
    assert CANARY not in "\n".join(lines) and "SELECT" not in "\n".join(lines)


async def test_json_logs_carry_the_fields_and_the_trace_of_the_call(
        settings: Settings, capsys: pytest.CaptureFixture[str], restore_logging: None,
        spans: InMemorySpanExporter) -> None:
    configure_logging("INFO", "json")
    async with Client(build_server(settings)) as client:
        await call_ok(client, "run_query", {"sql": SQL})
    records = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    (call,) = [r for r in records if r.get("logger") == "snowmcp.calls"]
    (span,) = [s for s in spans.get_finished_spans() if s.name == "tool run_query"]
    assert call["trace_id"] == format(span.context.trace_id, "032x")
    assert call["span_id"] == format(span.context.span_id, "016x")
    assert call["server"] == "query" and call["tool"] == "run_query" and call["outcome"] == "ok"
    assert call["rows"] == 1 and call["cached"] is False and call["duration_ms"] > 0
    assert len(call["sql_hashes"][0]) == 16 and CANARY not in json.dumps(records)


def test_other_libraries_log_only_warnings(capsys: pytest.CaptureFixture[str], restore_logging: None) -> None:
    configure_logging("INFO")
    logging.getLogger("mcp.server.lowlevel").info("Processing request of type CallToolRequest")
    logging.getLogger("snowmcp.server").info("ours")
    err = capsys.readouterr().err
    assert "ours" in err and "Processing request" not in err
