"""SHOW, DESCRIBE and EXPLAIN, parsed into their parts and re-rendered from them.

sqlglot types few of these forms (Snowflake's SHOW TASKS, DuckDB's SHOW
DATABASES come back as raw `Command` text), and raw text must never pass the
guard. So the guard reads them here, token by token, against a fixed grammar:
the object kind from a fixed list, then only the clauses that form allows
(TERSE, HISTORY, LIKE, IN <scope>, STARTS WITH, LIMIT ... FROM). Every name is
re-quoted and every string re-escaped; a token left over (a `->>` chain, a
second statement, anything unknown) refuses the whole statement.

The result is a `Command` node whose text is ours, built only from the parts.
"""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from snowmcp.common.guard.errors import Refusal

SNOWFLAKE_SHOW_KINDS = (
    "DATABASES", "SCHEMAS", "OBJECTS", "TABLES", "VIEWS", "COLUMNS", "MATERIALIZED VIEWS", "DYNAMIC TABLES",
    "EXTERNAL TABLES", "ICEBERG TABLES", "HYBRID TABLES", "EVENT TABLES", "SEMANTIC VIEWS", "SEQUENCES",
    "STREAMS", "TASKS", "PIPES", "STAGES", "FILE FORMATS", "FUNCTIONS", "USER FUNCTIONS", "EXTERNAL FUNCTIONS",
    "PROCEDURES", "WAREHOUSES", "ROLES", "DATABASE ROLES", "PRIMARY KEYS", "IMPORTED KEYS", "UNIQUE KEYS",
    "TAGS", "ALERTS", "SHARES", "USERS",
)
SNOWFLAKE_DESCRIBE_KINDS = (
    "TABLE", "VIEW", "MATERIALIZED VIEW", "DYNAMIC TABLE", "EXTERNAL TABLE", "ICEBERG TABLE", "HYBRID TABLE",
    "EVENT TABLE", "SEMANTIC VIEW", "SCHEMA", "DATABASE", "SEQUENCE", "STREAM", "TASK", "PIPE", "STAGE",
    "FILE FORMAT", "WAREHOUSE",
)
_GRANT_OBJECTS = SNOWFLAKE_DESCRIBE_KINDS + ("FUNCTION", "PROCEDURE")
_SCOPES = ("ACCOUNT", "DATABASE", "SCHEMA", "TABLE", "VIEW", "APPLICATION")
_BARE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def _words(token: Token) -> list[Token]:
    """sqlglot reads some keyword pairs as one token ('SEMANTIC VIEW'); the grammar here reads words."""
    if token.token_type in (TokenType.STRING, TokenType.IDENTIFIER) or " " not in token.text.strip():
        return [token]
    return [Token(token.token_type, part) for part in token.text.split()]


class _Tokens:
    """A cursor over one statement's tokens (a trailing semicolon is dropped)."""

    def __init__(self, tokens: list[Token], dialect: str) -> None:
        while tokens and tokens[-1].token_type == TokenType.SEMICOLON:
            tokens = tokens[:-1]
        self.tokens = [word for token in tokens for word in _words(token)]
        self.dialect = dialect
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token.text.upper() if token is not None and token.token_type != TokenType.STRING else ""

    def accept(self, *words: str) -> bool:
        """Consume `words` (one keyword each) if they come next."""
        if all(self.word(k) == w for k, w in enumerate(words)):
            self.i += len(words)
            return True
        return False

    def choice(self, options: tuple[str, ...]) -> str | None:
        """The longest of `options` (each one or more words) that comes next, consumed."""
        for option in sorted(options, key=lambda o: -len(o.split())):
            if self.accept(*option.split()):
                return option
        return None

    def string(self) -> str:
        token = self.peek()
        if token is None or token.token_type != TokenType.STRING:
            raise Refusal("expected a quoted string")
        self.i += 1
        return exp.Literal.string(token.text).sql(dialect=self.dialect)

    def number(self) -> str:
        token = self.peek()
        if token is None or token.token_type != TokenType.NUMBER or not token.text.isdigit():
            raise Refusal("expected a whole number")
        self.i += 1
        return str(int(token.text))

    def name(self, max_parts: int = 3) -> str:
        """A possibly qualified object name, each part re-quoted as needed."""
        parts = [self._name_part()]
        while self.word() == "." and len(parts) < max_parts:
            self.i += 1
            parts.append(self._name_part())
        return ".".join(parts)

    def _name_part(self) -> str:
        token = self.peek()
        if token is None:
            raise Refusal("expected an object name")
        quoted = token.token_type == TokenType.IDENTIFIER
        if not quoted and not _BARE_NAME.match(token.text):
            raise Refusal(f"expected an object name, found {token.text[:40]!r}")
        self.i += 1
        return exp.to_identifier(token.text, quoted=quoted).sql(dialect=self.dialect)

    def at_name(self) -> bool:
        token = self.peek()
        return token is not None and (token.token_type == TokenType.IDENTIFIER or bool(_BARE_NAME.match(token.text)))

    def finish(self, what: str) -> None:
        token = self.peek()
        if token is not None:
            raise Refusal(f"unexpected {token.text[:40]!r} in {what} (only its documented clauses are allowed)")


def parse_snowflake_show(tokens: list[Token]) -> exp.Command:
    t = _Tokens(tokens, "snowflake")
    t.accept("SHOW")
    parts = ["SHOW"]
    if t.accept("TERSE"):
        parts.append("TERSE")
    if t.accept("FUTURE", "GRANTS", "IN"):
        scope = t.choice(("SCHEMA", "DATABASE"))
        if scope is None:
            raise Refusal("SHOW FUTURE GRANTS IN takes SCHEMA or DATABASE")
        parts += ["FUTURE GRANTS IN", scope, t.name()]
        t.finish("SHOW FUTURE GRANTS")
        return _command(parts)
    if t.accept("GRANTS"):
        parts += ["GRANTS", *_grants_target(t)]
        t.finish("SHOW GRANTS")
        return _command(parts)
    kind = t.choice(SNOWFLAKE_SHOW_KINDS)
    if kind is None:
        raise Refusal(f"SHOW {t.word() or ''} is not an allowed SHOW form (allowed: {', '.join(SNOWFLAKE_SHOW_KINDS)}, GRANTS)")
    parts.append(kind)
    if t.accept("HISTORY"):
        parts.append("HISTORY")
    if t.accept("LIKE"):
        parts += ["LIKE", t.string()]
    if t.accept("IN"):
        parts += ["IN", *_scope(t)]
    if t.accept("STARTS", "WITH"):
        parts += ["STARTS WITH", t.string()]
    if t.accept("LIMIT"):
        parts += ["LIMIT", t.number()]
        if t.accept("FROM"):
            parts += ["FROM", t.string()]
    t.finish(f"SHOW {kind}")
    return _command(parts)


def _scope(t: _Tokens) -> list[str]:
    scope = t.choice(_SCOPES)
    if scope == "ACCOUNT":
        return ["ACCOUNT"]
    if scope is not None:
        return [scope, t.name()] if t.at_name() else [scope]
    return [t.name()]  # IN <database> or IN <database>.<schema>


def _grants_target(t: _Tokens) -> list[str]:
    if t.peek() is None:
        return []
    if t.accept("ON", "ACCOUNT"):
        return ["ON ACCOUNT"]
    if t.accept("ON"):
        kind = t.choice(_GRANT_OBJECTS)
        if kind is None:
            raise Refusal("SHOW GRANTS ON takes an object kind and name")
        return ["ON", kind, t.name()]
    for lead in ("TO", "OF"):
        if t.accept(lead):
            who = t.choice(("ROLE", "DATABASE ROLE", "USER", "SHARE", "APPLICATION ROLE"))
            if who is None:
                raise Refusal(f"SHOW GRANTS {lead} takes ROLE, DATABASE ROLE, USER, SHARE or APPLICATION ROLE")
            return [lead, who, t.name()]
    raise Refusal("SHOW GRANTS takes ON ..., TO ... or OF ...")


def parse_snowflake_describe(tokens: list[Token]) -> exp.Command:
    t = _Tokens(tokens, "snowflake")
    if not (t.accept("DESCRIBE") or t.accept("DESC")):
        raise Refusal("expected DESCRIBE")
    kind = t.choice(SNOWFLAKE_DESCRIBE_KINDS)
    if kind is None:
        raise Refusal(f"DESCRIBE {t.word() or ''} is not an allowed DESCRIBE form "
                      f"(allowed: {', '.join(SNOWFLAKE_DESCRIBE_KINDS)})")
    parts = ["DESCRIBE", kind, t.name()]
    if kind == "TABLE" and t.accept("TYPE"):
        if not t.accept("="):
            raise Refusal("DESCRIBE TABLE ... TYPE = COLUMNS|STAGE")
        option = t.choice(("COLUMNS", "STAGE"))
        if option is None:
            raise Refusal("DESCRIBE TABLE ... TYPE = COLUMNS|STAGE")
        parts += ["TYPE =", option]
    t.finish(f"DESCRIBE {kind}")
    return _command(parts)


def parse_duckdb_show(tokens: list[Token]) -> exp.Command:
    """DuckDB: SHOW DATABASES | SHOW SCHEMAS | SHOW [ALL] TABLES [FROM name] | SHOW [TABLE] name."""
    t = _Tokens(tokens, "duckdb")
    t.accept("SHOW")
    if t.accept("DATABASES"):
        parts = ["SHOW DATABASES"]
    elif t.accept("SCHEMAS"):
        parts = ["SHOW SCHEMAS"]
    elif t.accept("ALL", "TABLES"):
        parts = ["SHOW ALL TABLES"]
    elif t.accept("TABLES"):
        parts = ["SHOW TABLES"]
        if t.accept("FROM") or t.accept("IN"):
            parts += ["FROM", t.name(2)]
    else:
        t.accept("TABLE")
        parts = ["DESCRIBE", t.name()]
    t.finish("SHOW")
    return _command(parts)


def explain_prefix(rest: list[Token], dialect: str) -> tuple[str, int]:
    """The EXPLAIN clause (re-rendered) and the index, in `rest` (the tokens after EXPLAIN), where
    the explained statement starts."""
    t = _Tokens(rest, dialect)
    if t.word() == "ANALYZE":
        raise Refusal("EXPLAIN ANALYZE executes its statement; use EXPLAIN")
    prefix = "EXPLAIN"
    if dialect == "snowflake" and t.accept("USING"):
        form = t.choice(("TEXT", "JSON", "TABULAR"))
        if form is None:
            raise Refusal("EXPLAIN USING takes TEXT, JSON or TABULAR")
        prefix += f" USING {form}"
    return prefix, t.i


def _command(parts: list[str]) -> exp.Command:
    keyword, _, rest = " ".join(parts).partition(" ")
    return exp.Command(this=keyword, expression=exp.Literal.string(rest)) if rest else exp.Command(this=keyword)

