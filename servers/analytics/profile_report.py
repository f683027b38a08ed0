"""Reading a profile statement's result into column profiles, and the alerts worth raising."""

from __future__ import annotations

from typing import Any

from common.results import QueryResult
from common.sql.profile import QUANTILES, TOP_VALUE_KINDS, ProfileStatement
from servers.analytics.models import Alert, ColumnProfile, ValueCount

_COUNTS = {"distinct", "zeros", "negatives", "true_count"}
MOSTLY_NULL_PERCENT = 50.0
UNIQUE_RATIO = 0.98  # approximate distinct counts err by a percent or two
HIGH_CARDINALITY_RATIO = 0.5
HIGH_CARDINALITY_MIN = 100
DOMINANT_SHARE = 0.9
SKEW_THRESHOLD = 1.0  # |3 (mean - median) / stddev|, Pearson's second skewness coefficient
RARE_NEGATIVE_SHARE = 0.01


def read_profile(statement: ProfileStatement, result: QueryResult) -> tuple[int, list[ColumnProfile]]:
    """The row count and one profile per column of `statement`, from its result rows."""
    index = {column.name.lower(): i for i, column in enumerate(result.columns)}
    first = result.rows[0]

    def stat(position: int, name: str) -> Any:
        at = index.get(f"c{position}_{name}")
        return None if at is None else first[at]

    row_count = int(first[index["row_count"]])
    tops = _top_values(result, index)
    profiles = []
    for position, column in enumerate(statement.columns):
        values = {name: stat(position, name) for name in statement.stats[position]}
        if statement.quantile_list and values.get("quantiles") is not None:
            values.update(zip(QUANTILES, values.pop("quantiles")))
        values.pop("quantiles", None)
        count = int(values.pop("count") or 0)
        if count == 0:  # no values: nothing to report (fakesnow sends an epoch for MIN of no timestamps)
            values = {k: (0 if k in _COUNTS else None) for k in values}
        if values.get("distinct") is not None:  # an approximate count may overshoot
            values["distinct"] = min(int(values["distinct"]), count)
        nulls = row_count - count
        top = None
        if column.kind in TOP_VALUE_KINDS:
            top = [ValueCount(value=v, count=n, percent=_percent(n, count)) for v, n in tops.get(position, [])]
        profiles.append(ColumnProfile(
            name=column.name, type=column.type, kind=column.kind.value, count=count, nulls=nulls,
            null_percent=_percent(nulls, row_count) or 0.0, top_values=top,
            **{k: _number(v) if k not in ("min", "max") else v for k, v in values.items()},
        ))
    return row_count, profiles


def _top_values(result: QueryResult, index: dict[str, int]) -> dict[int, list[tuple[Any, int]]]:
    if "top_col" not in index:
        return {}
    col, value, count = index["top_col"], index["top_value"], index["top_count"]
    tops: dict[int, list[tuple[Any, int]]] = {}
    for row in result.rows:
        if row[col] is not None:
            tops.setdefault(int(row[col]), []).append((row[value], int(row[count])))
    return tops


def alerts_for(row_count: int, profile: ColumnProfile) -> list[Alert]:
    """What a data engineer would want flagged in one column's profile."""
    found: list[Alert] = []

    def alert(kind: str, message: str) -> None:
        found.append(Alert(column=profile.name, kind=kind, message=message))  # type: ignore[arg-type]

    if row_count == 0:
        return found
    if profile.count == 0:
        alert("all_null", "every value is NULL")
        return found
    if profile.null_percent >= MOSTLY_NULL_PERCENT:
        alert("mostly_null", f"{profile.null_percent:.1f}% of values are NULL")
    distinct = profile.distinct
    constant = (profile.min is not None and profile.min == profile.max) if profile.min is not None else distinct == 1
    if constant and profile.kind != "boolean":
        alert("constant", f"a single value ({profile.min if profile.min is not None else 'one value'}) in every non-null row")
    elif distinct is not None and profile.count > 1:
        ratio = distinct / profile.count
        repeated = profile.top_values[0] if profile.top_values and profile.top_values[0].count > 1 else None
        if ratio >= UNIQUE_RATIO and profile.kind in ("number", "text") and repeated is None:
            alert("unique", f"about {distinct} distinct values in {profile.count} rows: a candidate key")
        elif ratio >= UNIQUE_RATIO and repeated is not None:
            alert("near_unique", f"almost every value is distinct, but {repeated.value!r} appears {repeated.count} "
                                 "times: duplicates in what looks like a key")
        elif profile.kind == "text" and ratio >= HIGH_CARDINALITY_RATIO and distinct >= HIGH_CARDINALITY_MIN:
            alert("high_cardinality", f"about {distinct} distinct values in {profile.count} rows")
    if profile.top_values and len(profile.top_values) > 1:
        top = profile.top_values[0]
        if top.count / profile.count >= DOMINANT_SHARE:
            alert("dominant_value", f"{top.value!r} is {100 * top.count / profile.count:.1f}% of non-null values")
    if profile.mean is not None and profile.p50 is not None and profile.stddev:
        skew = 3 * (profile.mean - profile.p50) / profile.stddev
        if abs(skew) >= SKEW_THRESHOLD:
            side = "right (a long tail of large values)" if skew > 0 else "left (a long tail of small values)"
            alert("skewed", f"skewed {side}: mean {profile.mean:.4g} vs median {profile.p50:.4g}")
    if profile.negatives and profile.negatives / profile.count <= RARE_NEGATIVE_SHARE:
        alert("negative_values", f"{profile.negatives} negative values among {profile.count} (rare: worth a look)")
    if profile.kind == "text" and profile.min_length == 0:
        alert("empty_strings", "holds empty strings (distinct from NULL)")
    return found


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 4) if whole else None


def _number(value: Any) -> Any:
    if isinstance(value, str):  # a decimal too long for a double travels as text
        try:
            return float(value)
        except ValueError:
            return value
    return value
