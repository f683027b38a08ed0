"""A tool call yields one span with the attributes DESIGN.md lists, and never raw SQL values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mcp import Client
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from snowmcp.common import telemetry
from snowmcp.common.settings import Settings
from snowmcp.servers.query.server import build_server
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio

SECRET_VALUE = "canary-4f1d9e"


@pytest.fixture
def exported() -> Iterator[tuple[InMemorySpanExporter, InMemoryMetricReader]]:
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    metrics = InMemoryMetricReader()
    telemetry.install(tracer_provider, MeterProvider(metric_readers=[metrics]))
    yield spans, metrics
    telemetry.install()


def _tool_spans(spans: InMemorySpanExporter) -> list:  # type: ignore[type-arg]
    return [s for s in spans.get_finished_spans() if s.name.startswith("tool ")]


async def test_a_tool_call_yields_one_span_with_its_attributes(exported, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    spans, metrics = exported
    sql = f"SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS WHERE STATUS = '{SECRET_VALUE}'"
    async with Client(build_server(settings)) as client:
        await call_ok(client, "run_query", {"sql": sql})
        await call_ok(client, "run_query", {"sql": sql})
    first, second = _tool_spans(spans)
    attributes = dict(first.attributes or {})
    assert first.name == "tool run_query"
    assert attributes["snowmcp.server"] == "query" and attributes["snowmcp.tool"] == "run_query"
    assert attributes["snowmcp.warehouse"].startswith("duckdb:")
    assert attributes["snowmcp.cache_hit"] is False and dict(second.attributes or {})["snowmcp.cache_hit"] is True
    assert attributes["snowmcp.rows"] == 1 and attributes["snowmcp.bytes"] > 0
    assert attributes["snowmcp.duration_ms"] > 0 and len(attributes["snowmcp.sql_hash"]) == 16
    everything = repr([dict(s.attributes or {}) for s in spans.get_finished_spans()])
    assert SECRET_VALUE not in everything and "SELECT" not in everything

    data = metrics.get_metrics_data()
    names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert {"snowmcp.tool.calls", "snowmcp.tool.duration"} <= names


async def test_a_failed_call_marks_its_span_and_counts_an_error(exported, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    spans, metrics = exported
    async with Client(build_server(settings)) as client:
        await call_error(client, "run_query", {"sql": f"DELETE FROM ANALYTICS.SALES.ORDERS WHERE x = '{SECRET_VALUE}'"})
    (span,) = _tool_spans(spans)
    assert span.status.status_code.name == "ERROR"
    assert SECRET_VALUE not in repr(dict(span.attributes or {})) + str(span.status.description)
    data = metrics.get_metrics_data()
    names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert "snowmcp.tool.errors" in names
