"""Every check type's outcome on the lab tables, whose defects are known (tests/lab_data.py)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.helpers import call_ok

pytestmark = pytest.mark.anyio
TABLE = "LAB.LAB.MEASURES"
AS_OF = "2026-01-09T00:00:00Z"  # 5.25 h after the newest TS (2026-01-08 18:45, no zone)

CASES: list[tuple[str, dict[str, Any], str, Any]] = [
    # (id, check entry, expected status, expected observed_value)
    ("row_count pass", {"row_count": {"min": 5}}, "pass", 10),
    ("row_count fail", {"row_count": {"min": 20}}, "fail", 10),
    ("row_count warn", {"row_count": {"min": 5, "warn_min": 12}}, "warn", 10),
    ("missing fail", {"missing": {"column": "AMOUNT", "max": 0}}, "fail", 1),
    ("missing percent pass", {"missing": {"column": "AMOUNT", "fail_above": "10%"}}, "pass", 1),
    ("missing warn", {"missing": {"column": "AMOUNT", "warn_above": 0, "fail_above": 2}}, "warn", 1),
    ("missing none", {"missing": {"column": "ID"}}, "pass", 0),
    ("duplicate key pass", {"duplicate": {"column": "ID"}}, "pass", 0),
    ("duplicate values fail", {"duplicate": {"column": "AMOUNT"}}, "fail", 2),
    ("duplicate pair", {"duplicate": {"columns": ["GRP", "QTY"]}}, "fail", 1),
    ("accepted_values fail", {"accepted_values": {"column": "GRP", "values": ["a", "b"]}}, "fail", 2),
    ("accepted_values pass", {"accepted_values": {"column": "GRP", "values": ["a", "b", "c"]}}, "pass", 0),
    ("accepted_values numbers", {"accepted_values": {"column": "QTY", "values": [0, 1, 2, 3, 4]}}, "fail", 1),
    ("invalid_values", {"invalid_values": {"column": "GRP", "values": ["c"]}}, "fail", 2),
    ("regex pass", {"regex": {"column": "SPARSE", "pattern": "s[0-9]"}}, "pass", 0),
    ("regex whole value", {"regex": {"column": "SPARSE", "pattern": "s1"}}, "fail", 1),
    ("value_range fail", {"value_range": {"column": "AMOUNT", "min": 0}}, "fail", 1),
    ("value_range warn", {"value_range": {"column": "AMOUNT", "min": 0, "warn_above": 0, "fail_above": "20%"}}, "warn", 1),
    ("value_range fraction", {"value_range": {"column": "AMOUNT", "max": 25, "fail_above": 0.25}}, "pass", 2),
    ("length_range pass", {"length_range": {"column": "GRP", "min": 1, "max": 1}}, "pass", 0),
    ("length_range fail", {"length_range": {"column": "CONST", "min": 2}}, "fail", 10),
    ("relationships fail", {"relationships": {"column": "ID", "to": "LAB.LAB.SINGLE", "to_column": "ID"}}, "fail", 9),
    ("freshness pass", {"freshness": {"column": "TS", "max_age": "6h"}}, "pass", 5.25),
    ("freshness fail", {"freshness": {"column": "TS", "max_age": "5h"}}, "fail", 5.25),
    ("freshness warn", {"freshness": {"column": "TS", "max_age": "6h", "warn_age": "4h"}}, "warn", 5.25),
    ("freshness time zone", {"freshness": {"column": "TS", "max_age": "1h", "timezone": "America/New_York"}}, "pass", 0.25),
    ("freshness date", {"freshness": {"column": "DAY", "max_age": "1d"}}, "pass", 24.0),
    ("schema pass", {"schema": {"required": ["ID", "amount"], "types": {"AMOUNT": "number", "GRP": "text", "DAY": "date"}}},
     "pass", 0),
    ("schema fail", {"schema": {"required": ["ID", "NOPE"], "forbidden": ["SPARSE"], "types": {"GRP": "number"}}}, "fail", 3),
    ("aggregate pass", {"aggregate": {"column": "AMOUNT", "fn": "avg", "min": 10, "max": 20}}, "pass", pytest.approx(150.5 / 9)),
    ("aggregate fail", {"aggregate": {"column": "AMOUNT", "fn": "max", "max": 30}}, "fail", 40),
    ("distinct_count pass", {"distinct_count": {"column": "GRP", "min": 3}}, "pass", 3),
    ("distinct_count fail", {"distinct_count": {"column": "GRP", "max": 2}}, "fail", 3),
    ("expression", {"expression": {"sql": "QTY >= 1"}}, "fail", 1),
    ("expression pass", {"expression": {"sql": "ID BETWEEN 1 AND 10"}}, "pass", 0),
    ("failed_rows", {"failed_rows": {"sql": f"SELECT * FROM {TABLE} WHERE AMOUNT < 0"}}, "fail", 1),
    ("custom_metric fail", {"custom_metric": {"sql": f"SELECT MAX(QTY) FROM {TABLE}", "max": 4}}, "fail", 5),
    ("custom_metric pass", {"custom_metric": {"sql": f"SELECT COUNT(*) AS n FROM {TABLE}", "min": 10}}, "pass", 10),
    ("reconcile pass", {"reconcile": {"to": "LAB.LAB.SINGLE", "tolerance": 9}}, "pass", 9),
    ("reconcile fail", {"reconcile": {"to": "LAB.LAB.SINGLE", "tolerance": "50%"}}, "fail", 9),
    ("reconcile sum", {"reconcile": {"to": "LAB.LAB.SINGLE", "metric": "sum", "column": "QTY", "tolerance": 19}}, "pass", 19),
    ("completeness fail", {"completeness_by_period": {"column": "DAY"}}, "fail", 3),
    ("completeness allowed", {"completeness_by_period": {"column": "DAY", "max": 3}}, "pass", 3),
    ("completeness hourly", {"completeness_by_period": {"column": "TS", "grain": "hour", "start": "2026-01-01T08:00:00",
                                                        "end": "2026-01-01T10:00:00"}}, "pass", 0),
    ("volume_anomaly learning", {"volume_anomaly": {}}, "pass", 10),
    ("schema_change first", {"schema_change": {}}, "pass", 0),
]


@pytest.mark.parametrize(("entry", "status", "observed"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_each_check_type_judges_the_lab_data(quality: Client, entry: dict, status: str, observed: Any) -> None:
    run = await call_ok(quality, "run_checks", {"suite": _suite([entry])})
    (result,) = run["results"]
    assert (result["status"], result["observed_value"]) == (status, observed), result
    assert result["threshold"] and result["sql"] is None or isinstance(result["sql"], str)


def _suite(entries: list[dict]) -> str:
    import json

    return json.dumps({"table": TABLE, "as_of": AS_OF, "checks": entries})  # JSON is YAML


async def test_all_aggregate_checks_share_one_scan(quality: Client) -> None:
    entries = [c[1] for c in CASES if next(iter(c[1])) in (
        "row_count", "missing", "duplicate", "accepted_values", "invalid_values", "value_range", "length_range",
        "freshness", "aggregate", "distinct_count", "expression")]
    run = await call_ok(quality, "run_checks", {"suite": _suite(entries)})
    assert len(run["statements"]) == 1 and len(run["statements"][0]["checks"]) == len(entries)
    expected = {c[0]: c[2] for c in CASES if c[1] in entries}
    assert [r["status"] for r in run["results"]] == list(expected.values())


async def test_unexpected_percent_and_rows_tested(quality: Client) -> None:
    run = await call_ok(quality, "run_checks", {"suite": _suite([{"missing": {"column": "AMOUNT"}},
                                                                  {"accepted_values": {"column": "GRP", "values": ["a"]}}])})
    missing, accepted = run["results"]
    assert (missing["unexpected_count"], missing["rows_tested"], missing["unexpected_percent"]) == (1, 10, 10.0)
    assert (accepted["unexpected_count"], accepted["rows_tested"]) == (5, 9)  # NULL is not tested


async def test_the_suite_filter_applies_to_every_check(quality: Client) -> None:
    import json

    suite = json.dumps({"table": TABLE, "filter": "GRP = 'a'", "checks": [
        {"row_count": {"min": 1}}, {"missing": {"column": "QTY"}}, {"completeness_by_period": {"column": "DAY"}},
        {"relationships": {"column": "ID", "to": "LAB.LAB.SINGLE", "to_column": "ID"}}]})
    rows, missing, complete, related = (r for r in (await call_ok(quality, "run_checks", {"suite": suite}))["results"])
    assert (rows["observed_value"], missing["observed_value"]) == (4, 0)
    assert complete["rows_tested"] == 8 and related["observed_value"] == 3


async def test_a_bad_check_is_an_error_and_the_others_still_run(quality: Client) -> None:
    run = await call_ok(quality, "run_checks", {"suite": _suite([
        {"missing": {"column": "NOPE"}},
        {"failed_rows": {"sql": "DROP TABLE LAB.LAB.MEASURES"}},
        {"expression": {"sql": "1=1) UNION SELECT 1 FROM x WHERE (1=1"}},
        {"relationships": {"column": "ID", "to": "LAB.LAB.GONE", "to_column": "ID"}},
        {"aggregate": {"column": "GRP", "fn": "avg"}},
        {"row_count": {"min": 1}},
    ])})
    statuses = [(r["check"], r["status"]) for r in run["results"]]
    assert [s for _, s in statuses] == ["error"] * 5 + ["pass"]
    messages = [r["message"] for r in run["results"]]
    assert "'NOPE' is not a column" in messages[0] and "refused" in messages[1] and "refused" in messages[2]
    assert "GONE" in messages[3] and "needs a number column" in messages[4]
    assert run["status"] == "error" and run["totals"] == {"pass": 1, "warn": 0, "fail": 0, "error": 5}


async def test_an_empty_table(quality: Client) -> None:
    import json

    suite = json.dumps({"table": "LAB.LAB.EMPTY", "as_of": AS_OF, "checks": [
        {"row_count": {}}, {"missing": {"column": "ID"}}, {"freshness": {"column": "TS", "max_age": "1d"}},
        {"aggregate": {"column": "AMOUNT", "fn": "avg", "min": 0}}, {"completeness_by_period": {"column": "DAY"}}]})
    results = (await call_ok(quality, "run_checks", {"suite": suite}))["results"]
    assert [r["status"] for r in results] == ["fail", "pass", "fail", "fail", "pass"]
    assert "empty" in results[2]["message"]


async def test_quoted_identifiers_reach_sql_as_identifiers(quality: Client) -> None:
    import json

    from tests.lab_data import HOSTILE_COLUMN, HOSTILE_TABLE

    table = 'LAB.LAB."' + HOSTILE_TABLE.replace('"', '""') + '"'
    suite = json.dumps({"table": table, "columns": {HOSTILE_COLUMN: [
        {"missing": {}}, {"duplicate": {}}, {"value_range": {"min": 0}}]}})
    run = await call_ok(quality, "run_checks", {"suite": suite})
    assert [(r["status"], r["observed_value"]) for r in run["results"]] == [("pass", 0), ("pass", 0), ("fail", 1)]
