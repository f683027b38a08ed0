"""The SQL that fills the demo warehouse, one function per table (what it plants: `common.demo_warehouse`).

Every row is generated in SQL from `range()`; pseudo-randomness is the macro
`u(a, b)`, a number in [0, 1) hashed from two keys, so every build is identical.
No statement reads the clock: "today" is 2026-11-20. No outside input reaches
this SQL; it is all constants.
"""

from __future__ import annotations

from collections.abc import Callable


def setup() -> str:
    return """
SET TimeZone = 'UTC';  -- TIMESTAMPTZ values must not depend on the builder's time zone
CREATE SCHEMA SALES;
CREATE SCHEMA OPS;
CREATE TEMP MACRO u(a, b) AS (hash(a, b) % 1000003) / 1000003.0;
"""


def customers() -> str:
    return """
CREATE TABLE SALES.CUSTOMERS AS
WITH base AS (
  SELECT i + 1 AS id, i FROM range(50000) t(i)
  UNION ALL  -- planted: 25 duplicated customer ids
  SELECT (i * 997) % 50000 + 1, 50000 + i FROM range(25) t(i)
)
SELECT
  id::BIGINT AS CUSTOMER_ID,
  ['Ada', 'Ben', 'Chloe', 'Dev', 'Elif', 'Femi', 'Gus', 'Hana', 'Ivo', 'Jun'][1 + (hash(i, 'fn') % 10)::INT]
    || ' ' || ['Okafor', 'Schmidt', 'Tanaka', 'Rossi', 'Silva', 'Novak', 'Kim', 'Moreau'][1 + (hash(i, 'ln') % 8)::INT]
    AS NAME,
  CASE WHEN hash(i, 'email') % 200 = 0 THEN NULL  -- planted: ~0.5 % missing emails
       ELSE 'customer' || id || '@example.com' END AS EMAIL,
  CASE WHEN u(i, 'c') < 0.40 THEN 'US' WHEN u(i, 'c') < 0.55 THEN 'GB' WHEN u(i, 'c') < 0.67 THEN 'DE'
       WHEN u(i, 'c') < 0.75 THEN 'FR' WHEN u(i, 'c') < 0.81 THEN 'CA' WHEN u(i, 'c') < 0.86 THEN 'AU'
       WHEN u(i, 'c') < 0.90 THEN 'NL' WHEN u(i, 'c') < 0.93 THEN 'ES' WHEN u(i, 'c') < 0.95 THEN 'IT'
       WHEN u(i, 'c') < 0.97 THEN 'JP' WHEN u(i, 'c') < 0.99 THEN 'BR' ELSE 'IN' END AS COUNTRY,
  CASE WHEN u(i, 's') < 0.70 THEN 'consumer' WHEN u(i, 's') < 0.93 THEN 'smb' ELSE 'enterprise' END AS SEGMENT,
  DATE '2019-01-01' + (hash(i, 'signup') % 2870)::INT AS SIGNUP_DATE,
  u(i, 'active') < 0.82 AS IS_ACTIVE,
  round(u(i, 'ltv') * u(i, 'ltv2') * 20000, 2)::DECIMAL(12, 2) AS LIFETIME_VALUE
FROM base ORDER BY i
"""


def products() -> str:
    return """
CREATE TABLE SALES.PRODUCTS AS
SELECT
  (i + 1)::BIGINT AS PRODUCT_ID,
  'SKU-' || lpad((i + 1)::VARCHAR, 6, '0') AS SKU,
  ['Classic', 'Pro', 'Mini', 'Ultra', 'Eco', 'Smart'][1 + (hash(i, 'adj') % 6)::INT] || ' '
    || ['Kettle', 'Lamp', 'Backpack', 'Headphones', 'Desk', 'Speaker', 'Blender', 'Jacket', 'Tent', 'Watch'][1 + (i % 10)]
    AS NAME,
  ['kitchen', 'lighting', 'bags', 'audio', 'furniture', 'electronics', 'appliances', 'apparel', 'outdoor', 'accessories'][1 + (i % 10)]
    AS CATEGORY,
  round(5 + u(i, 'price') * u(i, 'price2') * 400, 2)::DECIMAL(10, 2) AS UNIT_PRICE,
  u(i, 'disc') < 0.06 AS IS_DISCONTINUED,
  -- planted: the stale table, last touched 2026-10-31 (its loader fails since 2026-11-01)
  TIMESTAMP '2026-10-31 02:34:00' - INTERVAL (hash(i, 'upd') % 400) DAY AS UPDATED_AT
FROM range(2000) t(i)
"""


def orders() -> str:
    return """
CREATE TABLE SALES.ORDERS AS
WITH days AS (
  SELECT d, DATE '2024-11-20' + d::INT AS day FROM range(730) t(d)
), counts AS (
  SELECT d, day,
    CAST(1500
      * CASE dayofweek(day) WHEN 6 THEN 1.30 WHEN 0 THEN 1.25 WHEN 1 THEN 0.90 ELSE 1.0 END  -- weekly seasonality
      * (1 + 0.4 * d / 730.0)                                                                -- trend
      * (0.96 + 0.08 * u(d, 'noise'))
      AS INTEGER) AS n
  FROM days
), normal AS (
  SELECT day, d * 10000 + k AS key, 'normal' AS kind FROM counts, range(n) r(k)
), spike AS (  -- planted: the anomaly, 30 bulk partner orders on 2026-09-14
  SELECT DATE '2026-09-14' AS day, 90000000 + k AS key, 'bulk' AS kind FROM range(30) r(k)
), absurd AS (  -- planted: 20 mis-keyed amounts > 1,000,000, each cancelled by a reversal the same day
  SELECT DATE '2024-12-03' + (35 * (k // 2))::INT AS day, 91000000 + k AS key,
         CASE WHEN k % 2 = 0 THEN 'absurd' ELSE 'reversal' END AS kind
  FROM range(40) r(k)
), keyed AS (
  SELECT *, row_number() OVER (ORDER BY day, key) AS n
  FROM (SELECT * FROM normal UNION ALL SELECT * FROM spike UNION ALL SELECT * FROM absurd)
), orders AS (
  SELECT
    n::BIGINT AS ORDER_ID,
    CASE WHEN hash(key, 'orphan') % 4700 = 0 THEN 900000 + hash(key, 'o') % 1000  -- planted: orphans
         WHEN kind IN ('absurd', 'reversal') THEN 1 + hash(key // 2, 'cust') % 50000
         ELSE 1 + hash(key, 'cust') % 50000 END::BIGINT AS CUSTOMER_ID,
    day AS ORDER_DATE,
    (day + INTERVAL (hash(key, 'sec') % 86400) SECOND)::TIMESTAMPTZ AS ORDERED_AT,
    CASE WHEN kind IN ('absurd', 'reversal') THEN 'cancelled'
         WHEN u(key, 'st') < 0.55 THEN 'delivered' WHEN u(key, 'st') < 0.80 THEN 'shipped'
         WHEN u(key, 'st') < 0.90 THEN 'pending' WHEN u(key, 'st') < 0.96 THEN 'cancelled' ELSE 'returned' END AS STATUS,
    CASE WHEN kind <> 'normal' THEN 'partner'
         WHEN hash(key, 'nullch') % 1000 = 0 THEN NULL  -- planted: ~0.1 % missing channel
         WHEN u(key, 'ch') < 0.45 THEN 'web' WHEN u(key, 'ch') < 0.80 THEN 'mobile'
         WHEN u(key, 'ch') < 0.95 THEN 'store' ELSE 'partner' END AS CHANNEL,
    CASE WHEN u(key, 'cur') < 0.80 THEN 'USD' WHEN u(key, 'cur') < 0.93 THEN 'EUR' ELSE 'GBP' END AS CURRENCY,
    CAST(CASE
      WHEN kind = 'absurd' THEN 1000000 + 4000000 * u(key // 2, 'absurd')     -- planted: out of range
      WHEN kind = 'reversal' THEN -(1000000 + 4000000 * u(key // 2, 'absurd'))
      WHEN kind = 'bulk' THEN 12000 + 6000 * u(key, 'bulk')
      WHEN hash(key, 'neg') % 100000 < 2 THEN -(1 + 250 * u(key, 'negamt'))  -- planted: negative amounts
      ELSE 12 + 260 * u(key, 'amt') * u(key, 'amt2') END AS DECIMAL(12, 2)) AS AMOUNT,
    CAST(CASE WHEN u(key, 'd') < 0.2 AND kind = 'normal' THEN 5 * (1 + hash(key, 'dv') % 6) ELSE 0 END
         AS DECIMAL(12, 2)) AS DISCOUNT,
    CASE WHEN u(key, 'sc') < 0.45 THEN 'US' WHEN u(key, 'sc') < 0.60 THEN 'GB' WHEN u(key, 'sc') < 0.72 THEN 'DE'
         WHEN u(key, 'sc') < 0.82 THEN 'FR' WHEN u(key, 'sc') < 0.90 THEN 'CA' ELSE 'AU' END AS SHIPPING_COUNTRY,
    least(day + INTERVAL (hash(key, 'sec') % 86400) SECOND + INTERVAL (hash(key, 'upd') % 72) HOUR,
          TIMESTAMP '2026-11-19 23:55:00') AS UPDATED_AT
  FROM keyed
)
SELECT * FROM orders
UNION ALL  -- planted: 10 duplicated order ids (whole rows repeated)
SELECT * FROM orders WHERE ORDER_ID % 100003 = 7 AND ORDER_ID < 1000000
ORDER BY ORDER_ID
"""


def daily_revenue() -> str:
    return """
CREATE VIEW SALES.DAILY_REVENUE AS
SELECT ORDER_DATE, count(*) AS ORDERS, sum(AMOUNT) AS REVENUE
FROM SALES.ORDERS GROUP BY ORDER_DATE
"""


def order_items() -> str:
    return """
CREATE TABLE SALES.ORDER_ITEMS AS
WITH lines AS (
  SELECT ORDER_ID, AMOUNT, l AS LINE_NUMBER, 1 + hash(ORDER_ID, 'lines') % 3 AS line_count
  FROM (SELECT DISTINCT ORDER_ID, AMOUNT FROM SALES.ORDERS), range(1, 4) r(l)
)
SELECT
  ORDER_ID,
  LINE_NUMBER::INTEGER AS LINE_NUMBER,
  CASE WHEN hash(ORDER_ID, LINE_NUMBER, 'orphan') % 28000 = 0 THEN 990000 + hash(ORDER_ID, 'p') % 100  -- planted
       ELSE 1 + hash(ORDER_ID, LINE_NUMBER, 'prod') % 2000 END::BIGINT AS PRODUCT_ID,
  (1 + hash(ORDER_ID, LINE_NUMBER, 'qty') % 4)::INTEGER AS QUANTITY,
  CAST(AMOUNT / line_count / (1 + hash(ORDER_ID, LINE_NUMBER, 'qty') % 4) AS DECIMAL(10, 2)) AS UNIT_PRICE,
  CAST(AMOUNT / line_count AS DECIMAL(12, 2)) AS LINE_AMOUNT
FROM lines WHERE LINE_NUMBER <= line_count
ORDER BY ORDER_ID, LINE_NUMBER
"""


def etl_runs() -> str:
    return """
CREATE TABLE OPS.ETL_RUNS AS
WITH pipelines(pipeline, target, every_hours, first_hour, minute, minutes, rows_base) AS (VALUES
  ('load_orders',          'ANALYTICS.SALES.ORDERS',       1, 0,  5,  4, 70),
  ('load_customers',       'ANALYTICS.SALES.CUSTOMERS',   24, 2,  0,  6, 120),
  ('load_products',        'ANALYTICS.SALES.PRODUCTS',    24, 2, 30,  3, 15),
  ('build_order_items',    'ANALYTICS.SALES.ORDER_ITEMS', 24, 3,  0, 12, 4000),
  ('refresh_revenue_mart', 'ANALYTICS.SALES.DAILY_REVENUE', 24, 4, 0, 8, 730),
  ('export_finance',       'FINANCE.EXPORTS.REVENUE',     24, 6,  0,  5, 1),
  ('sync_crm',             'CRM.ACCOUNTS',                 6, 0, 15,  9, 300),
  ('snapshot_inventory',   'ANALYTICS.OPS.INVENTORY_SNAPSHOT', 24, 1, 0, 7, 2000)
), slots AS (
  SELECT p.*, TIMESTAMP '2026-08-22 00:00:00' + INTERVAL (h) HOUR + INTERVAL (minute) MINUTE AS scheduled
  FROM pipelines p, range(0, 90 * 24 + 10) r(h)
  WHERE (h - first_hour) % every_hours = 0 AND h >= first_hour
), runs AS (
  SELECT *,
    scheduled = TIMESTAMP '2026-11-20 09:05:00' AS is_running,  -- planted: the one run still in progress
    scheduled
      + CASE WHEN pipeline = 'refresh_revenue_mart' AND scheduled::DATE IN (DATE '2026-11-17', DATE '2026-11-19')
             THEN INTERVAL 220 MINUTE  -- planted: late runs (07:40 instead of 04:00)
             ELSE INTERVAL (hash(pipeline, scheduled, 'delay') % 90) SECOND END AS started,
    minutes * 60 * (0.8 + 0.4 * u(pipeline || scheduled::VARCHAR, 'dur'))
      * CASE WHEN pipeline = 'build_order_items' AND scheduled >= TIMESTAMP '2026-11-18 00:00:00'
             THEN 5 + 5 * u(scheduled::VARCHAR, 'slow') ELSE 1 END AS duration_s,  -- planted: slow runs
    CASE WHEN pipeline = 'load_products' AND scheduled >= TIMESTAMP '2026-11-01 00:00:00' THEN 'missing_feed'
         WHEN u(pipeline || scheduled::VARCHAR, 'fail') < 0.01 THEN 'random'
         ELSE NULL END AS failure
  FROM slots
  WHERE scheduled <= TIMESTAMP '2026-11-20 09:05:00'
)
SELECT
  pipeline AS PIPELINE,
  pipeline || '-' || strftime(scheduled, '%Y%m%dT%H%M') AS RUN_ID,
  CASE WHEN is_running THEN 'running'
       WHEN failure IS NOT NULL THEN 'failed'
       WHEN u(pipeline || scheduled::VARCHAR, 'cancel') < 0.003 THEN 'cancelled'
       ELSE 'success' END AS STATUS,
  started AS STARTED_AT,
  CASE WHEN is_running THEN NULL
       ELSE started + INTERVAL (CAST(duration_s * CASE WHEN failure IS NULL THEN 1 ELSE 0.3 END AS BIGINT)) SECOND
  END AS ENDED_AT,
  CASE WHEN is_running THEN NULL
       WHEN failure IS NOT NULL THEN 0
       ELSE CAST(rows_base * (0.7 + 0.6 * u(pipeline || scheduled::VARCHAR, 'rows')) AS BIGINT) END AS ROWS_LOADED,
  CASE WHEN failure = 'missing_feed'
         THEN 'SQL compilation error: Object ''RAW.PRODUCTS_FEED'' does not exist or not authorized.'
       WHEN failure = 'random' THEN [
         'Statement reached its statement or warehouse timeout of 3,600 second(s) and was canceled.',
         'Duplicate row detected during DML action: ORDER_ID 1048577',
         'Insufficient privileges to operate on table ''RAW.CRM_ACCOUNTS''',
         'JDBC driver encountered communication error: connection reset by peer',
         'Numeric value ''N/A'' is not recognized'][1 + (hash(pipeline, scheduled, 'msg') % 5)::INT]
       ELSE NULL END AS ERROR_MESSAGE,
  target AS TARGET_TABLE,
  CASE WHEN u(pipeline || scheduled::VARCHAR, 'manual') < 0.01 THEN 'manual' ELSE 'schedule' END AS TRIGGERED_BY
FROM runs
ORDER BY STARTED_AT, PIPELINE
"""


def table_slas() -> str:
    return """
CREATE TABLE OPS.TABLE_SLAS AS SELECT * FROM (VALUES
  ('ANALYTICS.SALES.ORDERS', 2, 'sales-data@example.com'),
  ('ANALYTICS.SALES.ORDER_ITEMS', 26, 'sales-data@example.com'),
  ('ANALYTICS.SALES.CUSTOMERS', 26, 'crm-team@example.com'),
  ('ANALYTICS.SALES.PRODUCTS', 26, 'catalog-team@example.com'),
  ('ANALYTICS.SALES.DAILY_REVENUE', 28, 'finance-analytics@example.com')
) t(TABLE_NAME, MAX_AGE_HOURS, OWNER)
"""


def all_days() -> str:
    return """
CREATE TABLE SALES.ALL_DAYS AS
SELECT DATE '2018-01-01' + i::INT AS DATE_DAY FROM range(3653) t(i)  -- 2018-01-01 .. 2027-12-31
"""


# In build order: ORDER_ITEMS and the view read ORDERS.
TABLES: dict[str, Callable[[], str]] = {
    "SALES.CUSTOMERS": customers,
    "SALES.PRODUCTS": products,
    "SALES.ORDERS": orders,
    "SALES.DAILY_REVENUE": daily_revenue,
    "SALES.ORDER_ITEMS": order_items,
    "OPS.ETL_RUNS": etl_runs,
    "OPS.TABLE_SLAS": table_slas,
    "SALES.ALL_DAYS": all_days,
}
VIEWS = frozenset({"SALES.DAILY_REVENUE"})

COMMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "SALES.CUSTOMERS": ("One row per customer account (CRM extract).", {
        "CUSTOMER_ID": "Customer key (should be unique).", "NAME": "Customer display name.",
        "EMAIL": "Contact email; required.", "COUNTRY": "ISO 3166 country code of the account.",
        "SEGMENT": "consumer, smb or enterprise.", "SIGNUP_DATE": "Date the account was created.",
        "IS_ACTIVE": "Whether the account is active.", "LIFETIME_VALUE": "Revenue to date, USD."}),
    "SALES.PRODUCTS": ("Product catalog, loaded daily from the product feed by load_products.", {
        "PRODUCT_ID": "Product key.", "SKU": "Stock keeping unit.", "NAME": "Product name.",
        "CATEGORY": "Merchandising category.", "UNIT_PRICE": "List price, USD.",
        "IS_DISCONTINUED": "No longer sold.", "UPDATED_AT": "Last change in the source feed."}),
    "SALES.ORDERS": ("One row per customer order, all channels, since 2024-11-20.", {
        "ORDER_ID": "Order key (should be unique).", "CUSTOMER_ID": "The ordering customer (SALES.CUSTOMERS).",
        "ORDER_DATE": "Calendar date of the order (UTC).", "ORDERED_AT": "When the order was placed (UTC).",
        "STATUS": "pending, shipped, delivered, cancelled or returned.",
        "CHANNEL": "web, mobile, store or partner; required.", "CURRENCY": "ISO currency of the order.",
        "AMOUNT": "Order total in USD, after discount; expected between 0 and 1,000,000.",
        "DISCOUNT": "Discount granted, USD.", "SHIPPING_COUNTRY": "ISO country code shipped to.",
        "UPDATED_AT": "Last change of the order row."}),
    "SALES.ORDER_ITEMS": ("Order lines: one row per product in an order.", {
        "ORDER_ID": "The order (SALES.ORDERS).", "LINE_NUMBER": "Line within the order, from 1.",
        "PRODUCT_ID": "The product (SALES.PRODUCTS).", "QUANTITY": "Units ordered.",
        "UNIT_PRICE": "Price per unit, USD.", "LINE_AMOUNT": "Line total, USD."}),
    "OPS.ETL_RUNS": ("Audit log of pipeline runs, one row per run, last 90 days.", {
        "PIPELINE": "Pipeline name.", "RUN_ID": "Unique run id.",
        "STATUS": "success, failed, running or cancelled.", "STARTED_AT": "Run start (UTC).",
        "ENDED_AT": "Run end (UTC); NULL while running.", "ROWS_LOADED": "Rows written by the run; NULL while running.",
        "ERROR_MESSAGE": "Error text of a failed run.", "TARGET_TABLE": "Table the pipeline writes.",
        "TRIGGERED_BY": "schedule or manual."}),
    "SALES.DAILY_REVENUE": ("Orders and revenue (sum of AMOUNT) per ORDER_DATE, all statuses.", {
        "ORDER_DATE": "Calendar date.", "ORDERS": "Orders placed that day.", "REVENUE": "Sum of AMOUNT, USD."}),
    "SALES.ALL_DAYS": ("Every calendar day 2018-2027: the semantic layer's time spine.", {
        "DATE_DAY": "The day."}),
    "OPS.TABLE_SLAS": ("Freshness each table owes its users, for freshness checks.", {
        "TABLE_NAME": "Fully qualified table.", "MAX_AGE_HOURS": "Most hours allowed since the last successful load.",
        "OWNER": "Who to contact."}),
}


def comments(table: str) -> list[str]:
    """COMMENT ON statements for one table or view (constants only; no outside input reaches them)."""
    table_comment, columns = COMMENTS[table]
    kind = "VIEW" if table in VIEWS else "TABLE"
    return [f"COMMENT ON {kind} {table} IS {_literal(table_comment)}",
            *(f"COMMENT ON COLUMN {table}.{column} IS {_literal(text)}" for column, text in columns.items())]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
