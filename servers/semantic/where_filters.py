"""`where` filters in MetricFlow's syntax, guarded before MetricFlow sees them.

A filter is SQL with Jinja references: `{{ Dimension('customer__country') }} = 'DE'`,
`{{ TimeDimension('metric_time', 'month') }} >= '2026-01-01'`, `{{ Entity('customer') }}`,
`{{ Metric('revenue', group_by=['customer']) }} > 100`. Checked by allow-list:

- every `{{ ... }}` must be one of those four calls with quoted names (and optional
  `.grain('month')` / `.date_part('year')`), nothing else; `{% %}` and `{# #}` are refused;
- the SQL around them, with each reference replaced by a placeholder column, must pass
  the server's guard as one boolean condition (pure functions, no statement);
- it may hold no column but the references, no subquery and no `*`: a filter
  narrows the metric's own rows, it does not read other tables.

The compiled statement is guarded again as a whole by the runtime before it runs.
"""

from __future__ import annotations

import re

from sqlglot import exp

from snowmcp.common.errors import InvalidArgument, SqlRefused
from snowmcp.common.guard import Guard

MAX_FILTERS = 20
MAX_FILTER_CHARS = 2_000
_NAME = r"""\s*(?:'[A-Za-z_][A-Za-z0-9_]*'|"[A-Za-z_][A-Za-z0-9_]*")\s*"""
_LIST = rf"\[(?:{_NAME}(?:,{_NAME})*)?\]"
_ARGUMENT = rf"(?:{_NAME}|\s*(?:group_by|entity_path)\s*=\s*{_LIST}\s*)"
_CALL = re.compile(
    rf"\{{\{{\s*(?:Dimension|TimeDimension|Entity|Metric)\({_ARGUMENT}(?:,{_ARGUMENT})*\)"
    rf"(?:\.(?:grain|date_part)\({_NAME}\))*\s*\}}\}}")
_JINJA = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_PLACEHOLDER = "snowmcp_ref_{}"
_HINT = "Write e.g. {{ Dimension('customer__country') }} = 'DE'; get_dimensions lists the names."


def check_where(filters: list[str], guard: Guard) -> tuple[str, ...]:
    """The filters, unchanged, once each passed the checks above; else `InvalidArgument`/`SqlRefused`."""
    if len(filters) > MAX_FILTERS:
        raise InvalidArgument(f"{len(filters)} where filters; the limit is {MAX_FILTERS}")
    for text in filters:
        _check_one(text, guard)
    return tuple(filters)


def _check_one(text: str, guard: Guard) -> None:
    if not text.strip():
        raise InvalidArgument("a where filter is empty", hint=_HINT)
    if len(text) > MAX_FILTER_CHARS:
        raise InvalidArgument(f"a where filter is {len(text):,} characters; the limit is {MAX_FILTER_CHARS:,}")
    count = 0

    def placeholder(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return _PLACEHOLDER.format(count)

    sql = _CALL.sub(placeholder, text)
    stray = _JINJA.search(sql)
    if stray:
        raise InvalidArgument(f"where filter {text[:120]!r}: only {{{{ Dimension('...') }}}}, TimeDimension, Entity "
                              "and Metric references are allowed in braces", hint=_HINT)
    if count == 0:
        raise InvalidArgument(f"where filter {text[:120]!r} references no dimension, entity or metric",
                              hint=_HINT)
    try:
        condition = guard.condition(sql)
    except SqlRefused as refused:
        raise SqlRefused(f"where filter refused: {refused}", hint=_HINT) from None
    names = {_PLACEHOLDER.format(i + 1) for i in range(count)}
    for node in condition.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Star, exp.Table)):
            raise SqlRefused(f"where filter {text[:120]!r}: a filter may not hold a subquery or a table",
                             hint=_HINT)
        if isinstance(node, exp.Column) and (node.table or node.name.lower() not in names):
            raise InvalidArgument(f"where filter {text[:120]!r}: the column {node.sql()[:60]} is not a reference; "
                                  "name dimensions as {{ Dimension('entity__dimension') }}", hint=_HINT)
