"""fakesnow's HTTP server for the tests, run in its own venv and reached by the project's connector.

fakesnow 0.12 imports only with snowflake-connector-python 4.x while the project tests the connector
users get (5.x), so this script runs in `.tools/fakesnow-venv` (fakesnow 0.12.1, connector 4.8.1,
uvicorn; `make fakesnow`, which `make test` depends on) and the tests reach it over HTTP. It imports
nothing from snowmcp or tests. `tests/snowflake_fixtures.py` starts it once per test process:

    .tools/fakesnow-venv/bin/python tests/fakesnow_service.py

It prints `control <port>` once ready and exits when its stdin closes (the test process is gone).
Every fake Snowflake it serves ("listener") shares one in-memory fakesnow instance, as in-process
servers did. The control API, JSON over HTTP on 127.0.0.1:<control port>:

    POST   /listeners/<port>                 serve a fake Snowflake on 127.0.0.1:<port>
    DELETE /listeners/<port>                 stop it at once, requests in flight included (an outage)
    GET    /listeners/<port>/requests?since=N  what reached it (login, query, abort), from record N on
    GET    /listeners/<port>/counts          every HTTP request that reached it, counted by method and path
                                             (query ids as <id>): {"counts": {"POST /queries/v1/query-request": n}}
    PUT    /listeners/<port>/faults          {"faults": [...]}: "cut_query_responses" answers queries
                                             with half a body, then hangs up
    POST   /local                            {"database", "schema", "statements"}: run them through
                                             fakesnow's in-process API (what its HTTP server cannot
                                             describe, such as COMMENT ON COLUMN)

What is recorded never holds a credential: a login body keeps only its SESSION_PARAMETERS.
fakesnow cannot run `USE SECONDARY ROLES NONE|ALL`: such a statement is recorded as sent and
answered by a no-op.

## The 5.x adapter (for fakesnow upstream: what its server lacks for snowflake-connector-python 5.x)

5.x (a Rust core) reads responses strictly and uses endpoints fakesnow does not serve. Against
fakesnow 0.12.1's server `_Adapter` adds, each checked against 5.2.0 here:

1. login-request `data.masterToken` (required: "Failed to login: Missing response field: master
   token") and `data.sessionId`, a number (required: "... Missing response field: session ID").
   Beside them, as Snowflake sends them, `data.masterValidityInSeconds` (14400) and
   `data.validityInSeconds` (3600), which 5.x uses to schedule renewals and heartbeats.
2. `GET /monitoring/queries//<query id>`: 5.x's path has an empty segment; fakesnow's route
   (`/monitoring/queries/{sfqid}`) answers 404, so every async status check fails.
3. Aborts cancel, as on Snowflake: `POST /queries/<query id>/abort-request` (`abort_query(id)`, both
   majors; fakesnow has no such route) and `POST /queries/v1/abort-request {"requestId"}` (the
   drivers' cancel of a statement whose id is not back yet: 4.x `_cancel_query`, 5.x's core when
   its operation is cancelled) interrupt the DuckDB connection running that statement (`Running`);
   its answer becomes Snowflake's 000604 "SQL execution canceled". A statement not running any
   more: by id, 000605 "not currently executing"; by request id, fakesnow's own `success`.
4. `POST /telemetry/send`: answered `success` (5.x logs "Failed to export telemetry" otherwise).
5. A failed query-request's `data.queryId` (Snowflake gives failed queries an id too; 5.x's
   `execute_async` raises "Async query did not report a queryId" without it).
6. Arrow rowsets: fakesnow writes a NULL TIMESTAMP_* as NULL fields (epoch, fraction, timezone),
   declared non-nullable, under a valid struct; 5.x refuses the batch ("Found unmasked nulls for
   non-nullable StructArray field"). `mask_null_structs` marks the row NULL on the struct instead.
7. `asyncExec` submissions are answered at once with a query id (code 333334), as Snowflake does,
   and run in the background on a fakesnow session of their own; `/monitoring/queries/<id>` says
   RUNNING, then SUCCESS or FAILED_WITH_ERROR (errorCode, errorMessage), and RESULT_SCAN('<id>')
   finds the result. Every statement (synchronous ones too) is answered under a query id of the
   adapter's, known from its arrival (fakesnow's result is cached under it as well).

8. `CURRENT_USER()`, `CURRENT_ROLE()` and `CURRENT_WAREHOUSE()` answer the user, role and warehouse
   the session logged in with (role PUBLIC and warehouse NULL when it named none): fakesnow answers
   DuckDB's `current_user`/`current_role()` ('duckdb') and has no `CURRENT_WAREHOUSE()`
   (`snowmcp doctor` asks for them). Only the login's user name is read from its body.

9. `GET /queries/<query id>/result` (5.x's `query_result(id)`): answered by RESULT_SCAN('<id>').
10. Query history, for snowmcp's query-id lookup only: `QUERY_HISTORY_BY_SESSION(SESSION_ID => n)
   ... WHERE QUERY_TAG = ?` is answered from the statements this service served (session id,
   QUERY_TAG). fakesnow has no query history: this stand-in proves the client's side of the
   exchange, not Snowflake's behaviour.

4.x ignores the added fields and takes the same answers, so the adapter serves both majors.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import itertools
import json
import re
import secrets
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

import fakesnow.server
import uvicorn

LOGIN, QUERY, ABORT = "/session/v1/login-request", "/queries/v1/query-request", "/abort-request"
TELEMETRY = "/telemetry/send"
RECORD = "snowmcp.record"  # the scope key under which the recorder hands its record inwards
_ABORT_BY_ID = re.compile(r"^/queries/[0-9a-fA-F-]{36}/abort-request$")  # 5.x's abort_query(query_id)
_MONITORING = re.compile(r"^/monitoring/queries/+([^/]+)$")  # 5.x asks for /monitoring/queries//<id>
_RESULT_BY_ID = re.compile(r"^/queries/([0-9a-fA-F-]{36})/result$")  # 5.x's query_result(query_id)
_HISTORY_LOOKUP = re.compile(r"QUERY_HISTORY_BY_SESSION\(\s*SESSION_ID\s*=>\s*(\d+)", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SECONDARY_ROLES = re.compile(r"^\s*USE\s+SECONDARY\s+ROLES\s+(NONE|ALL)\s*$", re.IGNORECASE)
_session_ids = itertools.count(1_000_001)
ASYNC_QUERIES: dict[str, dict[str, Any]] = {}  # query id -> its monitoring status, for asyncExec submissions
SESSION_CONTEXT: dict[str, dict[str, str | None]] = {}  # session token -> its user, role and warehouse at login
RUNNING: dict[str, Running] = {}  # request id and query id -> a statement running now (what an abort finds)
QUERY_LOG: dict[str, dict[str, Any]] = {}  # query id -> its session id, QUERY_TAG and status (query history)
_SESSION_FUNCTION = re.compile(r"\bCURRENT_(USER|ROLE|WAREHOUSE)\s*\(\s*\)", re.IGNORECASE)


# -- the 5.x adapter ------------------------------------------------------------------------------


def adapt_login(data: dict[str, Any]) -> dict[str, Any]:
    """The login response's `data` with the fields the 5.x connector requires (see the docstring)."""
    data.setdefault("masterToken", secrets.token_urlsafe(32))
    data.setdefault("sessionId", next(_session_ids))
    data.setdefault("masterValidityInSeconds", 14400)
    data.setdefault("validityInSeconds", 3600)
    return data


async def _json_reply(send: Any, payload: dict[str, Any], status: int = 200) -> None:
    raw = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw, "more_body": False})


def mask_null_structs(rowset: str) -> str:
    """An Arrow rowset whose struct columns (timestamps) mark a NULL on the struct, not in its fields.

    fakesnow builds TIMESTAMP_* columns as structs of non-nullable fields (epoch, fraction[,
    timezone]) and leaves a NULL timestamp as NULL fields under a valid struct; 5.x's Arrow reader
    refuses that ("Found unmasked nulls for non-nullable StructArray field"). Snowflake masks the row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pa.ipc.open_stream(base64.b64decode(rowset)).read_all()
    columns, changed = [], False
    for field, column in zip(table.schema, table.columns, strict=True):
        array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        if pa.types.is_struct(field.type) and any(array.field(i).null_count for i in range(field.type.num_fields)):
            children = [pc.fill_null(array.field(i), 0) for i in range(field.type.num_fields)]
            array = pa.StructArray.from_arrays(children, fields=list(field.type), mask=pc.is_null(array.field(0)))
            changed = True
        columns.append(array)
    if not changed:
        return rowset
    sink = pa.BufferOutputStream()
    fixed = pa.Table.from_arrays(columns, schema=table.schema)
    with pa.ipc.new_stream(sink, fixed.schema) as writer:
        writer.write_table(fixed)
    return base64.b64encode(sink.getvalue().to_pybytes()).decode()


class _Adapter:
    """ASGI middleware completing fakesnow's login responses for the 5.x connector."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        if path == TELEMETRY:
            return await _json_reply(send, {"data": None, "success": True})
        if _ABORT_BY_ID.match(path):  # 5.x's (and 4.x's) abort_query(query_id)
            return await _json_reply(send, _abort(path.split("/")[2]))
        if path.endswith("/queries/v1/abort-request"):  # by request id: the drivers' cancel
            request = await _body(scope, receive)
            return await _json_reply(send, {**_abort(str(request.get("requestId"))), "success": True})
        if (by_id := _RESULT_BY_ID.match(path)) is not None:
            return await self._result_by_id(scope, by_id.group(1), send)
        if (monitoring := _MONITORING.match(path)) is not None:
            query_id = monitoring.group(1)
            if (status := ASYNC_QUERIES.get(query_id)) is not None and status["status"] != "SUCCESS":
                return await _json_reply(send, {"data": {"queries": [{"id": query_id, **status}]}, "success": True})
            fixed = f"/monitoring/queries/{query_id}"
            return await self.app({**scope, "path": fixed, "raw_path": fixed.encode()}, receive, send)
        if path.endswith(QUERY):
            return await self._query(scope, receive, send)
        if not path.endswith(LOGIN):
            return await self.app(scope, receive, send)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []
        sent: list[bytes] = []  # the login request, read only for its LOGIN_NAME

        async def reading() -> dict[str, Any]:
            message = await receive()
            sent.append(message.get("body", b""))
            return message

        async def collect(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    await send_adapted()

        async def send_adapted() -> None:
            raw = b"".join(chunks)
            try:
                body = json.loads(raw)
                if isinstance(body.get("data"), dict) and body.get("success"):
                    body["data"] = adapt_login(body["data"])
                    raw = json.dumps(body).encode()
                    login = dict(parse_qsl(scope.get("query_string", b"").decode()))
                    SESSION_CONTEXT[str(body["data"].get("token"))] = {
                        "USER": _login_name(b"".join(sent), _gzipped(scope)),
                        "ROLE": login.get("roleName") or "PUBLIC", "WAREHOUSE": login.get("warehouse") or None,
                        "SESSION_ID": body["data"]["sessionId"]}
            except ValueError:
                pass
            headers = [(k, str(len(raw)).encode() if k.lower() == b"content-length" else v)
                       for k, v in start.get("headers", [])]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": raw, "more_body": False})

        await self.app(scope, reading, collect)

    async def _query(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = await _body(scope, receive)
        raw = json.dumps(body).encode()
        scope = _plain_json(scope, raw)
        if isinstance(sql := body.get("sqlText"), str) and _SESSION_FUNCTION.search(sql):
            context = SESSION_CONTEXT.get(_token(scope), {"USER": None, "ROLE": "PUBLIC", "WAREHOUSE": None})
            body["sqlText"] = _SESSION_FUNCTION.sub(lambda m: _literal(context[m.group(1).upper()]), sql)
            raw = json.dumps(body).encode()
            scope = _plain_json(scope, raw)

        if isinstance(sql, str) and (lookup := _HISTORY_LOOKUP.search(sql)) is not None:
            body = _history_query(int(lookup.group(1)), body)
            raw = json.dumps(body).encode()
            scope = _plain_json(scope, raw)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        token, request_id = _token(scope), dict(parse_qsl(scope.get("query_string", b"").decode())).get("requestId")
        query_id = str(uuid.uuid4())
        tag = (body.get("parameters") or {}).get("QUERY_TAG")
        QUERY_LOG[query_id] = {"session": SESSION_CONTEXT.get(token, {}).get("SESSION_ID"), "tag": tag,
                               "status": "RUNNING"}
        if RECORD in scope:
            scope[RECORD]["query_id"] = query_id
        if body.get("asyncExec"):  # answer at once, as Snowflake does; run it in the background
            ASYNC_QUERIES[query_id] = {"status": "RUNNING"}
            task = asyncio.create_task(self._run_async(scope, replay, query_id, Running(token, query_id, request_id)))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)
            return await _json_reply(send, {
                "data": {"queryId": query_id, "getResultUrl": f"/queries/{query_id}/result",
                         "queryAbortsAfterSecs": 300, "progressDesc": None},
                "code": "333334", "message": "Asynchronous execution in progress.", "success": True})
        with Running(token, query_id, request_id) as running:
            status, answer = await _collect(self.app, scope, replay)
        status, answer = _as_snowflake_answers(status, answer, query_id, running.aborted)
        await _json_reply(send, answer, status)

    async def _result_by_id(self, scope: dict[str, Any], query_id: str, send: Any) -> None:
        """`GET /queries/<id>/result` (5.x's `query_result`): answered by RESULT_SCAN('<id>') in fakesnow."""
        raw = json.dumps({"sqlText": f"SELECT * FROM TABLE(RESULT_SCAN('{query_id}'))"}).encode()
        scope = _plain_json({**scope, "method": "POST", "path": QUERY, "raw_path": QUERY.encode(),
                             "query_string": b""}, raw)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        status, answer = await _collect(self.app, scope, replay)
        status, answer = _as_snowflake_answers(status, answer, query_id, aborted=False)
        await _json_reply(send, answer, status)

    async def _run_async(self, scope: dict[str, Any], receive: Any, query_id: str, running: Running) -> None:
        """Run the statement on a fakesnow session of its own (a DuckDB cursor runs one statement at a
        time; a Snowflake session runs the next statement while an aborted one winds down)."""
        side_token = None
        sessions = fakesnow.server.sessions
        if (session := sessions.get(_token(scope))) is not None:
            side_token = running.token = secrets.token_urlsafe(32)
            sessions[side_token] = fakesnow.server.shared_fs.connect(session.database, session.schema)
            headers = [(k, f'Snowflake Token="{side_token}"'.encode() if k.lower() == b"authorization" else v)
                       for k, v in scope["headers"]]
            scope = {**scope, "headers": headers}
        try:
            with running:
                status, answer = await _collect(self.app, scope, receive)
        except Exception as exc:  # fakesnow's own bug: a failed query, not a dead service
            status, answer = 200, {"success": False, "code": "000603", "message": f"{type(exc).__name__}: {exc}",
                                   "data": {}}
        finally:
            if side_token is not None:
                sessions.pop(side_token, None)
        _, answer = _as_snowflake_answers(status, answer, query_id, running.aborted)
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        if answer.get("success"):
            ASYNC_QUERIES[query_id] = {"status": "SUCCESS"}
        else:
            code = str(data.get("errorCode") or answer.get("code") or "000603")
            ASYNC_QUERIES[query_id] = {"status": "FAILED_WITH_ERROR", "errorCode": code,
                                       "errorMessage": str(answer.get("message") or "failed"),
                                       "sqlState": data.get("sqlState")}


class Running:
    """A statement fakesnow runs now, findable by its request id and query id while it runs: an abort
    interrupts its DuckDB connection, and its answer becomes Snowflake's 604 "SQL execution canceled"."""

    def __init__(self, token: str, query_id: str, request_id: str | None) -> None:
        self.token, self.query_id, self.request_id = token, query_id, request_id
        self.aborted = False

    def __enter__(self) -> Running:
        RUNNING[self.query_id] = self
        if self.request_id:
            RUNNING[self.request_id] = self
        return self

    def __exit__(self, *_: Any) -> None:
        RUNNING.pop(self.query_id, None)
        if self.request_id:
            RUNNING.pop(self.request_id, None)
        QUERY_LOG[self.query_id]["status"] = "FAILED_WITH_ERROR" if self.aborted else "SUCCESS"

    def interrupt(self) -> None:
        self.aborted = True
        if (session := fakesnow.server.sessions.get(self.token)) is not None:
            session._duck_conn.interrupt()


def _abort(key: str) -> dict[str, Any]:
    """Abort the statement running with this request id or query id, as Snowflake does."""
    if (running := RUNNING.get(key)) is None:
        return {"data": None, "success": False, "code": "000605",
                "message": "Identified SQL statement is not currently executing."}
    running.interrupt()
    return {"data": None, "success": True}


def _as_snowflake_answers(status: int, answer: Any, query_id: str, aborted: bool) -> tuple[int, dict[str, Any]]:
    """fakesnow's answer as Snowflake gives it: under our query id (fakesnow's result cached under it
    too, for RESULT_SCAN and monitoring), a failure with an id, a cancelled statement as error 604."""
    if aborted:
        return 200, {"success": False, "code": "000604", "message": "SQL execution canceled",
                     "data": {"errorCode": "000604", "sqlState": "57014", "queryId": query_id}}
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), dict):
        return status, answer if isinstance(answer, dict) else {"success": False, "data": None}
    data = answer["data"]
    if answer.get("success"):
        cache = fakesnow.server.shared_fs.results_cache
        if (found := cache.get(str(data.get("queryId")))) is not None:
            cache[query_id] = found
        data["queryId"] = query_id
        if data.get("rowsetBase64"):
            data["rowsetBase64"] = mask_null_structs(data["rowsetBase64"])
    else:
        data.setdefault("queryId", query_id)  # a failed query has an id too
    return status, answer


def _history_query(session_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Our query-id lookup (`QUERY_HISTORY_BY_SESSION(SESSION_ID => n) WHERE QUERY_TAG = ?`), which
    fakesnow cannot run, as a statement it can: the session's statements with that tag, from what
    this service served (a stand-in for Snowflake's history: it proves the client's side only)."""
    binding = (body.get("bindings") or {}).get("1") or {}
    ids = [qid for qid, entry in QUERY_LOG.items() if entry["session"] == session_id
           and entry["tag"] == binding.get("value")]
    rows = ", ".join(f"('{qid}')" for qid in ids) or "(NULL)"
    where = "" if ids else " WHERE FALSE"
    return {**{k: v for k, v in body.items() if k != "bindings"},
            "sqlText": f"SELECT QUERY_ID FROM (VALUES {rows}) AS T(QUERY_ID){where}"}


def _plain_json(scope: dict[str, Any], raw: bytes) -> dict[str, Any]:
    """The scope of a request whose body is now `raw`, uncompressed JSON."""
    headers = [(k, str(len(raw)).encode() if k.lower() == b"content-length" else v)
               for k, v in scope["headers"] if k.lower() != b"content-encoding"]
    return {**scope, "headers": headers}


async def _body(scope: dict[str, Any], receive: Any) -> dict[str, Any]:
    raw, more = b"", True
    while more:
        message = await receive()
        raw += message.get("body", b"")
        more = message.get("more_body", False) and message["type"] == "http.request"
    try:
        body = json.loads(gzip.decompress(raw) if _gzipped(scope) else raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


_BACKGROUND: set[asyncio.Task[None]] = set()


def _login_name(raw: bytes, gzipped: bool) -> str | None:
    try:
        data = json.loads(gzip.decompress(raw) if gzipped else raw).get("data", {})
        return str(data["LOGIN_NAME"]).upper()
    except (ValueError, KeyError, AttributeError, TypeError):
        return None


def _literal(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _token(scope: dict[str, Any]) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == b"authorization":
            return value.decode()[17:-1]  # Snowflake Token="..."
    return ""


def _gzipped(scope: dict[str, Any]) -> bool:
    return (b"content-encoding", b"gzip") in [(k.lower(), v) for k, v in scope.get("headers", [])]


async def _collect(app: Any, scope: dict[str, Any], receive: Any) -> tuple[int, Any]:
    """Run the app on one request; its status and JSON answer."""
    status, chunks = 500, []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    try:
        return status, json.loads(b"".join(chunks))
    except ValueError:
        return status, {"success": False, "code": str(status), "message": "not JSON", "data": {}}


# -- the recorder ---------------------------------------------------------------------------------


class Listener:
    """One fake Snowflake on a port: restartable, its records and faults kept across restarts."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.records: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()  # every HTTP request, by path (ids as <id>)
        self.faults: set[str] = set()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        app = _Recorder(_Adapter(fakesnow.server.app), self.records, self.faults, self.counts)
        config = uvicorn.Config(app, host=self.host, port=self.port, log_config=None, log_level="warning",
                                lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"fakesnow:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self._server = None
                raise RuntimeError(f"fakesnow did not start on port {self.port}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop at once, in-flight requests included (what an outage looks like to a client)."""
        if self._server is not None:
            self._server.should_exit = self._server.force_exit = True
            assert self._thread is not None
            self._thread.join(timeout=15)
            self._server = None


class _Recorder:
    """ASGI middleware noting login, query and abort requests (their JSON bodies) in a list."""

    def __init__(self, app: Any, log: list[dict[str, Any]], faults: set[str], counts: Counter[str]) -> None:
        self.app, self.log, self.faults, self.counts = app, log, faults, counts

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.counts[_UUID.sub("<id>", f"{scope['method']} {scope['path']}")] += 1
        if scope["type"] != "http" or not scope["path"].endswith((LOGIN, QUERY, ABORT)):
            return await self.app(scope, receive, send)
        path = scope["path"]
        query = dict(parse_qsl(scope.get("query_string", b"").decode()))
        gzipped = (b"content-encoding", b"gzip") in [(k.lower(), v) for k, v in scope.get("headers", [])]
        arrived = time.monotonic()  # CLOCK_MONOTONIC: the same clock as the test process's
        chunks: list[bytes] = []
        message = await receive()  # read the whole body up front: some routes never read it
        pending = [message]
        while message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
            message = await receive()
            pending.append(message)
        body = _parse(b"".join(chunks), gzipped, login=path.endswith(LOGIN))
        record = {"path": path, "query": query, "body": body, "at": arrived, "query_id": None}
        self.log.append(record)
        scope = {**scope, RECORD: record}  # the adapter notes the query id it gives an async submission

        if path.endswith(QUERY) and _SECONDARY_ROLES.match(str(body.get("sqlText", ""))):
            scope, pending = _as_noop(scope, body, gzipped)

        async def replay() -> dict[str, Any]:
            return pending.pop(0) if pending else await receive()

        if "cut_query_responses" in self.faults and path.endswith(QUERY):
            send = _cut_after_half(send)
        await self.app(scope, replay, send)


def _as_noop(scope: dict[str, Any], body: dict[str, Any], gzipped: bool) -> tuple[dict[str, Any], list[Any]]:
    """The request with its statement replaced by one fakesnow runs (it is recorded as sent)."""
    raw = json.dumps({**body, "sqlText": "SELECT 'Statement executed successfully.' AS \"status\""}).encode()
    raw = gzip.compress(raw) if gzipped else raw
    headers = [(k, str(len(raw)).encode() if k.lower() == b"content-length" else v) for k, v in scope["headers"]]
    return {**scope, "headers": headers}, [{"type": "http.request", "body": raw, "more_body": False}]


class _ConnectionCut(Exception):
    """Raised inside the ASGI app to make the server drop the connection mid-response."""


def _cut_after_half(send: Any) -> Any:
    async def cut(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
            await send({**message, "headers": headers})  # chunked, so the cut is visible to the client
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
            raise _ConnectionCut("connection dropped mid-result (planted fault)")
        else:
            await send(message)

    return cut


def _parse(raw: bytes, gzipped: bool, *, login: bool) -> dict[str, Any]:
    try:
        body = json.loads(gzip.decompress(raw) if gzipped else raw or b"{}")
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    if login:  # never keep credentials
        data = body.get("data")
        return {"SESSION_PARAMETERS": (data.get("SESSION_PARAMETERS") or {}) if isinstance(data, dict) else {}}
    return body


# -- the control API ------------------------------------------------------------------------------

LISTENERS: dict[int, Listener] = {}
_LOCK = threading.Lock()


def _listener(port: int) -> Listener:
    with _LOCK:
        return LISTENERS.setdefault(port, Listener(port))


def _run_local(database: str | None, schema: str | None, statements: list[str]) -> None:
    local = fakesnow.server.shared_fs.connect(database, schema)
    for sql in statements:
        local.cursor().execute(sql)


class _Control(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        parts = [p for p in url.path.split("/") if p]
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        try:
            answer = self._route(method, parts, dict(parse_qsl(url.query)), body)
        except Exception as exc:
            return self._reply(500, {"error": f"{type(exc).__name__}: {exc}"})
        self._reply(200, answer) if answer is not None else self._reply(404, {"error": f"no route {self.path}"})

    def _route(self, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]) -> Any:
        if parts == ["local"] and method == "POST":
            _run_local(body.get("database"), body.get("schema"), list(body.get("statements", [])))
            return {}
        if len(parts) < 2 or parts[0] != "listeners" or not parts[1].isdigit():
            return None
        listener = _listener(int(parts[1]))
        rest = parts[2:]
        if not rest and method == "POST":
            listener.start()
            return {"port": listener.port}
        if not rest and method == "DELETE":
            listener.stop()
            return {}
        if rest == ["counts"] and method == "GET":
            return {"counts": dict(listener.counts)}
        if rest == ["requests"] and method == "GET":
            return {"records": listener.records[int(query.get("since", 0)):]}
        if rest == ["faults"] and method == "PUT":
            listener.faults.clear()
            listener.faults.update(body.get("faults", []))
            return {"faults": sorted(listener.faults)}
        return None

    def _reply(self, status: int, payload: Any) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the test output is for tests
        pass


def main() -> None:
    control = ThreadingHTTPServer(("127.0.0.1", 0), _Control)
    control.daemon_threads = True
    threading.Thread(target=control.serve_forever, name="control", daemon=True).start()
    print(f"control {control.server_address[1]}", flush=True)
    sys.stdin.read()  # returns when the test process closes our stdin, or exits
    for listener in list(LISTENERS.values()):
        listener.stop()


if __name__ == "__main__":
    main()
