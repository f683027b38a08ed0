"""The `Warehouse` protocol every backend implements, and the catalog models.

A backend runs one statement at a time per call, with a row/byte cap and a
timeout that cancels the statement in the warehouse, and answers catalog
questions. Blocking drivers run in worker threads; no method blocks the loop.
Backends translate driver exceptions into `common.errors`: SQL mistakes into
`QueryFailed`, lost connections into `WarehouseUnavailable(transient=True)`,
timeouts into `QueryTimeout`, so the layers above never see driver types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from snowmcp.common.results import ColumnInfo, RowCollector


@dataclass(frozen=True)
class TableRef:
    """A fully qualified table name, parts as the warehouse stores them (unquoted)."""

    database: str
    schema: str
    name: str

    def __str__(self) -> str:
        return f"{self.database}.{self.schema}.{self.name}"


@dataclass(frozen=True)
class QueryTag:
    """Who is asking: recorded with each statement where the warehouse supports it."""

    server: str
    tool: str


@dataclass
class FetchOutcome:
    columns: list[ColumnInfo]
    query_id: str | None


class DatabaseInfo(BaseModel):
    name: str
    comment: str | None = None


class SchemaInfo(BaseModel):
    database: str
    name: str
    comment: str | None = None


class TableInfo(BaseModel):
    database: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    name: str
    kind: Literal["table", "view"]
    row_count: int | None = Field(None, description="Rows, as the warehouse estimates them.")
    bytes: int | None = Field(None, description="Storage bytes, where the warehouse reports them.")
    comment: str | None = None

    model_config = {"populate_by_name": True}


class ColumnDescription(BaseModel):
    name: str
    type: str
    nullable: bool
    default: str | None = None
    comment: str | None = None


class TableDescription(TableInfo):
    columns: list[ColumnDescription]

    @property
    def ref(self) -> TableRef:
        return TableRef(self.database, self.schema_, self.name)


class Warehouse(Protocol):
    """One warehouse connection (or pool) shared by all tool calls of a server."""

    dialect: str
    """The sqlglot dialect SQL for this warehouse is rendered in."""

    identity: str
    """Stable text naming the warehouse and role (part of every cache key); no secrets."""

    async def execute(
        self,
        sql: str,
        collector: RowCollector,
        *,
        params: Sequence[Any] | None = None,
        timeout_s: float,
        tag: QueryTag,
    ) -> FetchOutcome:
        """Run one statement, feeding rows to `collector` until it is full."""
        ...

    async def current_location(self) -> tuple[str | None, str | None]:
        """The session's current (database, schema), used to complete short names."""
        ...

    async def list_databases(self) -> list[DatabaseInfo]: ...

    async def list_schemas(self, database: str) -> list[SchemaInfo]: ...

    async def list_tables(
        self, database: str, schema: str | None, name_like: str | None = None
    ) -> list[TableInfo]:
        """Tables and views; `schema=None` means every schema of the database."""
        ...

    async def describe_table(self, table: TableRef) -> TableDescription:
        """Columns of one table or view; raises `NotFound` when it does not exist."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class StoredResults(Protocol):
    """A warehouse that keeps results by query id (Snowflake: 24 hours), so a handle or a page
    outlives the process: `execute` also takes `on_query_id` (called once from a worker thread,
    as soon as the id is known), `fetch_result` reads a statement's result by id (raising
    `QueryTimeout` while it still runs, without cancelling it), `cancel` aborts it by id."""

    async def fetch_result(self, query_id: str, collector: RowCollector, *, timeout_s: float) -> FetchOutcome: ...

    async def cancel(self, query_id: str) -> bool: ...
