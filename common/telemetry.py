"""OpenTelemetry for tool calls: one span per call, plus call/error/latency metrics.

Off by default (the API's no-op providers cost next to nothing);
`SNOWMCP_OTEL=console` exports to stderr, `otlp` to an OTLP/HTTP collector
configured by the standard `OTEL_EXPORTER_OTLP_*` variables.

The tool wrapper opens the span with `tool_span`; code deeper down (the query
runner) records what it learns in the current `CallStats` — cache hit, rows,
bytes, query id, a hash of the SQL — and the span carries it when it closes.
When the call ends, one INFO line on the `snowmcp.calls` logger says how it went
(server, tool, outcome, duration, rows, bytes, cached; JSON logs add the trace ids).
Raw SQL, values and secrets are never recorded.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

from snowmcp.common.errors import ConfigError

_INSTRUMENTATION = "snowmcp"
call_log = logging.getLogger("snowmcp.calls")


@dataclass
class CallStats:
    """What one tool call did in the warehouse; filled in as it happens."""

    warehouse: str | None = None
    cache_hit: bool | None = None
    rows: int = 0
    bytes: int = 0
    statements: int = 0
    query_ids: list[str] = field(default_factory=list)
    sql_hashes: list[str] = field(default_factory=list)
    # "ok", "refused" (a SnowmcpError the model is told about) or "crashed"; set by the tool wrapper
    outcome: str = "ok"
    error_type: str | None = None

    def failed(self, outcome: str, exc: BaseException) -> None:
        self.outcome, self.error_type = outcome, type(exc).__name__

    def record_statement(self, *, sql: str, rows: int, bytes_: int, cached: bool, query_id: str | None) -> None:
        self.statements += 1
        self.rows += rows
        self.bytes += bytes_
        self.cache_hit = cached if self.cache_hit is None else (self.cache_hit and cached)
        self.sql_hashes.append(sql_hash(sql))
        if query_id:
            self.query_ids.append(query_id)


_current: contextvars.ContextVar[CallStats | None] = contextvars.ContextVar("snowmcp_call_stats", default=None)


def current_stats() -> CallStats:
    """The stats of the tool call in progress (a throwaway object outside one)."""
    return _current.get() or CallStats()


def sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


class _Instruments:
    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        from opentelemetry import metrics

        self.tracer = trace.get_tracer(_INSTRUMENTATION, tracer_provider=tracer_provider)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(_INSTRUMENTATION)
        self.calls = meter.create_counter("snowmcp.tool.calls", description="Tool calls")
        self.errors = meter.create_counter("snowmcp.tool.errors", description="Tool calls that failed")
        self.duration = meter.create_histogram("snowmcp.tool.duration", unit="ms", description="Tool call latency")


_instruments: _Instruments | None = None  # made on first use: start-up stays fast


def _get_instruments() -> _Instruments:
    global _instruments
    if _instruments is None:
        _instruments = _Instruments()
    return _instruments


def install(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Send spans and metrics to these providers (tests use in-memory ones)."""
    global _instruments
    _instruments = _Instruments(tracer_provider, meter_provider)


def configure(mode: str) -> None:
    """Turn telemetry on as `SNOWMCP_OTEL` says; 'off' leaves the no-op providers."""
    if mode == "off":
        return
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if mode == "console":
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        span_exporter: Any = ConsoleSpanExporter(out=sys.stderr)
        metric_exporter: Any = ConsoleMetricExporter(out=sys.stderr)
    elif mode == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ConfigError(
                "SNOWMCP_OTEL=otlp needs the OTLP exporter", hint="pip install 'snowmcp[otlp]'"
            ) from None
        span_exporter, metric_exporter = OTLPSpanExporter(), OTLPMetricExporter()
    else:
        raise ConfigError(f"unknown SNOWMCP_OTEL mode {mode!r}", hint="Use off, console or otlp.")
    resource = Resource.create({"service.name": "snowmcp"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    meter_provider = MeterProvider(resource=resource, metric_readers=[PeriodicExportingMetricReader(metric_exporter)])
    from opentelemetry import metrics

    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    install()


@contextmanager
def tool_span(server: str, tool: str) -> Iterator[CallStats]:
    """Wrap one tool call: a span named `tool <name>` and the call metrics."""
    stats = CallStats()
    token = _current.set(stats)
    started = time.perf_counter()
    instruments = _get_instruments()
    with instruments.tracer.start_as_current_span(
        f"tool {tool}", attributes={"snowmcp.server": server, "snowmcp.tool": tool}
    ) as span:
        try:
            yield stats
        except BaseException as exc:
            if stats.outcome == "ok":
                stats.failed("cancelled" if not isinstance(exc, Exception) else "crashed", exc)
            span.set_status(trace.StatusCode.ERROR, stats.error_type or type(exc).__name__)
            span.set_attribute("error.type", stats.error_type or type(exc).__name__)
            raise
        finally:
            _current.reset(token)
            elapsed_ms = (time.perf_counter() - started) * 1000
            span.set_attributes(_span_attributes(stats, elapsed_ms))
            outcome = "ok" if stats.outcome == "ok" else "error"
            labels = {"server": server, "tool": tool, "outcome": outcome}
            instruments.calls.add(1, labels)
            instruments.duration.record(elapsed_ms, labels)
            if outcome == "error":
                instruments.errors.add(1, labels)
            _log_call(server, tool, stats, elapsed_ms)


def _log_call(server: str, tool: str, stats: CallStats, elapsed_ms: float) -> None:
    """The call's one line: what a person scanning stderr (or a log pipeline) wants, never values."""
    if not call_log.isEnabledFor(logging.INFO):
        return
    how = stats.outcome if stats.error_type is None else f"{stats.outcome} ({stats.error_type})"
    detail = f"{stats.rows} rows, {stats.bytes} bytes" if stats.statements else "no statement"
    if stats.cache_hit:
        detail += ", cached"
    fields = {"server": server, "tool": tool, "outcome": stats.outcome, "error_type": stats.error_type,
              "duration_ms": round(elapsed_ms, 1), "rows": stats.rows, "bytes": stats.bytes,
              "statements": stats.statements, "cached": stats.cache_hit, "query_ids": stats.query_ids or None,
              "sql_hashes": stats.sql_hashes or None}
    call_log.info("%s %s %s in %.0f ms: %s", server, tool, how, elapsed_ms, detail,
                  extra={"fields": {k: v for k, v in fields.items() if v is not None}})


def _span_attributes(stats: CallStats, elapsed_ms: float) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "snowmcp.duration_ms": round(elapsed_ms, 3),
        "snowmcp.rows": stats.rows,
        "snowmcp.bytes": stats.bytes,
        "snowmcp.statements": stats.statements,
    }
    if stats.warehouse:
        attributes["snowmcp.warehouse"] = stats.warehouse
    if stats.cache_hit is not None:
        attributes["snowmcp.cache_hit"] = stats.cache_hit
    if stats.query_ids:
        attributes["snowmcp.query_id"] = stats.query_ids if len(stats.query_ids) > 1 else stats.query_ids[0]
    if stats.sql_hashes:
        attributes["snowmcp.sql_hash"] = stats.sql_hashes if len(stats.sql_hashes) > 1 else stats.sql_hashes[0]
    return attributes
