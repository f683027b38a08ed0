"""The alerts worth raising about a column profile."""

from __future__ import annotations

from snowmcp.servers.analytics.models import Alert, ColumnProfile

MOSTLY_NULL_PERCENT = 50.0
UNIQUE_RATIO = 0.98  # approximate distinct counts err by a percent or two
HIGH_CARDINALITY_RATIO = 0.5
HIGH_CARDINALITY_MIN = 100
DOMINANT_SHARE = 0.9
SKEW_THRESHOLD = 1.0  # |3 (mean - median) / stddev|, Pearson's second skewness coefficient
RARE_NEGATIVE_SHARE = 0.01


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
