"""The query server's tools: the catalog, samples, and guarded read-only SQL."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.identifiers import resolve_table, table_expression
from snowmcp.common.results import QueryResult
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.sql.columns import TableColumns, quoted
from snowmcp.common.handle_tools import add_handle_tools
from snowmcp.common.toolkit import Toolset
from snowmcp.common.warehouse.base import TableDescription
from snowmcp.servers.query.models import DatabaseList, QueryPlan, SampleRows, SchemaList, SqlVerdict, TableList

TableName = Annotated[
    str,
    Field(description='Table or view as DATABASE.SCHEMA.TABLE (SCHEMA.TABLE or TABLE also work); '
                      'quote unusual parts: "My Table".'),
]
Sql = Annotated[str, Field(description="One read-only SQL statement in the warehouse's dialect.")]
MAX_SAMPLE = 1_000


def build_tools(runtime: ServerRuntime) -> Toolset:
    tools = Toolset("query", runtime.long_calls)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List databases", **read_only)
    async def list_databases() -> DatabaseList:
        """List the databases this connection can see. Start here to explore the warehouse."""
        return DatabaseList(databases=await runtime.catalog(lambda w: w.list_databases()))

    @tools.tool(title="List schemas", **read_only)
    async def list_schemas(
        database: Annotated[str, Field(description="Database name, as list_databases returns it.")],
    ) -> SchemaList:
        """List the schemas of one database, with their comments. Next: list_tables for a schema."""
        schemas = await runtime.catalog(lambda w: w.list_schemas(database))
        return SchemaList(database=database, schemas=schemas)

    @tools.tool(title="List tables", **read_only)
    async def list_tables(
        database: Annotated[str, Field(description="Database name.")],
        schema: Annotated[str, Field(description="Schema name.")],
        name_like: Annotated[
            str | None,
            Field(description="Optional case-insensitive filter: a substring, or a LIKE pattern with % and _."),
        ] = None,
    ) -> TableList:
        """List the tables and views of a schema, with kind, estimated row count, size and comment."""
        tables = await runtime.catalog(lambda w: w.list_tables(database, schema, name_like))
        return TableList(database=database, schema=schema, tables=tables)

    @tools.tool(title="Describe table", **read_only)
    async def describe_table(table: TableName) -> TableDescription:
        """Describe a table or view: its columns (type, nullable, default, comment), comment and row count.
        Call this before writing SQL against a table you have not seen."""
        return await runtime.catalog(lambda w: resolve_table(w, table))

    @tools.tool(long=True, title="Sample rows", **read_only)
    async def sample_rows(
        table: TableName,
        limit: Annotated[int, Field(ge=1, le=MAX_SAMPLE, description="How many rows (1-1000).")] = 10,
        columns: Annotated[
            list[str] | None, Field(description="Only these columns (names from describe_table); default all.")
        ] = None,
    ) -> SampleRows:
        """Return the first rows of a table (as the warehouse returns them; not a random sample),
        without writing SQL. Use it to see what values look like."""
        from sqlglot import exp

        description = await runtime.catalog(lambda w: resolve_table(w, table))
        warehouse = await runtime.warehouse()
        known = TableColumns(description, warehouse.dialect)
        picked = known.get_many(columns) if columns else known.all
        query = exp.select(*[quoted(c) for c in picked]).from_(table_expression(description.ref)).limit(limit)
        result = await runtime.query(query, tool="sample_rows", max_rows=limit, pageable=True)
        return SampleRows(table=str(description.ref), **result.model_dump())

    @tools.tool(long=True, title="Run read-only SQL", **read_only)
    async def run_query(
        sql: Sql,
        max_rows: Annotated[
            int, Field(ge=1, description="Most rows to return (default 200); the result says if it was truncated.")
        ] = 200,
        timeout_s: Annotated[
            float | None, Field(gt=0, description="Seconds before the statement is cancelled (default from settings).")
        ] = None,
    ) -> QueryResult:
        """Run one read-only SQL statement (SELECT/WITH, SHOW, DESCRIBE, EXPLAIN) and return its rows.
        Writes, DDL, multiple statements and file/network functions are refused before reaching the
        warehouse. Results are capped by rows and bytes: check `truncated`, and aggregate or filter in SQL
        rather than fetching many rows. Identical queries within a few minutes are served from a cache
        (`cached: true`)."""
        verdict = await runtime.guard(sql)
        return await runtime.query(verdict, tool="run_query", max_rows=max_rows, timeout_s=timeout_s, pageable=True,
                                   resumable=True)

    @tools.tool(title="Explain query", **read_only)
    async def explain_query(sql: Sql) -> QueryPlan:
        """Show the warehouse's execution plan for a read-only statement, without running it."""
        from sqlglot import exp

        verdict = await runtime.guard(sql)
        assert verdict.sql is not None and verdict.expression is not None
        if verdict.statement_type in ("SHOW", "DESCRIBE", "SUMMARIZE"):
            raise InvalidArgument(f"{verdict.statement_type} statements have no plan; pass a query")
        statement = verdict.expression
        if verdict.statement_type != "EXPLAIN":
            warehouse = await runtime.warehouse()
            form = "USING TEXT " if warehouse.dialect == "snowflake" else ""  # a readable plan
            statement = exp.Command(this="EXPLAIN", expression=exp.Literal.string(form + verdict.sql))
        result = await runtime.query(statement, tool="explain_query", max_rows=runtime.settings.max_rows_limit)
        return QueryPlan(sql=verdict.sql, plan=_plan_text(result))

    @tools.tool(title="Validate SQL", **read_only)
    async def validate_sql(
        sql: Sql,
        dialect: Annotated[
            str | None,
            Field(description="The dialect the SQL is written in (e.g. snowflake, duckdb, postgres, bigquery); "
                              "default: the warehouse's. It is transpiled to the warehouse's dialect."),
        ] = None,
    ) -> SqlVerdict:
        """Check a statement without running it: would run_query accept it, what kind of statement it is,
        which tables it reads, and (given another dialect) the same SQL in the warehouse's dialect."""
        warehouse = await runtime.warehouse()
        source = _dialect_name(dialect) if dialect else warehouse.dialect
        # The same verdict run_query would reach, on what would run (the transpiled text).
        guard = await runtime.sql_guard()
        verdict = await runtime.off_loop(lambda: guard.transpile(sql, source))
        return SqlVerdict(
            allowed=verdict.allowed, reason=verdict.reason, statement_type=verdict.statement_type,
            tables=list(verdict.tables), dialect=warehouse.dialect,
            transpiled=verdict.sql if verdict.allowed and source != warehouse.dialect else None,
        )

    add_handle_tools(tools, runtime)
    return tools


def _plan_text(result: QueryResult) -> str:
    names = [c.name.lower() for c in result.columns]
    if "explain_value" in names:  # DuckDB: (explain_key, explain_value)
        index = names.index("explain_value")
        return "\n".join(str(row[index]) for row in result.rows)
    return "\n".join("\t".join("" if v is None else str(v) for v in row) for row in result.rows)


def _dialect_name(dialect: str) -> str:
    from sqlglot.dialects.dialect import Dialect

    name = dialect.strip().lower()
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        raise InvalidArgument(
            f"unknown SQL dialect {dialect!r}", hint="Use a sqlglot dialect name: snowflake, duckdb, postgres, bigquery..."
        ) from None
    return name
