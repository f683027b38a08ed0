"""time_series, detect_anomalies and compare_periods against plain Python on known series."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
from mcp import Client

from tests.helpers import call_error, call_ok
from tests.lab_data import GAP_DAY, MEASURES, MEASURES_COLUMNS, SPIKE_DAY, SPIKE_VALUE, series_rows
from tests.servers.analytics.reference import approx

pytestmark = pytest.mark.anyio
SERIES = "LAB.LAB.SERIES"


async def test_daily_series_fills_the_missing_day_with_zero_for_sums(lab: Client) -> None:
    result = await call_ok(lab, "time_series", {"table": SERIES, "time_column": "DAY",
                                                "metric": {"fn": "sum", "column": "V"}})
    expected = {day.isoformat(): value for day, _, value in series_rows()}
    points = {p["time"][:10]: p["value"] for p in result["points"]}
    assert len(points) == 70 and points.pop(GAP_DAY.isoformat()) == 0
    assert points == pytest.approx(expected)
    assert [p["time"] for p in result["points"]] == sorted(p["time"] for p in result["points"])


async def test_empty_buckets_are_null_for_averages_and_absent_without_gap_filling(lab: Client) -> None:
    metric = {"fn": "avg", "column": "V"}
    filled = await call_ok(lab, "time_series", {"table": SERIES, "time_column": "DAY", "metric": metric})
    assert next(p for p in filled["points"] if p["time"].startswith(GAP_DAY.isoformat()))["value"] is None
    sparse = await call_ok(lab, "time_series", {"table": SERIES, "time_column": "DAY", "metric": metric,
                                                "fill_gaps": False})
    assert len(sparse["points"]) == 69


@pytest.mark.parametrize(("grain", "bucket"), [
    ("week", lambda d: d - dt.timedelta(days=d.weekday())),
    ("month", lambda d: d.replace(day=1)),
    ("quarter", lambda d: d.replace(month=(d.month - 1) // 3 * 3 + 1, day=1)),
    ("year", lambda d: d.replace(month=1, day=1)),
])
async def test_coarser_grains_bucket_like_python(lab: Client, grain: str, bucket) -> None:  # noqa: ANN001
    result = await call_ok(lab, "time_series", {"table": SERIES, "time_column": "TS", "grain": grain,
                                                "metric": {"fn": "count"}})
    expected: dict[str, int] = defaultdict(int)
    for day, _, _ in series_rows():
        expected[bucket(day).isoformat()] += 1
    assert {p["time"][:10]: p["value"] for p in result["points"]} == expected


async def test_hourly_series_with_start_and_end(lab: Client) -> None:
    result = await call_ok(lab, "time_series", {
        "table": "LAB.LAB.MEASURES", "time_column": "TS", "grain": "hour", "metric": {"fn": "count"},
        "start": "2026-01-01T08:00:00", "end": "2026-01-01T12:00:00"})
    assert [(p["time"][11:16], p["value"]) for p in result["points"]] == [
        ("08:00", 1), ("09:00", 1), ("10:00", 0), ("11:00", 0)]


async def test_filters_apply_to_the_series(lab: Client) -> None:
    result = await call_ok(lab, "time_series", {
        "table": "LAB.LAB.MEASURES", "time_column": "DAY", "metric": {"fn": "count"},
        "filters": [{"column": "GRP", "op": "=", "value": "a"}]})
    rows = [dict(zip(MEASURES_COLUMNS, r)) for r in MEASURES]
    expected: dict[str, int] = defaultdict(int)
    for row in rows:
        if row["GRP"] == "a" and row["DAY"]:
            expected[row["DAY"].isoformat()] += 1
    points = {p["time"][:10]: p["value"] for p in result["points"] if p["value"]}
    assert points == expected and len(result["points"]) == 8  # 2026-01-01 .. 01-08, gaps as zeros


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"time_column": "DAY", "grain": "hour"}, "grain 'hour' needs a timestamp column"),
    ({"time_column": "V"}, "time_column needs a date or timestamp column"),
    ({"time_column": "DAY", "grain": "fortnight"}, "grain"),
    ({"time_column": "DAY", "start": "2026-02-01", "end": "2026-01-01"}, "must be after start"),
    ({"time_column": "DAY", "start": "yesterday"}, "not an ISO date"),
    ({"time_column": "DAY", "start": "2026-01-01\x00"}, "not an ISO date"),
])
async def test_time_series_bad_input_gets_a_clear_error(lab: Client, arguments: dict, expected: str) -> None:
    assert expected in await call_error(lab, "time_series", {"table": SERIES, "metric": {"fn": "count"}, **arguments})


@pytest.mark.parametrize(("method", "seasonality", "window"), [("zscore", None, 14), ("mad", "weekly", 8)])
async def test_anomalies_find_the_spike_and_the_missing_day(
    lab: Client, method: str, seasonality: str | None, window: int
) -> None:
    result = await call_ok(lab, "detect_anomalies", {
        "table": SERIES, "time_column": "DAY", "metric": {"fn": "sum", "column": "V"}, "method": method,
        "window": window, "seasonality": seasonality})
    found = {a["time"][:10]: a for a in result["anomalies"]}
    assert set(found) == {GAP_DAY.isoformat(), SPIKE_DAY.isoformat()}
    spike, gap = found[SPIKE_DAY.isoformat()], found[GAP_DAY.isoformat()]
    assert spike["direction"] == "up" and spike["value"] == SPIKE_VALUE and spike["score"] > 3
    assert gap["direction"] == "down" and gap["value"] == 0 and gap["score"] < -3
    assert 100 <= spike["expected"] <= 125
    assert result["points_scored"] > 40
    assert (result["method"], result["seasonality"], result["window"]) == (method, seasonality, window)


async def test_mad_without_seasonality_flags_the_weekends_a_weekly_pattern_explains(lab: Client) -> None:
    result = await call_ok(lab, "detect_anomalies", {
        "table": SERIES, "time_column": "DAY", "metric": {"fn": "sum", "column": "V"}, "method": "mad", "window": 14})
    weekdays = {dt.date.fromisoformat(a["time"][:10]).weekday() for a in result["anomalies"] if a["direction"] == "up"}
    assert weekdays >= {5, 6}


async def test_weekly_seasonality_compares_the_same_weekdays(lab: Client) -> None:
    result = await call_ok(lab, "detect_anomalies", {
        "table": SERIES, "time_column": "DAY", "metric": {"fn": "sum", "column": "V"}, "seasonality": "weekly",
        "window": 4, "method": "mad"})
    spike = next(a for a in result["anomalies"] if a["time"].startswith(SPIKE_DAY.isoformat()))
    assert 100 <= spike["expected"] <= 105  # Fridays only: no weekend uplift in the baseline
    assert not any(a["time"][:10] in ("2026-01-03", "2026-01-04") for a in result["anomalies"])


async def test_zscore_matches_a_python_computation(lab: Client) -> None:
    result = await call_ok(lab, "detect_anomalies", {
        "table": SERIES, "time_column": "DAY", "metric": {"fn": "sum", "column": "V"}, "window": 10,
        "sensitivity": 2.5})
    values = {day: value for day, _, value in series_rows()}
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(70)]
    series = [values.get(day, 0.0) for day in days]
    import statistics

    expected = []
    for i in range(5, len(series)):  # min history = window // 2
        baseline = series[max(0, i - 10):i]
        mean, sd = statistics.mean(baseline), statistics.stdev(baseline)
        if sd and abs(series[i] - mean) / sd >= 2.5:
            expected.append((days[i].isoformat(), approx((series[i] - mean) / sd)))
    assert [(a["time"][:10], a["score"]) for a in result["anomalies"]] == expected


async def test_no_history_means_nothing_scored(lab: Client) -> None:
    result = await call_ok(lab, "detect_anomalies", {
        "table": "LAB.LAB.EMPTY", "time_column": "DAY", "metric": {"fn": "count"}})
    assert result["points_scored"] == 0 and result["anomalies"] == []


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"seasonality": "daily"}, "seasonality 'daily' does not fit grain 'day'"),
    ({"method": "iforest"}, "method"),
    ({"window": 1}, "window"),
    ({"sensitivity": 0}, "sensitivity"),
    ({"metric": {"fn": "avg", "column": "DAY"}}, "needs a number column"),
])
async def test_anomaly_bad_input_gets_a_clear_error(lab: Client, arguments: dict, expected: str) -> None:
    base = {"table": SERIES, "time_column": "DAY", "metric": {"fn": "count"}}
    assert expected in await call_error(lab, "detect_anomalies", {**base, **arguments})


async def test_the_demo_anomaly_is_found(settings) -> None:  # noqa: ANN001
    from snowmcp.servers.analytics.server import build_server

    async with Client(build_server(settings)) as client:
        result = await call_ok(client, "detect_anomalies", {
            "table": "ANALYTICS.SALES.ORDERS", "time_column": "ORDER_DATE", "metric": {"fn": "sum", "column": "AMOUNT"}})
    assert [a["time"] for a in result["anomalies"]] == ["2026-09-14"]
    assert result["anomalies"][0]["direction"] == "up"


async def test_compare_periods_totals_and_top_contributors(lab: Client) -> None:
    result = await call_ok(lab, "compare_periods", {
        "table": "LAB.LAB.MEASURES", "time_column": "DAY", "metric": {"fn": "sum", "column": "AMOUNT"},
        "current": {"start": "2026-01-04", "end": "2026-01-09"}, "previous": {"start": "2026-01-01", "end": "2026-01-04"},
        "dimensions": ["GRP"], "top": 2})
    rows = [dict(zip(MEASURES_COLUMNS, r)) for r in MEASURES]

    def total(start: str, end: str, group: object = ...) -> float:
        return sum(float(r["AMOUNT"] or 0) for r in rows if r["DAY"] and start <= r["DAY"].isoformat() < end
                   and (group is ... or r["GRP"] == group))

    now, before = total("2026-01-04", "2026-01-09"), total("2026-01-01", "2026-01-04")
    assert (result["current"]["value"], result["previous"]["value"]) == (approx(now), approx(before))
    assert result["change"] == approx(now - before)
    assert result["change_percent"] == approx(100 * (now - before) / before, rel=1e-3)
    changes = {g: total("2026-01-04", "2026-01-09", g) - total("2026-01-01", "2026-01-04", g) for g in ("a", "b", "c", None)}
    top = sorted(changes.items(), key=lambda kv: -abs(kv[1]))[:2]
    assert [(c["dimensions"]["GRP"], c["change"]) for c in result["contributors"]] == [(g, approx(v)) for g, v in top]
    assert result["contributors"][0]["share_of_change"] == approx(top[0][1] / (now - before), rel=1e-4)


async def test_compare_periods_without_dimensions_counts_rows(lab: Client) -> None:
    result = await call_ok(lab, "compare_periods", {
        "table": SERIES, "time_column": "TS", "metric": {"fn": "count"},
        "current": {"start": "2026-02-01", "end": "2026-02-08"}, "previous": {"start": "2026-01-25", "end": "2026-02-01"}})
    assert (result["current"]["value"], result["previous"]["value"], result["change"]) == (6, 7, -1.0)
    assert result["contributors"] == []


async def test_compare_periods_rejects_a_backwards_period(lab: Client) -> None:
    error = await call_error(lab, "compare_periods", {
        "table": SERIES, "time_column": "DAY", "metric": {"fn": "count"},
        "current": {"start": "2026-01-15", "end": "2026-01-01"}, "previous": {"start": "2026-01-01", "end": "2026-01-02"}})
    assert "current: end (2026-01-01) must be after start" in error
