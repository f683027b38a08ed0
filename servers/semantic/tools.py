"""The semantic server's tools, named as dbt-mcp names its semantic-layer tools.

Every statement a layer compiles goes through the runtime like any other SQL of
a model: the guard (as text we did not write), the row and byte caps, the cache,
the breaker and long-call handles. `where` filters are guarded before the layer
sees them (`where_filters`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from sqlglot import exp

from snowmcp.common.handle_tools import add_handle_tools
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.toolkit import Toolset
from snowmcp.servers.semantic.layer import Compiled, GroupBy, MetricRequest, OrderBy
from snowmcp.servers.semantic.loader import LayerLoader
from snowmcp.servers.semantic.models import (
    CompiledSql, DimensionList, DimensionValues, EntityList, MetricList, MetricQueryResult, SavedQueryList,
)
from snowmcp.servers.semantic.where_filters import check_where

MAX_LISTED_METRICS = 200
MAX_VALUES = 1_000
Metrics = Annotated[list[str], Field(min_length=1, max_length=50)]
OptionalMetrics = Annotated[list[str] | None, Field(max_length=50)]
GroupBys = Annotated[list[GroupBy] | None, Field(max_length=20)]
OrderBys = Annotated[list[OrderBy] | None, Field(max_length=20)]
Where = Annotated[list[str] | None, Field(max_length=20, description="Conditions in MetricFlow syntax, ANDed.")]


def build_tools(runtime: ServerRuntime, loader: LayerLoader) -> Toolset:
    tools = Toolset("semantic", runtime.long_calls)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List metrics", **read_only)
    async def list_metrics(search: str | None = None) -> MetricList:
        """The certified metrics (name, type, label, description); `search` matches any of them."""
        layer = await loader.layer()
        metrics = layer.metrics()
        if search:
            words = search.lower().split()
            metrics = [m for m in metrics if all(w in " ".join(filter(None, (m.name, m.label, m.description))).lower()
                                                 for w in words)]
        return MetricList(source=layer.kind, metrics=metrics[:MAX_LISTED_METRICS],
                          truncated=len(metrics) > MAX_LISTED_METRICS)

    @tools.tool(title="Get dimensions", **read_only)
    async def get_dimensions(metrics: Metrics) -> DimensionList:
        """What all these metrics can be grouped and filtered by; metric_time is their own time axis."""
        layer = await loader.layer()
        return DimensionList(metrics=metrics, dimensions=await runtime.off_loop(lambda: layer.dimensions(metrics)))

    @tools.tool(title="Get entities", **read_only)
    async def get_entities(metrics: Metrics) -> EntityList:
        """The entities (join keys) these metrics can be grouped by."""
        layer = await loader.layer()
        return EntityList(metrics=metrics, entities=await runtime.off_loop(lambda: layer.entities(metrics)))

    @tools.tool(long=True, title="Get dimension values", **read_only)
    async def get_dimension_values(
        dimension: str,
        metrics: OptionalMetrics = None,
        search: Annotated[str | None, Field(max_length=200, description="Substring, any case.")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_VALUES)] = 100,
    ) -> DimensionValues:
        """Distinct values of a categorical dimension (where the metrics have data, if named), sorted."""
        layer = await loader.layer()
        compiled = await runtime.off_loop(lambda: layer.compile_dimension_values(dimension, metrics or []))
        verdict = await runtime.guard(compiled.sql)
        values = exp.select("*").from_(verdict.expression.copy().subquery("dimension_values"))
        if search:
            column = exp.column(compiled.columns[0] if compiled.columns else dimension)
            values = values.where(exp.GT(this=exp.StrPosition(
                this=exp.Lower(this=exp.cast(column, "VARCHAR")), substr=exp.Literal.string(search.lower())),
                expression=exp.Literal.number(0)))
        values = values.order_by(exp.Literal.number(1))
        result = await runtime.query(values, tool="get_dimension_values", max_rows=limit)
        return DimensionValues(dimension=dimension, values=[row[0] for row in result.rows],
                               truncated=result.truncated)

    async def compiled(metrics: list[str], group_by: list[GroupBy] | None, where: list[str] | None,
                       order_by: list[OrderBy] | None, limit: int | None) -> tuple[Compiled, str, exp.Expression]:
        guard = await runtime.sql_guard()
        filters = await runtime.off_loop(lambda: check_where(where or [], guard))
        if limit is not None:
            runtime.row_limit(limit)  # the same bounds as every row cap
        request = MetricRequest(tuple(metrics), tuple(group_by or ()), filters, tuple(order_by or ()), limit)
        layer = await loader.layer()
        result = await runtime.off_loop(lambda: layer.compile(request))
        verdict = await runtime.guard(result.sql)
        statement = _without_comments(verdict.expression)
        return result, statement.sql(dialect=guard.dialect), statement

    @tools.tool(long=True, title="Query metrics", **read_only)
    async def query_metrics(metrics: Metrics, group_by: GroupBys = None, where: Where = None,
                            order_by: OrderBys = None, limit: Annotated[int | None, Field(ge=1)] = None,
                            ) -> MetricQueryResult:
        """Certified metrics by name, grouped and filtered, computed in the warehouse. Joins follow entities
        only; a grouping that would count rows twice is refused."""
        result, sql, statement = await compiled(metrics, group_by, where, order_by, limit)
        rows = await runtime.query(statement, tool="query_metrics", max_rows=limit, pageable=True, resumable=True)
        return MetricQueryResult(**rows.model_dump(), sql=sql, metrics=list(result.definitions))

    @tools.tool(title="Get compiled SQL", **read_only)
    async def get_metrics_compiled_sql(metrics: Metrics, group_by: GroupBys = None, where: Where = None,
                                       order_by: OrderBys = None, limit: Annotated[int | None, Field(ge=1)] = None,
                                       ) -> CompiledSql:
        """The SQL query_metrics would run for the same arguments, without running it."""
        result, sql, _ = await compiled(metrics, group_by, where, order_by, limit)
        return CompiledSql(sql=sql, dialect=result.dialect, metrics=list(result.definitions))

    @tools.tool(title="List saved queries", **read_only)
    async def list_saved_queries() -> SavedQueryList:
        """Saved queries: named metric questions; pass their metrics, group_by and where to query_metrics."""
        layer = await loader.layer()
        return SavedQueryList(saved_queries=layer.saved_queries())

    add_handle_tools(tools, runtime)
    return tools


def _without_comments(statement: exp.Expression | None) -> exp.Expression:
    """The guarded statement without MetricFlow's plan comments (a third of its text): the same query, fewer
    tokens in every result."""
    assert statement is not None  # an allowed verdict always carries its expression
    bare = statement.copy()
    for node in bare.walk():
        node.comments = None
    return bare
