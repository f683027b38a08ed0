"""The query server: what is in the warehouse, and read-only SQL against it."""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer

from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.server_factory import new_server
from snowmcp.common.settings import Settings
from snowmcp.common.toolkit import resource_errors
from snowmcp.common.warehouse.base import TableRef, Warehouse
from snowmcp.servers.query.tools import build_tools

INSTRUCTIONS = """\
Read-only access to a SQL warehouse (Snowflake, or an embedded DuckDB demo).
Explore with list_databases -> list_schemas -> list_tables -> describe_table, look at values
with sample_rows, then answer questions with run_query (one read-only statement; results are
capped, so aggregate in SQL). validate_sql checks a statement without running it; explain_query
shows the plan. Table names are DATABASE.SCHEMA.TABLE; quote unusual parts ("My Table")."""


def build_server(settings: Settings | None = None, *, warehouse: Warehouse | None = None) -> MCPServer:
    """The query server on the configured warehouse (or on `warehouse`, for tests)."""
    runtime = ServerRuntime("query", settings or Settings(), warehouse)
    server = new_server(runtime, instructions=INSTRUCTIONS)
    build_tools(runtime).register(server, runtime.settings.tools)
    _register_resources(server, runtime)
    return server


def _register_resources(server: MCPServer, runtime: ServerRuntime) -> None:
    @server.resource(
        "snowmcp://tables/{database}/{schema}/{table}",
        name="table",
        title="Table description",
        description="Columns, types, comments and row count of one table or view.",
        mime_type="application/json",
    )
    async def table_resource(database: str, schema: str, table: str) -> str:
        with resource_errors():
            warehouse = await runtime.warehouse()
            description = await warehouse.describe_table(TableRef(database, schema, table))
        return description.model_dump_json(by_alias=True)

    @server.resource(
        "snowmcp://catalog",
        name="catalog",
        title="Warehouse catalog",
        description="Every table and view of the current database, with kind, rows and comment.",
        mime_type="application/json",
    )
    async def catalog_resource() -> str:
        with resource_errors():
            warehouse = await runtime.warehouse()
            database, _ = await warehouse.current_location()
            tables = await warehouse.list_tables(database, None) if database else []
        return json.dumps(
            {"database": database, "tables": [t.model_dump(mode="json", by_alias=True) for t in tables]}
        )

    @server.prompt(name="explore_table", title="Explore a table")
    def explore_table(table: str) -> str:
        """Walk through a table: its structure, its values, and a few useful summaries."""
        return (
            f"Explore the table {table} in the warehouse.\n"
            f"1. Call describe_table with table={table!r} to learn its columns, types and comments.\n"
            "2. Call sample_rows to see typical values.\n"
            "3. With run_query, measure the row count, null counts of key columns, the range of dates and "
            "amounts, and the most common values of categorical columns - aggregate in SQL, don't fetch rows.\n"
            "4. Summarize what the table holds, its grain, its keys, and anything that looks wrong."
        )
