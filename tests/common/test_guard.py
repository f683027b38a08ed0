"""The SQL guard, table-driven: what a model might send, in both dialects, and the verdict.

sqlglot quirks these cases pin down (30.x):
- `parse_one("SELECT 1; DROP TABLE x")` returns a Block; the guard uses `parse` and counts.
- CALL, EXECUTE IMMEDIATE, LOAD, RESET, VACUUM, GRANT ROLE, SHOW TASKS and EXPLAIN come back
  as `exp.Command` (untyped text): refused, except EXPLAIN, whose inner statement is parsed.
- DuckDB `FROM 'file.csv'` becomes a *quoted identifier*, like `FROM "My Table"`; only the
  source text (a single quote) tells them apart.
- A DELETE inside a CTE parses as a Select containing a Delete: the whole tree is walked.
"""

from __future__ import annotations

import pytest
import sqlglot

from common.errors import SqlRefused
from common.guard import check_sql, guard_sql, transpile

BOTH = ("snowflake", "duckdb")
SF = ("snowflake",)
DD = ("duckdb",)

# (sql, dialects, expected fragment of the refusal reason)
REFUSED: list[tuple[str, tuple[str, ...], str]] = [
    ("SELECT 1; DROP TABLE x", BOTH, "2 statements"),
    ("select 1;;delete from t", BOTH, "2 statements"),
    ("SELECT 1; SELECT 2", BOTH, "2 statements"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", BOTH, "DELETE inside"),
    ("INSERT INTO t VALUES (1)", BOTH, "INSERT"),
    ("INSERT INTO t SELECT * FROM s", BOTH, "INSERT"),
    ("UPDATE t SET a = 1", BOTH, "UPDATE"),
    ("DELETE FROM ANALYTICS.SALES.ORDERS", BOTH, "DELETE"),
    ("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE", BOTH, "MERGE"),
    ("CREATE TABLE t (a INT)", BOTH, "CREATE"),
    ("CREATE OR REPLACE TABLE t AS SELECT 1", BOTH, "CREATE"),
    ("CREATE VIEW v AS SELECT 1", BOTH, "CREATE"),
    ("DROP TABLE ANALYTICS.SALES.ORDERS", BOTH, "DROP"),
    ("ALTER TABLE t ADD COLUMN b INT", BOTH, "ALTER"),
    ("TRUNCATE t", BOTH, "TRUNCATE"),
    ("GRANT SELECT ON t TO ROLE r", SF, "GRANT"),
    ("GRANT ROLE accountadmin TO USER mallory", SF, "GRANT"),
    ("REVOKE SELECT ON t FROM ROLE r", SF, "REVOKE"),
    ("BEGIN", BOTH, "TRANSACTION"),
    ("COMMIT", BOTH, "COMMIT"),
    ("ROLLBACK", BOTH, "ROLLBACK"),
    ("COPY INTO t FROM @stage", SF, "COPY"),
    ("COPY INTO @stage FROM (SELECT * FROM t)", SF, "COPY"),
    ("COPY orders TO 'leak.csv'", DD, "COPY"),
    ("COPY (SELECT * FROM orders) TO 'leak.parquet' (FORMAT parquet)", DD, "COPY"),
    ("PUT file:///etc/passwd @~", SF, "PUT"),
    ("GET @~/x file:///tmp/", SF, "GET"),
    ("REMOVE @~/x", SF, "REMOVE"),
    ("LIST @~", SF, "LIST"),
    ("CALL proc()", BOTH, "CALL"),
    ("EXECUTE IMMEDIATE 'DROP TABLE t'", SF, "EXECUTE"),
    ("SELECT SYSTEM$WHITELIST()", SF, "SYSTEM$WHITELIST"),
    ("select system$pipe_status('p')", SF, "SYSTEM$PIPE_STATUS"),
    ("SELECT * FROM t WHERE SYSTEM$CANCEL_ALL_QUERIES(1) > 0", SF, "SYSTEM$CANCEL_ALL_QUERIES"),
    ("SELECT GET_PRESIGNED_URL(@stage, 'x.csv')", SF, "GET_PRESIGNED_URL"),
    ("SELECT * FROM @stage", SF, "stage reference"),
    ("SELECT $1 FROM @my_stage/data.csv", SF, "stage reference"),
    ("USE ROLE accountadmin", SF, "USE"),
    ("USE memory", DD, "USE"),
    ("ALTER SESSION SET QUERY_TAG = 'x'", SF, "ALTER"),
    ("ATTACH 'other.duckdb' AS o", DD, "ATTACH"),
    ("DETACH o", DD, "DETACH"),
    ("INSTALL httpfs", DD, "INSTALL"),
    ("LOAD httpfs", DD, "LOAD"),
    ("SET enable_external_access = true", BOTH, "SET"),
    ("RESET threads", DD, "RESET"),
    ("PRAGMA version", DD, "PRAGMA"),
    ("CHECKPOINT", DD, "CHECKPOINT"),
    ("VACUUM", DD, "VACUUM"),
    ("CREATE SECRET s (TYPE s3, KEY_ID 'x')", DD, "CREATE"),
    ("SELECT * FROM read_csv('/etc/passwd')", DD, "READ_CSV"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", DD, "READ_CSV_AUTO"),
    ("SELECT content FROM read_text('/etc/passwd')", DD, "READ_TEXT"),
    ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", DD, "READ_PARQUET"),
    ("SELECT * FROM read_json('https://evil.example/x.json')", DD, "READ_JSON"),
    ("SELECT * FROM glob('/home/*')", DD, "GLOB"),
    ("SELECT * FROM '/etc/passwd'", DD, "used as a table"),
    ("SELECT * FROM 'https://evil.example/y.parquet'", DD, "used as a table"),
    ("SELECT * FROM 'data.csv' AS d JOIN t ON true", DD, "used as a table"),
    ("SELECT getenv('HOME')", DD, "GETENV"),
    ("SELECT * FROM query('SELECT 1')", DD, "QUERY"),
    ("SELECT * FROM query_table('t')", DD, "QUERY_TABLE"),
    ("SELECT * FROM sqlite_scan('x.db', 't')", DD, "SQLITE_SCAN"),
    ("SELECT * INTO new_table FROM t", BOTH, "SELECT ... INTO"),
    ("EXPLAIN ANALYZE SELECT * FROM t", BOTH, "EXPLAIN ANALYZE"),
    ("EXPLAIN DELETE FROM t", BOTH, "DELETE"),
    ("EXPLAIN SELECT 1; DROP TABLE t", BOTH, "statements"),
    ("SELECT * FROM (SELECT * FROM read_text('/etc/passwd'))", DD, "READ_TEXT"),
    ("SELECT (SELECT count(*) FROM read_csv('x.csv')) AS n", DD, "READ_CSV"),
    ("", BOTH, "empty"),
    ("   \n\t ", BOTH, "empty"),
    ("-- only a comment", BOTH, "empty"),
    (";;", BOTH, "empty"),
    ("SELEC 1", BOTH, ""),
    ("SELECT * FROM", BOTH, "parse"),
    ("SHOW TASKS; DROP TABLE t", SF, "statements"),
]

# (sql, dialects, statement type)
ALLOWED: list[tuple[str, tuple[str, ...], str]] = [
    ("SELECT 1", BOTH, "SELECT"),
    ("SELECT 1;", BOTH, "SELECT"),
    ("select * from ANALYTICS.SALES.ORDERS where STATUS = 'shipped' limit 10", BOTH, "SELECT"),
    ("WITH x AS (SELECT * FROM t) SELECT count(*) FROM x", BOTH, "SELECT"),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", BOTH, "SELECT"),
    ("SELECT a, sum(b) OVER (PARTITION BY a ORDER BY c ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t", BOTH, "SELECT"),
    ("SELECT * FROM t QUALIFY row_number() OVER (PARTITION BY a ORDER BY b DESC) = 1", BOTH, "SELECT"),
    ("SELECT * FROM t PIVOT(sum(amount) FOR status IN ('a', 'b'))", SF, "SELECT"),
    ("SELECT * FROM t UNPIVOT(v FOR k IN (a, b))", SF, "SELECT"),
    ("PIVOT t ON status USING sum(amount)", DD, "SELECT"),
    ("SELECT f.value FROM t, LATERAL FLATTEN(input => t.v) f", SF, "SELECT"),
    ("SELECT v:customer.name::string AS name FROM t", SF, "SELECT"),
    ("SELECT * FROM TABLE(GENERATOR(ROWCOUNT => 10))", SF, "SELECT"),
    ("SELECT * FROM t AT(OFFSET => -60)", SF, "SELECT"),
    ("SELECT * FROM t SAMPLE (10)", SF, "SELECT"),
    ("SELECT IFF(a > 1, 'x', 'y') FROM t", SF, "SELECT"),
    ("SELECT a FROM t UNION ALL SELECT a FROM s", BOTH, "SELECT"),
    ("SELECT a FROM t INTERSECT SELECT a FROM s", BOTH, "SELECT"),
    ("SELECT * FROM t WHERE a IN (SELECT a FROM s WHERE s.b ILIKE '%x%')", BOTH, "SELECT"),
    ("SELECT date_trunc('week', d), count(*) FROM t GROUP BY 1 ORDER BY 1", BOTH, "SELECT"),
    ("FROM t SELECT a", DD, "SELECT"),
    ("SELECT * FROM range(10)", DD, "SELECT"),
    ("SELECT * FROM duckdb_tables()", DD, "SELECT"),
    ("(SELECT 1)", BOTH, "SELECT"),
    ("SHOW TABLES", BOTH, "SHOW"),
    ("SHOW SCHEMAS", SF, "SHOW"),
    ("SHOW GRANTS TO ROLE analyst", SF, "SHOW"),
    ("SHOW TASKS", SF, "SHOW"),
    ("DESCRIBE TABLE t", BOTH, "DESCRIBE"),
    ("DESC TABLE t", SF, "DESCRIBE"),
    ("DESCRIBE SELECT a FROM t", DD, "DESCRIBE"),
    ("SUMMARIZE t", DD, "SUMMARIZE"),
    ("EXPLAIN SELECT * FROM t", BOTH, "EXPLAIN"),
    ("EXPLAIN USING TEXT SELECT * FROM t", SF, "EXPLAIN"),
    ("SELECT 1 /* ; DROP TABLE x */", BOTH, "SELECT"),
    ("SELECT 1 -- ; drop table x", BOTH, "SELECT"),
    ("SELECT '; DROP TABLE x' AS s", BOTH, "SELECT"),
    ("SELECT 'DELETE FROM t' AS s, 'read_csv(''/etc/passwd'')' AS t", BOTH, "SELECT"),
    ('SELECT "DROP", "delete" FROM t', BOTH, "SELECT"),
    ('SELECT * FROM "My Table"', BOTH, "SELECT"),
    ("SELECT\u00a0 'é✓' AS unicode_text", BOTH, "SELECT"),
    ("SELECT current_setting('threads')", DD, "SELECT"),
]


@pytest.mark.parametrize(("sql", "dialect", "fragment"),
                         [(s, d, f) for s, ds, f in REFUSED for d in ds])
def test_refused(sql: str, dialect: str, fragment: str) -> None:
    verdict = check_sql(sql, dialect)
    assert not verdict.allowed, f"{dialect}: {sql!r} should be refused"
    assert verdict.reason.startswith("refused: ") and fragment in verdict.reason
    assert verdict.sql is None


@pytest.mark.parametrize(("sql", "dialect", "kind"), [(s, d, k) for s, ds, k in ALLOWED for d in ds])
def test_allowed(sql: str, dialect: str, kind: str) -> None:
    verdict = check_sql(sql, dialect)
    assert verdict.allowed, f"{dialect}: {sql!r} refused: {verdict.reason}"
    assert verdict.statement_type == kind and verdict.sql
    # what runs is the re-rendered statement; it must pass the guard again unchanged
    assert check_sql(verdict.sql, dialect).allowed


def test_there_are_enough_cases() -> None:
    assert sum(len(d) for _, d, _ in REFUSED) + sum(len(d) for _, d, _ in ALLOWED) >= 120


def test_tables_lists_real_tables_not_ctes() -> None:
    verdict = check_sql(
        "WITH recent AS (SELECT * FROM ANALYTICS.SALES.ORDERS) "
        "SELECT * FROM recent JOIN SALES.CUSTOMERS c USING (CUSTOMER_ID) JOIN recent r2 ON true", "snowflake")
    assert verdict.tables == ("ANALYTICS.SALES.ORDERS", "SALES.CUSTOMERS")


def test_rendered_sql_keeps_the_statement() -> None:
    verdict = check_sql("select a from t where b = 'x'", "duckdb")
    assert verdict.sql is not None
    reparsed = sqlglot.parse_one(verdict.sql, read="duckdb")
    assert reparsed.key == "select" and "'x'" in verdict.sql


def test_allowed_functions_pass_when_the_operator_says_so() -> None:
    sql = "SELECT * FROM read_parquet('data/*.parquet')"
    assert not check_sql(sql, "duckdb").allowed
    assert check_sql(sql, "duckdb", allow_functions=frozenset({"READ_PARQUET"})).allowed


def test_guard_sql_raises_with_the_reason() -> None:
    with pytest.raises(SqlRefused, match="DELETE") as raised:
        guard_sql("DELETE FROM t", "snowflake")
    assert "Hint:" in str(raised.value)


def test_transpile_between_dialects() -> None:
    assert "CASE WHEN" in transpile("SELECT IFF(a, 1, 2) FROM t", "snowflake", "duckdb")
    with pytest.raises(SqlRefused):
        transpile("DROP TABLE t", "snowflake", "duckdb")


def test_verdicts_are_cached() -> None:
    assert check_sql("SELECT 42", "duckdb") is check_sql("SELECT 42", "duckdb")


def test_oversized_and_deeply_nested_statements_are_refused_not_crashes() -> None:
    assert "limit is 100,000" in check_sql("SELECT " + " + ".join(["1"] * 40_000), "duckdb").reason
    nested = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    assert "nested too deeply" in check_sql(nested, "snowflake").reason
