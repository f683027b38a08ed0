"""The analytics server's tools: every number is computed by the warehouse, in SQL built here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.identifiers import resolve_table
from snowmcp.common.results import QueryResult
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.statement import Rendered
from snowmcp.common.sql.anomaly import Method, Seasonality, anomaly_query
from snowmcp.common.sql.columns import ColumnKind, TableColumns
from snowmcp.common.sql.metrics import Filters, Metric, Metrics
from snowmcp.common.sql.profile import profile_statements
from snowmcp.common.sql.time_series import Grain, SeriesRows, SeriesSpec, read_series, series_query
from snowmcp.common.handle_tools import add_handle_tools
from snowmcp.common.toolkit import Toolset
from snowmcp.common.vocabulary import Columns, End, Start, Table, TimeColumn
from snowmcp.common.warehouse.base import TableDescription
from snowmcp.servers.analytics import charts, statements
from snowmcp.servers.analytics.models import (
    Anomalies, Anomaly, AggregateResult, Bin, Contributor, Correlation, Correlations, Histogram, LeftOut,
    PeriodComparison,
    PeriodValue, Point, TableProfile, TimeSeries, ValueCount, ValueCounts,
)
from snowmcp.common.sql.profile_result import read_profile
from snowmcp.servers.analytics.profile_report import alerts_for
from snowmcp.servers.analytics.statements import OrderBy, Period

if TYPE_CHECKING:
    from sqlglot import exp

MAX_POINTS = 10_000
NUMERIC = (ColumnKind.NUMBER,)


class _Statements:
    """Runs a tool's statements through the runtime and keeps their provenance."""

    def __init__(self, runtime: ServerRuntime, tool: str) -> None:
        self.runtime, self.tool = runtime, tool
        self.sql: list[str] = []
        self.elapsed_ms = 0.0
        self.cached = True

    async def run(self, query: exp.Expression, *, max_rows: int) -> QueryResult:
        """Run one statement; callers read `result.truncated` (a row cap above the settings' limit
        is lowered to it, and the byte cap applies to every result)."""
        warehouse = await self.runtime.warehouse()
        statement = Rendered.of(query, warehouse.dialect)  # rendered once: for provenance and to run
        self.sql.append(statement.sql)
        result = await self.runtime.query(statement, tool=self.tool,
                                          max_rows=min(max_rows, self.runtime.settings.max_rows_limit))
        self.elapsed_ms += result.elapsed_ms
        self.cached = self.cached and result.cached
        return result

    def provenance(self) -> dict[str, Any]:
        return {"sql": self.sql, "elapsed_ms": round(self.elapsed_ms, 3), "cached": self.cached and bool(self.sql)}


def build_tools(runtime: ServerRuntime) -> Toolset:
    tools = Toolset("analytics", runtime.long_calls)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    async def describe(table: str) -> tuple[TableDescription, TableColumns]:
        description = await runtime.catalog(lambda w: resolve_table(w, table))
        warehouse = await runtime.warehouse()
        return description, TableColumns(description, warehouse.dialect)

    @tools.tool(long=True, title="Profile table", chart=charts.PROFILE, **read_only)
    async def profile_table(
        table: Table,
        ctx: Context,
        columns: Columns = None,
        sample_percent: Annotated[float | None, Field(
            gt=0, le=100, description="Profile a random % of rows.")] = None,
    ) -> TableProfile:
        """Profile a table in one pass (start here): per column nulls, distinct, min/max, mean,
        quantiles, top values; and alerts."""
        description, known = await describe(table)
        picked = known.get_many(columns, role="column") if columns else known.all
        if not picked:
            raise InvalidArgument(f"{description.ref} has no columns to profile")
        await ctx.report_progress(1, 3, "table described")
        run = _Statements(runtime, "profile_table")
        warehouse = await runtime.warehouse()
        row_count, profiles = 0, []
        for statement in profile_statements(description.ref, picked, dialect=warehouse.dialect,
                                            sample_percent=sample_percent):
            result = await run.run(statement.sql, max_rows=statement.max_rows)
            row_count, group = read_profile(statement, result)
            profiles += group
        await ctx.report_progress(2, 3, "profile computed")
        alerts = [alert for profile in profiles for alert in alerts_for(row_count, profile)]
        await ctx.report_progress(3, 3, "done")
        return TableProfile(table=str(description.ref), row_count=row_count, sample_percent=sample_percent,
                            columns=profiles, alerts=alerts, **run.provenance())

    @tools.tool(long=True, title="Aggregate", **read_only)
    async def aggregate(
        table: Table,
        metrics: Metrics,
        group_by: Annotated[list[str], Field(max_length=20)] = [],  # noqa: B006
        filters: Filters = [],  # noqa: B006
        order_by: Annotated[list[OrderBy], Field(max_length=20, description="Default: the group columns.")
                            ] = [],  # noqa: B006
        limit: Annotated[int, Field(ge=1, le=10_000, description="Most groups.")] = 100,
    ) -> AggregateResult:
        """Metrics over a table, optionally grouped and filtered, without SQL."""
        description, known = await describe(table)
        query, names = statements.aggregate_query(description.ref, known, metrics, group_by, filters, order_by)
        run = _Statements(runtime, "aggregate")
        result = await run.run(query, max_rows=limit)
        rows = [dict(zip(names, row)) for row in result.rows]
        groups = int(result.rows[0][len(names)]) if group_by and result.rows else (0 if group_by else None)
        truncated = result.truncated or (groups is not None and groups > len(rows))
        return AggregateResult(table=str(description.ref), columns=names, rows=rows, truncated=truncated,
                               groups_total=groups, **run.provenance())

    @tools.tool(long=True, title="Time series", chart=charts.TIME_SERIES, **read_only)
    async def time_series(
        table: Table,
        time_column: TimeColumn,
        metric: Metric,
        grain: Grain = "day",
        filters: Filters = [],  # noqa: B006
        start: Start = None,
        end: End = None,
        fill_gaps: Annotated[bool, Field(description="Empty buckets too (0 for count/sum, else null).")] = True,
    ) -> TimeSeries:
        """A metric per time bucket, oldest first; past the cap the newest are kept (`left_out`)."""
        description, known = await describe(table)
        spec = SeriesSpec(description.ref, known, time_column, metric, grain, tuple(filters), start, end)
        run = _Statements(runtime, "time_series")
        limit = _points_limit(runtime)
        series = read_series((await run.run(series_query(spec, max_points=limit, fill_gaps=fill_gaps),
                                            max_rows=limit)).rows)
        points = [Point(time=time, value=value) for time, value in series.points]
        return TimeSeries(table=str(description.ref), time_column=spec.time().name, metric=metric.name,
                          grain=grain, points=points, buckets_total=series.buckets_total,
                          truncated=series.left_out > 0, left_out=_left_out(series), **run.provenance())

    @tools.tool(long=True, title="Detect anomalies", chart=charts.ANOMALIES, **read_only)
    async def detect_anomalies(
        table: Table,
        time_column: TimeColumn,
        metric: Metric,
        ctx: Context,
        grain: Grain = "day",
        method: Annotated[Method, Field(description="zscore (mean/stddev) or mad (median, robust).")] = "zscore",
        sensitivity: Annotated[float, Field(gt=0, le=100, description="Flag |score| >= this.")] = 3.0,
        seasonality: Annotated[Seasonality | None, Field(
            description="Compare with the same weekday (weekly) or hour of day (daily).")] = None,
        window: Annotated[int, Field(ge=2, le=1_000, description="Past points in each baseline.")] = 28,
        filters: Filters = [],  # noqa: B006
    ) -> Anomalies:
        """Buckets where a metric departs from its `window` previous points (same season with
        seasonality), with expected value and score."""
        description, known = await describe(table)
        spec = SeriesSpec(description.ref, known, time_column, metric, grain, tuple(filters))
        limit = _points_limit(runtime)
        query = anomaly_query(series_query(spec, max_points=limit), grain=grain, method=method,
                              sensitivity=sensitivity, window=window, seasonality=seasonality,
                              min_history=max(2, window // 2))
        await ctx.report_progress(1, 2, "scoring in the warehouse")
        run = _Statements(runtime, "detect_anomalies")
        result = await run.run(query, max_rows=limit + 1)
        await ctx.report_progress(2, 2, "done")
        if not result.rows:  # the summary row always comes first; only a byte cap below one row removes it
            raise InvalidArgument("the anomaly result does not fit the result size cap",
                                  hint="Raise SNOWMCP_MAX_RESULT_TOKENS or use a coarser grain.")
        first = result.rows[0]
        points_scored, found, non_finite, total, kept = (int(v or 0) for v in (first[0], *first[6:9], first[10]))
        anomalies = [
            Anomaly(time=row[1], value=row[2], expected=row[3], score=row[5],
                    direction="up" if row[2] > (row[3] or 0) else "down")
            for row in reversed(result.rows) if row[1] is not None
        ]
        left_out = LeftOut(count=total - kept, first=first[9], until=first[11]) if total > kept else None
        return Anomalies(table=str(description.ref), metric=metric.name, grain=grain, method=method,
                         sensitivity=sensitivity, seasonality=seasonality, window=window,
                         points_scored=points_scored, buckets_total=total, non_finite=non_finite,
                         anomalies_total=found, truncated=left_out is not None or found > len(anomalies),
                         left_out=left_out, anomalies=anomalies, **run.provenance())

    @tools.tool(long=True, title="Compare periods", chart=charts.COMPARISON, **read_only)
    async def compare_periods(
        table: Table,
        time_column: TimeColumn,
        metric: Metric,
        current: Period,
        previous: Period,
        ctx: Context,
        dimensions: Annotated[list[str], Field(max_length=5, description="Break down by these.")
                              ] = [],  # noqa: B006
        top: Annotated[int, Field(ge=1, le=100)] = 10,
        filters: Filters = [],  # noqa: B006
    ) -> PeriodComparison:
        """A metric in two periods: values and change; with dimensions, the groups that drove the
        change."""
        description, known = await describe(table)
        time = known.require(known.get(time_column, role="time_column"),
                             (ColumnKind.DATE, ColumnKind.TIMESTAMP), "time_column")
        dims = known.get_many(dimensions, role="dimension")
        current_range, previous_range = current.instants("current"), previous.instants("previous")
        query = statements.compare_query(description.ref, known, time, metric, current_range, previous_range,
                                         dims, filters, top)
        await ctx.report_progress(1, 2, "comparing in the warehouse")
        run = _Statements(runtime, "compare_periods")
        result = await run.run(query, max_rows=top + 1)
        await ctx.report_progress(2, 2, "done")
        width = len(dims)
        total = next((row for row in result.rows if row[width] == 1), None)
        now, before = (total[width + 1], total[width + 2]) if total else (None, None)
        change = _difference(now, before)
        contributors = [
            Contributor(dimensions={d.name: row[i] for i, d in enumerate(dims)}, current=row[width + 1],
                        previous=row[width + 2], change=_difference(row[width + 1], row[width + 2]),
                        share_of_change=_ratio(_difference(row[width + 1], row[width + 2]), change))
            for row in result.rows if dims and row[width] == 0
        ]
        groups = (int(total[width + 3]) - 1 if total and total[width + 3] is not None else 0) if dims else None
        return PeriodComparison(
            table=str(description.ref), metric=metric.name,
            current=PeriodValue(start=current.start, end=current.end, value=now),
            previous=PeriodValue(start=previous.start, end=previous.end, value=before),
            change=change, change_percent=_percent(change, before), contributors=contributors, groups_total=groups,
            **run.provenance())

    @tools.tool(long=True, title="Histogram", chart=charts.HISTOGRAM, **read_only)
    async def histogram(
        table: Table,
        column: str,
        bins: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> Histogram:
        """A numeric column's distribution in equal-width bins (NaN and infinities counted apart)."""
        description, known = await describe(table)
        target = known.require(known.get(column), NUMERIC, "histogram")
        run = _Statements(runtime, "histogram")
        result = await run.run(statements.histogram_query(description.ref, target, bins), max_rows=bins + 1)
        lo, hi, count, total, special = result.rows[0][:5]
        count, special = int(count or 0), int(special or 0)
        counts = {int(row[5]): int(row[6]) for row in result.rows if row[5] is not None}
        edges = []
        if count:
            lo, hi = float(lo), float(hi)
            edges = [Bin(low=low, high=high, count=counts.get(i, 0))
                     for i, (low, high) in enumerate(statements.bin_edges(lo, hi, bins))]
        return Histogram(table=str(description.ref), column=target.name, count=count,
                         nulls=int(total or 0) - count - special, non_finite=special,
                         min=lo if count else None, max=hi if count else None, bins=edges, **run.provenance())

    @tools.tool(long=True, title="Value counts", **read_only)
    async def value_counts(
        table: Table,
        column: str,
        top: Annotated[int, Field(ge=1, le=1_000)] = 20,
    ) -> ValueCounts:
        """A column's most frequent values with counts and shares, plus distinct and null counts."""
        description, known = await describe(table)
        target = known.get(column)
        if target.kind is ColumnKind.OTHER:
            raise InvalidArgument(f"value_counts cannot group {target.name} ({target.type})")
        run = _Statements(runtime, "value_counts")
        result = await run.run(statements.value_counts_query(description.ref, target, top), max_rows=top + 1)
        if result.truncated and not result.rows:
            raise InvalidArgument(f"the values of {target.name} are too large to list within the result size cap",
                                  hint="Use profile_table for its statistics, or aggregate with count_distinct.")
        total, distinct, nulls = (int(v or 0) for v in result.rows[0][2:5]) if result.rows else (0, 0, 0)
        non_null = total - nulls
        values = [ValueCount(value=row[0], count=int(row[1]), percent=_percent(int(row[1]), non_null))
                  for row in result.rows if row[0] is not None][:top]
        return ValueCounts(table=str(description.ref), column=target.name, total_rows=total, nulls=nulls,
                           distinct=distinct, values=values, other_count=non_null - sum(v.count for v in values),
                           truncated=distinct > len(values), **run.provenance())

    @tools.tool(long=True, title="Correlations", **read_only)
    async def correlations(
        table: Table,
        columns: Annotated[list[str], Field(min_length=2, max_length=20)],
    ) -> Correlations:
        """Pearson correlation of every pair of the given numeric columns."""
        description, known = await describe(table)
        picked = [known.require(c, NUMERIC, "correlations") for c in known.get_many(columns)]
        query, pairs = statements.correlations_query(description.ref, picked)
        run = _Statements(runtime, "correlations")
        result = await run.run(query, max_rows=1)
        row = result.rows[0]
        found = [Correlation(a=a.name, b=b.name, correlation=row[2 * i], n=int(row[2 * i + 1] or 0))
                 for i, (a, b) in enumerate(pairs)]
        return Correlations(table=str(description.ref), columns=[c.name for c in picked], pairs=found,
                            **run.provenance())

    add_handle_tools(tools, runtime)
    return tools


def _left_out(series: SeriesRows) -> LeftOut | None:
    """The oldest buckets a cap kept out of `series`, if any."""
    if not series.left_out:
        return None
    return LeftOut(count=series.left_out, first=series.first_bucket,
                   until=series.points[0][0] if series.points else None)


def _points_limit(runtime: ServerRuntime) -> int:
    return min(MAX_POINTS, runtime.settings.max_rows_limit - 1)


def _difference(now: Any, before: Any) -> float | None:
    if not isinstance(now, (int, float)) or not isinstance(before, (int, float)):
        return None
    return float(now) - float(before)


def _ratio(part: float | None, whole: float | None) -> float | None:
    return round(part / whole, 6) if part is not None and whole else None


def _percent(part: float | int | None, whole: Any) -> float | None:
    if part is None or not isinstance(whole, (int, float)) or not whole:
        return None
    return round(100.0 * part / whole, 4)
