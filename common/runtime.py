"""What a server's tools share: the warehouse, the cache, the breaker and the SQL path.

Every statement any tool sends goes through `ServerRuntime.query`: argument
caps, cache lookup (single-flight), retries of transient faults inside the
circuit breaker, the row/byte-capped fetch, and the telemetry record. Catalog
calls go through `ServerRuntime.catalog` (breaker and retries, no cache).
SQL text that we did not build (model-written statements, suite fragments,
SQL read back from storage) must first pass the server's `Guard`
(`ServerRuntime.guard` / `sql_guard`); statements travel to `query` as sqlglot
expressions and are capped and rendered once there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
from cachetools import LRUCache

from snowmcp.common.cache import ResultCache
from snowmcp.common.concurrency import current_session, session_slot
from snowmcp.common.errors import InvalidArgument, NotFound, SnowmcpError, WarehouseUnavailable
from snowmcp.common.long_calls import LongCalls
from snowmcp.common.pages import PagedStatement, Pages, is_ordered, page_note, params_tuple
from snowmcp.common.resilience import CircuitBreaker, resilient_call
from snowmcp.common.results import QueryResult, RowCollector
from snowmcp.common.row_limit import capped, with_row_limit
from snowmcp.common.settings import Settings
from snowmcp.common.telemetry import current_stats
from snowmcp.common.warehouse.base import QueryTag, StoredResults, Warehouse

if TYPE_CHECKING:
    from sqlglot import exp

    from snowmcp.common.guard import Guard, GuardVerdict
    from snowmcp.common.statement import Rendered

T = TypeVar("T")


class ServerRuntime:
    def __init__(self, server_name: str, settings: Settings, warehouse: Warehouse | None = None) -> None:
        self.server_name = server_name
        self.settings = settings
        self.cache: ResultCache[QueryResult] = ResultCache(
            ttl_s=settings.cache_ttl_s, max_bytes=settings.cache_max_bytes
        )
        self.breaker = CircuitBreaker(
            server_name,
            failure_threshold=settings.breaker_failure_threshold,
            reset_timeout_s=settings.breaker_reset_timeout_s,
        )
        self.long_calls = LongCalls(settings.call_wait_s)
        self.pages = Pages()
        self._warehouse = warehouse
        self._owns_warehouse = warehouse is None  # one handed in (tests, a shared pool) is closed by its owner
        self._open_lock = asyncio.Lock()
        self._guard: Guard | None = None
        # CPU work (see off_loop) runs on two worker slots of its own.
        self._parse_slots = anyio.CapacityLimiter(2)
        self._capped_sql: LRUCache[tuple[str, int], str] = LRUCache(maxsize=4_000_000, getsizeof=len)

    async def warehouse(self) -> Warehouse:
        """The warehouse, opened on first use (the demo warehouse is built then)."""
        if self._warehouse is None:
            async with self._open_lock:
                if self._warehouse is None:
                    from snowmcp.common.warehouse.selection import open_warehouse

                    self._warehouse = await open_warehouse(self.settings)
        current_stats().warehouse = self._warehouse.identity
        return self._warehouse

    async def close(self) -> None:
        await self.long_calls.close()
        if self._warehouse is not None and self._owns_warehouse:
            await self._warehouse.close()
            self._warehouse = None

    # -- limits -----------------------------------------------------------

    def row_limit(self, max_rows: int | None) -> int:
        if max_rows is None:
            return self.settings.default_max_rows
        if not 1 <= max_rows <= self.settings.max_rows_limit:
            raise InvalidArgument(f"max_rows must be between 1 and {self.settings.max_rows_limit}, got {max_rows}")
        return max_rows

    def timeout(self, timeout_s: float | None) -> float:
        if timeout_s is None:
            return self.settings.query_timeout_s
        if not 0 < timeout_s <= self.settings.max_timeout_s:
            raise InvalidArgument(f"timeout_s must be > 0 and <= {self.settings.max_timeout_s:g}, got {timeout_s:g}")
        return float(timeout_s)

    # -- SQL --------------------------------------------------------------

    async def sql_guard(self) -> Guard:
        """The server's one guard, built on first use for the warehouse's dialect and the settings."""
        if self._guard is None:
            from snowmcp.common.guard import Guard

            warehouse = await self.warehouse()
            self._guard = Guard(warehouse.dialect, allow_functions=self.settings.allow_functions,
                                max_sql_chars=self.settings.max_sql_chars)
        return self._guard

    async def guard(self, sql: str) -> GuardVerdict:
        """Check SQL text we did not build; raise `SqlRefused` if refused. Parsing runs off the loop
        (a verdict reached lately is answered from the guard's cache, without a thread hop)."""
        guard = await self.sql_guard()
        verdict = guard.cached(sql)
        if verdict is None:
            verdict = await self.off_loop(lambda: guard.check(sql))
        return guard.require(verdict)

    async def off_loop(self, fn: Callable[[], T]) -> T:
        """Run CPU work (parsing, guarding, compiling, rendering) in a worker thread, two at a time, so
        a flood of long statements or big suites never stalls the calls behind them."""
        return await anyio.to_thread.run_sync(fn, limiter=self._parse_slots)

    async def query(
        self,
        statement: Rendered | GuardVerdict | exp.Expression | str,
        *,
        tool: str,
        max_rows: int | None = None,
        timeout_s: float | None = None,
        params: Sequence[Any] | None = None,
        use_cache: bool = True,
        pageable: bool = False,
        resumable: bool = False,
    ) -> QueryResult:
        """Run one trusted statement (guarded, or built by our own builders) and return its capped rows.

        The cap is pushed into the statement as a LIMIT (see `common.row_limit`), and the
        expression is rendered once, here. Text is accepted only for SQL we built ourselves.
        A cut result says how (`note`); a `pageable` one also carries `next_page` (`common.pages`).
        `resumable`: the tool's result is this result, so on a warehouse that keeps results by id a
        long call is named by a stored handle (`common.long_calls`)."""
        rows_cap = self.row_limit(max_rows)
        timeout = self.timeout(timeout_s)
        warehouse = await self.warehouse()
        on_query_id = self.long_calls.name_stored(rows_cap) if resumable and isinstance(warehouse, StoredResults) else None
        result = await self._run(statement, tool=tool, rows_cap=rows_cap, timeout=timeout, params=params,
                                 use_cache=use_cache, on_query_id=on_query_id)
        paged = None
        if pageable and not isinstance(statement, str):
            paged = PagedStatement(statement, tool, current_session.get(), params_tuple(params), rows_cap, timeout,
                                   getattr(warehouse, "data_version", None), is_ordered(statement))
        return self._with_page(result, paged, 0, None)

    async def page(self, token: str) -> QueryResult:
        """The page a `next_page` token names, with the token of the one after it."""
        page_id, page = self.pages.find(token, current_session.get())
        paged = page.paged
        warehouse = await self.warehouse()
        if getattr(warehouse, "data_version", None) != paged.data_version:
            raise InvalidArgument("the data changed since the first page was read; run the query again")
        result = await self._run(paged.statement, tool=paged.tool, rows_cap=paged.max_rows, timeout=paged.timeout_s,
                                 params=paged.params, use_cache=True, skip=page.offset)
        return self._with_page(result, paged, page.offset, page_id)

    def _with_page(self, result: QueryResult, paged: PagedStatement | None, offset: int,
                   page_id: str | None) -> QueryResult:
        """`result` with its note and, if pages can follow, the next page's token.

        Pages run the statement again even where the warehouse keeps results by id (Snowflake):
        the row cap is pushed into the statement, so its stored result ends one row past the cap."""
        cut = result.truncated_by
        if cut is None:
            return result
        token, ordered = None, True
        if paged is not None and cut in ("max_rows", "max_bytes") and result.row_count:
            token, ordered = self.pages.token(paged, offset + result.row_count, page_id), paged.ordered
        note = page_note(cut, token, ordered, budget_tokens=self.settings.max_result_tokens)
        return result.model_copy(update={"next_page": token, "note": note})

    async def stored_result(self, query_id: str, *, rows_cap: int, timeout_s: float) -> QueryResult:
        """A statement's result read back by its query id, capped as `query` caps (raises `NotFound` on
        a warehouse that keeps no results, `QueryTimeout` while the statement still runs)."""
        warehouse = await self.warehouse()
        if not isinstance(warehouse, StoredResults):
            raise NotFound("this warehouse keeps no results by query id", hint="Run the query again.")
        collector = RowCollector(max_rows=rows_cap, max_bytes=self.settings.max_result_bytes,
                                 max_cell_bytes=self.settings.max_cell_bytes)
        started = time.perf_counter()
        outcome = await self._resilient(lambda: warehouse.fetch_result(query_id, collector, timeout_s=timeout_s))
        result = QueryResult.from_collector(collector, columns=outcome.columns,
                                            elapsed_ms=(time.perf_counter() - started) * 1000, query_id=query_id)
        current_stats().record_statement(sql=f"result of {query_id}", rows=result.row_count,
                                         bytes_=result.size_bytes, cached=False, query_id=query_id)
        return result

    async def _run(self, statement: Rendered | GuardVerdict | exp.Expression | str, *, tool: str, rows_cap: int,
                   timeout: float, params: Sequence[Any] | None, use_cache: bool, skip: int = 0,
                   on_query_id: Callable[[str], None] | None = None) -> QueryResult:
        warehouse = await self.warehouse()
        dialect = warehouse.dialect
        sql = await self._rendered(statement, dialect, skip + rows_cap + 1)
        max_bytes, max_cell_bytes = self.settings.max_result_bytes, self.settings.max_cell_bytes
        tag = QueryTag(server=self.server_name, tool=tool)

        async def execute_once() -> QueryResult:
            collector = RowCollector(max_rows=rows_cap, max_bytes=max_bytes, max_cell_bytes=max_cell_bytes, skip=skip)
            started = time.perf_counter()
            async with session_slot(self.settings.max_session_statements, timeout):  # per MCP session
                if on_query_id is None:
                    outcome = await warehouse.execute(sql, collector, params=params, timeout_s=timeout, tag=tag)
                else:
                    outcome = await warehouse.execute(sql, collector, params=params, timeout_s=timeout, tag=tag,
                                                      on_query_id=on_query_id)  # type: ignore[call-arg]
            elapsed_ms = (time.perf_counter() - started) * 1000
            return QueryResult.from_collector(
                collector, columns=outcome.columns, elapsed_ms=elapsed_ms, query_id=outcome.query_id
            )

        async def compute() -> QueryResult:
            return await self._resilient(execute_once)

        if use_cache:
            # data_version (DuckDB: the file's signature) changes when another process wrote the file:
            # a result read before that write is never served after it.
            version = getattr(warehouse, "data_version", None)
            key = (warehouse.identity, version, sql, tuple(params or ()), rows_cap, max_bytes, max_cell_bytes, skip)
            result, cached = await self.cache.get_or_compute(key, compute, size_of=_result_size)
        else:
            result, cached = await compute(), False
        if cached:
            result = result.model_copy(update={"cached": True})
        current_stats().record_statement(
            sql=sql, rows=result.row_count, bytes_=result.size_bytes, cached=cached, query_id=result.query_id
        )
        return result

    async def _rendered(self, statement: Rendered | GuardVerdict | exp.Expression | str, dialect: str,
                        limit: int) -> str:
        """The statement, capped at `limit` rows, as text: rendered once, off the event loop."""
        from snowmcp.common.guard import GuardVerdict  # lazily: sqlglot is not paid for at start-up
        from snowmcp.common.statement import Rendered

        if isinstance(statement, str):
            return await self.off_loop(lambda: with_row_limit(statement, dialect, limit))
        known: str | None = None
        if isinstance(statement, (Rendered, GuardVerdict)):
            assert statement.expression is not None and statement.sql is not None
            statement, known = statement.expression, statement.sql
        if known is None:
            expression = statement
            return await self.off_loop(lambda: capped(expression, limit).sql(dialect=dialect))
        key = (known, limit)  # a statement sent again (a cached query) is neither copied nor rendered again
        sql = self._capped_sql.get(key)
        if sql is None:
            limited = capped(statement, limit)
            sql = known if limited is statement else await self.off_loop(lambda: limited.sql(dialect=dialect))
            self._capped_sql[key] = sql
        return sql

    async def catalog(self, fn: Callable[[Warehouse], Awaitable[T]]) -> T:
        """Run a catalog lookup on the warehouse with retries inside the breaker."""
        warehouse = await self.warehouse()
        return await self._resilient(lambda: fn(warehouse))

    async def _resilient(self, fn: Callable[[], Awaitable[T]]) -> T:
        try:
            return await resilient_call(fn, breaker=self.breaker, attempts=self.settings.retry_attempts)
        except SnowmcpError:
            raise
        except OSError as exc:  # a driver's network error that escaped the backend's mapping
            raise WarehouseUnavailable(f"warehouse connection failed: {type(exc).__name__}") from None


def _result_size(result: QueryResult) -> int:
    """Bytes a cached result holds: its JSON row bytes plus a small fixed overhead."""
    return result.size_bytes + 256

