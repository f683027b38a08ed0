"""sqlglot dialects the guard parses with: sqlglot's own, with the readings that change meaning fixed.

What runs is what the guard rendered, so a parse that changes a statement's
meaning is a wrong answer. Each fix here is pinned by the differential test
(tests/common/test_guard_differential.py), which runs every benign guard case
on DuckDB as written and as rendered:

- DuckDB's `a ~ 'b'` is a partial regex match (`regexp_matches`); sqlglot reads
  it as a full match.
- `(SHOW TABLES)`, `(DESCRIBE t)` and `(SUMMARIZE t)` in FROM are statements in
  DuckDB; sqlglot reads `SHOW` there as a table name.
- DuckDB's `PIVOT ... GROUP BY ... ORDER BY/LIMIT` is read as
  `SELECT * FROM (PIVOT ...) ORDER BY/LIMIT`, which is what DuckDB means by it.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.parser import binary_range_parser
from sqlglot.tokens import TokenType

_NESTED_STATEMENTS = {"SHOW", "DESCRIBE", "DESC", "SUMMARIZE"}
_MODIFIERS = {TokenType.ORDER_BY, TokenType.LIMIT, TokenType.OFFSET}


class GuardDuckDB(DuckDB):
    class Parser(DuckDB.Parser):
        RANGE_PARSERS = {
            **DuckDB.Parser.RANGE_PARSERS,
            TokenType.TILDE: binary_range_parser(exp.RegexpLike),
        }

        def _parse_wrapped_select(self, table: bool = False) -> Any:
            if table and self._curr is not None and self._curr.text.upper() in _NESTED_STATEMENTS:
                return self._parse_statement()
            return super()._parse_wrapped_select(table=table)

        def _parse_simplified_pivot(self, is_unpivot: bool | None = None) -> Any:
            pivot = super()._parse_simplified_pivot(is_unpivot=is_unpivot)
            if self._curr is not None and self._curr.token_type in _MODIFIERS:
                return self._parse_query_modifiers(exp.select("*").from_(exp.Subquery(this=pivot)))
            return pivot


def read_dialect(dialect: str) -> Any:
    """What to parse `dialect` with (a dialect class or sqlglot's name for it)."""
    return GuardDuckDB if dialect == "duckdb" else dialect
