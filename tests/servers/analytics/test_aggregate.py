"""aggregate: metrics, groups, filters and ordering checked against plain Python."""

from __future__ import annotations

import statistics
from collections import defaultdict

import pytest
from mcp import Client

from tests.helpers import call_error, call_ok
from tests.lab_data import MEASURES, MEASURES_COLUMNS
from tests.servers.analytics.reference import approx, quantile_cont

pytestmark = pytest.mark.anyio
TABLE = "LAB.LAB.MEASURES"


def rows_where(predicate) -> list[dict]:  # noqa: ANN001
    return [r for r in (dict(zip(MEASURES_COLUMNS, row)) for row in MEASURES) if predicate(r)]


async def test_every_metric_per_group_matches_python(lab: Client) -> None:
    result = await call_ok(lab, "aggregate", {"table": TABLE, "group_by": ["GRP"], "metrics": [
        {"fn": "count"}, {"fn": "count", "column": "AMOUNT", "as": "amounts"},
        {"fn": "count_distinct", "column": "AMOUNT"}, {"fn": "sum", "column": "AMOUNT", "as": "revenue"},
        {"fn": "avg", "column": "AMOUNT"}, {"fn": "min", "column": "AMOUNT"}, {"fn": "max", "column": "DAY"},
        {"fn": "median", "column": "AMOUNT"}, {"fn": "stddev", "column": "QTY"},
        {"fn": "percentile", "column": "AMOUNT", "p": 0.9, "as": "p90"},
    ]})
    assert result["columns"] == ["GRP", "count", "amounts", "count_distinct_amount", "revenue", "avg_amount",
                                 "min_amount", "max_day", "median_amount", "stddev_qty", "p90"]
    groups: dict = defaultdict(list)
    for row in rows_where(lambda r: True):
        groups[row["GRP"]].append(row)
    assert [r["GRP"] for r in result["rows"]] == ["a", "b", "c", None]  # by group, NULL last
    for got in result["rows"]:
        rows = groups[got["GRP"]]
        amounts = [float(r["AMOUNT"]) for r in rows if r["AMOUNT"] is not None]
        qty = [r["QTY"] for r in rows if r["QTY"] is not None]
        assert got["count"] == len(rows) and got["amounts"] == len(amounts)
        assert got["count_distinct_amount"] == len(set(amounts))
        assert got["revenue"] == approx(sum(amounts)) and got["avg_amount"] == approx(statistics.mean(amounts))
        assert got["min_amount"] == approx(min(amounts))
        assert got["max_day"] == max((r["DAY"] for r in rows if r["DAY"]), default=None).isoformat()
        assert got["median_amount"] == approx(statistics.median(amounts))
        assert got["stddev_qty"] == approx(statistics.stdev(qty) if len(qty) > 1 else None)
        assert got["p90"] == approx(quantile_cont(amounts, 0.9))


@pytest.mark.parametrize(("item", "predicate"), [
    ({"column": "GRP", "op": "=", "value": "a"}, lambda r: r["GRP"] == "a"),
    ({"column": "GRP", "op": "!=", "value": "a"}, lambda r: r["GRP"] not in (None, "a")),
    ({"column": "AMOUNT", "op": "<", "value": 20}, lambda r: r["AMOUNT"] is not None and r["AMOUNT"] < 20),
    ({"column": "AMOUNT", "op": "<=", "value": 20}, lambda r: r["AMOUNT"] is not None and r["AMOUNT"] <= 20),
    ({"column": "QTY", "op": ">", "value": 2}, lambda r: r["QTY"] is not None and r["QTY"] > 2),
    ({"column": "QTY", "op": ">=", "value": 2}, lambda r: r["QTY"] is not None and r["QTY"] >= 2),
    ({"column": "GRP", "op": "in", "value": ["a", "c"]}, lambda r: r["GRP"] in ("a", "c")),
    ({"column": "GRP", "op": "not_in", "value": ["a"]}, lambda r: r["GRP"] not in (None, "a")),
    ({"column": "DAY", "op": "between", "value": ["2026-01-02", "2026-01-05"]},
     lambda r: r["DAY"] is not None and "2026-01-02" <= r["DAY"].isoformat() <= "2026-01-05"),
    ({"column": "TS", "op": ">=", "value": "2026-01-05T00:00:00"},
     lambda r: r["TS"] is not None and r["TS"].isoformat() >= "2026-01-05T00:00:00"),
    ({"column": "AMOUNT", "op": "is_null"}, lambda r: r["AMOUNT"] is None),
    ({"column": "AMOUNT", "op": "not_null"}, lambda r: r["AMOUNT"] is not None),
    ({"column": "FLAG", "op": "=", "value": True}, lambda r: r["FLAG"] is True),
    ({"column": "SPARSE", "op": "like", "value": "s%"}, lambda r: (r["SPARSE"] or "").startswith("s")),
])
async def test_each_filter_operator_selects_the_rows_python_selects(lab: Client, item: dict, predicate) -> None:  # noqa: ANN001
    result = await call_ok(lab, "aggregate", {"table": TABLE, "metrics": [{"fn": "count"}], "filters": [item]})
    assert result["rows"] == [{"count": len(rows_where(predicate))}]


async def test_values_are_literals_not_sql(lab: Client, dialect: str) -> None:
    import sqlglot
    from sqlglot import exp

    hostile = "a' OR '1'='1"
    result = await call_ok(lab, "aggregate", {"table": TABLE, "metrics": [{"fn": "count"}],
                                              "filters": [{"column": "GRP", "op": "=", "value": hostile}]})
    assert result["rows"] == [{"count": 0}]
    (statement,) = sqlglot.parse(result["sql"][0], read=dialect)
    assert hostile in [literal.this for literal in statement.find_all(exp.Literal)]


async def test_order_by_a_metric_and_limit_say_when_groups_were_cut(lab: Client) -> None:
    result = await call_ok(lab, "aggregate", {
        "table": TABLE, "group_by": ["GRP"], "metrics": [{"fn": "sum", "column": "AMOUNT", "as": "revenue"}],
        "order_by": [{"column": "revenue", "direction": "desc"}], "limit": 2})
    assert [(r["GRP"], r["revenue"]) for r in result["rows"]] == [("b", 70.0), ("a", 65.5)]
    assert result["truncated"] is True


async def test_aggregate_over_an_empty_table(lab: Client) -> None:
    result = await call_ok(lab, "aggregate", {"table": "LAB.LAB.EMPTY", "metrics": [
        {"fn": "count"}, {"fn": "sum", "column": "AMOUNT"}]})
    assert result["rows"] == [{"count": 0, "sum_amount": None}]


@pytest.mark.parametrize(("arguments", "expected"), [
    ({"metrics": [{"fn": "sum", "column": "GRP"}]}, "needs a number column; GRP is"),
    ({"metrics": [{"fn": "avg", "column": "NOPE"}]}, "'NOPE' is not a column"),
    ({"metrics": [{"fn": "sum"}]}, "sum needs a column"),
    ({"metrics": [{"fn": "percentile", "column": "AMOUNT"}]}, "percentile needs p"),
    ({"metrics": [{"fn": "variance", "column": "AMOUNT"}]}, "fn"),
    ({"metrics": []}, "metrics"),
    ({"metrics": [{"fn": "count"}], "group_by": ["WHO"]}, "group_by column 'WHO'"),
    ({"metrics": [{"fn": "count"}], "filters": [{}]}, "column"),
    ({"metrics": [{"fn": "count"}], "filters": [{"column": "GRP", "op": "in", "value": []}]}, "non-empty list"),
    ({"metrics": [{"fn": "count"}], "filters": [{"column": "GRP", "op": "="}]}, "needs a value"),
    ({"metrics": [{"fn": "count"}], "filters": [{"column": "QTY", "op": "between", "value": [1]}]}, "[low, high]"),
    ({"metrics": [{"fn": "count"}], "filters": [{"column": "DAY", "op": ">", "value": "last week"}]}, "not an ISO date"),
    ({"metrics": [{"fn": "count"}], "filters": [{"column": "GRP", "op": "~", "value": "a"}]}, "op"),
    ({"metrics": [{"fn": "count"}], "order_by": [{"column": "total"}]}, "order_by 'total'"),
    ({"metrics": [{"fn": "count", "as": "GRP"}], "group_by": ["GRP"]}, "used twice"),
])
async def test_aggregate_bad_input_names_the_bad_part(lab: Client, arguments: dict, expected: str) -> None:
    assert expected in await call_error(lab, "aggregate", {"table": TABLE, **arguments})
