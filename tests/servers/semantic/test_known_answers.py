"""Every metric type against hand-written SQL on the shop lab tables, on DuckDB and on Snowflake (fakesnow).

The server compiles with MetricFlow and runs through the runtime; the expected figures come from
plain SQL on the DuckDB copy of the same rows (`expected`), so a wrong join, filter or window shows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.semantic.server import build_server

pytestmark = pytest.mark.anyio
MONTH = {"name": "metric_time", "type": "time_dimension", "grain": "month"}
DAY = {"name": "metric_time", "type": "time_dimension", "grain": "day"}


@pytest.fixture
async def client(shop_settings: Settings) -> AsyncIterator[Client]:
    async with Client(build_server(shop_settings)) as client:
        yield client


def expected(shop_reference: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(shop_reference), read_only=True) as con:
        return [tuple(_plain(v) for v in row) for row in con.execute(sql).fetchall()]


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if value is None or isinstance(value, str):
        return value
    return float(value)


async def rows(client: Client, **arguments: Any) -> list[tuple[Any, ...]]:
    result = await client.call_tool("query_metrics", arguments)
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    assert data["truncated"] is False
    return [tuple(_value(v) for v in row) for row in data["rows"]]


def _value(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return value[:10]  # DATE_TRUNC gives a TIMESTAMP on DuckDB, a DATE on Snowflake
    return float(value) if isinstance(value, (int, float)) or _numeric(value) else value


def _numeric(value: Any) -> bool:
    try:
        float(value)
        return isinstance(value, str)
    except (TypeError, ValueError):
        return False


def close(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> bool:
    if len(got) != len(want):
        return False
    return all(len(g) == len(w) and all(a == b or isinstance(a, float) and isinstance(b, float) and abs(a - b) < 1e-9
                                        for a, b in zip(g, w)) for g, w in zip(got, want))


def non_null(got: list[tuple[Any, ...]], first: str = "2026-01-01", last: str = "2026-03-31") -> list[tuple[Any, ...]]:
    """Rows of a time series within the data's range whose metric is not null (spine days outside are null)."""
    return sorted(r for r in got if r[-1] is not None and first <= r[0] <= last)


# -- simple metrics, metric filters, grains ------------------------------------------------------


@pytest.mark.parametrize("grain", ["day", "week", "month", "quarter", "year"])
async def test_a_simple_metric_with_its_filter_at_every_grain(client: Client, shop_reference: Path, grain: str) -> None:
    got = await rows(client, metrics=["revenue"], group_by=[{"name": "metric_time", "type": "time_dimension",
                                                              "grain": grain}])
    want = expected(shop_reference, f"SELECT date_trunc('{grain}', ORDER_DATE) AS t, sum(AMOUNT) FROM SHOP_LAB.SHOP.ORDERS "
                                 "WHERE STATUS = 'completed' GROUP BY 1 ORDER BY 1")
    assert close(got, want), (got, want)


async def test_without_a_group_by_a_metric_is_one_number(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue", "gross_amount", "orders"])
    assert close(got, expected(shop_reference, "SELECT sum(AMOUNT) FILTER (WHERE STATUS = 'completed'), sum(AMOUNT), "
                                            "count(DISTINCT ORDER_ID) FROM SHOP_LAB.SHOP.ORDERS"))


async def test_a_dimension_across_the_customer_entity(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue"], group_by=[{"name": "customer__segment"}],
                     order_by=[{"name": "customer__segment"}])
    want = expected(shop_reference, "SELECT c.SEGMENT, sum(o.AMOUNT) FROM SHOP_LAB.SHOP.ORDERS o JOIN SHOP_LAB.SHOP.CUSTOMERS c "
                                 "USING (CUSTOMER_ID) WHERE o.STATUS = 'completed' GROUP BY 1 ORDER BY 1")
    assert close(got, want), (got, want)


async def test_grouping_by_an_entity(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["orders"], group_by=[{"name": "customer", "type": "entity"}],
                     order_by=[{"name": "customer"}])
    want = expected(shop_reference, "SELECT CUSTOMER_ID, count(*) FROM SHOP_LAB.SHOP.ORDERS GROUP BY 1 ORDER BY 1")
    assert close(got, want), (got, want)


async def test_where_filters_narrow_the_rows_and_are_anded(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue"], group_by=[MONTH],
                     where=["{{ Dimension('customer__country') }} = 'DE'",
                            "{{ TimeDimension('metric_time', 'day') }} >= '2026-01-10'"])
    want = expected(shop_reference, "SELECT date_trunc('month', o.ORDER_DATE), sum(o.AMOUNT) FROM SHOP_LAB.SHOP.ORDERS o "
                                 "JOIN SHOP_LAB.SHOP.CUSTOMERS c USING (CUSTOMER_ID) WHERE o.STATUS = 'completed' "
                                 "AND c.COUNTRY = 'DE' AND o.ORDER_DATE >= DATE '2026-01-10' GROUP BY 1 ORDER BY 1")
    assert close(got, want), (got, want)


async def test_order_by_and_limit(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue"], group_by=[{"name": "customer", "type": "entity"}],
                     order_by=[{"name": "revenue", "descending": True}], limit=2)
    want = expected(shop_reference, "SELECT CUSTOMER_ID, sum(AMOUNT) AS r FROM SHOP_LAB.SHOP.ORDERS "
                                 "WHERE STATUS = 'completed' GROUP BY 1 ORDER BY r DESC LIMIT 2")
    assert close(got, want), (got, want)


# -- ratio, derived, cumulative, conversion --------------------------------------------------------


async def test_ratios_with_filters_on_their_inputs(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["aov", "cancel_rate"], group_by=[{"name": "customer__segment"}],
                     order_by=[{"name": "customer__segment"}])
    want = expected(shop_reference, """
        SELECT c.SEGMENT,
               sum(o.AMOUNT) FILTER (WHERE o.STATUS = 'completed')
                 / count(DISTINCT o.ORDER_ID) FILTER (WHERE o.STATUS = 'completed'),
               count(DISTINCT o.ORDER_ID) FILTER (WHERE o.STATUS = 'cancelled') / count(DISTINCT o.ORDER_ID)
        FROM SHOP_LAB.SHOP.ORDERS o JOIN SHOP_LAB.SHOP.CUSTOMERS c USING (CUSTOMER_ID) GROUP BY 1 ORDER BY 1""")
    assert [r[0] for r in got] == [r[0] for r in want]
    for g, w in zip(got, want):
        assert g[1] == pytest.approx(w[1]) and (g[2] or 0.0) == pytest.approx(w[2] or 0.0), (got, want)


async def test_a_derived_metric_with_a_month_offset(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue_growth"], group_by=[MONTH])
    want = expected(shop_reference, """
        WITH m AS (SELECT date_trunc('month', ORDER_DATE) AS month, sum(AMOUNT) AS revenue FROM SHOP_LAB.SHOP.ORDERS
                   WHERE STATUS = 'completed' GROUP BY 1)
        SELECT m.month, m.revenue - p.revenue FROM m JOIN m p ON p.month = m.month - INTERVAL 1 MONTH ORDER BY 1""")
    assert non_null(got) == want and want == [("2026-02-01", -110.0), ("2026-03-01", 170.0)]


async def test_cumulative_metrics_all_time_windowed_and_to_date(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue_to_date", "revenue_7d", "revenue_mtd"], group_by=[DAY])
    want = expected(shop_reference, """
        WITH d AS (SELECT o.ORDER_DATE AS day, sum(AMOUNT) AS r FROM SHOP_LAB.SHOP.ORDERS o
                   WHERE STATUS = 'completed' GROUP BY 1)
        SELECT s.DAY,
               (SELECT sum(r) FROM d WHERE d.day <= s.DAY),
               (SELECT sum(r) FROM d WHERE d.day BETWEEN s.DAY - 6 AND s.DAY),
               (SELECT sum(r) FROM d WHERE d.day <= s.DAY AND date_trunc('month', d.day) = date_trunc('month', s.DAY))
        FROM SHOP_LAB.SHOP.DAYS s WHERE s.DAY BETWEEN DATE '2026-01-02' AND DATE '2026-03-31' ORDER BY 1""")
    by_day = {r[0]: r[1:] for r in got}
    for day, *values in want:
        assert tuple(v or 0.0 for v in by_day.get(day, (None, None, None))) == pytest.approx(
            tuple(v or 0.0 for v in values)), day


async def test_a_cumulative_metric_aggregated_per_period_takes_its_last_day(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["revenue_to_date_end"], group_by=[MONTH])
    assert non_null(got) == [("2026-01-01", 350.0), ("2026-02-01", 590.0), ("2026-03-01", 1000.0)]


async def test_conversion_within_a_window(client: Client, shop_reference: Path) -> None:
    got = await rows(client, metrics=["ordered_within_7d", "converted_within_7d"])
    want = expected(shop_reference, """
        SELECT count(DISTINCT c.CUSTOMER_ID) FILTER (WHERE EXISTS (SELECT 1 FROM SHOP_LAB.SHOP.ORDERS o
                 WHERE o.CUSTOMER_ID = c.CUSTOMER_ID AND o.ORDER_DATE BETWEEN c.SIGNUP_DATE AND c.SIGNUP_DATE + 7))
        FROM SHOP_LAB.SHOP.CUSTOMERS c""")
    conversions = want[0][0]
    assert conversions == 5.0
    assert got[0][0] == pytest.approx(conversions / 6) and got[0][1] == conversions


# -- what must be refused ------------------------------------------------------------------------


async def test_the_fan_out_trap_is_refused_never_counted_twice(client: Client) -> None:
    result = await client.call_tool("query_metrics", {"metrics": ["orders"],
                                                      "group_by": [{"name": "order_line__line_number"}]})
    assert result.is_error and result.structured_content is None
    assert "order_line__line_number" in result.content[0].text and "count twice" in result.content[0].text


@pytest.mark.parametrize(("arguments", "says"), [
    ({"metrics": ["revenu"]}, "unknown metric 'revenu'; the closest: revenue"),
    ({"metrics": ["revenue"], "group_by": [{"name": "customer__segmnt"}]}, "The closest: customer__segment"),
    ({"metrics": ["revenue"], "group_by": [{"name": "customer__segment", "grain": "month"}]}, "needs type time_dimension"),
    ({"metrics": ["revenue"], "group_by": [MONTH], "order_by": [{"name": "orders"}]}, "not one of the requested metrics"),
    ({"metrics": ["revenue"], "order_by": [{"name": "customer__segment"}]}, "neither a requested metric"),
    ({"metrics": ["revenue"], "where": ["{{ Dimension('customer__country') }} IN (SELECT COUNTRY FROM "
                                        "SHOP_LAB.SHOP.CUSTOMERS)"]}, "may not hold a subquery"),
    ({"metrics": ["revenue"], "where": ["STATUS = 'cancelled'"]}, "references no dimension"),
    ({"metrics": ["revenue"], "where": ["{{ Dimension('customer__country') }} = 'DE' OR AMOUNT > 0"]}, "not a reference"),
    ({"metrics": ["revenue"], "where": ["{{ Dimension('customer__country') }} = '{{ 7 * 7 }}'"]}, "only {{ Dimension"),
    ({"metrics": ["revenue"], "where": ["{% for x in y %}1{% endfor %}"]}, "only {{ Dimension"),
    ({"metrics": ["revenue"], "where": ["{{ Dimension('customer__country') }} = 'DE'; DROP TABLE x"]}, "refused"),
    ({"metrics": ["revenue"], "limit": 0}, "greater than or equal to 1"),
    ({"metrics": []}, "at least 1"),
])
async def test_bad_input_gets_a_clear_error(client: Client, arguments: dict[str, Any], says: str) -> None:
    result = await client.call_tool("query_metrics", arguments)
    assert result.is_error and says in result.content[0].text, result.content[0].text


# -- the other tools --------------------------------------------------------------------------------


async def test_results_say_which_definitions_and_sql_produced_them(client: Client) -> None:
    data = (await client.call_tool("query_metrics", {"metrics": ["aov"], "group_by": [MONTH]})).structured_content
    (aov,) = data["metrics"]
    assert aov["name"] == "aov" and aov["type"] == "ratio" and aov["source"] == "shop.yml"
    assert aov["definition"]["denominator"]["filter"]
    compiled = (await client.call_tool("get_metrics_compiled_sql", {"metrics": ["aov"], "group_by": [MONTH]}))
    assert compiled.structured_content["sql"] == data["sql"] and "SHOP_LAB.SHOP.ORDERS" in data["sql"]


async def test_catalog_tools(client: Client) -> None:
    metrics = (await client.call_tool("list_metrics", {})).structured_content["metrics"]
    assert {m["name"] for m in metrics} == {"revenue", "gross_amount", "orders", "aov", "cancel_rate", "revenue_growth",
                                           "revenue_to_date", "revenue_7d", "revenue_mtd", "revenue_to_date_end",
                                           "ordered_within_7d", "converted_within_7d"}
    found = (await client.call_tool("list_metrics", {"search": "7D"})).structured_content["metrics"]
    assert {m["name"] for m in found} == {"revenue_7d", "ordered_within_7d", "converted_within_7d"}
    dimensions = (await client.call_tool("get_dimensions", {"metrics": ["revenue"]})).structured_content["dimensions"]
    names = [d["name"] for d in dimensions]
    assert names[0] == "metric_time" and {"customer__segment", "customer__country", "order__status"} <= set(names)
    assert "order_line__line_number" not in names
    entities = (await client.call_tool("get_entities", {"metrics": ["revenue"]})).structured_content["entities"]
    assert {e["name"] for e in entities} == {"order", "customer", "order__customer"}  # the same key, two paths
    saved = (await client.call_tool("list_saved_queries", {})).structured_content["saved_queries"]
    assert saved == [{"name": "revenue_by_segment", "description": None, "metrics": ["revenue"],
                      "group_by": [{"name": "customer__segment", "type": "dimension", "grain": None}], "where": []}]


async def test_dimension_values(client: Client) -> None:
    values = await client.call_tool("get_dimension_values", {"dimension": "customer__segment", "metrics": ["revenue"]})
    assert values.structured_content["values"] == ["consumer", "enterprise", "smb"]
    found = await client.call_tool("get_dimension_values", {"dimension": "customer__country", "search": "e"})
    assert found.structured_content["values"] == ["DE"]
    cut = await client.call_tool("get_dimension_values", {"dimension": "customer__country", "limit": 2})
    assert cut.structured_content["values"] == ["DE", "FR"] and cut.structured_content["truncated"] is True


async def test_the_metric_catalog_resource(client: Client) -> None:
    contents = await client.read_resource("snowmcp://semantic/metrics")
    catalog = json.loads(contents.contents[0].text)
    assert catalog["source"] == "yaml" and len(catalog["metrics"]) == 12
    assert next(m for m in catalog["metrics"] if m["name"] == "revenue")["definition"]["filter"]
