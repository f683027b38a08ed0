"""Push the row cap into the statement, so the warehouse stops early.

A capped read fetches `max_rows + 1` rows (the extra row tells `truncated`).
Adding that as a LIMIT to the outermost query lets DuckDB or Snowflake stop
scanning there instead of producing a million rows we never fetch. An existing
smaller LIMIT is kept; ORDER BY still applies before the LIMIT, so the rows
returned are exactly those the statement would have returned first.
Statements that are not plain queries (SHOW, DESCRIBE, EXPLAIN, SUMMARIZE) and
LIMITs we cannot read (an expression, FETCH FIRST) are left as they are.
"""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1024)
def with_row_limit(sql: str, dialect: str, limit: int) -> str:
    """`sql` (one guarded statement) with its outermost LIMIT at most `limit`."""
    import sqlglot  # lazily: server start-up must not pay for it
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        statement = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return sql
    if not isinstance(statement, (exp.Select, exp.SetOperation)) or statement.args.get("fetch"):
        return sql
    current = statement.args.get("limit")
    if current is not None:
        value = current.expression
        if not (isinstance(value, exp.Literal) and value.is_int) or int(value.name) <= limit:
            return sql
    return statement.limit(limit, copy=False).sql(dialect=dialect)
