"""What runs is what was meant: every benign DuckDB guard case, run as written and as rendered.

The guard runs its own rendering of a statement, never the text it was given. So
each allowed DuckDB statement of the guard tests (and the extra corpus below) runs
on a small lab database twice, and both runs must agree: the same rows, or both
failing (a statement that fails as written may run as rendered, e.g. with a cast sqlglot
adds: it had no answer to get wrong). Where sqlglot's reading changes the meaning (`~`, PIVOT ... ORDER BY,
SHOW in a subquery), the guard's dialect fixes it (common/guard/dialects.py).
"""

from __future__ import annotations

import decimal
import re
from typing import Any

import duckdb
import pytest

from snowmcp.common.guard import Guard
from tests.common.test_guard import ALLOWED

EXTRA = [
    "SELECT date_trunc('week', d) AS w, count(*) FROM t GROUP BY 1 ORDER BY 1",
    "SELECT a::INT, CAST(v AS TEXT) FROM t ORDER BY a",
    "SELECT IFNULL(a, 0), coalesce(b, 1) FROM t ORDER BY a",
    "SELECT 'abc' ~ 'b', 'abc' ~ '^b', 'abc' !~ 'z', regexp_matches(v, 'a'), regexp_full_match(v, 'a.*') FROM t",
    "SELECT v FROM t WHERE v ILIKE '%A%' ORDER BY v",
    "SELECT a FROM t ORDER BY 1 DESC NULLS LAST LIMIT 5",
    "SELECT a FROM t ORDER BY a NULLS FIRST",
    "SELECT strftime(d, '%Y-%m'), date_diff('day', d, DATE '2024-12-31'), epoch_ms(0) FROM t ORDER BY a",
    "SELECT j->>'k', j->'k', json_extract_string(j, '$.k') FROM t ORDER BY a",
    "SELECT count(*) FILTER (WHERE a > 1), sum(a) FILTER (WHERE b IS NULL) FROM t",
    "SELECT a FROM t WHERE b BETWEEN 1 AND 20 ORDER BY a",
    "SELECT CASE WHEN a > 2 THEN 'big' WHEN a IS NULL THEN 'none' ELSE 'small' END FROM t ORDER BY a",
    "SELECT list_filter([1, 2, 3], x -> x > 1), list_transform([1, 2], x -> x * 10)",
    "SELECT * FROM t ORDER BY a LIMIT 50 PERCENT",
    "SELECT * FROM t ORDER BY a LIMIT 2 OFFSET 1",
    "SELECT 1 IS DISTINCT FROM 2, NULL IS NOT DISTINCT FROM NULL",
    "SELECT mean(a), median(a), quantile_cont(a, 0.5), quantile_disc(a, 0.25) FROM t",
    "SELECT INTERVAL 1 MONTH + DATE '2024-01-31', DATE '2024-03-01' - INTERVAL '1' DAY",
    "SELECT 10 // 3, 10 % 3, 2 ** 3, 2 ^ 3, -7 // 2",
    "SELECT [1, 2, 3][1:2], [1, 2, 3][2], {'k': 1}.k",
    "SELECT approx_count_distinct(v), string_agg(v, ',' ORDER BY v) FROM t",
    "SELECT v, row_number() OVER (ORDER BY a DESC), lag(a) OVER (ORDER BY a) FROM t ORDER BY a",
    "SELECT status, sum(amount) FROM t GROUP BY ALL ORDER BY ALL",
    "SELECT * FROM t WHERE v SIMILAR TO 'a.*' ORDER BY a",
    "SELECT v LIKE 'a%', v NOT LIKE '%z', v GLOB 'a*' FROM t ORDER BY a",
    "SELECT starts_with(v, 'a'), contains(v, 'b'), v ^@ 'a', length(v), upper(v) FROM t ORDER BY a",
    "SELECT round(amount, 1), floor(amount), ceil(amount), abs(-amount), amount / 3 FROM t ORDER BY a",
    "SELECT greatest(a, b), least(a, b), nullif(a, 1) FROM t ORDER BY a",
    "SELECT a, b FROM t UNION SELECT a, 0 FROM s ORDER BY 1, 2",
    "SELECT a FROM t EXCEPT SELECT a FROM s ORDER BY 1",
    "SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY status ORDER BY a) = 1 ORDER BY a",
    "WITH x AS (SELECT a, amount FROM t) SELECT sum(amount) FROM x WHERE a > 1",
    "SELECT * FROM (SHOW TABLES) ORDER BY name",
    "SELECT * FROM (DESCRIBE t) ORDER BY column_name",
    "PIVOT t ON status USING sum(amount) GROUP BY region ORDER BY region",
    "PIVOT t ON status USING count(*) GROUP BY region ORDER BY region LIMIT 1",
    "UNPIVOT (SELECT a, b, c FROM t) ON b, c INTO NAME k VALUE val ORDER BY a, k",
    "SELECT typeof(1), typeof(1.5), typeof('x'), 1 / 2, 1.0 / 2",
    "SELECT date_part('year', d), extract(month FROM d), dayofweek(d), last_day(d) FROM t ORDER BY a",
    "SELECT d + 1, d - INTERVAL 1 WEEK, age(DATE '2024-12-31', d) FROM t ORDER BY a",
    "SELECT md5(v), hash(v), left(v, 1), right(v, 1), reverse(v), lpad(v, 5, '*') FROM t ORDER BY a",
    "SELECT count(DISTINCT status), count(*) FROM t",
]


@pytest.fixture(scope="module")
def lab() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE t (a INT, b INT, c INT, d DATE, v VARCHAR, status VARCHAR, amount DOUBLE, region VARCHAR,
                        j JSON, x JSON);
        INSERT INTO t VALUES
            (1, 10, 100, DATE '2024-01-05', 'abc', 'shipped', 10.5, 'north', '{"k": "one"}', '{"a": 1}'),
            (2, NULL, 200, DATE '2024-01-12', 'Bcd', 'open', 20.25, 'south', '{"k": "two"}', '{"a": 2}'),
            (3, 30, NULL, DATE '2024-02-01', 'azz', 'shipped', NULL, 'north', '{"k": null}', NULL),
            (NULL, 40, 400, NULL, NULL, NULL, 7, 'east', NULL, NULL),
            (5, 5, 500, DATE '2024-03-31', 'aaa', 'open', 1.0, 'south', '{}', '{}');
        CREATE TABLE s (a INT, b VARCHAR);
        INSERT INTO s VALUES (1, 'x'), (5, 'y'), (9, 'z');
        CREATE TABLE "My Table" (a INT);
        INSERT INTO "My Table" VALUES (1);
        CREATE TABLE r (n INT);
    """)
    con.execute("ATTACH ':memory:' AS ANALYTICS")
    con.execute("CREATE SCHEMA ANALYTICS.SALES")
    con.execute("CREATE TABLE ANALYTICS.SALES.ORDERS (STATUS VARCHAR, CUSTOMER_ID INT)")
    con.execute("INSERT INTO ANALYTICS.SALES.ORDERS VALUES ('shipped', 1), ('open', 2)")
    return con


_VOLATILE = re.compile(r"random\(|uuid|now\(|current_timestamp|get_current_timestamp|today\(", re.IGNORECASE)


def _cases() -> list[str]:
    """Every allowed DuckDB case that gives the same answer twice (no clocks, no randomness)."""
    corpus = [sql for sql, dialects, kind in ALLOWED if "duckdb" in dialects and kind != "EXPLAIN"]
    return [sql for sql in dict.fromkeys(corpus + EXTRA) if not _VOLATILE.search(sql)]


def _outcome(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[str, Any]:
    try:
        rows = con.execute(sql).fetchall()
    except duckdb.Error as exc:
        return "error", type(exc).__name__
    return "rows", sorted((tuple(_comparable(v) for v in row) for row in rows), key=repr)


def _comparable(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value


@pytest.mark.parametrize("sql", _cases())
def test_the_rendered_statement_means_what_was_written(sql: str, lab: duckdb.DuckDBPyConnection) -> None:
    verdict = Guard("duckdb").check(sql)
    assert verdict.allowed, verdict.reason
    written, rendered = _outcome(lab, sql), _outcome(lab, verdict.sql or "")
    if written[0] == "error":  # a statement that cannot run has no meaning to keep; it must not get one wrong
        return
    assert rendered == written, f"{sql!r} ran as {verdict.sql!r}"


def test_the_corpus_mostly_runs_rather_than_failing_both_ways(lab: duckdb.DuckDBPyConnection) -> None:
    outcomes = [_outcome(lab, sql)[0] for sql in _cases()]
    assert outcomes.count("rows") >= 0.85 * len(outcomes)
