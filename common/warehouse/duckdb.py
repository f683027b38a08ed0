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

    def __init__(self, path: Path, engine: EngineConfig | None = None, pools: WorkerPools | None = None) -> None:
        import duckdb  # lazy: keeps server start-up fast

        self.path = path
        self.identity = f"duckdb:{path.resolve()}"
        self._duckdb = duckdb
        if not path.exists():
            raise WarehouseUnavailable(f"DuckDB file {path} does not exist", transient=False,
                                       hint="Check SNOWMCP_WAREHOUSE (duckdb:///absolute/path/NAME.duckdb).")
        try:
            self._engine: SharedEngine | None = open_locked(duckdb, path, engine or EngineConfig())
        except duckdb.Error as exc:
            raise WarehouseUnavailable(
                f"cannot open DuckDB file {path}: {_first_line(exc)}",
                transient=False,
                hint="Check the file is a DuckDB database and not opened for writing by another process.",
            ) from None
        self._lock = threading.Lock()
        self._pools = pools or WorkerPools(8, 8)
        self._cap_cells = CellCapper(duckdb.Error)

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
        engine, cursor = self._cursor()
        bound = list(params) if params else None
        interrupted = threading.Event()

        def interrupt() -> None:
            interrupted.set()
            cursor.interrupt()

        def work() -> FetchOutcome:
            with engine.hold(cursor):  # closed by the thread itself, after an interrupted statement returns
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

        return await self._in_thread(work, interrupt, timeout_s)

    async def _in_thread(self, work: Callable[[], T], interrupt: Callable[[], None], timeout_s: float, *,
                         light: bool = False) -> T:
        """Run blocking `work` in a worker thread; on timeout or cancellation interrupt it in DuckDB."""
        try:
            with anyio.fail_after(timeout_s):
                return await self._pools.run(work, light=light, interrupt=interrupt)
        except TimeoutError:
            raise QueryTimeout(f"statement cancelled after {timeout_s:g} s") from None
        except self._duckdb.InterruptException:
            raise QueryTimeout("statement was interrupted") from None
        except self._duckdb.Error as exc:
            raise QueryFailed(f"DuckDB: {_first_line(exc)}") from None

    def _cursor(self) -> tuple[SharedEngine, Any]:
        """A new cursor, and the engine it belongs to (the work holds both until it really ends)."""
        with self._lock:
            if self._engine is None:
                raise WarehouseUnavailable("the DuckDB warehouse is closed", transient=False)
            return self._engine, self._engine.con.cursor()

    async def _rows(self, sql: str, params: Sequence[Any] = (), timeout_s: float = 30.0) -> list[tuple[Any, ...]]:
        engine, cursor = self._cursor()

        def work() -> list[tuple[Any, ...]]:
            with engine.hold(cursor):
                return cursor.execute(sql, list(params)).fetchall()

        return await self._in_thread(work, cursor.interrupt, timeout_s, light=True)

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
        with self._lock:
            self._engine = None  # the file closes once no other warehouse of this process shares it


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
