"""The SQL guard: one object per server, the single gate for SQL text we did not build.

A statement passes only when every part of it is on an allow-list:

- the statement is one typed read statement: a query (SELECT, WITH, set
  operations, VALUES, DuckDB's PIVOT, SUMMARIZE and DESCRIBE <query>), SHOW or
  DESCRIBE in the fixed forms of `commands.py`, or EXPLAIN of a query;
- every node of its tree is a query node sqlglot types (`sqlglot_nodes.txt`),
  so writes, INTO, locking, placeholders, session variables and raw commands are
  refused wherever they appear;
- every function is known to be pure: a typed sqlglot function on
  `sqlglot_functions.txt`, or a name on the dialect's list; table sources use the
  shorter table-function list. Names are normalised first (quotes, case) and a
  schema-qualified call (a UDF, `SNOWFLAKE.CORTEX.*`) is never a built-in;
- tables are identifiers: no strings, paths, URLs, stages or dynamic names;
- on Snowflake, no `->>` anywhere (the pipe operator chains statements);
- on DuckDB, the engine's own parse of what will run passes the same lists.

Unknown is refused, with a message naming it and how an operator may allow it
(`SNOWMCP_ALLOW_FUNCTIONS`, names or patterns such as `ANALYTICS.UDF.*`).

The verdict carries the checked sqlglot expression: the runtime caps and
renders that, so what runs is what was checked.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import sqlglot
from cachetools import LRUCache
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from snowmcp.common.errors import SqlRefused
from snowmcp.common.guard import commands
from snowmcp.common.guard.dialects import read_dialect
from snowmcp.common.guard.errors import Refusal
from snowmcp.common.guard.lists import dialect_lists, sqlglot_functions, sqlglot_nodes

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is our business

MAX_SQL_CHARS = 40_000  # parses and renders in well under a second; no analyst query is longer
_QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery, exp.Values, exp.Pivot, exp.Describe, exp.Summarize, exp.Show)
_SEQUENCE_COLUMNS = {"NEXTVAL", "CURRVAL"}
_NOT_IN_TABLE_NAMES = set("/\\:.") | {chr(c) for c in range(32)}
_DUCKDB_BUILTIN_SCHEMAS = {"main", "system", "system.main", "pg_catalog"}
# Verdicts are kept by an estimate of their memory: a parsed tree takes about 500 bytes per
# character of SQL, so a 40 kB statement holds ~20 MB. 64 MB keeps thousands of ordinary ones.
_CACHE_BYTES = 64_000_000
_TREE_BYTES_PER_CHAR = 600


@dataclass(frozen=True)
class GuardVerdict:
    allowed: bool
    reason: str
    statement_type: str | None = None
    tables: tuple[str, ...] = ()
    expression: exp.Expression | None = None
    """The checked statement; treat it as read-only (the runtime copies before changing it)."""
    sql: str | None = None
    """The statement as it will run (rendered from the checked expression)."""


class Guard:
    """Checks SQL text in one dialect against the allow-lists. Thread-safe; verdicts are cached."""

    def __init__(self, dialect: str, *, allow_functions: Iterable[str] = (), max_sql_chars: int = MAX_SQL_CHARS) -> None:
        self.dialect = dialect
        self._read = read_dialect(dialect)
        self._lists = dialect_lists(dialect)
        self._typed = sqlglot_functions()
        self._nodes = {getattr(exp, name) for name in sqlglot_nodes()}
        self._patterns = tuple(p.strip().upper() for p in allow_functions if p.strip())
        self.max_sql_chars = max_sql_chars
        self._engine = None
        if dialect == "duckdb":
            from snowmcp.common.guard.engine import DuckDBParseCheck

            self._engine = DuckDBParseCheck(allowed=self.function_allowed, check_table=_check_table_part)
        self._cache: LRUCache[str, GuardVerdict] = LRUCache(maxsize=_CACHE_BYTES, getsizeof=_cached_bytes)
        self._cache_lock = threading.Lock()

    # -- the public checks ------------------------------------------------

    def check(self, sql: str) -> GuardVerdict:
        """The verdict on one statement (never raises)."""
        if not isinstance(sql, str):
            return GuardVerdict(False, "refused: the statement must be text")
        with self._cache_lock:
            cached = self._cache.get(sql)
        if cached is not None:
            return cached
        verdict = self._verdict(sql)
        with self._cache_lock, contextlib.suppress(ValueError):  # ValueError: too big to keep
            self._cache[sql] = verdict
        return verdict

    def statement(self, sql: str) -> GuardVerdict:
        """Like `check`, but raise `SqlRefused` when the statement is refused."""
        return self.require(self.check(sql))

    def require(self, verdict: GuardVerdict) -> GuardVerdict:
        """The verdict, if it allows its statement; else `SqlRefused` with the reason and a hint."""
        if not verdict.allowed:
            raise SqlRefused(verdict.reason, hint=self._hint(verdict.reason))
        return verdict

    def cached(self, sql: str) -> GuardVerdict | None:
        """The verdict on `sql` if it was checked lately (no parsing: cheap on the event loop)."""
        with self._cache_lock:
            return self._cache.get(sql)

    def transpile(self, sql: str, source: str) -> GuardVerdict:
        """A statement written in dialect `source`, rendered in this guard's dialect and checked
        there: the verdict is on what would run, never on the text as written."""
        if source == self.dialect:
            return self.check(sql)
        if not isinstance(sql, str) or not sql.strip():
            return GuardVerdict(False, "refused: empty statement")
        if len(sql) > self.max_sql_chars:
            return GuardVerdict(False, f"refused: the statement is {len(sql):,} characters; "
                                       f"the limit is {self.max_sql_chars:,}")
        try:
            statements = [s for s in sqlglot.parse(sql, read=source) if s is not None]
            if len(statements) != 1:
                return GuardVerdict(False, f"refused: {len(statements)} statements; only one statement is allowed")
            rendered = statements[0].sql(dialect=self.dialect)
        except (SqlglotError, RecursionError) as exc:
            return GuardVerdict(False, f"refused: cannot transpile from {source} to {self.dialect}: {_short(exc)}")
        return self.check(rendered)

    def condition(self, fragment: str) -> exp.Expression:
        """A row condition written by a model or a user (a suite's `filter`), guarded; returns it parsed.

        Checked as the WHERE clause of `SELECT 1 FROM t WHERE (...)`: anything that escapes
        the clause (a UNION, a second statement, a trailing clause) changes the shape and is refused."""
        return self._fragment(fragment, "WHERE", "the condition must be one SQL boolean expression")

    def expression(self, fragment: str) -> exp.Expression:
        """A scalar or aggregate expression written by a user (a `custom_metric`), guarded."""
        return self._fragment(fragment, "SELECT", "the expression must be one SQL expression")

    def function_allowed(self, name: str, qualifier: str = "", as_table: bool = False, *, quoted: bool = False) -> bool:
        """Whether a function may run: an operator's pattern, else an unqualified name on the list."""
        if self._pattern_allows(name, qualifier):
            return True
        if self.dialect == "duckdb" and qualifier.lower() in _DUCKDB_BUILTIN_SCHEMAS:
            qualifier = ""  # DuckDB's built-ins live in system.main (pg_catalog for compatibility)
        if qualifier:
            return False
        if self.dialect == "duckdb":
            normal = name.lower()
        else:  # a quoted Snowflake name resolves case-sensitively: "upper" is not UPPER
            normal = name if quoted else name.upper()
        return normal in (self._lists.tables if as_table else self._lists.expressions)

    def _pattern_allows(self, name: str, qualifier: str) -> bool:
        full = f"{qualifier}.{name}" if qualifier else name
        return any(fnmatch.fnmatchcase(full.upper(), pattern) for pattern in self._patterns)

    # -- statements -------------------------------------------------------

    def _verdict(self, sql: str) -> GuardVerdict:
        try:
            kind, statement = self._check_text(sql)
            rendered = statement.sql(dialect=self.dialect)
            if kind not in ("EXPLAIN", "SHOW"):  # EXPLAIN checks its query; SHOW is our own text
                self._engine_check(statement, rendered)
        except Refusal as refusal:
            return GuardVerdict(False, f"refused: {refusal}")
        except RecursionError:
            return GuardVerdict(False, "refused: the statement is nested too deeply to check")
        return GuardVerdict(True, f"read-only {kind}", kind, _tables(statement), statement, rendered)

    def _check_text(self, sql: str) -> tuple[str, exp.Expression]:
        if not sql.strip():
            raise Refusal("empty statement")
        if len(sql) > self.max_sql_chars:
            raise Refusal(f"the statement is {len(sql):,} characters; the limit is {self.max_sql_chars:,}")
        tokens = self._tokens(sql)
        if not tokens:
            raise Refusal("empty statement (only comments or semicolons)")
        first = tokens[0].text.upper()
        if first == "EXPLAIN":
            return self._check_explain(sql, tokens)
        if self.dialect == "snowflake" and first == "SHOW":
            return "SHOW", commands.parse_snowflake_show(tokens)
        if self.dialect == "snowflake" and first in ("DESCRIBE", "DESC"):
            return "DESCRIBE", commands.parse_snowflake_describe(tokens)
        if self.dialect == "duckdb" and first == "SHOW":
            return "SHOW", commands.parse_duckdb_show(tokens)
        return self._check_query(sql)

    def _tokens(self, sql: str) -> list[Token]:
        """The statement's tokens, without semicolons; more than one statement is refused."""
        try:
            tokens = sqlglot.tokenize(sql, read=self._read)
        except SqlglotError as exc:
            raise Refusal(f"cannot read the SQL ({_short(exc)})") from None
        if self.dialect == "snowflake" and any(t.token_type == TokenType.DARROW for t in tokens):
            raise Refusal("the ->> pipe operator chains statements; send one statement per call")
        segments: list[list[Token]] = [[]]
        for token in tokens:
            if token.token_type == TokenType.SEMICOLON:
                segments.append([])
            else:
                segments[-1].append(token)
        statements = [segment for segment in segments if segment]
        if len(statements) > 1:
            raise Refusal(f"{len(statements)} statements; only one statement is allowed per call")
        return statements[0] if statements else []

    def _check_explain(self, sql: str, tokens: list[Token]) -> tuple[str, exp.Expression]:
        # sqlglot reads EXPLAIN as a command: everything after the keyword is one text token
        rest_sql = sql[tokens[0].end + 1:]
        rest = self._tokens(rest_sql)
        prefix, start = commands.explain_prefix(rest, self.dialect)
        if start >= len(rest):
            raise Refusal("EXPLAIN needs a statement")
        inner_sql = rest_sql[rest[start].start:]
        if rest[start].text.upper() == "EXPLAIN":
            raise Refusal("nested EXPLAIN")
        kind, inner = self._check_query(inner_sql)
        if kind != "SELECT":
            raise Refusal("EXPLAIN takes a query (SELECT or WITH)")
        rendered = inner.sql(dialect=self.dialect)
        self._engine_check(inner, rendered)
        keyword, _, rest_text = f"{prefix} {rendered}".partition(" ")
        return "EXPLAIN", exp.Command(this=keyword, expression=exp.Literal.string(rest_text))

    def _engine_check(self, statement: exp.Expression, rendered: str) -> None:
        """DuckDB's parse of the statement as it will run (`rendered`), held to the same lists."""
        if self._engine is None:
            return
        if any(pivot.args.get("this") is not None for pivot in statement.find_all(exp.Pivot)):
            rendered = _pivots_as_selects(statement).sql(dialect=self.dialect)  # DuckDB cannot serialise PIVOT
        self._engine.check(rendered)

    def _check_query(self, sql: str) -> tuple[str, exp.Expression]:
        try:
            statements = [s for s in sqlglot.parse(sql, read=self._read) if s is not None]
        except SqlglotError as exc:
            raise Refusal(f"cannot parse the SQL ({_short(exc)})") from None
        if not statements:
            raise Refusal("empty statement (only comments or semicolons)")
        if len(statements) > 1:
            raise Refusal(f"{len(statements)} statements; only one statement is allowed per call")
        statement = statements[0]
        if not isinstance(statement, _QUERY_ROOTS):
            raise Refusal(f"{_statement_name(statement, sql)} statements are not allowed (read-only access)")
        if isinstance(statement, exp.Show) and self.dialect != "duckdb":
            raise Refusal("this SHOW form is not allowed")
        for node in statement.walk():
            self._check_node(node, sql)
        kind = {exp.Describe: "DESCRIBE", exp.Summarize: "SUMMARIZE", exp.Show: "SHOW"}.get(type(statement), "SELECT")
        return kind, statement

    # -- nodes ------------------------------------------------------------

    def _check_node(self, node: exp.Expression, sql: str) -> None:
        if isinstance(node, exp.Func):
            self._check_function(node)
        elif type(node) not in self._nodes:
            raise Refusal(f"{_describe(node)} is not allowed in a read query")
        elif isinstance(node, exp.Table):
            _check_table(node, sql)
        elif isinstance(node, exp.Var) and node.name.startswith("@"):
            raise Refusal(f"stage reference {node.name[:60]} (reading stage files is not allowed)")
        elif isinstance(node, exp.Column) and self.dialect == "snowflake" and node.table \
                and node.name.upper() in _SEQUENCE_COLUMNS:
            raise Refusal(f"sequence {node.table}.{node.name} (sequences change state; not allowed)")

    def _check_function(self, node: exp.Func) -> None:
        as_table = _is_table_source(node)
        qualifier = _qualifier(node)
        if isinstance(node, (exp.Anonymous, exp.AnonymousAggFunc)):
            raw = node.this
            quoted = isinstance(raw, exp.Identifier) and raw.quoted
            name = raw.name if isinstance(raw, exp.Identifier) else str(raw)
        else:
            name, quoted = _typed_name(node, self.dialect), False
            if type(node).__name__ not in self._typed:
                if self._pattern_allows(name, qualifier):
                    return
                raise Refusal(f"function {name} is not on the allow-list" + self._allow_hint(name))
            if not as_table and not qualifier:
                return
        if not self.function_allowed(name, qualifier, as_table, quoted=quoted):
            shown = f"{qualifier}.{name}" if qualifier else name
            what = "table function" if as_table else "function"
            why = " (a schema-qualified call is a user-defined function)" if qualifier else ""
            raise Refusal(f"{what} {shown} is not on the allow-list{why}" + self._allow_hint(shown))

    def _allow_hint(self, name: str) -> str:
        return f"; an operator may allow it with SNOWMCP_ALLOW_FUNCTIONS={name.upper()}"

    def _hint(self, reason: str) -> str:
        if "allow-list" in reason:
            return "Use built-in functions on the allow-list, or ask the operator to allow this one."
        return SqlRefused.hint

    def _fragment(self, fragment: str, clause: str, shape: str) -> exp.Expression:
        if not isinstance(fragment, str) or not fragment.strip():
            raise SqlRefused("refused: the fragment is empty")
        if clause == "WHERE":
            verdict = self.statement(f"SELECT 1 FROM _snowmcp_rows WHERE ({fragment})")
        else:
            verdict = self.statement(f"SELECT ({fragment}) FROM _snowmcp_rows")
        statement = verdict.expression
        clauses = {key for key, value in statement.args.items() if value} if statement is not None else set()
        allowed = {"expressions", "from_", "where"} if clause == "WHERE" else {"expressions", "from_"}
        if not isinstance(statement, exp.Select) or clauses - allowed or len(statement.expressions) != 1:
            raise SqlRefused(f"refused: {shape}")
        part = statement.args["where"].this if clause == "WHERE" else statement.expressions[0]
        return (part.this if isinstance(part, exp.Paren) else part).copy()


def _cached_bytes(verdict: GuardVerdict) -> int:
    return 256 + (len(verdict.sql or "") * _TREE_BYTES_PER_CHAR if verdict.expression is not None else 0)


def _pivots_as_selects(statement: exp.Expression) -> exp.Expression:
    """The statement with each DuckDB `PIVOT t ON ... USING ... GROUP BY ...` replaced by a SELECT
    of the same source, expressions and aggregates: the same functions and tables, in a form
    `json_serialize_sql` accepts."""
    def replace(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Pivot) and node.args.get("this") is not None:
            columns = [*node.expressions, *(node.args.get("using") or [])]
            group = node.args.get("group")
            if group is not None:
                columns += group.expressions
            select = exp.select(*(c.copy() for c in columns) or ["*"]).from_(node.this.copy())
            return select.subquery() if node.parent is not None else select
        return node

    return statement.copy().transform(replace)


def _is_table_source(node: exp.Expression) -> bool:
    parent = node.parent
    return isinstance(parent, (exp.Table, exp.TableFromRows, exp.Lateral)) and node.arg_key == "this" \
        or isinstance(node, exp.Unnest) and isinstance(parent, (exp.From, exp.Join))


def _qualifier(node: exp.Expression) -> str:
    parent = node.parent
    if isinstance(parent, exp.Dot) and node.arg_key == "expression":
        return parent.this.sql().replace('"', "")
    return ""


def _typed_name(node: exp.Func, dialect: str) -> str:
    try:
        return node.sql(dialect=dialect).split("(", 1)[0].strip() or node.sql_name()
    except Exception:  # a node the dialect cannot render: name it by its class
        return node.sql_name()


def _check_table(table: exp.Table, sql: str) -> None:
    this = table.this
    if isinstance(this, exp.Identifier):
        start = (this.meta or {}).get("start")
        if this.quoted and (start is None or sql[start:start + 1] == "'"):
            raise Refusal(f"string '{this.name[:60]}' used as a table (file paths and URLs are not allowed)")
    elif isinstance(this, exp.Var) and this.name.startswith("@") or isinstance(this, exp.DirectoryStage):
        raise Refusal(f"stage reference {this.sql()[:60]} used as a table (reading stage files is not allowed)")
    elif not isinstance(this, exp.Func):  # functions are judged as table functions
        raise Refusal(f"{_describe(this)} used as a table (tables must be names)")
    for part in table.parts:
        if isinstance(part, exp.Identifier):
            _check_table_part(part.name)
        elif not isinstance(part, exp.Func):
            raise Refusal(f"{_describe(part)} in a table name (tables must be names)")


def _check_table_part(name: str) -> None:
    if not name or _NOT_IN_TABLE_NAMES & set(name):
        raise Refusal(f"table name {name[:60]!r} looks like a path or URL (tables must be names)")


def _tables(statement: exp.Expression) -> tuple[str, ...]:
    cte_names = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    seen: dict[str, None] = {}
    tables = [t for t in statement.find_all(exp.Table) if isinstance(t.this, exp.Identifier)]
    tables.sort(key=lambda t: (t.this.meta or {}).get("start", 0))  # in order of appearance
    for table in tables:
        parts = [part.name for part in table.parts]
        if len(parts) == 1 and parts[0].lower() in cte_names:
            continue
        seen.setdefault(".".join(parts), None)
    return tuple(seen)


_NAMES = {"truncatetable": "TRUNCATE", "into": "SELECT ... INTO", "liststage": "LIST", "command": "this command"}


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return f"{str(node.this).upper()} (a statement the guard cannot check)"
    key = getattr(node, "key", type(node).__name__)
    return _NAMES.get(key, key.upper())


def _statement_name(statement: exp.Expression, sql: str) -> str:
    if isinstance(statement, exp.Command):
        return str(statement.this).upper()
    name = _describe(statement)
    if name.upper() in sql.upper():
        return name
    return sql.split(None, 1)[0].upper()[:30] if sql.split() else name


def _short(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        return f"{first.get('description', 'syntax error')} at line {first.get('line')}, column {first.get('col')}"
    return str(exc).splitlines()[0][:200]
