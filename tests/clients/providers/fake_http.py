"""A tiny HTTP server on 127.0.0.1 that plays canned JSON answers and records what it received.

Each provider test points the real SDK at it through `base_url`, so the SDK's own request
building, headers and response parsing run end to end with no network.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeServer:
    url: str
    answers: list[tuple[int, Any]] = field(default_factory=list)  # (status, JSON body), played in order
    received: list[Received] = field(default_factory=list)

    def answer(self, body: Any, status: int = 200) -> None:
        self.answers.append((status, body))

    @property
    def last(self) -> Any:
        return self.received[-1].body


@contextmanager
def fake_server() -> Iterator[FakeServer]:
    state = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (the http.server API)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            state.received.append(Received("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, answer = state.answers.pop(0) if state.answers else (500, {"error": "no answer scripted"})
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# Realistic tool schemas, as MCP servers (pydantic) publish them.
PREVIEW_SCHEMA = {
    "type": "object",
    "properties": {
        "table": {"type": "string", "title": "Table", "description": "a table name, DB.SCHEMA.TABLE"},
        "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None, "title": "Limit"},
    },
    "required": ["table"],
    "additionalProperties": False,
}
AGGREGATE_SCHEMA = {
    "$defs": {
        "Metric": {
            "type": "object",
            "title": "Metric",
            "properties": {
                "column": {"type": "string", "title": "Column"},
                "fn": {"enum": ["sum", "avg", "count"], "type": "string", "title": "Fn", "default": "sum"},
            },
            "required": ["column"],
            "additionalProperties": False,
        }
    },
    "type": "object",
    "properties": {
        "table": {"type": "string", "title": "Table"},
        "metrics": {"type": "array", "items": {"$ref": "#/$defs/Metric"}, "title": "Metrics",
                    "examples": [[{"column": "AMOUNT"}]]},
    },
    "required": ["table", "metrics"],
    "additionalProperties": False,
}
SYSTEM = "You answer questions about the warehouse with the tools."
