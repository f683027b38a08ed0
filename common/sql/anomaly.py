"""Anomaly scoring of a dense metric series, in SQL.

Each point is compared with a baseline made of the `window` points before it
(with seasonality: the `window` previous points of the same season - the same
weekday, or the same hour of the day). Methods:

- `zscore`: expected = mean of the baseline, spread = its standard deviation,
  computed with sliding window functions;
- `mad` (robust to earlier outliers): expected = median of the baseline,
  spread = 1.4826 x the median absolute deviation from it, computed with a
  self-join on row numbers (Snowflake's MEDIAN has no sliding frames).

score = (value - expected) / spread; a point is an anomaly when |score| >=
sensitivity, or when the baseline is perfectly flat and the value differs
(score NULL). A point needs at least `min_history` baseline points to be
scored. NaN and infinite bucket values are neither scored nor part of any
baseline (they are counted apart).

The statement always returns at least one row - the summary (points scored,
anomalies found, non-finite buckets, and the series' `buckets_total` and
`first_bucket`, see `common.sql.time_series`) - left-joined to the anomalies,
newest first, so that "no anomalies" and "nothing to score" differ and any row
or byte cap cuts the oldest anomalies, never the newest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from snowmcp.common.errors import InvalidArgument

if TYPE_CHECKING:
    from sqlglot import exp

Method = Literal["zscore", "mad"]
Seasonality = Literal["weekly", "daily"]
MAD_TO_SIGMA = 1.4826


def season_expression(time: exp.Expression, seasonality: str | None, grain: str) -> exp.Expression:
    from sqlglot import exp

    if seasonality is None:
        return exp.Literal.number(0)
    dow = exp.Extract(this=exp.var("DAYOFWEEK"), expression=time)
    hour = exp.Extract(this=exp.var("HOUR"), expression=time)
    if seasonality == "weekly" and grain == "day":
        return dow
    if seasonality == "weekly" and grain == "hour":
        return dow * 24 + hour
    if seasonality == "daily" and grain == "hour":
        return hour
    raise InvalidArgument(
        f"seasonality {seasonality!r} does not fit grain {grain!r}",
        hint="weekly works with grain day or hour, daily with grain hour; or omit seasonality.",
    )


def anomaly_query(
    series: exp.Select,
    *,
    grain: str,
    method: str,
    sensitivity: float,
    window: int,
    seasonality: str | None,
    min_history: int,
) -> exp.Select:
    """Rows (points, bucket, value, expected, spread, score, anomalies, non_finite, buckets_total,
    first_bucket, kept, oldest_kept) for `series` (a `series_query`): kept buckets are the ones scored
    from, the oldest of them `oldest_kept`."""
    from sqlglot import exp

    from snowmcp.common.sql.columns import non_finite

    if method not in ("zscore", "mad"):
        raise InvalidArgument(f"unknown method {method!r}", hint="Use zscore or mad.")
    as_double = exp.cast(exp.column("value"), exp.DataType.Type.DOUBLE)
    seasoned = exp.select(
        "bucket",
        exp.alias_(exp.Case(ifs=[exp.If(this=non_finite(as_double), true=exp.null())], default=as_double), "value"),
        exp.alias_(season_expression(exp.column("bucket"), seasonality, grain), "season"),
    ).from_("series")
    scored = _zscore(window) if method == "zscore" else _mad(window)
    eligible = exp.and_(exp.column("history") >= min_history, exp.not_(exp.column("value").is_(exp.null())))
    deviation = exp.paren(exp.column("value") - exp.column("expected"))
    score = exp.Div(this=deviation, expression=exp.func("NULLIF", exp.column("spread"), exp.Literal.number(0)))
    flagged_if = exp.or_(
        exp.func("ABS", score) >= sensitivity,
        exp.and_(exp.column("spread").eq(0), exp.NEQ(this=exp.column("value"), expression=exp.column("expected"))),
    )
    flagged = (
        exp.select("bucket", "value", "expected", "spread", exp.alias_(score, "score"))
        .from_("scored")
        .where(exp.and_(eligible, flagged_if))
    )
    count = lambda source, where=None: exp.select(exp.Count(this=exp.Star())).from_(source).where(where).subquery()  # noqa: E731
    summary = exp.select(
        exp.alias_(count("scored", eligible), "points"),
        exp.alias_(count("flagged"), "anomalies"),
        exp.alias_(count("series", non_finite(exp.cast(exp.column("value"), exp.DataType.Type.DOUBLE))), "non_finite"),
        exp.alias_(exp.Max(this=exp.column("buckets_total")), "buckets_total"),
        exp.alias_(exp.Max(this=exp.column("first_bucket")), "first_bucket"),
        exp.alias_(exp.Count(this=exp.Star()), "kept"),
        exp.alias_(exp.Min(this=exp.column("bucket")), "oldest_kept"),
    ).from_("series")
    query = exp.select("s.points", "a.bucket", "a.value", "a.expected", "a.spread", "a.score", "s.anomalies",
                       "s.non_finite", "s.buckets_total", "s.first_bucket", "s.kept", "s.oldest_kept").with_(
        "series", as_=series
    ).with_("seasoned", as_=seasoned)
    for name, cte in scored:
        query = query.with_(name, as_=cte)
    return (
        query.with_("flagged", as_=flagged)
        .from_(exp.alias_(summary.subquery(), "s", table=True))
        .join(exp.alias_(exp.to_table("flagged"), "a", table=True), on=exp.true(), join_type="left")
        .order_by(exp.Ordered(this=exp.column("bucket", "a"), desc=True))
    )


def _baseline_window(function: exp.Expression, window: int) -> exp.Window:
    from sqlglot import exp

    return exp.Window(
        this=function,
        partition_by=[exp.column("season")],
        order=exp.Order(expressions=[exp.Ordered(this=exp.column("bucket"))]),
        spec=exp.WindowSpec(kind="ROWS", start=exp.Literal.number(window), start_side="PRECEDING",
                            end=exp.Literal.number(1), end_side="PRECEDING"),
    )


def _zscore(window: int) -> list[tuple[str, exp.Select]]:
    from sqlglot import exp

    value = exp.column("value")
    scored = exp.select(
        "bucket", "value",
        exp.alias_(_baseline_window(exp.Avg(this=value), window), "expected"),
        exp.alias_(_baseline_window(exp.StddevSamp(this=value), window), "spread"),
        exp.alias_(_baseline_window(exp.Count(this=value), window), "history"),
    ).from_("seasoned")
    return [("scored", scored)]


def _mad(window: int) -> list[tuple[str, exp.Select]]:
    from sqlglot import exp

    numbered = exp.select(
        "bucket", "value", "season",
        exp.alias_(
            exp.Window(this=exp.RowNumber(), partition_by=[exp.column("season")],
                       order=exp.Order(expressions=[exp.Ordered(this=exp.column("bucket"))])),
            "rn",
        ),
    ).from_("seasoned")
    col = exp.column
    history = (
        exp.select(exp.alias_(col("bucket", "p"), "bucket"), exp.alias_(col("value", "h"), "past"))
        .from_(exp.alias_(exp.to_table("numbered"), "p", table=True))
        .join(
            exp.alias_(exp.to_table("numbered"), "h", table=True),
            on=exp.and_(
                col("season", "h").eq(col("season", "p")),
                col("rn", "h").between(col("rn", "p") - window, col("rn", "p") - 1),
                exp.not_(col("value", "h").is_(exp.null())),
            ),
        )
    )
    center = (
        exp.select("bucket", exp.alias_(exp.Median(this=exp.column("past")), "expected"),
                   exp.alias_(exp.Count(this=exp.Star()), "history"))
        .from_("history").group_by("bucket")
    )
    spread = (
        exp.select(
            exp.alias_(exp.column("bucket", "h"), "bucket"),
            exp.alias_(
                exp.Median(this=exp.func("ABS", exp.column("past", "h") - exp.column("expected", "c")))
                * MAD_TO_SIGMA,
                "spread",
            ),
        )
        .from_(exp.alias_(exp.to_table("history"), "h", table=True))
        .join(exp.alias_(exp.to_table("center"), "c", table=True), on=exp.column("bucket", "c").eq(exp.column("bucket", "h")))
        .group_by(exp.column("bucket", "h"))
    )
    scored = (
        exp.select("n.bucket", "n.value", "c.expected", "d.spread", exp.alias_(
            exp.func("COALESCE", exp.column("history", "c"), exp.Literal.number(0)), "history"))
        .from_(exp.alias_(exp.to_table("numbered"), "n", table=True))
        .join(exp.alias_(exp.to_table("center"), "c", table=True), on=exp.column("bucket", "c").eq(exp.column("bucket", "n")),
              join_type="left")
        .join(exp.alias_(exp.to_table("spread"), "d", table=True), on=exp.column("bucket", "d").eq(exp.column("bucket", "n")),
              join_type="left")
    )
    return [("numbered", numbered), ("history", history), ("center", center), ("spread", spread), ("scored", scored)]
