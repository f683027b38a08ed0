"""DuckDB backend: the embedded demo warehouse and any local DuckDB file.

The file is opened read-only (several servers share it; DuckDB allows many
readers) as a locked engine (`duckdb_engine.py`): external access and extension
loading off, memory, threads and temp files bounded, configuration locked, so
neither a file reader nor `COPY ... TO` nor `SET` works even if something
slipped past the SQL guard. Each statement runs on its own cursor in a worker
thread of the backend's own pools (`common.concurrency`: statements and catalog
lookups apart); a timeout or a cancelled call interrupts the statement inside
DuckDB. Cells are capped inside the statement (`duckdb_cells.py`) and rows are
fetched in batches sized by the collector, so a huge value never materialises.

The file is open only while calls use it and for `SNOWMCP_DUCKDB_IDLE_CLOSE_S`
after (`duckdb_lifecycle.py`), so dbt can write it while a server is idle; a
call that finds a writer's lock waits a bounded time, then says so. Each call
holds a lease from its cursor to the real end of its work. A reopen that finds
the file changed forgets the described statements; the result cache keys on
`data_version`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import anyio

from snowmcp.common.concurrency import WorkerPools
from snowmcp.common.errors import NotFound, QueryFailed, QueryTimeout, WarehouseUnavailable
from snowmcp.common.results import ColumnInfo, RowCollector
from snowmcp.common.warehouse.duckdb_cells import CellCapper
from snowmcp.common.warehouse.duckdb_engine import EngineConfig, SharedEngine, open_locked
from snowmcp.common.warehouse.duckdb_lifecycle import Clock, FileHandle, Lease, Signature, is_lock_conflict
from snowmcp.common.warehouse.base import (
    ColumnDescription,
    DatabaseInfo,
    FetchOutcome,
    QueryTag,
    SchemaInfo,
    TableDescription,
    TableInfo,
    TableRef,
)

log = logging.getLogger("snowmcp.duckdb")
T = TypeVar("T")

_TABLES_SQL = """
SELECT database_name, schema_name, table_name, 'table' AS kind, estimated_size, comment
FROM duckdb_tables() WHERE NOT internal AND NOT temporary
UNION ALL
SELECT database_name, schema_name, view_name, 'view', NULL, comment
FROM duckdb_views() WHERE NOT internal AND NOT temporary
"""


def like_pattern(name_like: str) -> str:
    """A LIKE pattern from a caller's filter: wildcards kept, plain text matched as a substring."""
    return name_like if ("%" in name_like or "_" in name_like) else f"%{name_like}%"


class DuckDBWarehouse:
    dialect = "duckdb"

    def __init__(self, path: Path, engine: EngineConfig | None = None, pools: WorkerPools | None = None, *,
                 clock: Clock | None = None) -> None:
        import duckdb  # lazy: keeps server start-up fast

        self.path = path
        self.identity = f"duckdb:{path.resolve()}"
        self._duckdb = duckdb
        if not path.exists():
            raise WarehouseUnavailable(f"DuckDB file {path} does not exist", transient=False,
                                       hint="Check SNOWMCP_WAREHOUSE (duckdb:///absolute/path/NAME.duckdb).")
        config = engine or EngineConfig()
        self._pools = pools or WorkerPools(8, 8)
        self._cap_cells = CellCapper(duckdb.Error)
        self._file = FileHandle(path, lambda: open_locked(duckdb, path, config), idle_close_s=config.idle_close_s,
                                lock_wait_s=config.lock_wait_s, clock=clock, on_change=self._file_changed)
        try:
            self._file.open_now()  # a file that is no DuckDB database fails here, at start-up
        except duckdb.Error as exc:
            if not is_lock_conflict(exc):
                raise self._cannot_open(exc) from None
            log.info("DuckDB file %s is locked by a writer; it is opened on the first call", path)

    @property
    def data_version(self) -> Signature:
        """Changes whenever another process wrote the file (part of the result cache's key)."""
        return self._file.version()

    @property
    def _engine(self) -> SharedEngine | None:
        """The open engine, or None while the file is let go of."""
        return self._file.engine

    def _file_changed(self) -> None:
        """A reopen found the file written since: statements described before may have other columns now."""
        self._cap_cells = CellCapper(self._duckdb.Error)

    def _cannot_open(self, exc: BaseException) -> WarehouseUnavailable:
        return WarehouseUnavailable(
            f"cannot open DuckDB file {self.path}: {_first_line(exc)}",
            transient=False,
            hint="Check the file is a DuckDB database and not opened for writing by another process.",
        )

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
        bound = list(params) if params else None

        def statement(cursor: Any, interrupted: threading.Event) -> FetchOutcome:
            capped = self._cap_cells(cursor, sql, bound, collector.max_cell_bytes)
            if interrupted.is_set():  # given up while describing: never start the statement
                raise self._duckdb.InterruptException("interrupted before it started")
            cursor.execute(capped.sql if capped else sql, bound)
            if capped is not None:
                columns, visible = capped.columns, capped.rows
            else:
                columns = [ColumnInfo(name=d[0], type=str(d[1])) for d in cursor.description or []]
                visible = list
            while collector.add_batch(visible(batch := cursor.fetchmany(collector.fetch_size))) and batch:
                pass
            return FetchOutcome(columns=columns, query_id=None)

        return await self._call(statement, timeout_s)

    async def _call(self, body: Callable[[Any, threading.Event], T], timeout_s: float, *, light: bool = False) -> T:
        """Run `body(cursor, interrupted)` in a worker thread on a cursor of the open file (opened if need
        be, waiting out a writer's lock within the timeout). The lease keeps the file open until the work
        really ends, after an interrupt too; the cursor is closed by the thread itself."""
        clock = self._file.clock
        started = clock.monotonic()
        lease = await self._lease(timeout_s)
        try:
            cursor = lease.engine.con.cursor()
        except BaseException:
            lease.abandon()
            raise
        interrupted = threading.Event()

        def interrupt() -> None:
            interrupted.set()
            try:
                cursor.interrupt()
            except Exception:  # the work ended meanwhile and closed its cursor
                pass

        def work() -> T:
            if not lease.start():  # the caller gave up before the thread got here
                raise self._duckdb.InterruptException("interrupted before it started")
            try:
                with cursor:
                    return body(cursor, interrupted)
            finally:
                lease.end()

        try:
            return await self._in_thread(work, interrupt, timeout_s, light=light,
                                         spent_s=clock.monotonic() - started)
        finally:
            if lease.abandon():  # the work never ran
                cursor.close()

    async def _lease(self, timeout_s: float) -> Lease:
        try:
            return await self._file.lease(timeout_s, lambda fn: self._pools.run(fn, light=True))
        except self._duckdb.Error as exc:
            raise self._cannot_open(exc) from None

    async def _in_thread(self, work: Callable[[], T], interrupt: Callable[[], None], timeout_s: float, *,
                         light: bool = False, spent_s: float = 0.0) -> T:
        """Run blocking `work` in a worker thread; on timeout (`timeout_s` of which `spent_s` went on
        waiting for the file) or cancellation interrupt it in DuckDB."""
        try:
            with anyio.fail_after(max(timeout_s - spent_s, 0.0)):
                return await self._pools.run(work, light=light, interrupt=interrupt)
        except TimeoutError:
            raise QueryTimeout(f"statement cancelled after {timeout_s:g} s") from None
        except self._duckdb.InterruptException:
            raise QueryTimeout("statement was interrupted") from None
        except self._duckdb.Error as exc:
            raise QueryFailed(f"DuckDB: {_first_line(exc)}") from None

    async def _rows(self, sql: str, params: Sequence[Any] = (), timeout_s: float = 30.0) -> list[tuple[Any, ...]]:
        def lookup(cursor: Any, _: threading.Event) -> list[tuple[Any, ...]]:
            return cursor.execute(sql, list(params)).fetchall()

        return await self._call(lookup, timeout_s, light=True)

    # -- catalog ----------------------------------------------------------

    async def current_location(self) -> tuple[str | None, str | None]:
        rows = await self._rows("SELECT current_database(), current_schema()")
        return rows[0][0], rows[0][1]

    async def list_databases(self) -> list[DatabaseInfo]:
        rows = await self._rows(
            "SELECT database_name, comment FROM duckdb_databases() WHERE NOT internal ORDER BY 1"
        )
        return [DatabaseInfo(name=r[0], comment=r[1]) for r in rows]

    async def list_schemas(self, database: str) -> list[SchemaInfo]:
        rows = await self._rows(
            "SELECT database_name, schema_name, comment FROM duckdb_schemas() "
            "WHERE NOT internal AND lower(database_name) = lower(?) ORDER BY 2",
            [database],
        )
        if not rows and not await self._database_exists(database):
            raise NotFound(f"database {database} does not exist")
        return [SchemaInfo(database=r[0], name=r[1], comment=r[2]) for r in rows]

    async def list_tables(
        self, database: str, schema: str | None, name_like: str | None = None
    ) -> list[TableInfo]:
        sql = f"SELECT * FROM ({_TABLES_SQL}) WHERE lower(database_name) = lower(?)"
        params: list[Any] = [database]
        if schema is not None:
            sql += " AND lower(schema_name) = lower(?)"
            params.append(schema)
        if name_like:
            sql += " AND table_name ILIKE ?"
            params.append(like_pattern(name_like))
        rows = await self._rows(sql + " ORDER BY 2, 3", params)
        if not rows:
            await self._require_location(database, schema)
        return [
            TableInfo(database=r[0], schema=r[1], name=r[2], kind=r[3], row_count=r[4], comment=r[5])
            for r in rows
        ]

    async def describe_table(self, table: TableRef) -> TableDescription:
        matches = await self.list_tables(table.database, table.schema, None)
        info = next((t for t in matches if t.name.lower() == table.name.lower()), None)
        if info is None:
            raise NotFound(f"table {table} does not exist")
        rows = await self._rows(
            "SELECT column_name, data_type, is_nullable, column_default, comment FROM duckdb_columns() "
            "WHERE database_name = ? AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [info.database, info.schema_, info.name],
        )
        columns = [
            ColumnDescription(name=r[0], type=r[1], nullable=bool(r[2]), default=r[3], comment=r[4]) for r in rows
        ]
        return TableDescription(**info.model_dump(), columns=columns)

    async def _database_exists(self, database: str) -> bool:
        return any(d.name.lower() == database.lower() for d in await self.list_databases())

    async def _require_location(self, database: str, schema: str | None) -> None:
        """Raise NotFound when the database (or schema) itself is missing."""
        schemas = await self.list_schemas(database)
        if schema is not None and not any(s.name.lower() == schema.lower() for s in schemas):
            raise NotFound(f"schema {database}.{schema} does not exist")

    async def close(self) -> None:
        self._file.close()  # the file closes once no call and no other warehouse of this process uses it


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
