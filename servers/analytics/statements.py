"""The analytics server's own statements (the shared ones live in `common.sql`).

Each builder takes resolved columns and returns a sqlglot SELECT; the tools
render it in the warehouse's dialect. Output columns get quoted aliases so
their case survives Snowflake.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.identifiers import table_expression
from snowmcp.common.sql.columns import Column, TableColumns, non_finite, quoted
from snowmcp.common.sql.metrics import Filter, Metric, all_of, filter_condition, instant_range, literal, metric_expression

if TYPE_CHECKING:
    from sqlglot import exp

    from snowmcp.common.warehouse.base import TableRef


class OrderBy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str = Field(description="A group_by column or metric name.")
    direction: Literal["asc", "desc"] = "desc"


class Period(BaseModel):
    # [start, end), ISO dates or date-times: the analytics instructions say so

    model_config = ConfigDict(extra="forbid")

    start: str
    end: str

    def instants(self, label: str) -> tuple[dt.datetime, dt.datetime]:
        start, end = instant_range(self.start, self.end, label)
        assert start is not None and end is not None  # both are required fields
        return start, end


def _alias(expression: exp.Expression, name: str) -> exp.Alias:
    from sqlglot import exp

    return exp.alias_(expression, exp.to_identifier(name, quoted=True))


def aggregate_query(
    table: TableRef, columns: TableColumns, metrics: list[Metric], group_by: list[str],
    filters: list[Filter], order_by: list[OrderBy],
) -> tuple[exp.Select, list[str]]:
    """Metrics per group; returns the statement and its output column names (with groups, one more
    column follows them: the number of groups in all)."""
    from sqlglot import exp

    groups = columns.get_many(group_by, role="group_by column")
    names = [c.name for c in groups]
    selections = [_alias(quoted(c), c.name) for c in groups]
    for metric in metrics:
        if metric.name in names:
            raise InvalidArgument(f"output name {metric.name!r} is used twice", hint='Give metrics distinct "as" names.')
        selections.append(_alias(metric_expression(metric, columns), metric.name))
        names.append(metric.name)
    if groups:  # after the named columns: the number of groups in all, read by position
        selections.append(_alias(exp.Window(this=exp.Count(this=exp.Star())), "groups_total"))
    query = exp.select(*selections).from_(table_expression(table)).where(
        all_of([filter_condition(f, columns) for f in filters]))
    if groups:
        query = query.group_by(*[exp.Literal.number(i + 1) for i in range(len(groups))])
    ordering = []
    for item in order_by:
        if item.column not in names:
            raise InvalidArgument(f"order_by {item.column!r} is neither a group_by column nor a metric name",
                                  hint=f"Order by one of: {', '.join(names)}.")
        position = exp.Literal.number(names.index(item.column) + 1)
        ordering.append(exp.Ordered(this=position, desc=item.direction == "desc", nulls_first=False))
    ordering += [exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(groups))]  # stable results
    return (query.order_by(*ordering) if ordering else query), names


def compare_query(
    table: TableRef, columns: TableColumns, time: Column, metric: Metric,
    current: tuple[dt.datetime, dt.datetime], previous: tuple[dt.datetime, dt.datetime],
    dimensions: list[Column], filters: list[Filter], top: int,
) -> exp.Select:
    """The metric in both periods: the total first, then the `top` groups by absolute change."""
    from sqlglot import exp

    def within(period: tuple[dt.datetime, dt.datetime]) -> exp.Expression:
        return exp.and_(quoted(time) >= literal(period[0].isoformat(), time),
                        quoted(time) < literal(period[1].isoformat(), time))

    in_current, in_previous = within(current), within(previous)

    def measure(where: exp.Expression) -> exp.Expression:
        value = metric_expression(metric, columns, where=where)
        return exp.func("COALESCE", value, exp.Literal.number(0)) if metric.zero_when_empty else value

    selections: list[exp.Expression] = [_alias(quoted(d), d.name) for d in dimensions]
    is_total = exp.Literal.number(1)
    if dimensions:
        is_total = exp.func("GROUPING", quoted(dimensions[0]))
    selections += [_alias(is_total, "is_total"), _alias(measure(in_current), "current"),
                   _alias(measure(in_previous), "previous")]
    if dimensions:  # rows in all, the total row included: how many groups the top ones were chosen from
        selections.append(_alias(exp.Window(this=exp.Count(this=exp.Star())), "rows_total"))
    conditions = [exp.or_(in_current, in_previous)] + [filter_condition(f, columns) for f in filters]
    query = exp.select(*selections).from_(table_expression(table)).where(all_of(conditions))
    if not dimensions:
        return query
    sets = exp.GroupingSets(expressions=[exp.Tuple(expressions=[]),
                                         exp.Tuple(expressions=[quoted(d) for d in dimensions])])
    change = exp.func("ABS", exp.func("COALESCE", exp.column("current", quoted=True), exp.Literal.number(0))
                      - exp.func("COALESCE", exp.column("previous", quoted=True), exp.Literal.number(0)))
    ordering = [exp.Ordered(this=exp.column("is_total", quoted=True), desc=True),
                exp.Ordered(this=change, desc=True, nulls_first=False)]
    ordering += [exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(dimensions))]
    return query.group_by(sets).order_by(*ordering).limit(top + 1)


def histogram_query(table: TableRef, column: Column, bins: int) -> exp.Select:
    """Equal-width bins between the column's finite min and max:
    (lo, hi, n, total, non_finite, bin, count) rows.

    NaN and infinities are counted apart and never binned; the bin arithmetic works on halves
    so that a range wider than the largest double (e.g. -1e308 .. 1e308) cannot overflow."""
    from sqlglot import exp

    raw_value = exp.cast(quoted(column), exp.DataType.Type.DOUBLE)
    floating = any(word in column.type.upper() for word in ("DOUBLE", "FLOAT", "REAL"))  # others are finite
    special: exp.Expression = non_finite(raw_value) if floating else exp.false()
    value = exp.Case(ifs=[exp.If(this=special, true=exp.null())], default=raw_value) if floating else raw_value
    bounds = exp.select(
        exp.alias_(exp.Min(this=value), "lo"), exp.alias_(exp.Max(this=value), "hi"),
        exp.alias_(exp.Count(this=value), "n"), exp.alias_(exp.Count(this=exp.Star()), "total"),
        exp.alias_(exp.CountIf(this=special) if floating else exp.Literal.number(0), "non_finite"),
    ).from_(table_expression(table))
    half = lambda e: e * exp.Literal.number(0.5)  # noqa: E731
    lo, hi = exp.column("lo", "b"), exp.column("hi", "b")
    width = exp.func("NULLIF", exp.paren(half(hi) - half(lo)), exp.Literal.number(0))
    share = exp.Div(this=exp.paren(half(value) - half(lo)), expression=width)
    raw = exp.Floor(this=exp.paren(share) * bins)
    bin_index = exp.Case(
        ifs=[exp.If(this=raw >= bins, true=exp.Literal.number(bins - 1))],
        default=exp.func("COALESCE", raw, exp.Literal.number(0)),
    )
    counts = (
        exp.select(exp.alias_(bin_index, "bin"), exp.alias_(exp.Count(this=exp.Star()), "cnt"))
        .from_(table_expression(table))
        .join(exp.alias_(exp.to_table("bounds"), "b", table=True), join_type="cross")
        .where(exp.not_(value.is_(exp.null())))
        .group_by(exp.Literal.number(1))
    )
    return (
        exp.select("b.lo", "b.hi", "b.n", "b.total", "b.non_finite", "h.bin", "h.cnt")
        .with_("bounds", as_=bounds)
        .from_(exp.alias_(exp.to_table("bounds"), "b", table=True))
        .join(counts.subquery("h"), on=exp.true(), join_type="left")
        .order_by("h.bin")
    )


def bin_edges(lo: float, hi: float, bins: int) -> list[tuple[float, float]]:
    """(low, high) of each equal-width bin; interpolated, so no edge overflows on a huge range."""
    points = [lo if i == 0 else hi if i == bins else lo * (1 - i / bins) + hi * (i / bins) for i in range(bins + 1)]
    return list(zip(points, points[1:]))


def value_counts_query(table: TableRef, column: Column, top: int) -> exp.Select:
    """The top values with counts; each row also carries the total rows, nulls and distinct values."""
    from sqlglot import exp

    grouped = (
        exp.select(exp.alias_(quoted(column), "v"), exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(table_expression(table)).group_by(exp.Literal.number(1))
    )
    over_all = lambda fn: exp.Window(this=fn)  # noqa: E731 - an empty OVER ()
    is_null = exp.column("v").is_(exp.null())
    return (
        exp.select(
            "v", "n",
            exp.alias_(over_all(exp.Sum(this=exp.column("n"))), "total_rows"),
            exp.alias_(over_all(exp.Count(this=exp.column("v"))), "distinct_values"),
            exp.alias_(over_all(exp.Sum(this=exp.Case(ifs=[exp.If(this=is_null, true=exp.column("n"))]))), "nulls"),
        )
        .from_(grouped.subquery("g"))
        .order_by(exp.Case(ifs=[exp.If(this=is_null, true=exp.Literal.number(1))], default=exp.Literal.number(0)),
                  exp.Ordered(this=exp.column("n"), desc=True), "v")
        .limit(top + 1)
    )


def correlations_query(table: TableRef, columns: list[Column]) -> tuple[exp.Select, list[tuple[Column, Column]]]:
    """Pearson correlation and pair count for every pair of columns, in one aggregate."""
    from sqlglot import exp

    pairs = [(a, b) for i, a in enumerate(columns) for b in columns[i + 1:]]
    selections = []
    for index, (a, b) in enumerate(pairs):
        x, y = exp.cast(quoted(a), exp.DataType.Type.DOUBLE), exp.cast(quoted(b), exp.DataType.Type.DOUBLE)
        both = exp.and_(exp.not_(quoted(a).is_(exp.null())), exp.not_(quoted(b).is_(exp.null())))
        selections += [
            exp.alias_(exp.Corr(this=x, expression=y), f"r{index}"),
            exp.alias_(exp.CountIf(this=both), f"n{index}"),
        ]
    return exp.select(*selections).from_(table_expression(table)), pairs
