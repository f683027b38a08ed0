from __future__ import annotations

import inspect
import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio

from snowmcp.common.concurrency import WorkerPools
from snowmcp.common.errors import NotFound, QueryFailed, QueryTimeout, SnowmcpError, WarehouseUnavailable
from snowmcp.common.results import RowCollector
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import FetchOutcome, QueryTag
from snowmcp.common.warehouse.snowflake_catalog import SnowflakeCatalog
from snowmcp.common.warehouse.snowflake_handles import QUERY_ID_LOOKUP_AFTER_S, SnowflakeHandles
from snowmcp.common.warehouse.snowflake_pool import (
    ConnectionAbandoned, ConnectionConfig, ConnectionPool, PooledConnection, connect, errno_of, resolve_config,
    sqlstate_of, summarize,
)
from snowmcp.common.warehouse.snowflake_statement import CoreOperation, Statement, core_execute_hook
from snowmcp.common.warehouse.snowflake_values import fetch_into, year_month_duration  # noqa: F401  (re-exported)

log = logging.getLogger("snowmcp.snowflake")
T = TypeVar("T")
LIGHT_SESSIONS = 2  # sessions kept apart for catalog lookups, beside SNOWMCP_SNOWFLAKE_POOL_SIZE
__all__ = ["LIGHT_SESSIONS", "QUERY_ID_LOOKUP_AFTER_S", "SnowflakeWarehouse", "year_month_duration"]

# The session must log in again (390114 master token expired, 390111 session gone, 250002 closed...).
SESSION_GONE = {390104, 390111, 390112, 390113, 390114, 390115, 250002, 252006}
_CANCELLED = {604, 630}  # SQL execution canceled; statement timeout reached
_MISSING = 2003  # object does not exist or not authorized
# A fault that says the request never left this machine: safe to resend on a new session.
_NEVER_CONNECTED = re.compile(r"Failed to connect|Connection refused|Name or service not known|dns error|"
                              r"failed to lookup address|Connection pool is closed", re.IGNORECASE)


class SnowflakeWarehouse(SnowflakeHandles, SnowflakeCatalog):
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
        self._core_hook = core_execute_hook()  # 5.x: its execute request, cancellable (the core aborts it)
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
        on_query_id: Callable[[str], None] | None = None,
    ) -> FetchOutcome:
        """Run one statement in one request, feeding rows to `collector` until it is full; see the
        module docstring for `on_query_id`."""
        statement = self._statement(sql, {"server": tag.server, "tool": tag.tool}, on_query_id=on_query_id)
        statement.timeout_s = timeout_s

        def work() -> FetchOutcome:
            with self._session(statement) as pooled:
                if on_query_id is not None:
                    self._watch_for_query_id(statement)
                cursor = self._submit(pooled, statement, params)
                columns = fetch_into(cursor, collector, self._field_names, statement.cancelled)
                return FetchOutcome(columns=columns, query_id=statement.query_id)

        return await self._in_thread(work, statement, timeout_s)

    def _statement(self, sql: str, tag: dict[str, str], *,
                   on_query_id: Callable[[str], None] | None = None) -> Statement:
        """A statement; its tag carries a nonce where its query id may have to be looked up."""
        early_cancel = self._core_hook is not None or self._request_id_param is not None
        statement = Statement(sql, tag, with_request_id=self._request_id_param is not None,
                              nonce=self._statement_params and (on_query_id is not None or not early_cancel),
                              on_query_id=on_query_id)
        if statement.nonce and not early_cancel:
            statement.find_query_id = self._find_query_id
        return statement

    @contextmanager
    def _session(self, statement: Statement, *, light: bool = False) -> Iterator[PooledConnection]:
        """A pooled session for one statement, dropped afterwards if the statement broke it."""
        pool = self._light_pool if light else self._pool
        pooled = pool.acquire(statement.cancelled)
        statement.pooled = pooled
        statement.session_id = getattr(pooled.raw, "session_id", None)
        reusable = True
        try:
            yield pooled
        except BaseException as exc:
            reusable = not self._breaks_session(exc)
            raise
        finally:
            statement.finished.set()
            pool.release(pooled, reusable=reusable)

    def _submit(self, pooled: PooledConnection, statement: Statement, params: Sequence[Any] | None) -> Any:
        """Send the statement and wait for Snowflake's answer (its query id and first batch)."""
        if statement.cancelled.is_set():  # abandoned while waiting for a session
            raise ConnectionAbandoned
        cursor = pooled.raw.cursor()
        kwargs = self._statement_kwargs(pooled, cursor, statement, request_id=True)
        if self._core_hook is not None:
            statement.core = CoreOperation()
            cursor._execute_query = self._core_hook(statement.core)  # this cursor only
        statement.sent = True
        try:
            cursor.execute(statement.sql, list(params) if params else None, **kwargs)
        finally:
            statement.finished.set()
        statement.known(cursor.sfqid)
        if statement.cancelled.is_set():  # abandoned while it ran: nothing left to cancel
            raise ConnectionAbandoned
        return cursor

    def _statement_kwargs(self, pooled: PooledConnection, cursor: Any, statement: Statement, *,
                          request_id: bool) -> dict[str, Any]:
        """Per-statement parameters (no round trip); without driver support, ALTER SESSION on a tag change.

        Snowflake takes a repeated request id for a retry of the same request, so only the
        statement itself carries ours. 4.x cancels a synchronous statement itself after its
        `timeout` (default: the network timeout) and retries its requests for that long, so a
        statement passes its own timeout plus a second (ours cancels first) and `_no_retry` for
        its submission: a refused connection fails at once, and the runtime retries it as a fault
        that never reached Snowflake, while the driver still retries its polls of a long statement.
        Catalog lookups pass neither: the network timeout bounds them.
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
        four = {"timeout": math.ceil(statement.timeout_s) + 1, "_no_retry": True} \
            if statement.timeout_s and self._core_hook is None else {}
        return {"num_statements": 1, "_statement_params": params, **four}

    async def _in_thread(self, work: Callable[[], T], statement: Statement, timeout_s: float, *,
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
            raise _not_resent(self._map_error(exc), statement, refused=errno_of(exc) in SESSION_GONE) from None
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

    # -- catalog ----------------------------------------------------------

    async def _rows(self, sql: str, params: Sequence[Any] = (), *, tool: str,
                    missing: NotFound | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a small server-built query: (lower-case column names, rows); `missing` replaces error 2003."""
        statement = self._statement(sql, {"tool": tool})

        def work() -> tuple[list[str], list[tuple[Any, ...]]]:
            with self._session(statement, light=True) as pooled:
                cursor = self._submit(pooled, statement, params)
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


def _not_resent(error: SnowmcpError, statement: Statement, *, refused: bool = False) -> SnowmcpError:
    """A fault once the statement may have reached Snowflake is never retried: retrying could run it twice.

    Transient stay only faults before the request was sent (login, a dead pooled session), faults
    saying the connection could not be made, and a session Snowflake refused (`refused`: it ran
    nothing) - for the runtime to retry on a new session."""
    if not isinstance(error, WarehouseUnavailable) or not error.transient or refused:
        return error
    if statement.query_id is None and (not statement.sent or _NEVER_CONNECTED.search(error.message)):
        return error
    where = f"query id {statement.query_id}" if statement.query_id else "its request was sent"
    return WarehouseUnavailable(
        f"{error.message} after the statement reached Snowflake ({where}); not resent",
        transient=False,
        outage=True,  # not retried, but a fault of the warehouse all the same
        hint="Run it again if you still need its result; the warehouse may be recovering.",
    )
