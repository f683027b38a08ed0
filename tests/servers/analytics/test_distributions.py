"""histogram, value_counts and correlations against plain Python."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest
from mcp import Client

from tests.helpers import call_error, call_ok
from tests.lab_data import MEASURES
from tests.servers.analytics.reference import approx, column, present

pytestmark = pytest.mark.anyio
TABLE = "LAB.LAB.MEASURES"


async def test_histogram_bins_like_python(lab: Client) -> None:
    result = await call_ok(lab, "histogram", {"table": TABLE, "column": "AMOUNT", "bins": 3})
    values = [float(v) for v in present(column("AMOUNT"))]
    low, high = min(values), max(values)
    width = (high - low) / 3
    expected = Counter(min(int((v - low) / width), 2) for v in values)
    assert (result["count"], result["nulls"], result["min"], result["max"]) == (9, 1, low, high)
    assert [b["count"] for b in result["bins"]] == [expected[i] for i in range(3)]
    assert result["bins"][0]["low"] == low and result["bins"][-1]["high"] == high
    assert result["bins"][1]["low"] == approx(low + width)


async def test_histogram_of_a_constant_or_empty_column(lab: Client) -> None:
    single = await call_ok(lab, "histogram", {"table": "LAB.LAB.SINGLE", "column": "AMOUNT", "bins": 4})
    assert [b["count"] for b in single["bins"]] == [1, 0, 0, 0]
    empty = await call_ok(lab, "histogram", {"table": "LAB.LAB.EMPTY", "column": "AMOUNT"})
    assert (empty["count"], empty["nulls"], empty["bins"]) == (0, 0, [])


async def test_value_counts_match_a_counter(lab: Client) -> None:
    result = await call_ok(lab, "value_counts", {"table": TABLE, "column": "GRP", "top": 2})
    counts = Counter(present(column("GRP")))
    assert [(v["value"], v["count"]) for v in result["values"]] == [("a", 4), ("b", 3)]
    assert result["values"][0]["percent"] == approx(100 * 4 / 9, rel=1e-3)
    assert (result["total_rows"], result["nulls"], result["distinct"]) == (len(MEASURES), 1, len(counts))
    assert result["other_count"] == 2


async def test_value_counts_of_numbers_and_of_an_empty_table(lab: Client) -> None:
    result = await call_ok(lab, "value_counts", {"table": TABLE, "column": "QTY", "top": 1})
    assert result["values"] == [{"value": 2, "count": 3, "percent": approx(100 * 3 / 9, rel=1e-3)}]
    empty = await call_ok(lab, "value_counts", {"table": "LAB.LAB.EMPTY", "column": "GRP"})
    assert (empty["total_rows"], empty["values"], empty["other_count"]) == (0, [], 0)


async def test_correlations_match_statistics_correlation(lab: Client) -> None:
    result = await call_ok(lab, "correlations", {"table": TABLE, "columns": ["AMOUNT", "QTY", "ID"]})
    rows = [(r[2], r[3], r[0]) for r in MEASURES]

    def pearson(i: int, j: int) -> tuple[float, int]:
        pairs = [(float(r[i]), float(r[j])) for r in rows if r[i] is not None and r[j] is not None]
        return statistics.correlation(*zip(*pairs)), len(pairs)

    expected = {("AMOUNT", "QTY"): pearson(0, 1), ("AMOUNT", "ID"): pearson(0, 2), ("QTY", "ID"): pearson(1, 2)}
    assert {(p["a"], p["b"]): (p["correlation"], p["n"]) for p in result["pairs"]} == {
        k: (approx(r), n) for k, (r, n) in expected.items()}


@pytest.mark.parametrize(("tool", "arguments", "expected"), [
    ("histogram", {"column": "GRP"}, "histogram needs a number column; GRP is"),
    ("histogram", {"column": "AMOUNT", "bins": 0}, "bins"),
    ("histogram", {"column": "AMOUNT", "bins": 10_000}, "bins"),
    ("value_counts", {"column": "NOPE"}, "'NOPE' is not a column"),
    ("value_counts", {"column": "GRP", "top": 0}, "top"),
    ("correlations", {"columns": ["AMOUNT"]}, "columns"),
    ("correlations", {"columns": ["AMOUNT", "GRP"]}, "correlations needs a number column; GRP is"),
    ("correlations", {"columns": ["AMOUNT", "AMOUNT"]}, "listed twice"),
])
async def test_bad_input_gets_a_clear_error(lab: Client, tool: str, arguments: dict, expected: str) -> None:
    assert expected in await call_error(lab, tool, {"table": TABLE, **arguments})


async def test_hostile_table_and_column_names_stay_identifiers(lab: Client, dialect: str) -> None:
    import sqlglot

    from tests.lab_data import HOSTILE_COLUMN, HOSTILE_TABLE

    table = 'LAB.LAB."' + HOSTILE_TABLE.replace('"', '""') + '"'
    metric = {"fn": "sum", "column": HOSTILE_COLUMN}
    results = [
        await call_ok(lab, "profile_table", {"table": table}),
        await call_ok(lab, "aggregate", {"table": table, "metrics": [metric], "group_by": [HOSTILE_COLUMN],
                                         "filters": [{"column": HOSTILE_COLUMN, "op": ">", "value": 0}]}),
        await call_ok(lab, "histogram", {"table": table, "column": HOSTILE_COLUMN}),
        await call_ok(lab, "value_counts", {"table": table, "column": HOSTILE_COLUMN}),
    ]
    assert results[0]["row_count"] == 2 and results[0]["columns"][0]["negatives"] == 1
    assert results[1]["rows"] == [{HOSTILE_COLUMN: 1, f"sum_{HOSTILE_COLUMN}".lower(): 1}]
    for result in results:
        for sql in result["sql"]:
            assert len(sqlglot.parse(sql, read=dialect)) == 1  # one statement, nothing smuggled in
