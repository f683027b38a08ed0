"""Table names from callers: parse strictly, complete from the session, quote always.

Callers write `DB.SCHEMA.TABLE`, `SCHEMA.TABLE` or `TABLE`; any part may be
double-quoted (`"My Table"`, with `""` for a quote inside). Unquoted parts must
be plain identifiers and are case-normalized as the warehouse does it
(Snowflake: upper case; DuckDB is case-insensitive and keeps them as written).
Anything else is refused with a message naming the problem: a table name is
never spliced into SQL, it becomes a quoted sqlglot identifier.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from snowmcp.common.errors import InvalidArgument, NotFound
from snowmcp.common.warehouse.base import TableDescription, TableRef, Warehouse

if TYPE_CHECKING:  # sqlglot is imported lazily: it costs start-up time
    from sqlglot import exp

_PART = re.compile(r'\s*(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))\s*')
_MAX_NAME = 1_000
_UPPERCASE_DIALECTS = {"snowflake", "oracle"}


def parse_table_name(text: str, dialect: str) -> list[str]:
    """Split a dotted table name into 1-3 normalized parts, or raise InvalidArgument."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("table name is empty", hint="Pass DATABASE.SCHEMA.TABLE, e.g. ANALYTICS.SALES.ORDERS.")
    if len(text) > _MAX_NAME or "\x00" in text:
        raise InvalidArgument("table name is too long or holds a NUL character")
    parts: list[str] = []
    pos = 0
    while True:
        match = _PART.match(text, pos)
        if match is None:
            raise InvalidArgument(
                f"invalid table name {text!r} at character {pos + 1}",
                hint='Use DATABASE.SCHEMA.TABLE; quote unusual names with double quotes, e.g. "My Table".',
            )
        quoted, plain = match.groups()
        if quoted is not None:
            parts.append(quoted.replace('""', '"'))
        else:
            parts.append(plain.upper() if dialect in _UPPERCASE_DIALECTS else plain)
        pos = match.end()
        if pos == len(text):
            break
        if text[pos] != ".":
            raise InvalidArgument(
                f"invalid table name {text!r}: unexpected {text[pos]!r} at character {pos + 1}",
                hint='Quote names with spaces or symbols in double quotes, e.g. "My Table".',
            )
        pos += 1
    if len(parts) > 3:
        raise InvalidArgument(f"table name {text!r} has {len(parts)} parts; at most DATABASE.SCHEMA.TABLE")
    return parts


async def resolve_table(warehouse: Warehouse, text: str) -> TableDescription:
    """Find the table a caller named, and describe it (raises NotFound when missing).

    A bare `TABLE` is looked up in every schema of the current database and
    must be unambiguous; `SCHEMA.TABLE` uses the current database.
    """
    parts = parse_table_name(text, warehouse.dialect)
    if len(parts) == 3:
        ref = TableRef(*parts)
    else:
        database, schema = await warehouse.current_location()
        if database is None:
            raise InvalidArgument(f"{text!r} needs a database: pass DATABASE.SCHEMA.TABLE")
        if len(parts) == 2:
            ref = TableRef(database, parts[0], parts[1])
        else:
            ref = await _find_unique(warehouse, database, parts[0])
    return await warehouse.describe_table(ref)


async def _find_unique(warehouse: Warehouse, database: str, name: str) -> TableRef:
    candidates = [
        t for t in await warehouse.list_tables(database, None, None)
        if t.name == name or (warehouse.dialect == "duckdb" and t.name.lower() == name.lower())
    ]
    if not candidates:
        raise NotFound(f"no table or view named {name} in database {database}")
    if len(candidates) > 1:
        names = ", ".join(f"{t.schema_}.{t.name}" for t in candidates)
        raise InvalidArgument(f"table name {name} is ambiguous in {database}: {names}", hint="Qualify it with its schema.")
    found = candidates[0]
    return TableRef(found.database, found.schema_, found.name)


def table_expression(ref: TableRef) -> exp.Table:
    """The sqlglot node for a table, every part quoted."""
    from sqlglot import exp

    return exp.table_(ref.name, db=ref.schema, catalog=ref.database, quoted=True)

