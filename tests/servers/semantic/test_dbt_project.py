"""The semantic server on a real dbt project (tests/fixtures/dbt_semantic), parsed by real dbt.

Every figure `query_metrics` returns is compared with SQL written by hand for the same question
and run directly with DuckDB on the same tables (`hand`): the hand-written SQL states what the
metric means (a trailing window as a window function over the daily series, last week's revenue
as this series shifted by seven days, a conversion as a customer's order less than seven days after
signing up), not how MetricFlow happens to compile it.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from tests.helpers import call_error, call_ok
from tests.servers.semantic import dbt_semantic_fixture as fixture

pytestmark = pytest.mark.anyio

GRAINS = ("day", "week", "month", "quarter", "year")
METRIC_TYPES = {
    "orders": "simple", "revenue": "simple", "average_order_value": "simple", "completed_revenue": "simple",
    "german_revenue": "simple", "ordering_customers": "simple", "signups": "simple", "units_sold": "simple",
    "line_revenue": "simple", "completed_order_share": "ratio", "revenue_per_customer": "ratio",
    "net_revenue": "derived", "revenue_wow_change": "derived", "revenue_trailing_7d": "cumulative",
    "revenue_mtd": "cumulative", "total_signups": "cumulative", "signup_to_order_rate": "conversion",
    "signup_conversions": "conversion",
}
# -- the same tables, for hand-written SQL ----------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture.build(tmp_path_factory.mktemp("dbt_semantic"))


@pytest.fixture(scope="module")
def hand() -> Iterator[Any]:
    """An in-memory DuckDB holding the same tables under the same catalog name (so the SQL the server
    compiles runs here too). Separate from the server's file: DuckDB refuses a second connection to
    one file with another configuration in the same process."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH ':memory:' AS {fixture.database_name()}")
    con.execute(f"USE {fixture.database_name()}")
    fixture.load(con)
    yield con
    con.close()


@pytest.fixture
async def semantic(warehouse_file: Path, tmp_path: Path) -> AsyncIterator[Client]:
    settings = Settings(warehouse=f"duckdb://{warehouse_file}", state_dir=tmp_path / "state",
                        dbt_target_dir=fixture.ARTIFACTS)
    server = importlib.import_module("snowmcp.servers.semantic.server").build_server(settings)
    async with Client(server) as client:
        yield client


# -- comparing ------------------------------------------------------------------------------------------

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]00:00:00(\.0+)?)?$")


def _norm(value: Any) -> Any:
    """Dates and midnight timestamps as 'YYYY-MM-DD'; numbers (decimals may arrive as text) as floats."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    text = str(value)
    if _DATE.match(text):
        return text[:10]
    try:
        return float(text)
    except ValueError:
        return text


def got_table(result: dict[str, Any], keys: list[str], values: list[str]) -> dict[tuple, tuple]:
    """The result's rows as {key columns: value columns}, by column name."""
    names = [c["name"].lower() for c in result["columns"]]
    assert not result["truncated"], result
    assert result["row_count"] == len(result["rows"])
    for name in keys + values:
        assert name in names, f"no column {name} in {names}"
    index = {n: i for i, n in enumerate(names)}
    table = {tuple(_norm(r[index[k]]) for k in keys): tuple(_norm(r[index[v]]) for v in values)
             for r in result["rows"]}
    assert len(table) == len(result["rows"]), "duplicate keys in the result"
    return table


def want_table(hand: Any, sql: str, n_keys: int) -> dict[tuple, tuple]:
    """Hand-written SQL: the first n_keys columns are the key, the rest the values."""
    rows = hand.execute(sql).fetchall()
    table = {tuple(_norm(v) for v in r[:n_keys]): tuple(_norm(v) for v in r[n_keys:]) for r in rows}
    assert len(table) == len(rows), "duplicate keys in the hand-written answer"
    assert table, f"the hand-written SQL returned nothing: {sql}"
    return table


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def assert_same(got: dict[tuple, tuple], want: dict[tuple, tuple]) -> None:
    missing, extra = sorted(set(want) - set(got), key=str), sorted(set(got) - set(want), key=str)
    assert not missing and not extra, f"keys differ: missing {missing[:10]}, unexpected {extra[:10]}"
    wrong = {k: (got[k], want[k]) for k in want if not all(_close(a, b) for a, b in zip(got[k], want[k]))}
    assert not wrong, f"{len(wrong)} of {len(want)} rows differ (got, want): {dict(list(sorted(wrong.items(), key=str))[:8])}"


def time(grain: str) -> dict[str, str]:
    return {"name": "metric_time", "type": "time_dimension", "grain": grain}


def dim(name: str) -> dict[str, str]:
    return {"name": name, "type": "dimension"}


async def check(client: Client, hand: Any, request: dict[str, Any], keys: list[str], sql: str) -> dict[str, Any]:
    """query_metrics(request) must equal the hand-written SQL (key columns first, then the metrics)."""
    result = await call_ok(client, "query_metrics", request)
    assert_same(got_table(result, keys, list(request["metrics"])), want_table(hand, sql, len(keys)))
    return result


# Hand-written building blocks. Tables are the models dbt built: dim_customers, fct_orders, fct_order_lines,
# metricflow_time_spine (one row a day, 2024-12-01 .. 2025-06-30).
ORDERS_WITH_CUSTOMERS = "main.fct_orders o LEFT JOIN main.dim_customers c ON c.customer_id = o.customer_id"
DAILY_REVENUE = """(SELECT s.date_day AS day, coalesce(sum(o.amount), 0) AS amount, count(o.order_id) AS n
                    FROM main.metricflow_time_spine s LEFT JOIN main.fct_orders o ON o.ordered_at = s.date_day
                    GROUP BY s.date_day)"""
TRAILING_7D = f"""(SELECT day, sum(amount) OVER w AS value, sum(n) OVER w AS n FROM {DAILY_REVENUE}
                   WINDOW w AS (ORDER BY day ROWS BETWEEN 6 PRECEDING AND CURRENT ROW))"""


# -- the catalog ------------------------------------------------------------------------------------------


async def test_every_metric_is_listed_with_its_type(semantic: Client) -> None:
    listing = await call_ok(semantic, "list_metrics")
    assert listing["source"] == "dbt"
    assert {m["name"]: m["type"] for m in listing["metrics"]} == METRIC_TYPES
    labels = {m["name"]: m["label"] for m in listing["metrics"]}
    assert labels["revenue_trailing_7d"] == "Revenue, trailing 7 days"
    found = await call_ok(semantic, "list_metrics", {"search": "signup"})
    assert {m["name"] for m in found["metrics"]} == {"signups", "total_signups", "signup_to_order_rate",
                                                      "signup_conversions"}


async def test_dimensions_follow_entities_and_never_fan_out(semantic: Client) -> None:
    orders = await call_ok(semantic, "get_dimensions", {"metrics": ["revenue"]})
    names = {d["name"]: d for d in orders["dimensions"]}
    assert {"metric_time", "customer__segment", "customer__country", "order__status"} <= set(names)
    assert names["metric_time"]["type"] == "time" and set(GRAINS) <= set(names["metric_time"]["grains"])
    assert names["customer__segment"]["type"] == "categorical"
    assert not [n for n in names if "product" in n], "an order metric must not offer a dimension of its lines"
    lines = await call_ok(semantic, "get_dimensions", {"metrics": ["units_sold"]})
    line_names = {d["name"] for d in lines["dimensions"]}
    assert {"order_line__product", "order__status", "order__customer__segment"} <= line_names
    both = await call_ok(semantic, "get_dimensions", {"metrics": ["revenue", "units_sold"]})
    assert "order_line__product" not in {d["name"] for d in both["dimensions"]}


async def test_entities(semantic: Client) -> None:
    orders = await call_ok(semantic, "get_entities", {"metrics": ["revenue"]})
    assert {e["name"]: e["type"] for e in orders["entities"]} == {"order": "primary", "customer": "foreign",
                                                                        "order__customer": "foreign"}
    lines = await call_ok(semantic, "get_entities", {"metrics": ["units_sold"]})
    assert {"order_line", "order"} <= {e["name"] for e in lines["entities"]}


async def test_every_entity_listed_can_be_grouped_by(semantic: Client) -> None:
    """What get_entities names is what query_metrics accepts as an entity group-by."""
    for metric in ("revenue", "units_sold", "signups"):
        entities = await call_ok(semantic, "get_entities", {"metrics": [metric]})
        for entity in entities["entities"]:
            result = await semantic.call_tool("query_metrics", {
                "metrics": [metric], "group_by": [{"name": entity["name"], "type": "entity"}], "limit": 1})
            assert not result.is_error, f"{metric} by entity {entity['name']} (listed by get_entities): " \
                                        f"{' '.join(getattr(b, 'text', '') for b in result.content)}"


async def test_saved_queries_are_listed(semantic: Client) -> None:
    listing = await call_ok(semantic, "list_saved_queries")
    saved = {q["name"]: q for q in listing["saved_queries"]}
    assert set(saved) == {"monthly_revenue_by_segment", "weekly_signups"}
    monthly = saved["monthly_revenue_by_segment"]
    assert monthly["metrics"] == ["revenue", "orders"]
    assert monthly["where"] == ["{{ Dimension('order__status') }} != 'pending'"]
    assert "pending" in monthly["description"]


async def test_dimension_values(semantic: Client, hand: Any) -> None:
    segments = await call_ok(semantic, "get_dimension_values", {"dimension": "customer__segment",
                                                                 "metrics": ["revenue"]})
    expected = [r[0] for r in hand.execute(
        f"SELECT DISTINCT c.segment FROM {ORDERS_WITH_CUSTOMERS} ORDER BY 1").fetchall()]
    assert segments["values"] == expected and not segments["truncated"]
    statuses = await call_ok(semantic, "get_dimension_values", {"dimension": "order__status", "metrics": ["orders"],
                                                                 "search": "RET"})
    assert statuses["values"] == ["returned"]
    products = await call_ok(semantic, "get_dimension_values", {"dimension": "order_line__product",
                                                                 "metrics": ["units_sold"], "limit": 2})
    all_products = [r[0] for r in hand.execute("SELECT DISTINCT product FROM main.fct_order_lines ORDER BY 1").fetchall()]
    assert len(all_products) == 4
    assert products["values"] == all_products[:2] and products["truncated"]
    countries = await call_ok(semantic, "get_dimension_values", {"dimension": "customer__country"})
    assert countries["values"] == [r[0] for r in hand.execute(
        "SELECT DISTINCT country FROM main.dim_customers ORDER BY 1").fetchall()]


# -- simple metrics ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("grain", GRAINS)
async def test_simple_metrics_by_every_grain(semantic: Client, hand: Any, grain: str) -> None:
    await check(semantic, hand, {"metrics": ["revenue", "orders", "average_order_value"], "group_by": [time(grain)]},
                [f"metric_time__{grain}"],
                f"SELECT date_trunc('{grain}', ordered_at), sum(amount), count(*), avg(amount) "
                f"FROM main.fct_orders GROUP BY 1")


async def test_a_metric_without_group_by_is_one_total(semantic: Client, hand: Any) -> None:
    result = await call_ok(semantic, "query_metrics", {"metrics": ["revenue", "orders", "ordering_customers"]})
    (total,) = hand.execute("SELECT sum(amount), count(*), count(DISTINCT customer_id) FROM main.fct_orders").fetchall()
    assert got_table(result, [], ["revenue", "orders", "ordering_customers"]) == {(): tuple(map(_norm, total))}


async def test_dimensions_across_a_join(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["revenue", "ordering_customers"],
                                 "group_by": [dim("customer__country"), dim("order__status")]},
                ["customer__country", "order__status"],
                f"SELECT c.country, o.status, sum(o.amount), count(DISTINCT o.customer_id) "
                f"FROM {ORDERS_WITH_CUSTOMERS} GROUP BY 1, 2")


async def test_a_customer_dimension_by_month(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["revenue"], "group_by": [time("month"), dim("customer__segment")]},
                ["metric_time__month", "customer__segment"],
                f"SELECT date_trunc('month', o.ordered_at), c.segment, sum(o.amount) "
                f"FROM {ORDERS_WITH_CUSTOMERS} GROUP BY 1, 2")


async def test_grouped_by_an_entity(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["orders", "revenue"], "group_by": [{"name": "customer", "type": "entity"}]},
                ["customer"], "SELECT customer_id, count(*), sum(amount) FROM main.fct_orders GROUP BY 1")


async def test_signups_use_their_own_time_dimension(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["signups"], "group_by": [time("week"), dim("customer__segment")]},
                ["metric_time__week", "customer__segment"],
                "SELECT date_trunc('week', signup_date), segment, count(*) FROM main.dim_customers GROUP BY 1, 2")


async def test_line_metrics_join_many_to_one_up_to_orders_and_customers(semantic: Client, hand: Any) -> None:
    lines = "main.fct_order_lines l JOIN main.fct_orders o ON o.order_id = l.order_id"
    await check(semantic, hand, {"metrics": ["units_sold", "line_revenue"],
                                 "group_by": [dim("order__status"), dim("order_line__product")]},
                ["order__status", "order_line__product"],
                f"SELECT o.status, l.product, sum(l.quantity), sum(l.line_amount) FROM {lines} GROUP BY 1, 2")
    await check(semantic, hand, {"metrics": ["units_sold"], "group_by": [dim("order__customer__segment")]},
                ["order__customer__segment"],
                f"SELECT c.segment, sum(l.quantity) FROM {lines} JOIN main.dim_customers c "
                f"ON c.customer_id = o.customer_id GROUP BY 1")


async def test_line_revenue_adds_up_to_revenue(semantic: Client) -> None:
    """Order amounts are the sums of their lines: the two models agree month by month."""
    result = await call_ok(semantic, "query_metrics", {"metrics": ["revenue", "line_revenue"],
                                                       "group_by": [time("month")]})
    table = got_table(result, ["metric_time__month"], ["revenue", "line_revenue"])
    assert len(table) == 3 and all(_close(r, lr) for r, lr in table.values())


async def test_metric_filters(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["completed_revenue", "revenue"], "group_by": [time("month")]},
                ["metric_time__month"],
                "SELECT date_trunc('month', ordered_at), sum(amount) FILTER (WHERE status = 'completed'), sum(amount) "
                "FROM main.fct_orders GROUP BY 1")
    # the filter names a dimension of another model (customers): the join is made for the filter alone
    await check(semantic, hand, {"metrics": ["german_revenue"], "group_by": [dim("customer__segment")]},
                ["customer__segment"],
                f"SELECT c.segment, sum(o.amount) FROM {ORDERS_WITH_CUSTOMERS} WHERE c.country = 'DE' GROUP BY 1")


async def test_where_filters(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["revenue", "orders"], "group_by": [time("month")],
                                 "where": ["{{ Dimension('customer__country') }} = 'DE'"]},
                ["metric_time__month"],
                f"SELECT date_trunc('month', o.ordered_at), sum(o.amount), count(*) FROM {ORDERS_WITH_CUSTOMERS} "
                f"WHERE c.country = 'DE' GROUP BY 1")
    await check(semantic, hand, {"metrics": ["revenue"], "group_by": [time("week"), dim("order__status")],
                                 "where": ["{{ TimeDimension('metric_time', 'day') }} >= '2025-02-15'",
                                           "{{ Dimension('order__status') }} IN ('completed', 'returned')"]},
                ["metric_time__week", "order__status"],
                "SELECT date_trunc('week', ordered_at), status, sum(amount) FROM main.fct_orders "
                "WHERE ordered_at >= DATE '2025-02-15' AND status IN ('completed', 'returned') GROUP BY 1, 2")


async def test_a_where_filter_equals_the_metric_filter(semantic: Client) -> None:
    filtered = await call_ok(semantic, "query_metrics", {"metrics": ["revenue"], "group_by": [time("month")],
                                                         "where": ["{{ Dimension('customer__country') }} = 'DE'"]})
    certified = await call_ok(semantic, "query_metrics", {"metrics": ["german_revenue"], "group_by": [time("month")]})
    assert got_table(filtered, ["metric_time__month"], ["revenue"]) == got_table(
        certified, ["metric_time__month"], ["german_revenue"])


async def test_order_by_and_limit(semantic: Client, hand: Any) -> None:
    top = await call_ok(semantic, "query_metrics", {"metrics": ["revenue"], "group_by": [time("day")],
                                                    "order_by": [{"name": "revenue", "descending": True}], "limit": 3})
    assert top["row_count"] == 3
    expected = hand.execute("SELECT ordered_at, sum(amount) AS r FROM main.fct_orders GROUP BY 1 "
                            "ORDER BY r DESC, ordered_at LIMIT 3").fetchall()
    got = [[_norm(v) for v in row] for row in top["rows"]]
    assert [g[1] for g in got] == [_norm(e[1]) for e in expected]  # the order itself is asked for
    assert sorted(got, key=str) == sorted(([_norm(v) for v in e] for e in expected), key=str)
    last = await call_ok(semantic, "query_metrics", {"metrics": ["revenue"], "group_by": [time("week")],
                                                     "order_by": [{"name": "metric_time", "descending": True}],
                                                     "limit": 2})
    expected = hand.execute("SELECT date_trunc('week', ordered_at) AS w, sum(amount) FROM main.fct_orders "
                            "GROUP BY 1 ORDER BY w DESC LIMIT 2").fetchall()
    assert [[_norm(v) for v in row] for row in last["rows"]] == [[_norm(v) for v in e] for e in expected]


# -- ratio and derived --------------------------------------------------------------------------------------


async def test_ratio_with_a_filtered_numerator(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["completed_order_share"], "group_by": [time("month")]},
                ["metric_time__month"],
                "SELECT date_trunc('month', ordered_at), "
                "count(*) FILTER (WHERE status = 'completed')::DOUBLE / count(*) FROM main.fct_orders GROUP BY 1")


async def test_ratio_of_a_sum_and_a_distinct_count(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["revenue_per_customer"], "group_by": [dim("customer__segment")]},
                ["customer__segment"],
                f"SELECT c.segment, sum(o.amount)::DOUBLE / count(DISTINCT o.customer_id) "
                f"FROM {ORDERS_WITH_CUSTOMERS} GROUP BY 1")


async def test_derived_metric_with_a_filtered_input(semantic: Client, hand: Any) -> None:
    # a month without returned orders would have no returned_revenue: NULL, as MetricFlow's join makes it
    await check(semantic, hand, {"metrics": ["net_revenue"], "group_by": [time("month")]}, ["metric_time__month"],
                "SELECT date_trunc('month', ordered_at), sum(amount) - sum(amount) FILTER (WHERE status = 'returned') "
                "FROM main.fct_orders GROUP BY 1")


@pytest.mark.parametrize("grain", ["day", "week"])
async def test_derived_metric_with_an_offset_window(semantic: Client, hand: Any, grain: str) -> None:
    """revenue - the revenue seven days earlier: this period's revenue against the series shifted by a week.
    A period with only one side (the first week, the week after the last order) is NULL."""
    series = f"(SELECT date_trunc('{grain}', ordered_at) AS t, sum(amount) AS v FROM main.fct_orders GROUP BY 1)"
    await check(semantic, hand, {"metrics": ["revenue_wow_change"], "group_by": [time(grain)]},
                [f"metric_time__{grain}"],
                f"SELECT coalesce(cur.t, prev.t), cur.v - prev.v FROM {series} cur "
                f"FULL JOIN (SELECT t + INTERVAL 7 DAY AS t, v FROM {series}) prev ON prev.t = cur.t")


# -- cumulative ---------------------------------------------------------------------------------------------


async def test_cumulative_trailing_window_by_day(semantic: Client, hand: Any) -> None:
    # a day appears when its window holds an order (MetricFlow joins orders to the spine)
    await check(semantic, hand, {"metrics": ["revenue_trailing_7d"], "group_by": [time("day")]}, ["metric_time__day"],
                f"SELECT day, value FROM {TRAILING_7D} WHERE n > 0")


@pytest.mark.parametrize("grain", ["week", "month"])
async def test_cumulative_trailing_window_takes_the_first_day_of_a_coarser_period(
        semantic: Client, hand: Any, grain: str) -> None:
    await check(semantic, hand, {"metrics": ["revenue_trailing_7d"], "group_by": [time(grain)]},
                [f"metric_time__{grain}"],
                f"SELECT date_trunc('{grain}', day), arg_min(value, day) FROM {TRAILING_7D} WHERE n > 0 GROUP BY 1")


async def test_cumulative_grain_to_date(semantic: Client, hand: Any) -> None:
    month_to_date = f"""(SELECT day, sum(amount) OVER w AS value, sum(n) OVER w AS n FROM {DAILY_REVENUE}
                         WINDOW w AS (PARTITION BY date_trunc('month', day) ORDER BY day))"""
    await check(semantic, hand, {"metrics": ["revenue_mtd"], "group_by": [time("day")]}, ["metric_time__day"],
                f"SELECT day, value FROM {month_to_date} WHERE n > 0")
    # and checked against plain arithmetic on one day: 2025-02-20 is the month's orders up to that day
    (feb20,) = hand.execute("SELECT sum(amount) FROM main.fct_orders "
                            "WHERE ordered_at BETWEEN DATE '2025-02-01' AND DATE '2025-02-20'").fetchall()
    result = await call_ok(semantic, "query_metrics", {
        "metrics": ["revenue_mtd"], "group_by": [time("day")],
        "where": ["{{ TimeDimension('metric_time', 'day') }} = '2025-02-20'"]})
    assert got_table(result, ["metric_time__day"], ["revenue_mtd"]) == {("2025-02-20",): (_norm(feb20[0]),)}


@pytest.mark.parametrize("grain", ["day", "month", "quarter"])
async def test_cumulative_all_time_with_period_agg_last(semantic: Client, hand: Any, grain: str) -> None:
    """Signups to date: every spine day from the first signup on; by a coarser grain, the period's last day."""
    to_date = """(SELECT s.date_day AS day, (SELECT count(*) FROM main.dim_customers c WHERE c.signup_date <= s.date_day)
                  AS value FROM main.metricflow_time_spine s
                  WHERE s.date_day >= (SELECT min(signup_date) FROM main.dim_customers))"""
    await check(semantic, hand, {"metrics": ["total_signups"], "group_by": [time(grain)]}, [f"metric_time__{grain}"],
                f"SELECT date_trunc('{grain}', day), arg_max(value, day) FROM {to_date} GROUP BY 1")


# -- conversion ---------------------------------------------------------------------------------------------

CONVERTED = """(SELECT DISTINCT c.customer_id, c.signup_date, c.segment FROM main.dim_customers c
                JOIN main.fct_orders o ON o.customer_id = c.customer_id
                WHERE o.ordered_at >= c.signup_date AND o.ordered_at < c.signup_date + INTERVAL 7 DAY)"""


async def test_conversion_rate_and_conversions_by_month(semantic: Client, hand: Any) -> None:
    """A conversion: the customer's order on the signup day or in the six days after (window 7 days)."""
    await check(semantic, hand, {"metrics": ["signup_to_order_rate", "signup_conversions", "signups"],
                                 "group_by": [time("month")]}, ["metric_time__month"],
                f"SELECT s.m, k.n::DOUBLE / s.n, k.n, s.n "
                f"FROM (SELECT date_trunc('month', signup_date) AS m, count(*) AS n FROM main.dim_customers GROUP BY 1) s "
                f"LEFT JOIN (SELECT date_trunc('month', signup_date) AS m, count(*) AS n FROM {CONVERTED} GROUP BY 1) k "
                f"ON k.m = s.m")


async def test_conversion_by_a_base_dimension(semantic: Client, hand: Any) -> None:
    await check(semantic, hand, {"metrics": ["signup_to_order_rate"], "group_by": [dim("customer__segment")]},
                ["customer__segment"],
                f"SELECT s.segment, k.n::DOUBLE / s.n "
                f"FROM (SELECT segment, count(*) AS n FROM main.dim_customers GROUP BY 1) s "
                f"LEFT JOIN (SELECT segment, count(*) AS n FROM {CONVERTED} GROUP BY 1) k ON k.segment = s.segment")


async def test_an_order_seven_days_after_signup_is_not_a_conversion(hand: Any) -> None:
    """The data holds the boundary case, so the window's edge is really tested."""
    (n,) = hand.execute("SELECT count(*) FROM main.fct_orders o JOIN main.dim_customers c USING (customer_id) "
                        "WHERE o.ordered_at = c.signup_date + INTERVAL 7 DAY").fetchone()
    assert n > 0


# -- several types at once, saved queries, compiled SQL -------------------------------------------------------


async def test_metrics_of_every_type_in_one_query(semantic: Client, hand: Any) -> None:
    result = await call_ok(semantic, "query_metrics", {
        "metrics": ["revenue", "completed_order_share", "net_revenue", "total_signups", "signup_conversions"],
        "group_by": [time("month")]})
    table = got_table(result, ["metric_time__month"], ["revenue", "total_signups"])
    # total_signups runs through the spine (to June); revenue only where orders are
    assert len(table) == 7 and table[("2025-06-01",)] == (None, 40.0)
    assert table[("2025-01-01",)][0] == _norm(hand.execute(
        "SELECT sum(amount) FROM main.fct_orders WHERE ordered_at < DATE '2025-02-01'").fetchone()[0])
    assert {d["name"] for d in result["metrics"]} == {"revenue", "completed_order_share", "net_revenue",
                                                      "total_signups", "signup_conversions"}


async def test_a_saved_query_answers_as_written(semantic: Client, hand: Any) -> None:
    listing = await call_ok(semantic, "list_saved_queries")
    saved = {q["name"]: q for q in listing["saved_queries"]}["monthly_revenue_by_segment"]
    request = {"metrics": saved["metrics"], "group_by": saved["group_by"], "where": saved["where"]}
    await check(semantic, hand, request, ["metric_time__month", "customer__segment"],
                f"SELECT date_trunc('month', o.ordered_at), c.segment, sum(o.amount), count(*) "
                f"FROM {ORDERS_WITH_CUSTOMERS} WHERE o.status != 'pending' GROUP BY 1, 2")


async def test_results_carry_the_sql_and_the_definitions(semantic: Client, hand: Any) -> None:
    request = {"metrics": ["completed_revenue", "revenue_trailing_7d"], "group_by": [time("month")]}
    result = await call_ok(semantic, "query_metrics", request)
    definitions = {d["name"]: d for d in result["metrics"]}
    assert definitions["completed_revenue"]["type"] == "simple"
    assert "order__status" in str(definitions["completed_revenue"]["definition"])
    assert "7" in str(definitions["revenue_trailing_7d"]["definition"])
    assert "fct_orders" in result["sql"] and "metricflow_time_spine" in result["sql"]
    compiled = await call_ok(semantic, "get_metrics_compiled_sql", request)
    assert compiled["dialect"] == "duckdb"
    # the compiled statement, run by hand, gives what query_metrics returned
    rows = hand.execute(compiled["sql"]).fetchall()
    names = [c[0] for c in hand.description]
    got = got_table(result, ["metric_time__month"], request["metrics"])
    index = {n.lower(): i for i, n in enumerate(names)}
    ran = {(_norm(r[index["metric_time__month"]]),): tuple(_norm(r[index[m]]) for m in request["metrics"])
           for r in rows}
    assert_same(got, ran)


# -- refusals -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dimension", ["order_line__product", "order__product"])
async def test_fan_out_is_an_error_never_a_number(semantic: Client, dimension: str) -> None:
    """Revenue is per order; grouping it by a product of its lines would count an order once per line."""
    for tool in ("query_metrics", "get_metrics_compiled_sql"):
        for metrics in (["revenue"], ["units_sold", "revenue"]):
            result = await semantic.call_tool(tool, {"metrics": metrics, "group_by": [dim(dimension)]})
            assert result.is_error, f"{tool}({metrics} by {dimension}) answered {result.structured_content}"
            assert not (result.structured_content or {}).get("rows")
            text = " ".join(getattr(b, "text", "") for b in result.content)
            assert dimension in text and "revenue" in text


async def test_an_unknown_metric_names_the_closest(semantic: Client) -> None:
    text = await call_error(semantic, "query_metrics", {"metrics": ["revenu"], "group_by": [time("month")]})
    assert "revenu" in text and "revenue" in text.replace("'revenu'", "")
    text = await call_error(semantic, "get_dimensions", {"metrics": ["signup_rate"]})
    assert "signup_to_order_rate" in text


async def test_an_unknown_dimension_names_the_closest(semantic: Client) -> None:
    text = await call_error(semantic, "query_metrics", {"metrics": ["revenue"],
                                                        "group_by": [dim("customer__segmnt")]})
    assert "customer__segment" in text
