"""The table profile: every statistic of every column in one statement per column group.

One aggregate SELECT computes the per-column statistics in a single scan; top
values (for text, boolean and date columns, the ones with categories) are
GROUP BY ... LIMIT k subqueries of the same statement that each read one
column. The statement returns the statistics row joined to the first top-value
row only (the others carry no statistics, so a wide table's statistics are not
repeated k times per column), so one round trip brings everything back; the
statistics row always comes first. Wide tables are split into
groups of `GROUP_SIZE` columns, one statement each, to keep statements short.

Quantiles: DuckDB computes them exactly in one list aggregate (cheaper than
its approximation); Snowflake uses APPROX_PERCENTILE (t-digest), and both use
approximate distinct counts (HyperLogLog).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from snowmcp.common.sql.columns import Column, ColumnKind, quoted

if TYPE_CHECKING:
    from sqlglot import exp

    from snowmcp.common.warehouse.base import TableRef

QUANTILES: dict[str, float] = {"p01": 0.01, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p99": 0.99}
TOP_VALUE_KINDS = (ColumnKind.TEXT, ColumnKind.BOOLEAN, ColumnKind.DATE)
ORDERED_KINDS = (ColumnKind.NUMBER, ColumnKind.TEXT, ColumnKind.DATE, ColumnKind.TIMESTAMP, ColumnKind.TIME)
GROUP_SIZE = 50
SAMPLE_SEED = 42


@dataclass
class ProfileStatement:
    """One statement and how to read its result: `c{i}_{stat}` columns, plus top-value rows
    (`top_col`, `top_value`, `top_count`) where `top_col` is the column's index in `columns`."""

    sql: exp.Select
    columns: list[Column]
    stats: dict[int, list[str]] = field(default_factory=dict)
    quantile_list: bool = False  # DuckDB: c{i}_quantiles holds all QUANTILES in order
    top_k: int = 0

    @property
    def max_rows(self) -> int:
        """Rows the statement can return: the statistics row and every top value."""
        return 1 + self.top_k * sum(c.kind in TOP_VALUE_KINDS for c in self.columns)


def profile_statements(
    table: TableRef, columns: list[Column], *, dialect: str, sample_percent: float | None = None, top_k: int = 5
) -> list[ProfileStatement]:
    groups = [columns[i:i + GROUP_SIZE] for i in range(0, len(columns), GROUP_SIZE)] or [[]]
    return [_statement(table, group, dialect, sample_percent, top_k) for group in groups]


def _statement(
    table: TableRef, columns: list[Column], dialect: str, sample_percent: float | None, top_k: int
) -> ProfileStatement:
    from sqlglot import exp

    statement = ProfileStatement(sql=exp.select(), columns=columns, quantile_list=dialect == "duckdb", top_k=top_k)
    selections: list[exp.Expression] = [exp.alias_(exp.Count(this=exp.Star()), "row_count"),
                                        exp.alias_(exp.Literal.number(1), "stats_key")]
    for index, column in enumerate(columns):
        stats = _column_stats(column, statement.quantile_list)
        statement.stats[index] = list(stats)
        selections += [exp.alias_(expression, f"c{index}_{name}") for name, expression in stats.items()]
    stats_query = exp.select(*selections).from_(_source(table, sample_percent))
    tops = [
        _top_values(index, column, table, sample_percent, top_k)
        for index, column in enumerate(columns) if column.kind in TOP_VALUE_KINDS
    ]
    if not tops:
        statement.sql = stats_query
        return statement
    union = tops[0]
    for top in tops[1:]:
        union = exp.union(union, top, distinct=False)
    in_order = exp.Order(expressions=[exp.Ordered(this=exp.column("top_col")),
                                      exp.Ordered(this=exp.column("top_count"), desc=True),
                                      exp.Ordered(this=exp.column("top_value"))])
    ranked = exp.select("top_col", "top_value", "top_count",
                        exp.alias_(exp.Window(this=exp.RowNumber(), order=in_order), "top_rank")).from_("top_values")
    statement.sql = (
        exp.select("stats.*", "ranked.top_col", "ranked.top_value", "ranked.top_count")
        .with_("stats", as_=stats_query)
        .with_("top_values", as_=union)
        .with_("ranked", as_=ranked)
        .from_("stats")
        .join("ranked", on=exp.column("stats_key", "stats").eq(exp.column("top_rank", "ranked")), join_type="full")
        .order_by(exp.Ordered(this=exp.column("top_rank", "ranked"), nulls_first=True))
    )
    return statement


def _column_stats(column: Column, quantile_list: bool) -> dict[str, exp.Expression]:
    from sqlglot import exp

    value = quoted(column)
    stats: dict[str, exp.Expression] = {"count": exp.Count(this=value)}
    if column.kind is ColumnKind.OTHER:
        return stats
    stats["distinct"] = exp.ApproxDistinct(this=value)
    if column.kind in ORDERED_KINDS:
        stats["min"] = exp.Min(this=value)
        stats["max"] = exp.Max(this=value)
    if column.kind is ColumnKind.NUMBER:
        number = exp.cast(value, exp.DataType.Type.DOUBLE)
        stats["mean"] = exp.Avg(this=value)  # floating point already; a per-row cast would cost a lot
        stats["stddev"] = exp.StddevSamp(this=value)
        if quantile_list:
            fractions = exp.Array(expressions=[exp.Literal.number(q) for q in QUANTILES.values()])
            stats["quantiles"] = exp.Anonymous(this="QUANTILE_CONT", expressions=[number, fractions])
        else:
            for name, fraction in QUANTILES.items():
                stats[name] = exp.ApproxQuantile(this=number, quantile=exp.Literal.number(fraction))
        stats["zeros"] = exp.CountIf(this=value.eq(0))
        stats["negatives"] = exp.CountIf(this=value < 0)
    elif column.kind is ColumnKind.TEXT:
        length = exp.Length(this=value)
        stats["min_length"] = exp.Min(this=length)
        stats["max_length"] = exp.Max(this=length)
        stats["avg_length"] = exp.Avg(this=length)
    elif column.kind is ColumnKind.BOOLEAN:
        stats["true_count"] = exp.CountIf(this=value.eq(exp.true()))
    return stats


def _top_values(
    index: int, column: Column, table: TableRef, sample_percent: float | None, top_k: int
) -> exp.Select:
    from sqlglot import exp

    value = quoted(column)
    counted = (
        exp.select(exp.alias_(value, "v"), exp.alias_(exp.Count(this=exp.Star()), "n"))
        .from_(_source(table, sample_percent))
        .where(exp.not_(value.is_(exp.null())))
        .group_by(exp.Literal.number(1))
        .order_by(exp.Ordered(this=exp.column("n"), desc=True), "v")
        .limit(top_k)
    )
    return exp.select(
        exp.alias_(exp.Literal.number(index), "top_col"),
        exp.alias_(exp.cast(exp.column("v"), exp.DataType.Type.VARCHAR), "top_value"),
        exp.alias_(exp.column("n"), "top_count"),
    ).from_(counted.subquery(f"top_{index}"))


def _source(table: TableRef, sample_percent: float | None) -> exp.Table:
    from sqlglot import exp

    from snowmcp.common.identifiers import table_expression

    source = table_expression(table)
    if sample_percent is not None:
        source.set("sample", exp.TableSample(method=exp.var("BERNOULLI"), percent=exp.Literal.number(sample_percent),
                                             seed=exp.Literal.number(SAMPLE_SEED)))
    return source
