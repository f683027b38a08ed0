"""The SQL guard: the single gate for model-written SQL.

A statement passes only if sqlglot parses it, in the warehouse's dialect, into
exactly one statement of an allowed kind (a query, SHOW, DESCRIBE, DuckDB's
SUMMARIZE/PIVOT, or EXPLAIN of such a statement), and nothing anywhere in its
tree writes, changes state, runs dynamic SQL or reaches files and the network:

- statement nodes that write or change state (DML, DDL, DCL, transactions,
  COPY/PUT/GET, SET/USE, ATTACH/INSTALL, PRAGMA, SELECT ... INTO, ...) are
  refused wherever they appear, e.g. a DELETE inside a CTE;
- anything sqlglot cannot type (`exp.Command`: CALL, EXECUTE IMMEDIATE, LOAD,
  GRANT ROLE, SHOW TASKS, ...) is refused, except EXPLAIN, whose inner
  statement is parsed and guarded in turn (EXPLAIN ANALYZE executes, so it is
  refused);
- dangerous functions (Snowflake `SYSTEM$...`, stage and file URL functions,
  DuckDB file/network readers, dynamic-SQL and environment functions) are
  refused unless the operator allows them by name;
- tables that are really files (DuckDB `FROM 'data.csv'`) or stages
  (Snowflake `FROM @stage`) are refused.

The allowed statement is re-rendered by sqlglot in the same dialect, and that
text is what runs: what was checked is what executes.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from common.errors import SqlRefused

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is our business

_ALLOWED_STATEMENTS: dict[type[exp.Expression], str] = {
    exp.Select: "SELECT",
    exp.SetOperation: "SELECT",
    exp.Subquery: "SELECT",
    exp.Values: "SELECT",
    exp.Show: "SHOW",
    exp.Describe: "DESCRIBE",
    exp.Summarize: "SUMMARIZE",
    exp.Pivot: "SELECT",
}

_WRITE_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "DML", "DDL", "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterSession",
        "TruncateTable", "Undrop", "Copy", "Put", "Get", "ListStage", "LoadData", "Set", "Use", "Transaction",
        "Commit", "Rollback", "Attach", "Detach", "Install", "Pragma", "Grant", "Revoke", "Into", "Analyze",
        "Cache", "Uncache", "Refresh", "Comment", "Kill", "Export", "Execute", "Declare", "Lock", "Command",
    )
    if hasattr(exp, name)
)

_DANGEROUS_FUNCTIONS = frozenset({
    # DuckDB: files, network, other databases, dynamic SQL, environment
    "READ_CSV", "READ_CSV_AUTO", "READ_PARQUET", "PARQUET_SCAN", "READ_JSON", "READ_JSON_AUTO",
    "READ_JSON_OBJECTS", "READ_JSON_OBJECTS_AUTO", "READ_NDJSON", "READ_NDJSON_AUTO", "READ_NDJSON_OBJECTS",
    "READ_TEXT", "READ_BLOB", "GLOB", "SNIFF_CSV", "PARQUET_METADATA", "PARQUET_SCHEMA", "PARQUET_FILE_METADATA",
    "PARQUET_KV_METADATA", "PARQUET_BLOOM_PROBE", "ICEBERG_SCAN", "ICEBERG_METADATA", "ICEBERG_SNAPSHOTS",
    "DELTA_SCAN", "READ_XLSX", "ST_READ", "ST_READ_META", "SQLITE_SCAN", "SQLITE_ATTACH", "POSTGRES_SCAN",
    "POSTGRES_QUERY", "POSTGRES_ATTACH", "MYSQL_SCAN", "MYSQL_QUERY", "QUERY", "QUERY_TABLE", "GETENV",
    "DUCKDB_SECRETS", "WHICH_SECRET", "LOAD_EXTENSION", "INSTALL_EXTENSION", "READ_CSV_TEXT",
    # Snowflake: stage and file access
    "GET_PRESIGNED_URL", "BUILD_SCOPED_FILE_URL", "BUILD_STAGE_FILE_URL", "GET_STAGE_LOCATION",
    "GET_RELATIVE_PATH", "GET_ABSOLUTE_PATH", "INFER_SCHEMA", "TO_FILE",
})
_DANGEROUS_PREFIXES = ("SYSTEM$",)
MAX_SQL_CHARS = 100_000  # parsing is linear but not cheap; no analyst query is this long


@dataclass(frozen=True)
class GuardVerdict:
    allowed: bool
    reason: str
    statement_type: str | None
    tables: tuple[str, ...]
    sql: str | None


class _Refusal(Exception):
    pass


@functools.lru_cache(maxsize=1024)
def check_sql(sql: str, dialect: str, *, allow_functions: frozenset[str] = frozenset()) -> GuardVerdict:
    """The guard's verdict on one piece of model-written SQL (never raises)."""
    try:
        statement = _single_statement(sql, dialect)
        kind, rendered = _check_statement(statement, sql, dialect, allow_functions)
    except _Refusal as refusal:
        return GuardVerdict(False, f"refused: {refusal}", None, (), None)
    except RecursionError:
        return GuardVerdict(False, "refused: the statement is nested too deeply to check", None, (), None)
    return GuardVerdict(True, f"read-only {kind}", kind, _tables(statement), rendered)


def guard_sql(sql: str, dialect: str, *, allow_functions: frozenset[str] = frozenset()) -> GuardVerdict:
    """Like `check_sql`, but raise `SqlRefused` when the statement is refused."""
    verdict = check_sql(sql, dialect, allow_functions=allow_functions)
    if not verdict.allowed:
        raise SqlRefused(verdict.reason)
    return verdict


def transpile(sql: str, read: str, write: str) -> str:
    """One guarded statement written in dialect `read`, rendered in dialect `write`."""
    guard_sql(sql, read)
    try:
        return sqlglot.transpile(sql, read=read, write=write)[0]
    except SqlglotError as exc:
        raise SqlRefused(f"refused: cannot transpile from {read} to {write}: {_short(exc)}") from None


def _single_statement(sql: str, dialect: str) -> exp.Expression:
    if not isinstance(sql, str) or not sql.strip():
        raise _Refusal("empty statement")
    if len(sql) > MAX_SQL_CHARS:
        raise _Refusal(f"the statement is {len(sql):,} characters; the limit is {MAX_SQL_CHARS:,}")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except SqlglotError as exc:
        raise _Refusal(f"cannot parse the SQL ({_short(exc)})") from None
    if not statements:
        raise _Refusal("empty statement (only comments or semicolons)")
    if len(statements) > 1:
        raise _Refusal(f"{len(statements)} statements; only one statement is allowed per call")
    return statements[0]


def _check_statement(
    statement: exp.Expression, sql: str, dialect: str, allow: frozenset[str]
) -> tuple[str, str]:
    """Check one parsed statement; return (statement type, SQL to run)."""
    if isinstance(statement, exp.Command):
        keyword = str(statement.this).upper()
        if keyword == "EXPLAIN":
            return _check_explain(statement, dialect, allow)
        if keyword == "SHOW" and dialect == "snowflake" and ";" not in sql:
            # Snowflake's SHOW only reads metadata; sqlglot types few of its forms (SHOW TASKS, SHOW GRANTS...).
            return "SHOW", statement.sql(dialect=dialect)
    kind = next((k for cls, k in _ALLOWED_STATEMENTS.items() if isinstance(statement, cls)), None)
    if kind is None:
        raise _Refusal(f"{_first_keyword(statement, sql, dialect)} statements are not allowed (read-only access)")
    for node in statement.walk():
        _check_node(node, sql, allow)
    return kind, statement.sql(dialect=dialect)


def _check_explain(statement: exp.Command, dialect: str, allow: frozenset[str]) -> tuple[str, str]:
    rest = statement.expression.name if statement.expression else ""
    words = rest.split()
    if words and words[0].upper() == "ANALYZE":
        raise _Refusal("EXPLAIN ANALYZE executes its statement; use EXPLAIN")
    prefix = ""
    if len(words) >= 2 and words[0].upper() == "USING":  # Snowflake: EXPLAIN USING TEXT|JSON|TABULAR
        prefix = f"USING {words[1].upper()} "
        rest = rest.split(None, 2)[2] if len(words) > 2 else ""
    inner = _single_statement(rest, dialect)
    if isinstance(inner, exp.Command) and str(inner.this).upper() == "EXPLAIN":
        raise _Refusal("nested EXPLAIN")
    _, rendered = _check_statement(inner, rest, dialect, allow)
    return "EXPLAIN", f"EXPLAIN {prefix}{rendered}"


def _check_node(node: exp.Expression, sql: str, allow: frozenset[str]) -> None:
    if isinstance(node, _WRITE_NODES):
        raise _Refusal(f"{_describe(node)} inside a read query (writes and state changes are not allowed)")
    if isinstance(node, exp.Func):
        name = _function_name(node)
        if name not in allow and (name in _DANGEROUS_FUNCTIONS or name.startswith(_DANGEROUS_PREFIXES)):
            raise _Refusal(f"function {name} reaches files, the network, settings or dynamic SQL (not allowed)")
    if isinstance(node, exp.Table):
        _check_table(node, sql)


def _check_table(table: exp.Table, sql: str) -> None:
    this = table.this
    if isinstance(this, exp.Var) and this.name.startswith("@") or isinstance(this, (exp.Parameter, exp.Placeholder)):
        raise _Refusal(f"stage reference {table.sql()} used as a table (reading stage files is not allowed)")
    if isinstance(this, exp.Literal) and this.is_string:
        raise _Refusal(f"string {this.sql()} used as a table (file paths and URLs are not allowed)")
    if isinstance(this, exp.Identifier) and this.quoted:
        start = this.meta.get("start") if this.meta else None
        if start is None or sql[start : start + 1] == "'":
            # DuckDB reads 'file.csv' or 'https://...' in FROM as a file; a quoted identifier uses "..."
            raise _Refusal(f"string '{this.name}' used as a table (file paths and URLs are not allowed)")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).upper()
    return node.sql_name().upper()


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f"{str(node.this).upper()} (a statement the guard cannot check)"
    key = getattr(node, "key", type(node).__name__)
    return {"truncatetable": "TRUNCATE", "into": "SELECT ... INTO", "liststage": "LIST"}.get(key, key.upper())


def _first_keyword(statement: exp.Expression, sql: str, dialect: str) -> str:
    """How to name a refused statement: its node for the writes we know, else its first keyword."""
    if isinstance(statement, _WRITE_NODES) and not isinstance(statement, exp.Command):
        return _describe(statement)
    try:
        tokens = sqlglot.tokenize(sql, read=dialect)
    except SqlglotError:
        tokens = []
    return tokens[0].text.upper() if tokens else _describe(statement)


def _tables(statement: exp.Expression) -> tuple[str, ...]:
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    seen: dict[str, None] = {}
    tables = [t for t in statement.find_all(exp.Table) if isinstance(t.this, exp.Identifier)]  # not functions
    tables.sort(key=lambda t: (t.this.meta or {}).get("start", 0))  # in order of appearance
    for table in tables:
        parts = [part.name for part in table.parts]
        if len(parts) == 1 and parts[0].lower() in cte_names:
            continue
        seen.setdefault(".".join(parts), None)
    return tuple(seen)


def _short(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        return f"{first.get('description', 'syntax error')} at line {first.get('line')}, column {first.get('col')}"
    return str(exc).splitlines()[0][:200]


def guard_condition(fragment: str, dialect: str, *, allow_functions: frozenset[str] = frozenset()) -> exp.Expression:
    """A model- or user-written row condition (a suite's `filter`, an `expression` check), guarded.

    The fragment is checked as the WHERE clause of `SELECT 1 FROM t WHERE (...)`;
    anything that escapes the clause (a UNION, a second statement, a trailing
    clause) changes the statement's shape and is refused. Returns the parsed condition."""
    from sqlglot import exp

    if not isinstance(fragment, str) or not fragment.strip():
        raise SqlRefused("refused: the condition is empty")
    verdict = guard_sql(f"SELECT 1 FROM _snowmcp_rows WHERE ({fragment})", dialect, allow_functions=allow_functions)
    statement = _single_statement(verdict.sql or "", dialect)
    clauses = {key for key, value in statement.args.items() if value}
    if not isinstance(statement, exp.Select) or clauses - {"expressions", "from_", "where"}:
        raise SqlRefused("refused: the condition must be one SQL boolean expression")
    where = statement.args["where"].this
    return where.this if isinstance(where, exp.Paren) else where
