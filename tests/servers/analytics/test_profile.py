"""profile_table: every statistic checked against plain Python on a table with known values."""

from __future__ import annotations

from collections import Counter

import pytest
from mcp import Client

from tests.helpers import call_error, call_ok
from tests.lab_data import MEASURES
from tests.servers.analytics.reference import approx, column, present, quantile_cont, stddev

pytestmark = pytest.mark.anyio


async def test_profile_computes_each_statistic_in_one_statement(lab: Client, dialect: str) -> None:
    profile = await call_ok(lab, "profile_table", {"table": "LAB.LAB.MEASURES"})
    assert profile["row_count"] == len(MEASURES) and len(profile["sql"]) == 1
    by_name = {c["name"]: c for c in profile["columns"]}

    amount = by_name["AMOUNT"]
    values = [float(v) for v in present(column("AMOUNT"))]
    assert (amount["kind"], amount["count"], amount["nulls"]) == ("number", 9, 1)
    assert amount["null_percent"] == pytest.approx(10.0)
    assert (amount["min"], amount["max"]) == (-5.0, 40.0)
    assert amount["mean"] == approx(sum(values) / len(values))
    assert amount["stddev"] == approx(stddev(values))
    assert (amount["zeros"], amount["negatives"]) == (1, 1)
    assert amount["distinct"] == len(set(values))
    if dialect == "duckdb":  # exact quantiles; Snowflake's are approximate (checked for order below)
        for name, p in {"p01": 0.01, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p99": 0.99}.items():
            assert amount[name] == approx(quantile_cont(values, p))
    quantiles = [amount[k] for k in ("p01", "p25", "p50", "p75", "p99")]
    assert quantiles == sorted(quantiles) and -5 <= quantiles[0] and quantiles[-1] <= 40

    grp = by_name["GRP"]
    counts = Counter(present(column("GRP")))
    assert (grp["kind"], grp["count"], grp["nulls"], grp["distinct"]) == ("text", 9, 1, 3)
    assert (grp["min_length"], grp["max_length"], grp["avg_length"]) == (1, 1, 1.0)
    assert [(t["value"], t["count"]) for t in grp["top_values"]] == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert grp["top_values"][0]["percent"] == pytest.approx(100 * 4 / 9, rel=1e-3)

    flag = by_name["FLAG"]
    assert (flag["count"], flag["true_count"]) == (9, sum(1 for v in column("FLAG") if v is True))
    assert {t["value"].lower() for t in flag["top_values"]} == {"true", "false"}

    day = by_name["DAY"]
    assert (day["kind"], day["min"], day["max"], day["nulls"]) == ("date", "2026-01-01", "2026-01-08", 1)
    assert day["top_values"][0]["count"] == 2
    ts = by_name["TS"]
    assert ts["kind"] == "timestamp" and ts["min"].startswith("2026-01-01T08:00") and "top_values" not in ts
    assert "mean" not in grp and "min_length" not in amount  # statistics that don't apply are left out


async def test_profile_raises_the_alerts_a_data_engineer_wants(lab: Client) -> None:
    profile = await call_ok(lab, "profile_table", {"table": "LAB.LAB.MEASURES"})
    alerts = {(a["column"], a["kind"]) for a in profile["alerts"]}
    assert ("CONST", "constant") in alerts
    assert ("SPARSE", "mostly_null") in alerts
    assert ("ID", "unique") in alerts
    assert ("AMOUNT", "negative_values") not in alerts  # 1 in 9 is not rare
    assert not any(column == "GRP" for column, _ in alerts)


async def test_profile_of_an_empty_table_has_zero_counts_and_no_alerts(lab: Client) -> None:
    profile = await call_ok(lab, "profile_table", {"table": "LAB.LAB.EMPTY"})
    assert profile["row_count"] == 0 and profile["alerts"] == []
    for entry in profile["columns"]:
        assert entry["count"] == 0 and entry["nulls"] == 0 and entry["min"] is None
        assert entry.get("top_values", []) == []


async def test_profile_of_a_single_row_has_no_stddev(lab: Client) -> None:
    profile = await call_ok(lab, "profile_table", {"table": "LAB.LAB.SINGLE", "columns": ["AMOUNT", "GRP"]})
    amount, grp = profile["columns"]
    assert profile["row_count"] == 1 and amount["mean"] == 10.0 and amount.get("stddev") is None
    assert amount["p50"] == 10.0 and grp["top_values"] == [{"value": "a", "count": 1, "percent": 100.0}]


async def test_profile_of_chosen_columns_matches_names_case_insensitively(lab: Client) -> None:
    profile = await call_ok(lab, "profile_table", {"table": "LAB.LAB.MEASURES", "columns": ["qty", "Grp"]})
    assert [c["name"] for c in profile["columns"]] == ["QTY", "GRP"]


async def test_profile_samples_when_asked(lab: Client) -> None:
    profile = await call_ok(lab, "profile_table", {"table": "LAB.LAB.MEASURES", "sample_percent": 100})
    assert profile["sample_percent"] == 100 and profile["row_count"] == len(MEASURES)
    assert "SAMPLE" in profile["sql"][0].upper()


async def test_profile_reports_progress(lab: Client) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    result = await lab.call_tool("profile_table", {"table": "LAB.LAB.MEASURES"}, progress_callback=progress)
    assert not result.is_error
    assert [s[0] for s in seen] == [1, 2, 3] and all(s[1] == 3 for s in seen)


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"table": "LAB.LAB.NOPE"}, "NOPE"),
    ({"table": 'x"; DROP TABLE y; --'}, "invalid table name"),
    ({"table": "LAB.LAB.MEASURES", "columns": ["AMOUNT", "WHAT"]}, "'WHAT' is not a column"),
    ({"table": "LAB.LAB.MEASURES", "columns": ["AMOUNT", "amount"]}, "listed twice"),
    ({"table": "LAB.LAB.MEASURES", "sample_percent": 0}, "sample_percent"),
    ({"table": "LAB.LAB.MEASURES", "sample_percent": 101}, "sample_percent"),
])
async def test_profile_bad_input_gets_a_clear_error(lab: Client, arguments: dict, expected: str) -> None:
    assert expected in await call_error(lab, "profile_table", arguments)


async def test_the_demo_profile_flags_what_was_planted(settings) -> None:  # noqa: ANN001
    from snowmcp.servers.analytics.server import build_server

    async with Client(build_server(settings)) as client:
        profile = await call_ok(client, "profile_table", {"table": "ANALYTICS.SALES.CUSTOMERS"})
    email = next(c for c in profile["columns"] if c["name"] == "EMAIL")
    assert email["nulls"] == 277
    alerts = {(a["column"], a["kind"]) for a in profile["alerts"]}
    assert ("EMAIL", "near_unique") in alerts  # duplicated e-mails in what looks like a key
