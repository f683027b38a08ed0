"""The SQL guard, table-driven: what a model might send, in both dialects, and the verdict.

The guard is an allow-list (common/guard): these cases are examples of classes, not the
list of what it refuses. Each class of the outside review has cases here in both
dialects: quoted names, pipe chains, engine-state functions, replacement scans, JSON
dynamic SQL, UDFs and qualified calls, sequences, stages; and so do the benign
statements an analyst writes (SHOW, PIVOT ... ORDER BY, subqueries over SHOW).

sqlglot quirks these cases pin down (30.x):
- `parse_one("SELECT 1; DROP TABLE x")` returns a Block; the guard counts statements itself.
- CALL, EXECUTE IMMEDIATE, LOAD, RESET, VACUUM, GRANT ROLE, SHOW TASKS and EXPLAIN come back
  as `exp.Command` (untyped text): refused, except SHOW/DESCRIBE/EXPLAIN, which the guard
  parses into their parts.
- DuckDB `FROM 'file.csv'` becomes a *quoted identifier*, like `FROM "My Table"`; only the
  source text (a single quote) tells them apart.
- A DELETE inside a CTE parses as a Select containing a Delete: the whole tree is walked.
"""

from __future__ import annotations

import pytest
import sqlglot

from snowmcp.common.errors import SqlRefused
from snowmcp.common.guard import Guard

BOTH = ("snowflake", "duckdb")
SF = ("snowflake",)
DD = ("duckdb",)
GUARDS = {"snowflake": Guard("snowflake"), "duckdb": Guard("duckdb")}


def check(sql: str, dialect: str, **options: object):  # type: ignore[no-untyped-def]
    guard = Guard(dialect, **options) if options else GUARDS[dialect]  # type: ignore[arg-type]
    return guard.check(sql)


# (sql, dialects, expected fragment of the refusal reason)
REFUSED: list[tuple[str, tuple[str, ...], str]] = [
    ("SELECT 1; DROP TABLE x", BOTH, "2 statements"),
    ("select 1;;delete from t", BOTH, "2 statements"),
    ("SELECT 1; SELECT 2", BOTH, "2 statements"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", DD, "DELETE"),
    # sqlglot 30.31 no longer reads a DML CTE in Snowflake's dialect (Snowflake has none): refused unparsed
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", SF, "cannot parse"),
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
    ("BEGIN", BOTH, "BEGIN"),
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
    ("SELECT $1 FROM @my_stage/data.csv", SF, ""),
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
    # pipe chains: Snowflake's ->> runs the next statement
    ("SHOW TASKS ->> DELETE FROM ANALYTICS.SALES.ORDERS", SF, "->>"),
    ("SELECT 1 ->> DELETE FROM ANALYTICS.SALES.ORDERS", SF, "->>"),
    ("SELECT * FROM t ->> SELECT * FROM s", SF, "->>"),
    ("SHOW TABLES ->> DROP TABLE t", SF, "->>"),
    ("DESCRIBE TABLE t ->> GRANT ROLE r TO USER u", SF, "->>"),
    ("SHOW TABLES LIKE 'x' DROP TABLE t", SF, "unexpected"),
    ("SHOW TABLES IN SCHEMA s ; DROP TABLE t", SF, "statements"),
    ("SHOW PARAMETERS", SF, "not an allowed SHOW"),
    ("SHOW TABLES LIKE x", SF, "quoted string"),
    ("DESCRIBE RESULT '01a2'", SF, "not an allowed DESCRIBE"),
    ("EXECUTE TASK t", SF, "EXECUTE"),
    ("DROP DATABASE d", BOTH, "DROP"),
    ("ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 1", SF, "ALTER"),
    ("COPY INTO 's3://bucket/x' FROM t", SF, "COPY"),
    ("COPY INTO @~/leak FROM (SELECT 1)", SF, "COPY"),
    ("UNDROP TABLE t", SF, "UNDROP"),
    # quoted, cased and qualified function names are normalised before the lists
    ('SELECT "SYSTEM$WAIT"(10)', SF, "SYSTEM$WAIT"),
    ("SELECT system$wait(10)", SF, "SYSTEM$WAIT"),
    ('SELECT "system$wait"(10)', SF, "system$wait"),
    ("SELECT * FROM t WHERE SYSTEM$CANCEL_QUERY('x') IS NULL", SF, "SYSTEM$CANCEL_QUERY"),
    ("SELECT SNOWFLAKE.CORTEX.COMPLETE('m', 'say hi')", SF, "CORTEX"),
    ("SELECT ANALYTICS.UDF.SCORE(a) FROM t", SF, "user-defined"),
    ("SELECT my_udf(a) FROM t", BOTH, "MY_UDF"),
    ("SELECT my_schema.lower(a) FROM t", BOTH, "user-defined"),
    ("SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))", SF, "RESULT_SCAN"),
    ("SELECT LAST_QUERY_ID()", SF, "LAST_QUERY_ID"),
    ("SELECT * FROM DIRECTORY(@stage)", SF, "stage"),
    ("SELECT seq1.nextval", SF, "sequence"),
    ("SELECT s.NEXTVAL FROM t", SF, "sequence"),
    ("SELECT * FROM IDENTIFIER('ANALYTICS.SALES.ORDERS')", SF, ""),
    ("SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY())", SF, "TASK_HISTORY"),
    ("SELECT $session_var", SF, ""),
    ("SELECT * FROM TABLE(my_table_udf(1))", SF, "MY_TABLE_UDF"),
    ('SELECT "query"(\'SELECT 1\')', DD, "query"),
    ('SELECT * FROM "query"(\'SELECT 1\')', DD, "query"),
    ('SELECT * FROM "read_text"(\'/etc/passwd\')', DD, "read_text"),
    ('SELECT * FROM "READ_CSV"(\'/etc/passwd\')', DD, "READ_CSV"),
    ('SELECT * FROM main."read_text"(\'/etc/passwd\')', DD, ""),
    ("SELECT json_execute_serialized_sql(json_serialize_sql('SELECT 1'))", DD, "json_"),
    ("SELECT * FROM json_execute_serialized_sql(json_serialize_sql('DELETE FROM t'))", DD, "json_"),
    ("SELECT * FROM read_duckdb('/tmp/other.duckdb')", DD, "read_duckdb"),
    ("SELECT * FROM parquet_full_metadata('/x.parquet')", DD, "parquet_full_metadata"),
    ('SELECT * FROM "/etc/hosts.csv"', DD, "path"),
    ("SELECT * FROM 'orders'", DD, "used as a table"),
    ('SELECT * FROM "s3://bucket/x.parquet"', DD, "path"),
    ('SELECT * FROM t JOIN "data.csv" d ON true', DD, "path"),
    ("SUMMARIZE '/etc/hosts.csv'", DD, ""),
    ("DESCRIBE '/etc/hosts.csv'", DD, ""),
    ("SELECT * FROM enable_logging()", DD, "enable_logging"),
    ("SELECT * FROM enable_logging(storage := 'file', storage_path := '/tmp/x')", DD, "enable_logging"),
    ("SELECT * FROM duckdb_logs()", DD, "duckdb_logs"),
    ("SELECT * FROM duckdb_settings()", DD, "duckdb_settings"),
    ("SELECT current_setting('memory_limit')", DD, "current_setting"),
    ("SELECT * FROM checkpoint()", DD, "checkpoint"),
    ("SELECT * FROM force_checkpoint()", DD, "checkpoint"),
    ("SELECT * FROM enable_profiling('json')", DD, "enable_profiling"),
    ("SELECT * FROM duckdb_secrets()", DD, "duckdb_secrets"),
    ("SELECT * FROM duckdb_databases()", DD, "duckdb_databases"),
    ("SELECT getvariable('x')", DD, "getvariable"),
    ("SELECT nextval('seq')", DD, "nextval"),
    ("SELECT setseed(0.5)", DD, "setseed"),
    ("SELECT write_log('x')", DD, "write_log"),
    ("SELECT $1", BOTH, ""),
    ("SELECT ?", DD, ""),
    ("SELECT * FROM t FOR UPDATE", BOTH, ""),
    ("SELECT a FROM t; SELECT 2;", BOTH, "2 statements"),
    ("SELECT 1 UNION SELECT * FROM read_csv('/etc/passwd')", DD, "read_csv"),
    ("SELECT (SELECT current_setting('threads'))", DD, "current_setting"),
    ("WITH x AS (SELECT * FROM glob('/*')) SELECT * FROM x", DD, "glob"),
    ("SELECT list_transform([1], x -> getvariable('a'))", DD, "getvariable"),
    ("EXPLAIN SELECT * FROM read_text('/etc/passwd')", DD, "read_text"),
    ("EXPLAIN SELECT SYSTEM$WAIT(1)", SF, "SYSTEM$WAIT"),
    ("EXPLAIN SHOW TABLES", BOTH, ""),
    ("SELECT 'unterminated", BOTH, ""),
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
    ("SELECT * FROM duckdb_columns() WHERE table_name = 'orders'", DD, "SELECT"),
    ("SELECT * FROM duckdb_tables()", DD, "SELECT"),
    ("(SELECT 1)", BOTH, "SELECT"),
    ("SHOW TABLES", BOTH, "SHOW"),
    ("SHOW DATABASES", BOTH, "SHOW"),
    ("SHOW SCHEMAS", BOTH, "SHOW"),
    ("SHOW ALL TABLES", DD, "SHOW"),
    ("show tables", BOTH, "SHOW"),
    ("SHOW TABLES;", BOTH, "SHOW"),
    ("SHOW TERSE TABLES LIKE 'ORD%' IN SCHEMA ANALYTICS.SALES STARTS WITH 'O' LIMIT 10", SF, "SHOW"),
    ("SHOW TABLES HISTORY IN ANALYTICS.SALES", SF, "SHOW"),
    ("SHOW TABLES IN ACCOUNT", SF, "SHOW"),
    ("SHOW COLUMNS IN TABLE ANALYTICS.SALES.ORDERS", SF, "SHOW"),
    ("SHOW MATERIALIZED VIEWS IN DATABASE ANALYTICS", SF, "SHOW"),
    ("SHOW SEMANTIC VIEWS", SF, "SHOW"),
    ("SHOW GRANTS ON TABLE ANALYTICS.SALES.ORDERS", SF, "SHOW"),
    ("SHOW GRANTS OF ROLE analyst", SF, "SHOW"),
    ("SHOW FUTURE GRANTS IN SCHEMA ANALYTICS.SALES", SF, "SHOW"),
    ("SHOW TABLES LIKE 'it''s'", SF, "SHOW"),
    ('SHOW TABLES IN SCHEMA "My Db"."My Schema"', SF, "SHOW"),
    ("SHOW TABLES LIMIT 5 FROM 'ORDERS'", SF, "SHOW"),
    ("DESCRIBE VIEW ANALYTICS.SALES.V", SF, "DESCRIBE"),
    ("DESC SEMANTIC VIEW ANALYTICS.SALES.REVENUE", SF, "DESCRIBE"),
    ("DESCRIBE TABLE t TYPE = COLUMNS", SF, "DESCRIBE"),
    ("SHOW TABLES FROM main", DD, "SHOW"),
    ("SELECT * FROM (SHOW TABLES)", DD, "SELECT"),
    ("SELECT column_name FROM (DESCRIBE t) WHERE column_type = 'INTEGER'", DD, "SELECT"),
    ("SELECT * FROM (SUMMARIZE t)", DD, "SELECT"),
    ("PIVOT t ON status USING sum(amount) GROUP BY region ORDER BY region", DD, "SELECT"),
    ("PIVOT t ON status USING sum(amount) GROUP BY region ORDER BY region LIMIT 3", DD, "SELECT"),
    ("UNPIVOT t ON a, b INTO NAME k VALUE v", DD, "SELECT"),
    ("SELECT 'abc' ~ 'b', 'abc' !~ 'x'", DD, "SELECT"),
    ("SELECT j->>'a', j->'b' FROM t", DD, "SELECT"),
    ("SELECT upper(a), \"lower\"(b), main.length(c) FROM t", DD, "SELECT"),
    ("SELECT UPPER(a), \"UPPER\"(b) FROM t", SF, "SELECT"),
    ("SELECT * FROM t LIMIT 50 PERCENT", DD, "SELECT"),
    ("SELECT * FROM t ORDER BY a LIMIT 5 OFFSET 10", BOTH, "SELECT"),
    ("SELECT * FROM t ORDER BY a FETCH FIRST 5 ROWS ONLY", BOTH, "SELECT"),
    ("SELECT * FROM unnest([1, 2, 3])", DD, "SELECT"),
    ("SELECT * FROM generate_series(1, 10)", DD, "SELECT"),
    ("SELECT * FROM TABLE(FLATTEN(input => PARSE_JSON('[1, 2]')))", SF, "SELECT"),
    ("SELECT * FROM TABLE(SPLIT_TO_TABLE('a,b', ','))", SF, "SELECT"),
    ("SELECT list_transform([1, 2], x -> x * 2), list_filter([1, 2], x -> x > 1)", DD, "SELECT"),
    ("SELECT approx_count_distinct(a), quantile_cont(b, 0.9), median(c) FROM t", DD, "SELECT"),
    ("SELECT APPROX_PERCENTILE(b, 0.9), MEDIAN(c), LISTAGG(d, ',') FROM t", SF, "SELECT"),
    ("SELECT DATEADD(day, -7, CURRENT_DATE()), DATE_TRUNC('month', d) FROM t", SF, "SELECT"),
    ("SELECT TO_CHAR(d, 'YYYY-MM'), TRY_TO_NUMBER(s), ZEROIFNULL(n), DIV0(a, b) FROM t", SF, "SELECT"),
    ("SELECT OBJECT_CONSTRUCT('a', 1), ARRAY_SIZE(v), GET_PATH(v, 'a.b') FROM t", SF, "SELECT"),
    ("SELECT strftime(d, '%Y'), date_diff('day', a, b), epoch_ms(1) FROM t", DD, "SELECT"),
    ("SELECT count(*) FILTER (WHERE a > 1) FROM t", DD, "SELECT"),
    ("SELECT * EXCLUDE (a) FROM t", DD, "SELECT"),
    ("SELECT COLUMNS('a.*') FROM t", DD, "SELECT"),
    ("SELECT CURRENT_ROLE(), CURRENT_WAREHOUSE(), CURRENT_DATABASE()", SF, "SELECT"),
    ("SELECT current_database(), current_schema(), version()", DD, "SELECT"),
    ("EXPLAIN WITH x AS (SELECT 1) SELECT * FROM x", BOTH, "EXPLAIN"),
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
]


# A second corpus, written after the guard (functions hidden in every clause, nested statements,
# binds, stages, procedures): all refused.
REFUSED += [
    ("SELECT * FROM TABLE(SYSTEM$STREAM_GET_TABLE_TIMESTAMP('s'))", SF, ""),
    ('SELECT PARSE_JSON(SYSTEM$GET_SNOWFLAKE_PLATFORM_INFO())', SF, ""),
    ('SELECT * FROM t WHERE a IN (SELECT "SYSTEM$WAIT"(1))', SF, ""),
    ('SELECT * FROM IDENTIFIER($var)', SF, ""),
    ("SELECT GET_DDL('table', 't')", SF, ""),
    ('SELECT * FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY())', SF, ""),
    ('SELECT SNOWFLAKE.CORTEX.SENTIMENT(a) FROM t', SF, ""),
    ("SELECT AI_COMPLETE('m', 'x')", SF, ""),
    ("SELECT * FROM TABLE(RESULT_SCAN('01ab'))", SF, ""),
    ("SELECT TO_FILE('@s/x')", SF, ""),
    ("SELECT BUILD_SCOPED_FILE_URL(@s, 'x')", SF, ""),
    ('WITH p AS PROCEDURE () RETURNS INT LANGUAGE SQL AS $$ BEGIN RETURN 1; END $$ CALL p()', SF, ""),
    ('BEGIN DELETE FROM t; END', SF, ""),
    ('SELECT * FROM t; ->> SELECT 1', SF, ""),
    ("SHOW TABLES IN SCHEMA s LIMIT 10 FROM 'a' ->> x", SF, ""),
    ('SELECT * FROM @~/x.csv', SF, ""),
    ("SELECT $1, $2 FROM @s (FILE_FORMAT => 'f')", SF, ""),
    ('SELECT METADATA$FILENAME FROM @s', SF, ""),
    ('SELECT * FROM t AT(STATEMENT => LAST_QUERY_ID())', SF, ""),
    ('SELECT SEQ.NEXTVAL FROM t', SF, ""),
    ('SELECT * FROM TABLE(t_udtf(1))', SF, ""),
    ('SELECT * FROM t, TABLE(my_db.my_schema.udtf(t.a))', SF, ""),
    ('SELECT EXTERNAL_FN(a) FROM t', SF, ""),
    ('SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY a ORDER BY b MEASURES SYSTEM$WAIT(1) AS m PATTERN (x) DEFINE x AS true)', SF, ""),
    ('SELECT ARRAY_AGG(x) WITHIN GROUP (ORDER BY SYSTEM$WAIT(1)) FROM t', SF, ""),
    ("SELECT OBJECT_CONSTRUCT('a', SYSTEM$WAIT(1))", SF, ""),
    ('SELECT * FROM t SAMPLE (10) SEED (SYSTEM$WAIT(1))', SF, ""),
    ('SELECT COUNT(*) FROM t QUALIFY SYSTEM$WAIT(1) > 0', SF, ""),
    ('SELECT * FROM t WHERE a = :bind', SF, ""),
    ('SELECT * FROM t WHERE a = ?', SF, ""),
    ('SELECT SYSTEM$TYPEOF(1)', SF, ""),
    ('SELECT "SYSTEM$WAIT"(1)', SF, ""),
    ('SELECT IFF(SYSTEM$WAIT(1) IS NULL, 1, 2)', SF, ""),
    ('SELECT * FROM t, LATERAL (SELECT SYSTEM$WAIT(1))', SF, ""),
    ('SELECT * FROM t START WITH a = 1 CONNECT BY PRIOR a = SYSTEM$WAIT(1)', SF, ""),
    ('SELECT * FROM t ORDER BY SYSTEM$WAIT(1)', SF, ""),
    ('SELECT 1 UNION SELECT SYSTEM$WAIT(1)', SF, ""),
    ('DESCRIBE TABLE t; DROP TABLE t', SF, ""),
    ('DESC FUNCTION f(NUMBER)', SF, ""),
    ('SHOW GRANTS TO ROLE accountadmin ->> DELETE FROM t', SF, ""),
    ('SELECT * FROM TABLE(GENERATOR(ROWCOUNT => SYSTEM$WAIT(1)))', SF, ""),
    ('SELECT * FROM TABLE(FLATTEN(INPUT => PARSE_JSON(SYSTEM$WAIT(1))))', SF, ""),
    ('EXPLAIN USING JSON SELECT SYSTEM$WAIT(1)', SF, ""),
    ('EXPLAIN SELECT 1; DROP TABLE t', SF, ""),
    ('SELECT * FROM t WHERE x IN (FROM "query"(\'SELECT 1\'))', DD, ""),
    ("SELECT list_reduce([1, 2], (a, b) -> getenv('x'))", DD, ""),
    ("SELECT main.getvariable('x')", DD, ""),
    ("SELECT system.main.current_setting('x')", DD, ""),
    ('SELECT * FROM system.main.duckdb_settings()', DD, ""),
    ('SELECT * FROM "query_table"(\'t\')', DD, ""),
    ("PIVOT (SELECT * FROM read_text('/etc/passwd')) ON filename USING count(*)", DD, ""),
    ("SUMMARIZE SELECT * FROM read_text('/x')", DD, ""),
    ("SUMMARIZE read_text('/x')", DD, ""),
    ("DESCRIBE SELECT getenv('x')", DD, ""),
    ("SELECT * FROM (DESCRIBE SELECT getenv('x'))", DD, ""),
    ("SELECT * FROM (SUMMARIZE read_csv('/x'))", DD, ""),
    ('CALL pragma_version()', DD, ""),
    ('SELECT * FROM pragma_version()', DD, ""),
    ("SELECT * FROM pragma_table_info('t')", DD, ""),
    ('EXPLAIN (FORMAT json) SELECT 1', DD, ""),
    ('SELECT 1 --\n; DROP TABLE t', DD, ""),
    ('SELECT * FROM "~/.ssh/id_rsa"', DD, ""),
    ('SELECT * FROM "t.csv"', DD, ""),
    ('SELECT * FROM (SHOW DATABASES)', DD, ""),
    ("SELECT * FROM (FROM 'x.csv')", DD, ""),
    ("FROM 'x.csv'", DD, ""),
    ("FROM read_csv('x')", DD, ""),
    ("SELECT * FROM t UNION BY NAME FROM read_csv('x')", DD, ""),
    ("WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT getenv('x') FROM r) SELECT * FROM r", DD, ""),
    ("SELECT COLUMNS(c -> getvariable('x'))  FROM t", DD, ""),
    ('SELECT * FROM t WHERE a = $1', DD, ""),
    ('SELECT $x', DD, ""),
    ("SELECT * FROM t LIMIT getvariable('n')", DD, ""),
    ("SELECT * FROM t ORDER BY current_setting('x')", DD, ""),
    ("SELECT [x FOR x IN range(3) IF getenv('a') IS NULL]", DD, ""),
    ("SELECT struct_pack(a := getenv('x'))", DD, ""),
    ("SELECT {'a': current_setting('x')}", DD, ""),
    ("SELECT * FROM unnest(getvariable('x'))", DD, ""),
    ("SELECT * FROM range(3) t(x) JOIN LATERAL (SELECT current_setting('x')) ON true", DD, ""),
    ("SELECT 'x' SIMILAR TO getenv('x')", DD, ""),
    ("SELECT try(getenv('x'))", DD, ""),
    ("SELECT * FROM json_each(read_text('x'))", DD, ""),
    ('SELECT * FROM generate_series(1, 3) WHERE "current_setting"(\'a\') IS NULL', DD, ""),
    ('SELECT "CURRENT_SETTING"(\'a\')', DD, ""),
    ("SELECT CURRENT_SETTING('a')", DD, ""),
    ("SELECT pg_catalog.current_setting('a')", DD, ""),
    ("SELECT * FROM t QUALIFY getenv('x') IS NULL", DD, ""),
    ("SELECT * FROM t WINDOW w AS (ORDER BY getenv('x'))", DD, ""),
    ("SELECT count(*) FILTER (WHERE getenv('x') IS NULL) FROM t", DD, ""),
    ("SELECT * FROM t AS OF TIMESTAMP getenv('x')", DD, ""),
    ("UNPIVOT read_csv('x') ON COLUMNS(*) INTO NAME k VALUE v", DD, ""),
    ("SELECT * FROM t POSITIONAL JOIN read_csv('x')", DD, ""),
    ("SELECT * FROM t ASOF JOIN read_csv('x') r ON t.a >= r.a", DD, ""),
    ("SELECT * FROM t ANTI JOIN (FROM read_text('x')) USING (a)", DD, ""),
    ("SELECT * EXCLUDE (a) REPLACE (getenv('x') AS b) FROM t", DD, ""),
    ("SELECT * FROM t WHERE a IN (VALUES (getenv('x')))", DD, ""),
    ('INSERT OR REPLACE INTO t VALUES (1)', DD, ""),
    ("SELECT * FROM t LIMIT 1; ATTACH 'x'", DD, ""),
    ("SELECT * FROM 'a' || 'b'", DD, ""),
    ("SELECT * FROM t, (SELECT * FROM sqlite_scan('x', 't'))", DD, ""),
    ('SELECT * FROM duckdb_temporary_files()', DD, ""),
    ('SELECT * FROM duckdb_memory()', DD, ""),
    ('SELECT * FROM duckdb_extensions()', DD, ""),
    ('SELECT * FROM test_all_types()', DD, ""),
]

ALLOWED += [
    ('SELECT * FROM "@stage"', SF, "SELECT"),  # a quoted name is a table, not a stage
    ("SELECT * FROM t WHERE a = $$ ->> $$", SF, "SELECT"),  # ->> inside a string is text
    ('SELECT 1 AS "; DROP TABLE t; --"', BOTH, "SELECT"),
    ("SELECT * FROM t USING SAMPLE 10% (bernoulli, 42)", DD, "SELECT"),
]


# What analysts write, by the hundred functions: each dialect's everyday built-ins pass.
ALLOWED += [
    ("SELECT DATE_TRUNC('MONTH', ORDER_DATE) AS m, SUM(AMOUNT) FROM ORDERS GROUP BY 1 ORDER BY 1", SF, "SELECT"),
    ("SELECT TO_DATE(s, 'YYYY-MM-DD'), TO_TIMESTAMP_NTZ(t), CONVERT_TIMEZONE('UTC', 'Europe/Berlin', ts) FROM t", SF, "SELECT"),
    ("SELECT DATEDIFF('day', a, b), DATEADD(month, 1, a), LAST_DAY(a), DAYNAME(a), MONTHNAME(a), YEAR(a), QUARTER(a) FROM t", SF, "SELECT"),
    ("SELECT TRY_CAST(x AS NUMBER), x::VARCHAR, CAST(y AS DATE), TO_NUMBER('12.3', 10, 2) FROM t", SF, "SELECT"),
    ("SELECT SPLIT_PART(email, '@', 2), REGEXP_SUBSTR(s, '[0-9]+'), REGEXP_REPLACE(s, 'a', 'b'), INITCAP(name), LPAD(id, 5, '0') FROM t", SF, "SELECT"),
    ("SELECT v:a.b::string, v['c'], GET(v, 'd'), ARRAY_SIZE(v:items), OBJECT_KEYS(v) FROM t", SF, "SELECT"),
    ('SELECT f.value:id FROM t, LATERAL FLATTEN(input => t.v:items) f', SF, "SELECT"),
    ('SELECT APPROX_COUNT_DISTINCT(a), HLL(a), APPROX_TOP_K(a, 5), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY b) FROM t', SF, "SELECT"),
    ('SELECT a, RATIO_TO_REPORT(b) OVER (PARTITION BY c), NTILE(4) OVER (ORDER BY b), CUME_DIST() OVER (ORDER BY b) FROM t', SF, "SELECT"),
    ("SELECT LISTAGG(DISTINCT a, ', ') WITHIN GROUP (ORDER BY a) FROM t", SF, "SELECT"),
    ('SELECT ARRAY_AGG(a) WITHIN GROUP (ORDER BY b) FROM t', SF, "SELECT"),
    ('SELECT HASH(a), MD5(a), SHA2(a, 256), UUID_STRING() FROM t', SF, "SELECT"),
    ("SELECT IFF(a > 0, 'pos', 'neg'), DECODE(a, 1, 'one', 'other'), NVL2(a, 1, 0), ZEROIFNULL(a), NULLIFZERO(b) FROM t", SF, "SELECT"),
    ('SELECT CURRENT_TIMESTAMP(), SYSDATE(), GETDATE(), CURRENT_DATE, LOCALTIMESTAMP()', SF, "SELECT"),
    ('SELECT ROUND(a, 2), TRUNC(a), CEIL(a), FLOOR(a), MOD(a, 3), SQUARE(a), POWER(a, 2), LN(a), LOG(10, a) FROM t', SF, "SELECT"),
    ('SELECT COUNT_IF(a > 1), BOOLAND_AGG(b), MAX_BY(a, b), MIN_BY(a, b), MODE(a), MEDIAN(a), KURTOSIS(a), SKEW(a) FROM t', SF, "SELECT"),
    ("SELECT * FROM t WHERE a ILIKE ANY ('%x%', '%y%')", SF, "SELECT"),
    ("SELECT * FROM t WHERE CONTAINS(a, 'x') AND STARTSWITH(a, 'y') AND ENDSWITH(a, 'z')", SF, "SELECT"),
    ("SELECT TIME_SLICE(ts, 15, 'MINUTE'), DATE_PART(HOUR, ts), EXTRACT(EPOCH_SECOND FROM ts) FROM t", SF, "SELECT"),
    ('SELECT OBJECT_CONSTRUCT(*) FROM t', SF, "SELECT"),
    ("SELECT ARRAY_CONSTRUCT(1, 2), ARRAY_CONTAINS(1::VARIANT, ARRAY_CONSTRUCT(1)), ARRAY_TO_STRING(ARRAY_CONSTRUCT('a'), ',')", SF, "SELECT"),
    ('SELECT TRY_PARSE_JSON(s), PARSE_JSON(s):a, TYPEOF(v), IS_NULL_VALUE(v:a) FROM t', SF, "SELECT"),
    ('SELECT * FROM t SAMPLE BERNOULLI (10 ROWS)', SF, "SELECT"),
    ('SELECT a FROM t MINUS SELECT a FROM s', SF, "SELECT"),
    ('SELECT * FROM t AT(TIMESTAMP => DATEADD(hour, -1, CURRENT_TIMESTAMP()))', SF, "SELECT"),
    ('SELECT EDITDISTANCE(a, b), JAROWINKLER_SIMILARITY(a, b), SOUNDEX(a) FROM t', SF, "SELECT"),
    ('SELECT ST_DISTANCE(ST_MAKEPOINT(0, 0), ST_MAKEPOINT(1, 1)), HAVERSINE(0, 0, 1, 1)', SF, "SELECT"),
    ('SELECT DIV0(a, b), GREATEST(a, b), LEAST(a, b), WIDTH_BUCKET(a, 0, 100, 10) FROM t', SF, "SELECT"),
    ('SELECT CONDITIONAL_TRUE_EVENT(a > 1) OVER (ORDER BY b) FROM t', SF, "SELECT"),
    ("SELECT STRTOK_TO_ARRAY('a b'), SPLIT('a,b', ','), REVERSE('abc'), TRANSLATE('abc', 'a', 'b'), REPEAT('a', 3)", SF, "SELECT"),
    ('SELECT BITAND(1, 3), BITOR(1, 2), BITXOR(1, 3), GETBIT(5, 0)', SF, "SELECT"),
    ("SELECT CHARINDEX('a', 'bab'), POSITION('a' IN 'bab'), LEN('abc'), LENGTH('abc'), TRIM(' a ')", SF, "SELECT"),
    ("SELECT TO_CHAR(CURRENT_DATE, 'YYYY-MM-DD'), TO_VARCHAR(1.5, '99.9'), TIMESTAMPDIFF(minute, a, b) FROM t", SF, "SELECT"),
    ('SELECT YEAROFWEEK(d), WEEKOFYEAR(d), DAYOFWEEKISO(d), ADD_MONTHS(d, 1), MONTHS_BETWEEN(d, e) FROM t', SF, "SELECT"),
    ('SELECT GROUPING(a), SUM(b) FROM t GROUP BY ROLLUP (a)', SF, "SELECT"),
    ('SELECT * FROM TABLE(GENERATOR(ROWCOUNT => 5)) g, LATERAL (SELECT SEQ4() AS n)', SF, "SELECT"),
    ('SELECT UNIFORM(1, 10, RANDOM()), NORMAL(0, 1, RANDOM())', SF, "SELECT"),
    ("SELECT a FROM t WHERE a REGEXP 'x.*' AND a RLIKE 'y'", SF, "SELECT"),
    ('SELECT EQUAL_NULL(a, b), IS_INTEGER(v), AS_VARCHAR(v) FROM t', SF, "SELECT"),
    ('SELECT CURRENT_USER(), CURRENT_ACCOUNT(), CURRENT_REGION(), CURRENT_SESSION(), CURRENT_STATEMENT()', SF, "SELECT"),
    ('SELECT * FROM t WHERE a BETWEEN 1 AND 3 QUALIFY ROW_NUMBER() OVER (PARTITION BY b ORDER BY c) = 1', SF, "SELECT"),
    ('SELECT LAG(a, 1, 0) IGNORE NULLS OVER (ORDER BY b), FIRST_VALUE(a) OVER (ORDER BY b ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM t', SF, "SELECT"),
    ("SELECT TO_BOOLEAN('true'), TO_DOUBLE('1.5'), TO_DECIMAL('1.5', 10, 2), TO_BINARY('41', 'HEX')", SF, "SELECT"),
    ("SELECT BASE64_ENCODE('a'), HEX_ENCODE('a'), COLLATE('a', 'en-ci')", SF, "SELECT"),
    ('SELECT ANY_VALUE(a), ARRAY_UNIQUE_AGG(a), OBJECT_AGG(k, v::VARIANT) FROM t', SF, "SELECT"),
    ("SELECT REGEXP_COUNT(a, 'x'), REGEXP_INSTR(a, 'x'), REGEXP_LIKE(a, 'x') FROM t", SF, "SELECT"),
    ('SELECT HOUR(ts), MINUTE(ts), SECOND(ts), DATE(ts), TIME(ts) FROM t', SF, "SELECT"),
    ("SELECT date_trunc('month', d), sum(x) FROM t GROUP BY ALL", DD, "SELECT"),
    ("SELECT strptime(s, '%Y-%m-%d'), make_date(2024, 1, 1), date_add(d, INTERVAL 1 DAY), dayname(d), monthname(d) FROM t", DD, "SELECT"),
    ("SELECT regexp_extract(s, '[0-9]+'), regexp_replace(s, 'a', 'b'), split_part(s, '@', 2), string_split(s, ','), concat_ws('-', a, b) FROM t", DD, "SELECT"),
    ("SELECT list_aggregate([1,2], 'sum'), list_sort([3,1]), array_length([1]), list_contains([1], 1), flatten([[1]])", DD, "SELECT"),
    ('SELECT histogram(a), mode(a), arg_max(a, b), arg_min(a, b), bool_and(c), bit_or(a), kurtosis(a), skewness(a), entropy(a) FROM t', DD, "SELECT"),
    ("SELECT json_extract(j, '$.a'), json_extract_string(j, '$.a'), json_keys(j), json_array_length(j), to_json(a), json_object('a', 1) FROM t", DD, "SELECT"),
    ('SELECT try_cast(s AS INT), s::DOUBLE, cast(s AS DATE) FROM t', DD, "SELECT"),
    ('SELECT ntile(4) OVER w, percent_rank() OVER w, first_value(a) OVER w FROM t WINDOW w AS (ORDER BY b)', DD, "SELECT"),
    ("SELECT epoch(ts), to_timestamp(1), age(ts), date_part('dow', ts), time_bucket(INTERVAL '15 minutes', ts) FROM t", DD, "SELECT"),
    ('SELECT levenshtein(a, b), jaro_winkler_similarity(a, b), hamming(a, b), damerau_levenshtein(a, b) FROM t', DD, "SELECT"),
    ('SELECT md5(a), sha256(a), hash(a), gen_random_uuid(), uuid()', DD, "SELECT"),
    ('SELECT greatest(a, b), least(a, b), ifnull(a, 0), coalesce(a, b, 0), nullif(a, 0) FROM t', DD, "SELECT"),
    ('SELECT round(a, 2), trunc(a), sqrt(a), ln(a), log10(a), pow(a, 2), random(), isnan(a), isinf(a) FROM t', DD, "SELECT"),
    ("SELECT struct_extract({'a': 1}, 'a'), map_keys(map([1], [2])), map_extract(map([1], [2]), 1)", DD, "SELECT"),
    ('SELECT * FROM t ORDER BY random() LIMIT 5', DD, "SELECT"),
    ('SELECT approx_quantile(a, 0.5), reservoir_quantile(a, 0.5), quantile(a, [0.1, 0.9]) FROM t', DD, "SELECT"),
    ('SELECT today(), current_date, now(), current_timestamp, get_current_timestamp()', DD, "SELECT"),
    ('SELECT list_value(1, 2), array_agg(a ORDER BY b), list(a), first(a), last(a), any_value(a) FROM t', DD, "SELECT"),
    ("SELECT printf('%d', 1), format('{}', 1), lpad('a', 3, '0'), repeat('ab', 2), ascii('a'), chr(65), unicode('a')", DD, "SELECT"),
    ("SELECT datediff('day', a, b), datesub('day', a, b), date_diff('month', a, b), last_day(a), yearweek(a) FROM t", DD, "SELECT"),
    ('SELECT bit_count(5), xor(1, 3), 1 << 2, 8 >> 1, 5 & 3, 5 | 3', DD, "SELECT"),
    ('SELECT regr_slope(a, b), regr_intercept(a, b), corr(a, b), covar_pop(a, b), stddev_samp(a), var_pop(a) FROM t', DD, "SELECT"),
    ("SELECT a FROM t WHERE a IS NOT NULL AND b NOT IN (1, 2) AND c NOT LIKE '%x' AND d NOT BETWEEN 1 AND 2", DD, "SELECT"),
    ('SELECT * FROM t NATURAL JOIN s', DD, "SELECT"),
    ('SELECT * FROM t SEMI JOIN s USING (a)', DD, "SELECT"),
    ('SELECT * FROM t ASOF JOIN s ON t.a >= s.a', DD, "SELECT"),
    ('SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b', DD, "SELECT"),
    ('SELECT a, count(*) FROM t GROUP BY CUBE (a)', DD, "SELECT"),
    ('SELECT * FROM t LIMIT 10 OFFSET 5', DD, "SELECT"),
    ('SELECT sum(a) OVER (PARTITION BY b ORDER BY c RANGE BETWEEN INTERVAL 1 DAY PRECEDING AND CURRENT ROW) FROM t', DD, "SELECT"),
    ('SELECT typeof(a), pg_typeof(a), alias(a) FROM t', DD, "SELECT"),
]


@pytest.mark.parametrize(("sql", "dialect", "fragment"),
                         [(s, d, f) for s, ds, f in REFUSED for d in ds])
def test_refused(sql: str, dialect: str, fragment: str) -> None:
    verdict = check(sql, dialect)
    assert not verdict.allowed, f"{dialect}: {sql!r} should be refused"
    assert verdict.reason.startswith("refused: ") and fragment.lower() in verdict.reason.lower()
    assert verdict.sql is None and verdict.expression is None


@pytest.mark.parametrize(("sql", "dialect", "kind"), [(s, d, k) for s, ds, k in ALLOWED for d in ds])
def test_allowed(sql: str, dialect: str, kind: str) -> None:
    verdict = check(sql, dialect)
    assert verdict.allowed, f"{dialect}: {sql!r} refused: {verdict.reason}"
    assert verdict.statement_type == kind and verdict.sql and verdict.expression is not None
    # what runs is the re-rendered statement; it must pass the guard again, rendered the same
    again = check(verdict.sql, dialect)
    assert again.allowed and again.sql == verdict.sql


def test_there_are_enough_cases() -> None:
    assert sum(len(d) for _, d, _ in REFUSED) + sum(len(d) for _, d, _ in ALLOWED) >= 300


def test_tables_lists_real_tables_not_ctes() -> None:
    verdict = check(
        "WITH recent AS (SELECT * FROM ANALYTICS.SALES.ORDERS) "
        "SELECT * FROM recent JOIN SALES.CUSTOMERS c USING (CUSTOMER_ID) JOIN recent r2 ON true", "snowflake")
    assert verdict.tables == ("ANALYTICS.SALES.ORDERS", "SALES.CUSTOMERS")


def test_rendered_sql_keeps_the_statement() -> None:
    verdict = check("select a from t where b = 'x'", "duckdb")
    assert verdict.sql is not None
    reparsed = sqlglot.parse_one(verdict.sql, read="duckdb")
    assert reparsed.key == "select" and "'x'" in verdict.sql


def test_show_is_rendered_from_its_parts_not_passed_as_text() -> None:
    verdict = check("show   terse tables like 'O%'   in schema analytics.sales  limit 5", "snowflake")
    assert verdict.sql == "SHOW TERSE TABLES LIKE 'O%' IN SCHEMA analytics.sales LIMIT 5"


@pytest.mark.parametrize("dialect", BOTH)
def test_an_operator_may_allow_a_function_by_name_or_pattern(dialect: str) -> None:
    sql = {"duckdb": "SELECT * FROM read_parquet('data/x.parquet')",
           "snowflake": "SELECT * FROM TABLE(INFORMATION_SCHEMA.TASK_HISTORY())"}[dialect]
    assert not check(sql, dialect).allowed
    name = {"duckdb": "READ_PARQUET", "snowflake": "INFORMATION_SCHEMA.*"}[dialect]
    assert check(sql, dialect, allow_functions=[name]).allowed
    udf = "SELECT ANALYTICS.UDF.SCORE(a) FROM t"
    assert not check(udf, dialect).allowed
    assert check(udf, dialect, allow_functions=["ANALYTICS.UDF.*"]).allowed


def test_a_refusal_says_how_an_operator_may_allow_the_function() -> None:
    reason = check("SELECT my_udf(1)", "snowflake").reason
    assert "MY_UDF" in reason and "SNOWMCP_ALLOW_FUNCTIONS" in reason


def test_statement_raises_with_the_reason() -> None:
    with pytest.raises(SqlRefused, match="DELETE") as raised:
        GUARDS["snowflake"].statement("DELETE FROM t")
    assert "Hint:" in str(raised.value)


def test_transpile_checks_what_would_run() -> None:
    verdict = GUARDS["duckdb"].transpile("SELECT IFF(a, 1, 2) FROM t", "snowflake")
    assert verdict.allowed and "CASE WHEN" in (verdict.sql or "")
    assert not GUARDS["duckdb"].transpile("DROP TABLE t", "snowflake").allowed
    assert not GUARDS["snowflake"].transpile("SELECT * FROM read_text('/etc/passwd')", "duckdb").allowed
    assert not GUARDS["duckdb"].transpile("SELECT pg_read_file('/etc/passwd')", "postgres").allowed


def test_verdicts_are_cached() -> None:
    guard = Guard("duckdb")
    assert guard.check("SELECT 42") is guard.check("SELECT 42")
    assert guard.cached("SELECT 42") is not None and guard.cached("SELECT 43") is None


def test_oversized_and_deeply_nested_statements_are_refused_not_crashes() -> None:
    assert "limit is 40,000" in check("SELECT " + " + ".join(["1"] * 40_000), "duckdb").reason
    nested = "SELECT " + "(" * 3000 + "1" + ")" * 3000
    assert "nested too deeply" in check(nested, "snowflake").reason


@pytest.mark.parametrize("dialect", BOTH)
def test_conditions_are_one_boolean_expression(dialect: str) -> None:
    guard = GUARDS[dialect]
    assert guard.condition("a > 1 AND b IS NOT NULL").sql(dialect) == "a > 1 AND NOT b IS NULL"
    for bad in ("1) UNION SELECT * FROM secrets WHERE (1", "a > 1) OR (SELECT SYSTEM$WAIT(1)) IS NULL OR (1",
                "", "a > 1 ORDER BY a"):
        with pytest.raises(SqlRefused):
            guard.condition(bad)


def test_the_verdict_cache_is_bounded_by_memory_not_count() -> None:
    guard = Guard("snowflake")
    long_sql = "SELECT " + ", ".join(f"a{i} + {i} AS c{i}" for i in range(1_800)) + " FROM t"  # ~38 kB
    for i in range(20):
        assert guard.check(f"{long_sql} -- {i}").allowed
    held = sum(1 for i in range(20) if guard.cached(f"{long_sql} -- {i}") is not None)
    assert held <= 3  # ~21 MB of tree each against a 64 MB budget
    assert guard.cached(f"{long_sql} -- 19") is not None  # the newest is kept
