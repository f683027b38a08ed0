"""Snowflake backend: snowflake-connector-python (4.x and 5.x) behind the `Warehouse` protocol.

`execute`, in a worker thread: take a pooled session (`snowflake_pool.py`); submit the
statement with `execute_async` (Snowflake returns its query id at once) carrying
per-statement parameters - the JSON `QUERY_TAG` {"app","server","tool"},
`MULTI_STATEMENT_COUNT=1` and, on 4.x, a request id of ours; poll its status (20 ms
doubling to 0.5 s); read the result through `RESULT_SCAN` in batches of
`collector.fetch_size` until the collector is full (a big result is never drained).

Timeout or cancellation abandons the await and cancels the statement in Snowflake from
another thread: `abort_query(query_id)`, or by request id while the id is not back yet.
Sessions also carry `STATEMENT_TIMEOUT_IN_SECONDS` (the largest allowed timeout).

Catalog lookups (`snowflake_catalog.py`) are small server-built queries run synchronously
(one round trip), bounded by the session's network timeout, past which the driver cancels them.
They run on sessions and worker threads of their own (`LIGHT_SESSIONS`, `common.concurrency`),
so they never wait behind statements. Every new session runs `USE SECONDARY ROLES NONE` first
(`SNOWMCP_SNOWFLAKE_SECONDARY_ROLES`).

Errors: SQL mistakes -> `QueryFailed` (never retried); an expired session or a network
fault before the statement reached Snowflake -> the session is dropped and
`WarehouseUnavailable(transient=True)`, so the runtime retries on a new one; the same fault
once Snowflake returned a query id -> `transient=False`: a statement that reached the
warehouse is never resent. Login refused -> `WarehouseUnavailable(transient=False)`.
"""

from __future__ import annotations

import decimal
import functools
import inspect
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio

from snowmcp.common.concurrency import WorkerPools
from snowmcp.common.errors import NotFound, QueryFailed, QueryTimeout, SnowmcpError, WarehouseUnavailable
from snowmcp.common.results import ColumnInfo, RowCollector
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import (
    FetchOutcome, QueryTag,
)
from snowmcp.common.warehouse.snowflake_catalog import SnowflakeCatalog, column_type
from snowmcp.common.warehouse.snowflake_pool import (
    BASE_QUERY_TAG, ConnectionAbandoned, ConnectionConfig, ConnectionPool, PooledConnection, connect, errno_of,
    resolve_config, sqlstate_of, summarize,
)

log = logging.getLogger("snowmcp.snowflake")
T = TypeVar("T")
LIGHT_SESSIONS = 2  # sessions kept apart for catalog lookups, beside SNOWMCP_SNOWFLAKE_POOL_SIZE

# The session must log in again (390114 master token expired, 390111 session gone, 250002 closed...).
SESSION_GONE = {390104, 390111, 390112, 390113, 390114, 390115, 250002, 252006}
_CANCELLED = {604, 630}  # SQL execution canceled; statement timeout reached
_MISSING = 2003  # object does not exist or not authorized
_JSON_TYPES = {"VARIANT", "OBJECT", "ARRAY", "MAP", "GEOGRAPHY", "GEOMETRY"}  # arrive as JSON text


class _Statement:
    """One statement in flight, and what another thread needs to cancel it."""

    def __init__(self, sql: str, tag: dict[str, str], with_request_id: bool) -> None:
        self.sql = sql
        self.tag = json.dumps({**BASE_QUERY_TAG, **tag}, separators=(",", ":"))
        self.request_id = uuid.uuid4() if with_request_id else None
        self.pooled: PooledConnection | None = None
        self.query_id: str | None = None
        self.cancelled = threading.Event()

    def abandon(self) -> None:
        """The caller gave up: stop the worker and cancel in Snowflake, without blocking the loop."""
        if self.cancelled.is_set():
            return
        self.cancelled.set()
        threading.Thread(target=self.send_cancel, name="snowmcp-cancel", daemon=True).start()

    def send_cancel(self) -> None:
        pooled, query_id = self.pooled, self.query_id
        if pooled is None:
            return  # it never reached Snowflake
        try:
            if query_id:
                pooled.raw.cursor().abort_query(query_id)
            elif self.request_id is not None and hasattr(pooled.raw, "_cancel_query"):
                pooled.raw._cancel_query(self.sql, self.request_id)  # what the 4.x driver's own timeout calls
            log.debug("cancel sent for query %s", query_id or self.request_id)
        except Exception as exc:  # finished already, or the network is gone
            log.debug("cancel of query %s failed: %s", query_id or self.request_id, type(exc).__name__)


class SnowflakeWarehouse(SnowflakeCatalog):
    dialect = "snowflake"

    def __init__(self, connector: Any, config: ConnectionConfig, pool: ConnectionPool, identity: str,
                 catalog_timeout_s: float, *, light_pool: ConnectionPool | None = None,
                 pools: WorkerPools | None = None) -> None:
        self._errors = connector.errors
        self._config = config
        self._pool = pool
        self._light_pool = light_pool or pool  # catalog lookups: sessions of their own, never behind statements
        self._pools = pools or WorkerPools(8, 8)
        self.identity = identity
        self._catalog_timeout_s = catalog_timeout_s
        execute = inspect.signature(connector.cursor.SnowflakeCursor.execute).parameters
        self._statement_params = "_statement_params" in execute  # else ALTER SESSION SET QUERY_TAG
        try:  # 4.x: a request id of ours makes a statement cancellable before its query id is known
            from snowflake.connector._utils import REQUEST_ID_STATEMENT_PARAM_NAME as request_id_param
        except ImportError:
            request_id_param = None
        self._request_id_param: str | None = request_id_param if self._statement_params else None
        try:
            from snowflake.connector.constants import FIELD_ID_TO_NAME

            self._field_names: dict[int, str] = dict(FIELD_ID_TO_NAME)
        except ImportError:
            self._field_names = {}

    @classmethod
    async def open(cls, connection_name: str | None, settings: Settings) -> SnowflakeWarehouse:
        """Resolve the connection, log in once (to fail early and learn the identity), build the pool."""
        return await anyio.to_thread.run_sync(cls._open_blocking, connection_name, settings)

    @classmethod
    def _open_blocking(cls, connection_name: str | None, settings: Settings) -> SnowflakeWarehouse:
        import snowflake.connector  # lazy: ~260 ms, paid only when Snowflake is configured

        config = resolve_config(connection_name, settings)
        pool = ConnectionPool(lambda: connect(snowflake.connector, config), settings.snowflake_pool_size)
        light_pool = ConnectionPool(lambda: connect(snowflake.connector, config), LIGHT_SESSIONS)
        first = connect(snowflake.connector, config)
        pool.add_idle(first)
        role = getattr(first, "role", None) or config.shown.get("role") or "default-role"  # (entry's: 4.x)
        identity = f"snowflake:{first.account}/{first.user}/{role}"  # names only, never a credential
        network_timeout = getattr(first, "network_timeout", None) or settings.snowflake_network_timeout_s
        log.info("opened Snowflake %s as %s", config.label, identity)
        return cls(snowflake.connector, config, pool, identity, float(network_timeout) + 10.0,
                   light_pool=light_pool, pools=WorkerPools.from_settings(settings))

    # -- statements -------------------------------------------------------

    async def execute(
        self,
        sql: str,
        collector: RowCollector,
        *,
        params: Sequence[Any] | None = None,
        timeout_s: float,
        tag: QueryTag,
    ) -> FetchOutcome:
        statement = self._statement(sql, {"server": tag.server, "tool": tag.tool})

        def work() -> FetchOutcome:
            with self._session(statement) as pooled:
                cursor = self._submit(pooled, statement, params, run_async=True)
                delay = 0.02
                while pooled.raw.is_still_running(pooled.raw.get_query_status_throw_if_error(statement.query_id)):
                    if statement.cancelled.wait(delay):
                        raise ConnectionAbandoned
                    delay = min(delay * 2, 0.5)
                # A Snowflake query id is a UUID: parsing it keeps this literal inert.
                scan = f"SELECT * FROM TABLE(RESULT_SCAN('{uuid.UUID(statement.query_id)}'))"
                cursor.execute(scan, **self._statement_kwargs(pooled, cursor, statement, request_id=False))
                batch = cursor.fetchmany(collector.fetch_size)
                columns, convert = self._columns(cursor.description)
                while collector.add_batch(convert(batch)) and batch and not statement.cancelled.is_set():
                    batch = cursor.fetchmany(collector.fetch_size)
                return FetchOutcome(columns=columns, query_id=statement.query_id)

        return await self._in_thread(work, statement, timeout_s)

    def _statement(self, sql: str, tag: dict[str, str]) -> _Statement:
        return _Statement(sql, tag, with_request_id=self._request_id_param is not None)

    @contextmanager
    def _session(self, statement: _Statement, *, light: bool = False) -> Iterator[PooledConnection]:
        """A pooled session for one statement, dropped afterwards if the statement broke it."""
        pool = self._light_pool if light else self._pool
        pooled = pool.acquire(statement.cancelled)
        statement.pooled = pooled
        reusable = True
        try:
            yield pooled
        except BaseException as exc:
            reusable = not self._breaks_session(exc)
            raise
        finally:
            pool.release(pooled, reusable=reusable)

    def _submit(self, pooled: PooledConnection, statement: _Statement, params: Sequence[Any] | None, *,
                run_async: bool) -> Any:
        if statement.cancelled.is_set():  # abandoned while waiting for a session
            raise ConnectionAbandoned
        cursor = pooled.raw.cursor()
        kwargs = self._statement_kwargs(pooled, cursor, statement, request_id=True)
        bound = list(params) if params else None
        (cursor.execute_async if run_async else cursor.execute)(statement.sql, bound, **kwargs)
        statement.query_id = cursor.sfqid
        if statement.cancelled.is_set():  # abandoned while submitting: the id is known now
            statement.send_cancel()
            raise ConnectionAbandoned
        return cursor

    def _statement_kwargs(self, pooled: PooledConnection, cursor: Any, statement: _Statement, *,
                          request_id: bool) -> dict[str, Any]:
        """Per-statement parameters (no round trip); without driver support, ALTER SESSION on a tag change.

        Snowflake takes a repeated request id for a retry of the same request, so only the
        statement itself carries ours. No `timeout` is passed: the driver then retries a
        request for the network timeout only, and an outage surfaces fast.
        """
        if not self._statement_params:
            if pooled.query_tag != statement.tag:
                from sqlglot import exp

                cursor.execute(f"ALTER SESSION SET QUERY_TAG = {exp.Literal.string(statement.tag).sql('snowflake')}")
                pooled.query_tag = statement.tag
            return {"num_statements": 1}
        params: dict[str, Any] = {"QUERY_TAG": statement.tag}
        if request_id and self._request_id_param and statement.request_id is not None:
            params[self._request_id_param] = str(statement.request_id)
        return {"num_statements": 1, "_statement_params": params}

    async def _in_thread(self, work: Callable[[], T], statement: _Statement, timeout_s: float, *,
                         light: bool = False) -> T:
        """Run blocking `work` in a worker thread of our own; on timeout or cancellation cancel it in Snowflake."""
        try:
            with anyio.fail_after(timeout_s) as scope:
                return await self._pools.run(work, light=light, interrupt=statement.abandon)
        except TimeoutError:
            if not scope.cancel_called:  # a socket timeout from inside the driver
                raise _not_resent(WarehouseUnavailable("Snowflake network timeout", transient=True), statement) from None
            statement.abandon()
            raise QueryTimeout(f"statement cancelled after {timeout_s:g} s") from None
        except anyio.get_cancelled_exc_class():
            statement.abandon()
            raise
        except ConnectionAbandoned:
            raise WarehouseUnavailable("the Snowflake connection pool is closed", transient=False) from None
        except self._errors.Error as exc:
            raise _not_resent(self._map_error(exc), statement) from None
        except OSError as exc:  # a socket error the driver let through
            raise _not_resent(WarehouseUnavailable(f"Snowflake unreachable: {type(exc).__name__}"), statement) from None

    def _breaks_session(self, exc: BaseException) -> bool:
        errors = self._errors
        if not isinstance(exc, errors.Error):
            return isinstance(exc, OSError)
        return errno_of(exc) in SESSION_GONE or not isinstance(exc, errors.DatabaseError) or isinstance(
            exc, (errors.OperationalError, errors.InterfaceError, errors.InternalError))

    def _map_error(self, exc: BaseException) -> SnowmcpError:
        errno, text = errno_of(exc), self._config.scrub(summarize(exc))
        if errno in SESSION_GONE:
            return WarehouseUnavailable(f"Snowflake session ended ({errno}): {text}; reconnecting", transient=True)
        if self._breaks_session(exc):
            return WarehouseUnavailable(f"Snowflake unreachable ({errno}): {text}", transient=True)
        if errno in _CANCELLED:
            return QueryTimeout(f"Snowflake cancelled the statement ({errno}): {text}")
        sqlstate = sqlstate_of(exc)
        state = f" ({sqlstate})" if sqlstate else ""
        return QueryFailed(f"Snowflake {errno}{state}: {text}")

    def _columns(self, description: Any) -> tuple[list[ColumnInfo], Callable[[list[Any]], list[Any]]]:
        """Column names and Snowflake types, and a converter parsing semi-structured JSON text and
        year-month intervals (the collector makes every other value JSON-safe: `common.result_values`)."""
        columns, convert_at = [], []
        for index, meta in enumerate(description or []):  # (name, type_code, _, _, precision, scale, _)
            kind = self._field_names.get(meta[1], str(meta[1]))
            number = kind == "FIXED" and meta[4] is not None
            columns.append(ColumnInfo(name=meta[0], type=column_type("NUMBER" if number else kind, meta[4], meta[5])))
            if kind in _JSON_TYPES:
                convert_at.append((index, _parse_json))
            elif kind == "INTERVAL_YEAR_MONTH":  # the connector's text ('+1-02'), its scale says which fields
                convert_at.append((index, functools.partial(year_month_duration, scale=meta[5])))

        def convert(batch: list[Any]) -> list[Any]:
            if not convert_at:
                return batch
            rows = [list(row) for row in batch]
            for row in rows:
                for index, parse in convert_at:
                    row[index] = parse(row[index])
            return rows

        return columns, convert

    # -- catalog ----------------------------------------------------------

    async def _rows(self, sql: str, params: Sequence[Any] = (), *, tool: str,
                    missing: NotFound | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a small server-built query: (lower-case column names, rows); `missing` replaces error 2003."""
        statement = self._statement(sql, {"tool": tool})

        def work() -> tuple[list[str], list[tuple[Any, ...]]]:
            with self._session(statement, light=True) as pooled:
                cursor = self._submit(pooled, statement, params, run_async=False)
                rows = cursor.fetchall()
                return [str(d[0]).lower() for d in cursor.description or []], rows

        try:
            return await self._in_thread(work, statement, self._catalog_timeout_s, light=True)
        except QueryFailed as exc:
            if missing is not None and exc.message.startswith(f"Snowflake {_MISSING} "):
                raise missing from None
            raise

    async def close(self) -> None:
        def close_pools() -> None:
            self._pool.close()
            self._light_pool.close()

        with anyio.move_on_after(10):
            await anyio.to_thread.run_sync(close_pools, abandon_on_cancel=True)


def _not_resent(error: SnowmcpError, statement: _Statement) -> SnowmcpError:
    """A fault after the statement reached Snowflake is never retried: retrying would run it twice.

    Only faults before submission (no query id yet: login, a dead pooled session, the submit
    request itself) stay transient, for the runtime to retry on a new session."""
    if statement.query_id is None or not isinstance(error, WarehouseUnavailable) or not error.transient:
        return error
    return WarehouseUnavailable(
        f"{error.message} after the statement reached Snowflake (query id {statement.query_id}); not resent",
        transient=False,
        hint="Run it again if you still need its result; the warehouse may be recovering.",
    )


def _parse_json(value: Any) -> Any:
    """Semi-structured JSON text as Python values; numbers with a fraction as decimals, so the
    collector keeps them exact (a number when a double holds it, else a string)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value, parse_float=decimal.Decimal)
    except ValueError:
        return value


def year_month_duration(value: Any, scale: int | None) -> Any:
    """An INTERVAL YEAR TO MONTH as the connector gives it ('+1-02'; INTERVAL YEAR '+1' at scale 1,
    INTERVAL MONTH '+14' at scale 2) as an ISO 8601 duration: P1Y2M, P1Y, P14M; negative: P-1Y-2M."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    try:
        if "-" in body:
            years, months = (int(part) for part in body.split("-", 1))
        elif scale == 2:
            years, months = 0, int(body)
        else:
            years, months = int(body), 0
    except ValueError:
        return value  # a form this connector version does not write: its own text
    parts = (f"{sign}{years}Y" if years else "") + (f"{sign}{months}M" if months else "")
    return f"P{parts}" if parts else "PT0S"
