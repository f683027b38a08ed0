"""Logs on stderr (stdout carries the MCP protocol on stdio): lines a person reads, or JSON.

`configure_logging` is called once by `snowmcp serve`. Our loggers (`snowmcp.*`) log at
`SNOWMCP_LOG_LEVEL` (INFO by default: a start-up line, a "listening on" line and one line
per tool call); other libraries only from WARNING, so the SDK's per-request chatter stays out.

With `SNOWMCP_LOG_FORMAT=json` each record is one JSON object carrying the fields passed
as `extra={"fields": {...}}` and, inside a traced tool call, the OpenTelemetry `trace_id`
and `span_id` of its span, so a log line can be joined to its trace. Callers pass only
names, counts, durations and hashes: never values, SQL text or secrets.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, Literal

LogFormat = Literal["text", "json"]
_OURS = "snowmcp"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, fields, trace and span ids."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        entry.update(_trace_ids())
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _trace_ids() -> dict[str, str]:
    """The current span's ids in the W3C hex form, or nothing outside a recorded span."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")}


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    """Send every log record to stderr in `log_format`; ours from `level`, others from WARNING."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger(_OURS).setLevel(level)
