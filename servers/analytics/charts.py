"""How the analytics results are drawn: the Vega-Lite specs of the PNGs asked with `chart=true`.

The app page (`servers/analytics/app/`) draws the same results in a host; both show the same marks:
a line with points per bucket (time_series), each anomaly's value against its expected value
(detect_anomalies), bins as bars (histogram), the two periods and each contributor's change
(compare_periods), and per column the quantiles or the top values (profile_table).
"""

from __future__ import annotations

from typing import Any

from snowmcp.common.charts import PNG_HEIGHT, PNG_WIDTH, Chart, VegaLite, base_spec
from snowmcp.servers.analytics.models import Anomalies, Histogram, PeriodComparison, TableProfile, TimeSeries

APP_URI = "ui://snowmcp/charts"
UP, DOWN, NEUTRAL, MUTED = "#d62728", "#1f77b4", "#4c78a8", "#9a9a9a"
PROFILE_COLUMNS = 12  # columns drawn in a profile's PNG; the title says when there were more
TOP_VALUES = 10


def time_series_spec(result: TimeSeries) -> VegaLite | None:
    values = [{"time": p.time, "value": p.value} for p in result.points]
    if not values:
        return None
    spec = base_spec(f"{result.metric} per {result.grain}: {result.table}", values)
    x = {"field": "time", "type": "temporal", "title": result.time_column}
    y = {"field": "value", "type": "quantitative", "title": result.metric}
    spec["layer"] = [
        {"mark": {"type": "line", "color": NEUTRAL}, "encoding": {"x": x, "y": y}},
        {"mark": {"type": "point", "filled": True, "color": NEUTRAL, "size": 30}, "encoding": {"x": x, "y": y}},
    ]
    return spec


def anomalies_spec(result: Anomalies) -> VegaLite | None:
    values = [{"time": a.time, "value": a.value, "expected": a.expected, "direction": a.direction,
               "score": a.score} for a in result.anomalies]
    if not values:
        return None
    title = (f"{result.anomalies_total} anomalies in {result.metric} per {result.grain} "
             f"({result.method}, |score| >= {result.sensitivity:g}): {result.table}")
    spec = base_spec(title, values)
    x = {"field": "time", "type": "temporal", "title": "bucket"}
    color = {"field": "direction", "type": "nominal", "title": "direction",
             "scale": {"domain": ["up", "down"], "range": [UP, DOWN]}}
    spec["layer"] = [
        {"mark": {"type": "rule", "color": MUTED},
         "encoding": {"x": x, "y": {"field": "expected", "type": "quantitative"}, "y2": {"field": "value"}}},
        {"mark": {"type": "tick", "color": MUTED, "thickness": 2},
         "encoding": {"x": x, "y": {"field": "expected", "type": "quantitative"}}},
        {"mark": {"type": "point", "filled": True, "size": 90},
         "encoding": {"x": x, "y": {"field": "value", "type": "quantitative", "title": result.metric},
                      "color": color}},
    ]
    return spec


def histogram_spec(result: Histogram) -> VegaLite | None:
    values = [{"low": b.low, "high": b.high, "count": b.count} for b in result.bins]
    if not values:
        return None
    spec = base_spec(f"{result.column}: {result.count} values in {len(values)} bins ({result.table})", values)
    spec["mark"] = {"type": "bar", "color": NEUTRAL, "binSpacing": 1}
    spec["encoding"] = {
        "x": {"field": "low", "type": "quantitative", "bin": {"binned": True}, "title": result.column},
        "x2": {"field": "high"},
        "y": {"field": "count", "type": "quantitative", "title": "rows"},
    }
    return spec


def compare_spec(result: PeriodComparison) -> VegaLite | None:
    periods = [{"period": f"previous {result.previous.start}..{result.previous.end}", "value": result.previous.value},
               {"period": f"current {result.current.start}..{result.current.end}", "value": result.current.value}]
    if not any(isinstance(p["value"], (int, float)) for p in periods):
        return None
    percent = f" ({result.change_percent:+.1f}%)" if result.change_percent is not None else ""
    spec = base_spec(f"{result.metric}: change {_number(result.change)}{percent} ({result.table})", [])
    del spec["data"]
    totals = {"data": {"values": periods}, "width": PNG_WIDTH, "height": 110,
              "mark": {"type": "bar", "color": NEUTRAL},
              "encoding": {"y": {"field": "period", "type": "nominal", "sort": None, "title": None},
                           "x": {"field": "value", "type": "quantitative", "title": result.metric}}}
    views: list[dict[str, Any]] = [totals]
    if result.contributors:
        rows = [{"group": ", ".join(f"{k}={v}" for k, v in c.dimensions.items()), "change": c.change,
                 "direction": "up" if (c.change or 0) >= 0 else "down"} for c in result.contributors]
        views.append({
            "data": {"values": rows}, "width": PNG_WIDTH, "height": max(PNG_HEIGHT - 130, 22 * len(rows)),
            "title": "top contributors to the change",
            "mark": {"type": "bar"},
            "encoding": {"y": {"field": "group", "type": "nominal", "sort": None, "title": None},
                         "x": {"field": "change", "type": "quantitative", "title": "change"},
                         "color": {"field": "direction", "type": "nominal", "legend": None,
                                   "scale": {"domain": ["up", "down"], "range": [UP, DOWN]}}}})
    else:
        totals["height"] = PNG_HEIGHT
    spec["vconcat"] = views
    return spec


def profile_spec(result: TableProfile) -> VegaLite | None:
    drawn = [column for column in result.columns if column.p50 is not None or column.top_values]
    if not drawn:
        return None
    columns = min(3, len(drawn))
    rows = -(-min(len(drawn), PROFILE_COLUMNS) // columns)
    size = (max(250, (PNG_WIDTH - 40 * (columns - 1)) // columns), max(130, PNG_HEIGHT // rows - 60))
    views = [_column_view(column, size) for column in drawn]
    shown = views[:PROFILE_COLUMNS]
    more = f" (the first {len(shown)} of {len(views)} columns drawn)" if len(views) > len(shown) else ""
    spec = base_spec(f"profile of {result.table}: {result.row_count} rows{more}", [])
    del spec["data"]
    spec["concat"] = shown
    spec["columns"] = columns
    return spec


def _column_view(column: Any, dimensions: tuple[int, int]) -> dict[str, Any]:
    """A column's quantiles (numbers) or top values (the others)."""
    title = f"{column.name} ({column.kind}, {column.null_percent:g}% null)"
    size = {"width": dimensions[0], "height": dimensions[1], "title": title}
    if column.p50 is not None:
        row = {k: getattr(column, k) for k in ("p01", "p25", "p50", "p75", "p99")}
        row.update(min=_float(column.min), max=_float(column.max))
        x = {"type": "quantitative", "title": None, "scale": {"zero": False}}
        return {**size, "data": {"values": [row]}, "layer": [
            {"mark": {"type": "rule", "color": MUTED}, "encoding": {"x": {"field": "min", **x}, "x2": {"field": "max"}}},
            {"mark": {"type": "rule", "color": NEUTRAL, "strokeWidth": 2},
             "encoding": {"x": {"field": "p01", **x}, "x2": {"field": "p99"}}},
            {"mark": {"type": "bar", "color": NEUTRAL, "height": 40},
             "encoding": {"x": {"field": "p25", **x}, "x2": {"field": "p75"}}},
            {"mark": {"type": "tick", "color": "white", "thickness": 3, "size": 40},
             "encoding": {"x": {"field": "p50", **x}}},
        ]}
    rows = [{"value": str(v.value), "count": v.count} for v in (column.top_values or [])[:TOP_VALUES]]
    return {**size, "data": {"values": rows}, "mark": {"type": "bar", "color": NEUTRAL},
            "encoding": {"y": {"field": "value", "type": "nominal", "sort": "-x", "title": None},
                         "x": {"field": "count", "type": "quantitative", "title": "rows"}}}


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+,.6g}"


TIME_SERIES = Chart(APP_URI, time_series_spec, TimeSeries)
ANOMALIES = Chart(APP_URI, anomalies_spec, Anomalies)
HISTOGRAM = Chart(APP_URI, histogram_spec, Histogram)
COMPARISON = Chart(APP_URI, compare_spec, PeriodComparison)
PROFILE = Chart(APP_URI, profile_spec, TableProfile)
