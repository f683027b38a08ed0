"""Metrics and filters as callers declare them, compiled to sqlglot expressions.

A metric is `{"fn": "sum", "column": "AMOUNT", "as": "revenue"}`; a filter is
`{"column": "STATUS", "op": "in", "value": ["shipped", "delivered"]}`.
Columns are checked against the table (`TableColumns`); values become
literals. Shared by the analytics tools and the quality checks.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.sql.columns import Column, ColumnKind, TableColumns, quoted

if TYPE_CHECKING:
    from sqlglot import exp

MetricFn = Literal["count", "count_distinct", "sum", "avg", "min", "max", "median", "stddev", "percentile"]
FilterOp = Literal["=", "!=", "<", "<=", ">", ">=", "in", "not_in", "between", "is_null", "not_null", "like"]
Scalar = str | int | float | bool
MAX_IN_VALUES = 1_000
MAX_ALIAS = 128
_NUMERIC_FNS = {"sum", "avg", "median", "stddev", "percentile"}
_ZERO_WHEN_EMPTY = {"count", "count_distinct", "sum"}


class Metric(BaseModel):
    # How to use it is told once, in the analytics server's instructions (the catalog stays small).

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    fn: MetricFn
    column: str | None = None
    as_: str | None = Field(None, alias="as", max_length=MAX_ALIAS)
    p: float | None = Field(None, gt=0, lt=1)  # for percentile

    @property
    def name(self) -> str:
        if self.as_:
            return self.as_
        if self.column is None:
            return "count"
        suffix = f"_p{self.p * 100:g}" if self.fn == "percentile" and self.p is not None else ""
        return f"{self.fn}_{self.column}{suffix}".lower()

    @property
    def zero_when_empty(self) -> bool:
        """True when no rows means 0 (a count or a sum), not unknown."""
        return self.fn in _ZERO_WHEN_EMPTY


class Filter(BaseModel):
    # A row condition; the analytics server's instructions say how `value` reads.

    model_config = ConfigDict(extra="forbid")

    column: str
    op: FilterOp
    value: Scalar | list[Scalar] | None = None

    @field_validator("value")
    @classmethod
    def _bounded(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) > MAX_IN_VALUES:
            raise ValueError(f"at most {MAX_IN_VALUES} values")
        return value


Metrics = Annotated[list[Metric], Field(min_length=1, max_length=50)]
Filters = Annotated[list[Filter], Field(max_length=50)]


def metric_expression(metric: Metric, columns: TableColumns, *, where: exp.Expression | None = None) -> exp.Expression:
    """The aggregate for `metric`; with `where`, only rows meeting it count (CASE inside the aggregate)."""
    from sqlglot import exp

    label = f"metric {metric.name!r}"
    if metric.column is None:
        if metric.fn != "count":
            raise InvalidArgument(f"{label}: {metric.fn} needs a column")
        counted: exp.Expression = exp.Literal.number(1) if where is not None else exp.Star()
        return exp.Count(this=_only_where(counted, where))
    column = columns.get(metric.column, role=f"{label}: column")
    if metric.fn in _NUMERIC_FNS:
        columns.require(column, (ColumnKind.NUMBER,), f"{label} ({metric.fn})")
    if metric.fn == "percentile" and metric.p is None:
        raise InvalidArgument(f"{label}: percentile needs p, a fraction such as 0.95")
    if metric.fn != "percentile" and metric.p is not None:
        raise InvalidArgument(f"{label}: p applies only to percentile")
    value = _only_where(quoted(column), where)
    return _aggregate(metric, value, column)


def _aggregate(metric: Metric, value: exp.Expression, column: Column) -> exp.Expression:
    from sqlglot import exp

    if metric.fn in ("median", "percentile"):
        # Interpolated quantiles as floats. AVG and STDDEV already answer in floating point (DuckDB)
        # or widened NUMBER (Snowflake); casting every row to DOUBLE first costs DuckDB a quarter of a scan.
        value = exp.cast(value, exp.DataType.Type.DOUBLE)
    if metric.fn == "count":
        return exp.Count(this=value)
    if metric.fn == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    if metric.fn == "sum":
        return exp.Sum(this=value)
    if metric.fn == "avg":
        return exp.Avg(this=value)
    if metric.fn == "min":
        return exp.Min(this=value)
    if metric.fn == "max":
        return exp.Max(this=value)
    if metric.fn == "median":
        return exp.Median(this=value)
    if metric.fn == "stddev":
        return exp.StddevSamp(this=value)
    assert metric.p is not None
    return exp.WithinGroup(
        this=exp.PercentileCont(this=exp.Literal.number(metric.p)),
        expression=exp.Order(expressions=[exp.Ordered(this=value)]),
    )


def _only_where(value: exp.Expression, where: exp.Expression | None) -> exp.Expression:
    from sqlglot import exp

    return value if where is None else exp.Case(ifs=[exp.If(this=where, true=value)])


def filter_condition(item: Filter, columns: TableColumns) -> exp.Expression:
    """One filter as a boolean expression over a quoted column and literal values."""
    from sqlglot import exp

    column = columns.get(item.column, role="filter column")
    target = quoted(column)
    op, value = item.op, item.value
    label = f"filter on {column.name} ({op})"
    if op in ("is_null", "not_null"):
        if value is not None:
            raise InvalidArgument(f"{label} takes no value")
        return target.is_(exp.null()) if op == "is_null" else exp.not_(target.is_(exp.null()))
    if value is None:
        raise InvalidArgument(f"{label} needs a value", hint="Use op is_null / not_null to test for NULL.")
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise InvalidArgument(f"{label} needs a non-empty list of values")
        condition = target.isin(*[literal(v, column) for v in value])
        return exp.not_(condition) if op == "not_in" else condition
    if isinstance(value, list) and op != "between":
        raise InvalidArgument(f"{label} takes one value, not a list")
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidArgument(f"{label} needs [low, high]")
        return target.between(literal(value[0], column), literal(value[1], column))
    if op == "like":
        if not isinstance(value, str):
            raise InvalidArgument(f"{label} needs a text pattern with % and _")
        return target.like(exp.Literal.string(value))
    assert not isinstance(value, list)
    comparisons = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
    return comparisons[op](this=target, expression=literal(value, column))


def all_of(conditions: list[exp.Expression]) -> exp.Expression | None:
    from sqlglot import exp

    return exp.and_(*conditions) if conditions else None


def literal(value: Any, column: Column | None = None) -> exp.Expression:
    """A Python value as a SQL literal. Text compared with a date or timestamp column is cast,
    so '2026-01-01' works everywhere; a value that cannot be such a date is refused here."""
    from sqlglot import exp

    if isinstance(value, bool) or value is None or isinstance(value, (int, float, dt.date)):
        return exp.convert(value)
    if not isinstance(value, str):
        raise InvalidArgument(f"unsupported literal of type {type(value).__name__}")
    if column is not None and column.is_temporal:
        parsed = parse_instant(value, f"value for {column.name}")
        return exp.convert(parsed.date() if column.kind is ColumnKind.DATE and _is_midnight(parsed) else parsed)
    return exp.Literal.string(value)


def parse_instant(text: str | dt.date, what: str) -> dt.datetime:
    """An ISO date or date-time, as a datetime (naive stays naive)."""
    if isinstance(text, dt.datetime):
        return text
    if isinstance(text, dt.date):
        return dt.datetime(text.year, text.month, text.day)
    if not isinstance(text, str):
        raise InvalidArgument(f"{what}: a {type(text).__name__} is not an ISO date or date-time",
                              hint="Use 2026-11-01 or 2026-11-01T08:00:00.")
    try:
        if len(text) > 64:  # longer than any ISO date-time; don't parse it, don't echo it whole
            raise ValueError
        return dt.datetime.fromisoformat(text.strip())
    except ValueError:
        shown = repr(text) if len(text) <= 64 else repr(text[:40]) + f"... ({len(text)} characters)"
        raise InvalidArgument(f"{what}: {shown} is not an ISO date or date-time",
                              hint="Use 2026-11-01 or 2026-11-01T08:00:00.") from None


def instant_range(start: str | None, end: str | None, label: str = "") -> tuple[dt.datetime | None, dt.datetime | None]:
    """A [start, end) range as instants (either may be absent); both zoned or both naive, end after start."""
    prefix = f"{label}." if label else ""
    first = parse_instant(start, f"{prefix}start") if start else None
    last = parse_instant(end, f"{prefix}end") if end else None
    where = f"{label}: " if label else ""
    if first and last and (first.tzinfo is None) != (last.tzinfo is None):
        raise InvalidArgument(f"{where}start and end must both have a time zone or both have none")
    if first and last and last <= first:
        raise InvalidArgument(f"{where}end ({end}) must be after start ({start})")
    return first, last


def _is_midnight(value: dt.datetime) -> bool:
    return value.time() == dt.time() and value.tzinfo is None

