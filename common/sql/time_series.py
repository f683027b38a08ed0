"""Time buckets and the dense metric series that time_series and detect_anomalies share.

`series_query` builds one statement returning `(bucket, value)` for every bucket
between the first and the last (or between `start` and `end`), with buckets
that have no rows filled in: 0 for counts and sums, NULL for the rest. The
bucket spine is generated in the warehouse (DuckDB GENERATE_SERIES, Snowflake
ARRAY_GENERATE_RANGE + FLATTEN) and holds at most `max_points` buckets, so a huge
range can never make the warehouse build a huge spine. The cap keeps the NEWEST
buckets and rows come newest first (a row or byte cap downstream also cuts the
oldest); the newest row says how many buckets the whole range has and where it
starts, so no reader can mistake a capped series for the whole (`read_series`).

`completeness_query` counts empty buckets over the whole range in SQL, without
a spine, so it has no cap at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.sql.columns import Column, ColumnKind, TableColumns, quoted
from snowmcp.common.sql.metrics import Filter, Metric, all_of, filter_condition, instant_range, literal, metric_expression

if TYPE_CHECKING:
    from sqlglot import exp

    from snowmcp.common.warehouse.base import TableRef

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
    """`SELECT bucket, value, buckets_total, first_bucket`, newest first (see the module docstring).

    At most `max_points` rows: the newest buckets. The newest row also carries the number of
    buckets in the whole range and the oldest bucket of it, so a reader can say what was left out."""
    from sqlglot import exp

    time = spec.time()
    aggregated = _aggregated(spec, time)
    newest_first = exp.Ordered(this=exp.column("bucket"), desc=True)
    if not fill_gaps:
        ranked = exp.select("bucket", "value", exp.alias_(exp.Window(
            this=exp.RowNumber(), order=exp.Order(expressions=[newest_first])), "rn")).from_("agg")
        is_newest = exp.column("rn").eq(1)
        every = lambda fn: exp.Window(this=fn)  # noqa: E731 - an empty OVER ()
        return (
            exp.select("bucket", "value",
                       exp.alias_(_when(is_newest, every(exp.Count(this=exp.Star()))), "buckets_total"),
                       exp.alias_(_when(is_newest, every(exp.Min(this=exp.column("bucket")))), "first_bucket"))
            .with_("agg", as_=aggregated)
            .from_(ranked.subquery("ranked"))
            .qualify(exp.column("rn") <= max_points)
            .order_by(newest_first)
        )

    bounds = exp.select(*_range_bounds(spec, time)).from_("agg")
    span = _span(exp.column("lo", "b"), exp.column("hi", "b"), spec.grain)
    skip = exp.Case(ifs=[exp.If(this=span > max_points - 1, true=span - (max_points - 1))],
                    default=exp.Literal.number(0))  # how many of the oldest buckets are left out
    top = span - skip  # index of the newest bucket in the spine
    numbers = exp.Unnest(
        expressions=[exp.GenerateSeries(start=exp.Literal.number(0), end=top)],
        alias=exp.TableAlias(this=exp.to_identifier("t"), columns=[exp.to_identifier("i")]),
    )
    index = exp.cast(exp.column("i", "t"), exp.DataType.Type.BIGINT)  # FLATTEN's value is a VARIANT
    is_newest = index.eq(top)
    spine = (
        exp.select(exp.alias_(step(exp.column("lo", "b"), index + skip, spec.grain, time), "bucket"),
                   exp.alias_(_when(is_newest, span + 1), "buckets_total"),
                   exp.alias_(_when(is_newest, exp.column("lo", "b")), "first_bucket"))
        .from_(exp.alias_(exp.to_table("bounds"), "b", table=True))
        .join(numbers)
        .where(exp.not_(exp.column("lo", "b").is_(exp.null())))
    )
    value = exp.column("value", "agg")
    if spec.metric.zero_when_empty:
        value = exp.func("COALESCE", value, exp.Literal.number(0))
    return (
        exp.select(exp.alias_(exp.column("bucket", "spine"), "bucket"), exp.alias_(value, "value"),
                   exp.column("buckets_total", "spine"), exp.column("first_bucket", "spine"))
        .with_("agg", as_=aggregated)
        .with_("bounds", as_=bounds)
        .with_("spine", as_=spine)
        .from_("spine")
        .join("agg", on=exp.column("bucket", "spine").eq(exp.column("bucket", "agg")), join_type="left")
        .order_by(exp.Ordered(this=exp.column("bucket"), desc=True))
    )


def completeness_query(spec: SeriesSpec) -> exp.Select:
    """One row `(unexpected, tested, first_empty)`: buckets with no rows, buckets in the range, and the
    first empty one - counted in the warehouse over the WHOLE range, with no spine and no cap.

    The range is [start, end) when given, else the first to the last bucket with rows. Empty buckets
    are the range's bucket count minus the distinct buckets present; the first empty bucket is the
    range start (when nothing is there), else the bucket after the first gap between present ones,
    else the bucket after the last present one (when the range runs on)."""
    from sqlglot import exp

    time = spec.time()
    present = (exp.select(exp.alias_(bucket(quoted(time), spec.grain, time), "bucket")).distinct()
               .from_(_table(spec.table)).where(all_of(spec.row_conditions(time))))
    following = exp.Window(this=exp.Lead(this=exp.column("bucket")),
                           order=exp.Order(expressions=[exp.Ordered(this=exp.column("bucket"))]))
    gaps = exp.select("bucket", exp.alias_(following, "next_bucket")).from_("present")
    lo, hi = _range_bounds(spec, time)
    facts = exp.select(
        lo, hi, exp.alias_(exp.Count(this=exp.Star()), "filled"),
        exp.alias_(exp.Min(this=exp.column("bucket")), "first_filled"),
        exp.alias_(exp.Max(this=exp.column("bucket")), "last_filled"),
    ).from_("present")
    first_gap = exp.select(exp.Min(this=step(exp.column("bucket"), exp.Literal.number(1), spec.grain, time))).from_(
        "gaps").where(_span(exp.column("bucket"), exp.column("next_bucket"), spec.grain) > 1)
    f = lambda name: exp.column(name, "f")  # noqa: E731
    tested = exp.func("COALESCE", _span(f("lo"), f("hi"), spec.grain) + 1, exp.Literal.number(0))
    first_empty = exp.func(
        "COALESCE",
        _when(exp.or_(f("first_filled").is_(exp.null()), f("lo") < f("first_filled")), f("lo")),
        first_gap.subquery(),
        _when(f("last_filled") < f("hi"), step(f("last_filled"), exp.Literal.number(1), spec.grain, time)),
    )
    return (
        exp.select(exp.alias_(tested - f("filled"), "unexpected"), exp.alias_(tested, "tested"),
                   exp.alias_(first_empty, "first_empty"))
        .with_("present", as_=present)
        .with_("gaps", as_=gaps)
        .from_(exp.alias_(facts.subquery(), "f", table=True))
    )


@dataclass(frozen=True)
class SeriesRows:
    """A `series_query` result read back: points oldest first, and what the cap left out."""

    points: list[tuple[Any, Any]]
    buckets_total: int  # buckets in the whole range (0 when there is nothing)
    first_bucket: Any  # the oldest bucket of the whole range

    @property
    def left_out(self) -> int:
        """The oldest buckets not in `points` (by the point cap or the byte cap)."""
        return max(self.buckets_total - len(self.points), 0)


def read_series(rows: list[list[Any]]) -> SeriesRows:
    """Read `series_query` rows (newest first: any cap has cut the oldest)."""
    total = next((row[2] for row in rows if row[2] is not None), None)
    first = next((row[3] for row in rows if row[3] is not None), None)
    points = [(row[0], row[1]) for row in reversed(rows)]
    return SeriesRows(points, int(total) if total is not None else len(points), first)


def _aggregated(spec: SeriesSpec, time: Column) -> exp.Select:
    from sqlglot import exp

    metric = metric_expression(spec.metric, spec.columns)
    return (
        exp.select(exp.alias_(bucket(quoted(time), spec.grain, time), "bucket"), exp.alias_(metric, "value"))
        .from_(_table(spec.table))
        .where(all_of(spec.row_conditions(time)))
        .group_by(exp.Literal.number(1))
    )


def _range_bounds(spec: SeriesSpec, time: Column) -> tuple[exp.Alias, exp.Alias]:
    """`lo` and `hi`: the first and last bucket of the range ([start, end) when given, else the data's).

    Aggregates on both sides keep the row count at exactly one, even when both ends are given."""
    from sqlglot import exp

    start, end = spec.bounds()
    low: exp.Expression = exp.func("MIN", exp.column("bucket"))
    high: exp.Expression = exp.func("MAX", exp.column("bucket"))
    if start is not None:
        low = exp.func("COALESCE", bucket(literal(start.isoformat(), time), spec.grain, time), low)
    if end is not None:  # the last bucket before `end` is the one holding the instant just before it
        just_before = exp.DateAdd(this=literal(end.isoformat(), time), expression=exp.Literal.number(-1),
                                  unit=exp.var("SECOND" if time.kind is ColumnKind.TIMESTAMP else "DAY"))
        high = exp.func("COALESCE", bucket(just_before, spec.grain, time), high)
    return exp.alias_(low, "lo"), exp.alias_(high, "hi")


def _span(low: exp.Expression, high: exp.Expression, grain: str) -> exp.Expression:
    """Whole grains from `low` to `high` (both bucket starts)."""
    from sqlglot import exp

    return exp.DateDiff(this=high, expression=low, unit=exp.var(grain.upper()))


def _when(condition: exp.Expression, value: exp.Expression) -> exp.Case:
    from sqlglot import exp

    return exp.Case(ifs=[exp.If(this=condition, true=value)])


def _table(ref: TableRef) -> exp.Table:
    from snowmcp.common.identifiers import table_expression

    return table_expression(ref)
