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
from snowmcp.common.vocabulary import Columns, Sql, Table
from snowmcp.common.warehouse.base import TableDescription
from snowmcp.servers.query.models import DatabaseList, QueryPlan, SampleRows, SchemaList, SqlVerdict, TableList

MAX_SAMPLE = 1_000


def build_tools(runtime: ServerRuntime) -> Toolset:
    tools = Toolset("query", runtime.long_calls)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List databases", **read_only)
    async def list_databases() -> DatabaseList:
        """List the databases this connection can see; start here."""
        return DatabaseList(databases=await runtime.catalog(lambda w: w.list_databases()))

    @tools.tool(title="List schemas", **read_only)
    async def list_schemas(
        database: str,
    ) -> SchemaList:
        """List the schemas of a database, with comments."""
        schemas = await runtime.catalog(lambda w: w.list_schemas(database))
        return SchemaList(database=database, schemas=schemas)

    @tools.tool(title="List tables", **read_only)
    async def list_tables(
        database: str,
        schema: str,
        name_like: Annotated[str | None, Field(description="A substring or LIKE pattern, any case.")] = None,
    ) -> TableList:
        """List a schema's tables and views: kind, estimated rows, size, comment."""
        tables = await runtime.catalog(lambda w: w.list_tables(database, schema, name_like))
        return TableList(database=database, schema=schema, tables=tables)

    @tools.tool(title="Describe table", **read_only)
    async def describe_table(table: Table) -> TableDescription:
        """Columns (type, nullable, default, comment), comment and row count of a table or view."""
        return await runtime.catalog(lambda w: resolve_table(w, table))

    @tools.tool(long=True, title="Sample rows", **read_only)
    async def sample_rows(
        table: Table,
        limit: Annotated[int, Field(ge=1, le=MAX_SAMPLE)] = 10,
        columns: Columns = None,
    ) -> SampleRows:
        """The first rows of a table as stored (not random), to see its values."""
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
        max_rows: Annotated[int, Field(ge=1)] = 200,
        timeout_s: Annotated[float | None, Field(gt=0, description="Seconds before it is cancelled.")] = None,
    ) -> QueryResult:
        """Run one read-only statement (SELECT/WITH, SHOW, DESCRIBE, EXPLAIN); writes are refused.
        Results are capped (`truncated`): aggregate in SQL."""
        verdict = await runtime.guard(sql)
        return await runtime.query(verdict, tool="run_query", max_rows=max_rows, timeout_s=timeout_s, pageable=True,
                                   resumable=True)

    @tools.tool(title="Explain query", **read_only)
    async def explain_query(sql: Sql) -> QueryPlan:
        """The execution plan of a read-only statement, without running it."""
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
        dialect: Annotated[str | None, Field(
            description="The SQL's dialect (e.g. postgres); default the warehouse's.")
        ] = None,
    ) -> SqlVerdict:
        """Would run_query accept this SQL? Its kind, tables and, from another dialect, the SQL
        transpiled."""
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
