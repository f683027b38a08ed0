"""A tiny shop with known figures, created identically in DuckDB and in fakesnow, and its semantic models.

Database SHOP_LAB, schema SHOP: CUSTOMERS (6), ORDERS (14, Jan-Mar 2026), ORDER_LINES (1-3 per order)
and DAYS (the time spine). The expected answers are computed by hand-written SQL on the DuckDB copy
(`expected`), never by MetricFlow.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

D = dt.date
CUSTOMERS = [  # id, segment, country, signup date
    (1, "consumer", "DE", D(2026, 1, 1)), (2, "consumer", "US", D(2026, 1, 3)), (3, "smb", "DE", D(2026, 1, 10)),
    (4, "smb", "FR", D(2026, 2, 1)), (5, "enterprise", "US", D(2026, 2, 14)), (6, "consumer", "FR", D(2026, 3, 1)),
]
ORDERS = [  # id, customer, date, status, amount
    (101, 1, D(2026, 1, 2), "completed", Decimal("100.00")), (102, 1, D(2026, 1, 20), "completed", Decimal("50.00")),
    (103, 2, D(2026, 1, 5), "cancelled", Decimal("70.00")), (104, 3, D(2026, 1, 15), "completed", Decimal("200.00")),
    (105, 3, D(2026, 2, 3), "completed", Decimal("120.00")), (106, 4, D(2026, 2, 5), "completed", Decimal("80.00")),
    (107, 2, D(2026, 2, 10), "completed", Decimal("40.00")), (108, 5, D(2026, 2, 28), "cancelled", Decimal("500.00")),
    (109, 5, D(2026, 3, 1), "completed", Decimal("300.00")), (110, 6, D(2026, 3, 2), "completed", Decimal("25.00")),
    (111, 1, D(2026, 3, 15), "completed", Decimal("60.00")), (112, 4, D(2026, 3, 20), "cancelled", Decimal("90.00")),
    (113, 3, D(2026, 3, 31), "completed", Decimal("10.00")), (114, 6, D(2026, 3, 31), "completed", Decimal("15.00")),
]
LINES = [(order, line, line * 2) for order, *_ in ORDERS for line in range(1, 1 + (order % 3) + 1)]  # order, line, qty
DAYS = [D(2025, 12, 1) + dt.timedelta(days=i) for i in range(151)]  # 2025-12-01 .. 2026-04-30

MODELS = """
time_spines:
  - table: SHOP_LAB.SHOP.DAYS
    primary_column: {name: DAY, time_granularity: day}
semantic_models:
  - name: orders
    table: SHOP_LAB.SHOP.ORDERS
    defaults: {agg_time_dimension: ordered_on}
    entities:
      - {name: order, type: primary, expr: ORDER_ID}
      - {name: customer, type: foreign, expr: CUSTOMER_ID}
    dimensions:
      - {name: ordered_on, type: time, expr: ORDER_DATE, type_params: {time_granularity: day}}
      - {name: status, type: categorical, expr: STATUS}
    measures:
      - {name: amount, agg: sum, expr: AMOUNT}
      - {name: order_count, agg: count_distinct, expr: ORDER_ID}
      - {name: buyers, agg: count_distinct, expr: CUSTOMER_ID}
  - name: order_lines
    table: SHOP_LAB.SHOP.ORDER_LINES
    entities:
      - {name: order_line, type: primary, expr: "ORDER_ID * 10 + LINE_NUMBER"}
      - {name: order, type: foreign, expr: ORDER_ID}
    dimensions:
      - {name: line_number, type: categorical, expr: LINE_NUMBER}
  - name: customers
    table: SHOP_LAB.SHOP.CUSTOMERS
    defaults: {agg_time_dimension: signed_up_on}
    entities:
      - {name: customer, type: primary, expr: CUSTOMER_ID}
    dimensions:
      - {name: signed_up_on, type: time, expr: SIGNUP_DATE, type_params: {time_granularity: day}}
      - {name: segment, type: categorical, expr: SEGMENT}
      - {name: country, type: categorical, expr: COUNTRY}
    measures:
      - {name: signups, agg: count_distinct, expr: CUSTOMER_ID}
metrics:
  - {name: revenue, type: simple, type_params: {measure: amount},
     filter: "{{ Dimension('order__status') }} = 'completed'"}
  - {name: gross_amount, type: simple, type_params: {measure: amount}}
  - {name: orders, type: simple, type_params: {measure: order_count}}
  - name: aov
    type: ratio
    type_params:
      numerator: revenue
      denominator: {name: orders, filter: "{{ Dimension('order__status') }} = 'completed'"}
  - name: cancel_rate
    type: ratio
    type_params:
      numerator: {name: orders, filter: "{{ Dimension('order__status') }} = 'cancelled'"}
      denominator: orders
  - name: revenue_growth
    type: derived
    type_params:
      expr: revenue - revenue_last_month
      metrics: [revenue, {name: revenue, offset_window: 1 month, alias: revenue_last_month}]
  - {name: revenue_to_date, type: cumulative, type_params: {measure: amount},
     filter: "{{ Dimension('order__status') }} = 'completed'"}
  - {name: revenue_7d, type: cumulative, type_params: {measure: amount, cumulative_type_params: {window: 7 days}},
     filter: "{{ Dimension('order__status') }} = 'completed'"}
  - {name: revenue_mtd, type: cumulative,
     type_params: {measure: amount, cumulative_type_params: {grain_to_date: month}},
     filter: "{{ Dimension('order__status') }} = 'completed'"}
  - {name: revenue_to_date_end, type: cumulative,
     type_params: {measure: amount, cumulative_type_params: {period_agg: last}},
     filter: "{{ Dimension('order__status') }} = 'completed'"}
  - name: ordered_within_7d
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: {name: signups}
        conversion_measure: {name: buyers}
        entity: customer
        window: 7 days
        calculation: conversion_rate
  - name: converted_within_7d
    type: conversion
    type_params:
      conversion_type_params:
        base_measure: {name: signups}
        conversion_measure: {name: buyers}
        entity: customer
        window: 7 days
        calculation: conversions
saved_queries:
  - name: revenue_by_segment
    query_params:
      metrics: [revenue]
      group_by: ["Dimension('customer__segment')"]
"""


def write_models(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "shop.yml").write_text(MODELS)
    return folder


def statements(dialect: str) -> list[str]:
    """DDL and inserts for SHOP_LAB.SHOP.*, in `dialect` (the schema must exist)."""
    from sqlglot import exp

    def table(name: str, columns: str, rows: list[tuple[Any, ...]]) -> list[str]:
        create = f"CREATE TABLE SHOP_LAB.SHOP.{name} ({columns})"
        values = exp.values([tuple(exp.convert(v) for v in row) for row in rows])
        return [exp.maybe_parse(create, dialect=dialect).sql(dialect=dialect),
                exp.insert(values, f"SHOP_LAB.SHOP.{name}").sql(dialect=dialect)]

    return [
        *table("CUSTOMERS", "CUSTOMER_ID INT, SEGMENT VARCHAR, COUNTRY VARCHAR, SIGNUP_DATE DATE", CUSTOMERS),
        *table("ORDERS", "ORDER_ID INT, CUSTOMER_ID INT, ORDER_DATE DATE, STATUS VARCHAR, AMOUNT DECIMAL(10,2)", ORDERS),
        *table("ORDER_LINES", "ORDER_ID INT, LINE_NUMBER INT, QUANTITY INT", LINES),
        *table("DAYS", "DAY DATE", [(d,) for d in DAYS]),
    ]
