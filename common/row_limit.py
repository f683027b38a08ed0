"""Push the row cap into the statement, so the warehouse stops early.

A capped read fetches `max_rows + 1` rows (the extra row tells `truncated`).
Adding that as a LIMIT to the outermost query lets DuckDB or Snowflake stop
scanning there instead of producing a million rows we never fetch. ORDER BY
still applies before the LIMIT, so the rows returned are exactly those the
statement would have returned first.

The cap only ever narrows what the statement itself asks for: a smaller
literal LIMIT is kept, OFFSET keeps its place, and a limit we cannot compare
(LIMIT ... PERCENT, WITH TIES, an expression, FETCH FIRST) is left untouched —
the fetch still stops at the cap, and `truncated` says so. An aggregate query
without GROUP BY (one row) is left as it is. Statements that are not plain queries (SHOW, DESCRIBE, EXPLAIN, SUMMARIZE, PIVOT) are left as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def capped(statement: exp.Expression, limit: int) -> exp.Expression:
    """`statement` with its outermost LIMIT at most `limit` (a copy when it changes; never in place)."""
    from sqlglot import exp  # lazily: server start-up must not pay for sqlglot

    if not isinstance(statement, (exp.Select, exp.SetOperation)) or _one_row(statement):
        return statement
    current = statement.args.get("limit")
    if isinstance(current, exp.Fetch):
        return statement
    if current is not None:
        value = current.expression
        options = current.args.get("limit_options")
        if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
            return statement
        if not (isinstance(value, exp.Literal) and value.is_int) or int(value.name) <= limit:
            return statement
    return statement.limit(limit)  # copies


def _one_row(statement: exp.Expression) -> bool:
    """An aggregate SELECT without GROUP BY returns exactly one row (none with HAVING): no cap needed."""
    from sqlglot import exp

    return (isinstance(statement, exp.Select) and not statement.args.get("group")
            and bool(statement.expressions)
            and all(isinstance(e.unalias(), exp.AggFunc) for e in statement.expressions))


def with_row_limit(sql: str, dialect: str, limit: int) -> str:
    """For SQL text we built ourselves and kept as text: parsed, capped and rendered once.
    Text sqlglot cannot read is sent as it is (uncapped; the fetch still stops at the cap)."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        statement = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql
    return capped(statement, limit).sql(dialect=dialect)
