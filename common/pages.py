"""Next pages of results that were cut, so a model pages instead of asking for huge `max_rows`.

A result cut by its row or byte cap carries `next_page`; `get_query_result(next_page)` returns the
following rows (`max_rows` of them, within the same budget) and, while more remain, a token again.
A page runs the statement again with the rows before it skipped by the collector (so the page
holds exactly the rows the statement returns there), at most `MAX_SKIPPED_ROWS` deep.

A token is `p_<id>.<offset>`: the id names the statement kept here (in this process, for the
session that ran it, LRU-bounded); the offset is where the page starts. A page is refused when
the data changed since the first page (DuckDB: the file's signature), since its rows would not
follow on from the ones already read. Pages of a statement without ORDER BY follow the
warehouse's order, which a re-run need not repeat for every plan: the note says so.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache

from snowmcp.common.errors import InvalidArgument, NotFound

MAX_SKIPPED_ROWS = 1_000_000
TOKEN_PREFIX = "p_"


@dataclass(frozen=True)
class PagedStatement:
    """What running a page again needs; `statement` is the guarded or built statement, uncapped."""

    statement: Any
    tool: str
    owner: str | None
    params: tuple[Any, ...]
    max_rows: int
    timeout_s: float
    data_version: Any
    ordered: bool


@dataclass(frozen=True)
class Page:
    paged: PagedStatement
    offset: int


class Pages:
    """The statements whose results were cut, by id."""

    def __init__(self, max_statements: int = 1_000) -> None:
        self._statements: LRUCache[str, PagedStatement] = LRUCache(maxsize=max_statements)

    def token(self, paged: PagedStatement, offset: int, known_id: str | None = None) -> str | None:
        """The token of the page starting at `offset`, or None past the deepest page served."""
        if offset > MAX_SKIPPED_ROWS:
            return None
        page_id = known_id or secrets.token_urlsafe(9)
        self._statements[page_id] = paged
        return f"{TOKEN_PREFIX}{page_id}.{offset}"

    def find(self, token: str, owner: str | None) -> tuple[str, Page]:
        """The page a token names (raises NotFound for an unknown, foreign or forgotten one)."""
        body = token[len(TOKEN_PREFIX):] if token.startswith(TOKEN_PREFIX) else ""
        page_id, _, offset_text = body.rpartition(".")
        if not page_id or not offset_text.isdigit() or int(offset_text) > MAX_SKIPPED_ROWS:
            raise InvalidArgument(f"not a next_page token: {token[:40]!r}")
        paged = self._statements.get(page_id)
        if paged is None or paged.owner != owner:
            raise NotFound(f"unknown next_page token {token[:40]!r}",
                           hint="Page tokens last while the server runs (the most recent 1000 results); "
                                "run the query again.")
        return page_id, Page(paged, int(offset_text))


def is_page_token(text: str) -> bool:
    return text.startswith(TOKEN_PREFIX)


def is_ordered(statement: Any) -> bool:
    """True when the statement's outermost query has an ORDER BY (pages then follow a fixed order)."""
    from sqlglot import exp

    expression = getattr(statement, "expression", statement)
    return isinstance(expression, exp.Expression) and expression.args.get("order") is not None


def page_note(truncated_by: str | None, next_page: str | None, ordered: bool, *, budget_tokens: int) -> str | None:
    """What a cut result tells the model about getting the rest."""
    if truncated_by is None:
        return None
    cause = {"max_rows": "max_rows", "max_bytes": f"the {budget_tokens}-token result budget",
             "max_cell_bytes": "the per-cell cap (long values were shortened)"}[truncated_by]
    advice = "Aggregate or filter in SQL to see everything at once"
    if next_page is not None:
        advice += ", or pass next_page to get_query_result for the following rows"
        if not ordered:
            advice += " (add ORDER BY so pages follow a fixed order)"
    return f"Cut by {cause}. {advice}."


def params_tuple(params: Sequence[Any] | None) -> tuple[Any, ...]:
    return tuple(params or ())
