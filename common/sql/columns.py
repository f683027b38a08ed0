"""A table's columns as the SQL builders need them: resolved by name, classified by kind."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import TYPE_CHECKING

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.warehouse.base import ColumnDescription, TableDescription

if TYPE_CHECKING:
    from sqlglot import exp


class ColumnKind(str, Enum):
    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIME = "time"
    OTHER = "other"  # binary, semi-structured, nested


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    kind: ColumnKind

    @property
    def is_temporal(self) -> bool:
        return self.kind in (ColumnKind.DATE, ColumnKind.TIMESTAMP)


@lru_cache(maxsize=512)
def column_kind(type_name: str, dialect: str) -> ColumnKind:
    """Classify a warehouse type name (as the catalog reports it) with sqlglot's type groups."""
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        data_type = exp.DataType.build(type_name, dialect=dialect)
    except (ParseError, ValueError):
        return ColumnKind.OTHER
    kinds = exp.DataType.Type
    if data_type.is_type(*exp.DataType.NUMERIC_TYPES):
        return ColumnKind.NUMBER
    if data_type.is_type(*exp.DataType.TEXT_TYPES):
        return ColumnKind.TEXT
    if data_type.is_type(kinds.BOOLEAN):
        return ColumnKind.BOOLEAN
    if data_type.is_type(kinds.DATE, kinds.DATE32):
        return ColumnKind.DATE
    if data_type.is_type(kinds.TIME, kinds.TIMETZ):
        return ColumnKind.TIME
    if data_type.is_type(*exp.DataType.TEMPORAL_TYPES):
        return ColumnKind.TIMESTAMP
    return ColumnKind.OTHER


class TableColumns:
    """The columns of one described table, looked up the way users name them.

    An exact match wins; otherwise a case-insensitive match is accepted when it
    is unambiguous. An unknown name raises InvalidArgument listing the columns."""

    def __init__(self, description: TableDescription, dialect: str) -> None:
        self.table = str(description.ref)
        self.dialect = dialect
        self.all = [self._column(c) for c in description.columns]
        self._exact = {c.name: c for c in self.all}
        folded: dict[str, list[Column]] = {}
        for column in self.all:
            folded.setdefault(column.name.lower(), []).append(column)
        self._folded = folded

    def _column(self, description: ColumnDescription) -> Column:
        return Column(description.name, description.type, column_kind(description.type, self.dialect))

    def get(self, name: str, *, role: str = "column") -> Column:
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgument(f"{role} is empty", hint=f"Columns of {self.table}: {self._names()}.")
        if name in self._exact:
            return self._exact[name]
        matches = self._folded.get(name.lower(), [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"{role} {name!r} matches several columns of {self.table} that differ only in case",
                                  hint="Use the exact spelling.")
        raise InvalidArgument(f"{role} {name!r} is not a column of {self.table}",
                              hint=f"Columns: {self._names()}.")

    def get_many(self, names: list[str], *, role: str = "column") -> list[Column]:
        columns = [self.get(n, role=role) for n in names]
        seen: set[str] = set()
        for column in columns:
            if column.name in seen:
                raise InvalidArgument(f"{role} {column.name!r} is listed twice")
            seen.add(column.name)
        return columns

    def require(self, column: Column, kinds: tuple[ColumnKind, ...], purpose: str) -> Column:
        if column.kind not in kinds:
            wanted = " or ".join(k.value for k in kinds)
            raise InvalidArgument(
                f"{purpose} needs a {wanted} column; {column.name} is {column.type} ({column.kind.value})",
                hint=f"Suitable columns: {self._names(kinds)}.",
            )
        return column

    def _names(self, kinds: tuple[ColumnKind, ...] | None = None) -> str:
        names = [c.name for c in self.all if kinds is None or c.kind in kinds]
        shown = ", ".join(names[:60])
        return (shown + (f" (and {len(names) - 60} more)" if len(names) > 60 else "")) or "none"


def quoted(column: Column) -> exp.Column:
    """The column as a quoted sqlglot identifier: the only way a column name reaches SQL."""
    from sqlglot import exp

    return exp.column(column.name, quoted=True)


def non_finite(value: exp.Expression) -> exp.Expression:
    """True when a DOUBLE `value` is NaN or an infinity (NULL stays NULL), in both dialects.

    Both engines treat NaN as equal to itself, so an IN list of the three special values works
    where `isnan`/`isinf` do not exist (Snowflake)."""
    from sqlglot import exp

    specials = [exp.cast(exp.Literal.string(v), exp.DataType.Type.DOUBLE) for v in ("NaN", "inf", "-inf")]
    return exp.In(this=value, expressions=specials)
