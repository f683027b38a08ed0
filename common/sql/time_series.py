"""Time buckets and the dense metric series that time_series and detect_anomalies share.

`series_query` builds one statement returning `(bucket, value)` for every bucket
between the first and the last (or between `start` and `end`), with buckets
that have no rows filled in: 0 for counts and sums, NULL for the rest. The
bucket spine is generated in the warehouse (DuckDB GENERATE_SERIES, Snowflake
ARRAY_GENERATE_RANGE + FLATTEN) and capped at `max_points + 1` rows, so a huge
range can never make the warehouse build a huge spine.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from common.errors import InvalidArgument
from common.sql.columns import Column, ColumnKind, TableColumns, quoted
from common.sql.metrics import Filter, Metric, all_of, filter_condition, instant_range, literal, metric_expression

if TYPE_CHECKING:
    from sqlglot import exp

    from common.warehouse.base import TableRef

Grain = Literal["hour", "day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year")


@dataclass(frozen=True)
class SeriesSpec:
    """What to bucket: a table, its time column, a metric, filters and an optional [start, end) range."""

    table: TableRef
    columns: TableColumns
    time_column: str
    metric: Metric
    grain: str = "day"
    filters: tuple[Filter, ...] = ()
    start: str | None = None
    end: str | None = None
    conditions: tuple[exp.Expression, ...] = ()  # already-guarded row conditions (a quality suite's filter)

    def time(self) -> Column:
        column = self.columns.get(self.time_column, role="time_column")
        self.columns.require(column, (ColumnKind.DATE, ColumnKind.TIMESTAMP), "time_column")
        if self.grain not in GRAINS:
            raise InvalidArgument(f"unknown grain {self.grain!r}", hint=f"Use one of: {', '.join(GRAINS)}.")
        if self.grain == "hour" and column.kind is ColumnKind.DATE:
            raise InvalidArgument(f"grain 'hour' needs a timestamp column; {column.name} is a DATE",
                                  hint="Use grain day or coarser, or a timestamp column.")
        return column

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        return instant_range(self.start, self.end)

    def row_conditions(self, time: Column) -> list[exp.Expression]:
        """The WHERE conditions: filters, a non-null time, and the [start, end) range."""
        from sqlglot import exp

        conditions = [filter_condition(f, self.columns) for f in self.filters] + list(self.conditions)
        conditions.append(exp.not_(quoted(time).is_(exp.null())))
        start, end = self.bounds()
        if start:
            conditions.append(quoted(time) >= literal(start.isoformat(), time))
        if end:
            conditions.append(quoted(time) < literal(end.isoformat(), time))
        return conditions


def bucket(value: exp.Expression, grain: str, column: Column) -> exp.Expression:
    """DATE_TRUNC to the grain; a DATE column keeps DATE buckets."""
    from sqlglot import exp

    truncated = exp.DateTrunc(this=value, unit=exp.Literal.string(grain.upper()))
    return exp.cast(truncated, exp.DataType.Type.DATE) if column.kind is ColumnKind.DATE else truncated


def step(value: exp.Expression, count: exp.Expression, grain: str, column: Column) -> exp.Expression:
    from sqlglot import exp

    added = exp.DateAdd(this=value, expression=count, unit=exp.var(grain.upper()))
    return exp.cast(added, exp.DataType.Type.DATE) if column.kind is ColumnKind.DATE else added


def series_query(spec: SeriesSpec, *, max_points: int, fill_gaps: bool = True) -> exp.Select:
    """`SELECT bucket, value` per bucket, ordered by time (see the module docstring)."""
    from sqlglot import exp

    time = spec.time()
    start, end = spec.bounds()
    metric = metric_expression(spec.metric, spec.columns)
    aggregated = (
        exp.select(exp.alias_(bucket(quoted(time), spec.grain, time), "bucket"), exp.alias_(metric, "value"))
        .from_(_table(spec.table))
        .where(all_of(spec.row_conditions(time)))
        .group_by(exp.Literal.number(1))
    )
    if not fill_gaps:
        return exp.select("bucket", "value").from_(aggregated.subquery("agg")).order_by("bucket")

    # Aggregates on both sides keep `bounds` to exactly one row, even when both ends are given.
    low: exp.Expression = exp.func("MIN", exp.column("bucket"))
    high: exp.Expression = exp.func("MAX", exp.column("bucket"))
    if start is not None:
        low = exp.func("COALESCE", bucket(literal(start.isoformat(), time), spec.grain, time), low)
    if end is not None:  # the last bucket before `end` is the one holding the instant just before it
        just_before = exp.DateAdd(this=literal(end.isoformat(), time), expression=exp.Literal.number(-1),
                                  unit=exp.var("SECOND" if time.kind is ColumnKind.TIMESTAMP else "DAY"))
        high = exp.func("COALESCE", bucket(just_before, spec.grain, time), high)
    bounds = exp.select(exp.alias_(low, "lo"), exp.alias_(high, "hi")).from_("agg")
    span = exp.DateDiff(this=exp.column("hi", "b"), expression=exp.column("lo", "b"), unit=exp.var(spec.grain.upper()))
    capped = exp.Case(ifs=[exp.If(this=span > max_points, true=exp.Literal.number(max_points))], default=span)
    numbers = exp.Unnest(
        expressions=[exp.GenerateSeries(start=exp.Literal.number(0), end=capped)],
        alias=exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier("i")]),
    )
    spine = (
        exp.select(exp.alias_(step(exp.column("lo", "b"), exp.column("i", "t"), spec.grain, time), "bucket"))
        .from_(exp.alias_(exp.to_table("bounds"), "b", table=True))
        .join(numbers)
        .where(exp.not_(exp.column("lo", "b").is_(exp.null())))
    )
    value = exp.column("value", "agg")
    if spec.metric.zero_when_empty:
        value = exp.func("COALESCE", value, exp.Literal.number(0))
    return (
        exp.select(exp.alias_(exp.column("bucket", "spine"), "bucket"), exp.alias_(value, "value"))
        .with_("agg", as_=aggregated)
        .with_("bounds", as_=bounds)
        .with_("spine", as_=spine)
        .from_("spine")
        .join("agg", on=exp.column("bucket", "spine").eq(exp.column("bucket", "agg")), join_type="left")
        .order_by("bucket")
    )


def _table(ref: TableRef) -> exp.Table:
    from common.identifiers import table_expression

    return table_expression(ref)
