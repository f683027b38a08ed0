"""Snowflake's catalog: databases, schemas, tables and columns from SHOW and INFORMATION_SCHEMA.

A mixin of `SnowflakeWarehouse`: every lookup goes through its `_rows` (a small
server-built query, values bound as `?`, identifiers quoted by sqlglot), so the
session handling, tagging and error mapping are the backend's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from snowmcp.common.errors import NotFound
from snowmcp.common.warehouse.base import ColumnDescription, DatabaseInfo, SchemaInfo, TableDescription, TableInfo, TableRef
from snowmcp.common.warehouse.duckdb import like_pattern

_TYPE_NAMES = {"FIXED": "NUMBER", "REAL": "FLOAT", "TEXT": "VARCHAR"}


class SnowflakeCatalog:
    if TYPE_CHECKING:  # provided by SnowflakeWarehouse

        async def _rows(self, sql: str, params: Sequence[Any] = (), *, tool: str,
                        missing: NotFound | None = None) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    async def current_location(self) -> tuple[str | None, str | None]:
        _, rows = await self._rows("SELECT CURRENT_DATABASE(), CURRENT_SCHEMA()", tool="current_location")
        return rows[0][0], rows[0][1]

    async def list_databases(self) -> list[DatabaseInfo]:
        names, rows = await self._rows("SHOW DATABASES", tool="list_databases")
        found = [dict(zip(names, row)) for row in rows]
        return sorted((DatabaseInfo(name=r["name"], comment=r.get("comment") or None) for r in found),
                      key=lambda d: d.name)

    async def list_schemas(self, database: str) -> list[SchemaInfo]:
        _, rows = await self._rows(
            f"SELECT SCHEMA_NAME, COMMENT FROM {_ident(database)}.INFORMATION_SCHEMA.SCHEMATA "
            "WHERE SCHEMA_NAME <> 'INFORMATION_SCHEMA' ORDER BY 1",
            tool="list_schemas", missing=NotFound(f"database {database} does not exist"),
        )
        return [SchemaInfo(database=database, name=r[0], comment=r[1]) for r in rows]

    async def list_tables(
        self, database: str, schema: str | None, name_like: str | None = None
    ) -> list[TableInfo]:
        where, params = "TABLE_SCHEMA <> 'INFORMATION_SCHEMA'", []
        if schema is not None:
            where, params = where + " AND TABLE_SCHEMA = ?", [*params, schema]
        if name_like:
            where, params = where + " AND TABLE_NAME ILIKE ?", [*params, like_pattern(name_like)]
        rows = await self._tables(database, where, params, tool="list_tables")
        if not rows:  # an empty schema, or a missing one?
            schemas = await self.list_schemas(database)
            if schema is not None and not any(s.name == schema for s in schemas):
                raise NotFound(f"schema {database}.{schema} does not exist")
        return [TableInfo(database=database, schema=r[1], name=r[2], kind=_kind(r[3]), row_count=r[4],
                          bytes=r[5], comment=r[6]) for r in rows]

    async def describe_table(self, table: TableRef) -> TableDescription:
        missing = NotFound(f"table {table} does not exist")
        rows = await self._tables(table.database, "TABLE_SCHEMA = ? AND TABLE_NAME = ?", [table.schema, table.name],
                                  tool="describe_table", missing=missing)
        if not rows:
            raise missing
        _, columns = await self._rows(
            "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COMMENT, NUMERIC_PRECISION, NUMERIC_SCALE "
            f"FROM {_ident(table.database)}.INFORMATION_SCHEMA.COLUMNS "
            "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
            [table.schema, table.name], tool="describe_table", missing=missing,
        )
        _, _, _, kind, row_count, _, comment = rows[0]
        return TableDescription(
            database=table.database, schema=table.schema, name=table.name, kind=_kind(kind), comment=comment,
            row_count=row_count,
            columns=[ColumnDescription(name=c[0], type=column_type(c[1], c[5], c[6]), nullable=c[2] == "YES",
                                       default=c[3], comment=c[4]) for c in columns],
        )

    async def _tables(self, database: str, where: str, params: list[Any], *, tool: str,
                      missing: NotFound | None = None) -> list[tuple[Any, ...]]:
        """(source, schema, name, type, rows, bytes, comment) per table or view, views also taken
        from INFORMATION_SCHEMA.VIEWS in case TABLES omits them (fakesnow does)."""
        db = _ident(database)
        _, rows = await self._rows(
            f"SELECT 0, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ROW_COUNT, BYTES, COMMENT "
            f"FROM {db}.INFORMATION_SCHEMA.TABLES WHERE {where} UNION ALL "
            f"SELECT 1, TABLE_SCHEMA, TABLE_NAME, 'VIEW', NULL, NULL, COMMENT "
            f"FROM {db}.INFORMATION_SCHEMA.VIEWS WHERE {where} ORDER BY 2, 3, 1",
            [*params, *params], tool=tool, missing=missing or NotFound(f"database {database} does not exist"),
        )
        unique: dict[tuple[str, str], tuple[Any, ...]] = {}
        for row in rows:  # a TABLES row sorts before the VIEWS row of the same name
            unique.setdefault((row[1], row[2]), row)
        return list(unique.values())


def _ident(name: str) -> str:
    """A quoted Snowflake identifier (exact case), rendered by sqlglot."""
    from sqlglot import exp

    return exp.to_identifier(name, quoted=True).sql("snowflake")


def _kind(table_type: str | None) -> Literal["table", "view"]:
    return "view" if "VIEW" in str(table_type or "").upper() else "table"


def column_type(data_type: str, precision: int | None, scale: int | None) -> str:
    if data_type == "NUMBER" and precision is not None:
        return f"NUMBER({precision},{scale or 0})"
    return _TYPE_NAMES.get(data_type, data_type)
