"""Query results: JSON-safe values, row and byte caps, and the result model.

Backends fetch rows in batches and feed them to a `RowCollector`, which turns
each value into something JSON can carry faithfully and stops once either cap
is reached. It is told one row more than the cap allows, so `truncated` is
known rather than guessed.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import BaseModel, Field, PrivateAttr, WithJsonSchema

# Decimals with more significant digits than a double holds exactly travel as strings.
_MAX_EXACT_DIGITS = 15


def json_safe(value: Any) -> Any:
    """Return `value` as a JSON-serializable Python value without losing meaning.

    Decimals become numbers when a double holds them exactly, else strings;
    temporal values become ISO 8601 strings (timestamps keep their zone);
    intervals become ISO 8601 durations; binary becomes base64; NaN and
    infinities become strings; nested lists and dicts (DuckDB LIST/STRUCT/MAP,
    Snowflake ARRAY/OBJECT) are converted inside.
    """
    convert = _CONVERTERS.get(type(value))
    if convert is not None:
        return convert(value)
    for kind, convert in _CONVERTERS.items():  # subclasses (e.g. a str enum)
        if isinstance(value, kind):
            return convert(value)
    return str(value)


def _same(value: Any) -> Any:
    return value


def _float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _mapping(value: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): json_safe(v) for k, v in value.items()}


def _sequence(value: Any) -> list[Any]:
    return [json_safe(v) for v in value]


def _binary(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def _decimal(value: decimal.Decimal) -> int | float | str:
    if not value.is_finite():
        return str(value)
    digits = len(value.as_tuple().digits)
    if digits > _MAX_EXACT_DIGITS:
        return str(value)
    if value == value.to_integral_value() and value.as_tuple().exponent >= 0:
        return int(value)
    return float(value)


def _duration(value: dt.timedelta) -> str:
    """ISO 8601 duration, e.g. P1DT2H3M4.5S (negative: -P...)."""
    total = value.total_seconds()
    sign, total = ("-" if total < 0 else ""), abs(total)
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    out = f"{sign}P{int(days)}D" if days else f"{sign}P"
    out += f"T{int(hours)}H{int(minutes)}M{seconds:g}S"
    return out


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    type(None): _same, bool: _same, int: _same, str: _same,
    float: _float,
    decimal.Decimal: _decimal,
    dt.datetime: dt.datetime.isoformat, dt.date: dt.date.isoformat, dt.time: dt.time.isoformat,
    dt.timedelta: _duration,
    bytes: _binary, bytearray: _binary, memoryview: _binary,
    uuid.UUID: str,
    dict: _mapping,
    list: _sequence, tuple: _sequence, set: _sequence, frozenset: _sequence,
}


_PLAIN = frozenset({int, str, bool, type(None)})  # already JSON: skip the converter call


def json_size(value: Any) -> int:
    """Bytes a value takes as compact UTF-8 JSON (the unit of the byte cap)."""
    return len(pydantic_core.to_json(value))


class RowCollector:
    """Accumulates converted rows until the row cap or the byte cap is hit.

    `add_batch` returns False once it needs no more rows, so a backend can stop
    fetching (and a cursor over a million rows is never drained).
    """

    def __init__(self, *, max_rows: int, max_bytes: int) -> None:
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.rows: list[list[Any]] = []
        self.bytes = 0
        self.truncated_by: Literal["max_rows", "max_bytes"] | None = None

    @property
    def fetch_size(self) -> int:
        """Rows worth fetching next: the remainder of the cap plus one probe row."""
        return max(1, min(1_000, self.max_rows + 1 - len(self.rows)))

    def add_batch(self, batch: Sequence[Sequence[Any]]) -> bool:
        room = self.max_rows - len(self.rows)
        rows = [[v if type(v) in _PLAIN else json_safe(v) for v in raw] for raw in batch[:room]]
        size = json_size(rows) - 1 - len(rows)  # brackets and commas between rows don't count
        if self.bytes + size <= self.max_bytes:  # the usual case: one size check per batch
            self.rows += rows
            self.bytes += max(size, 0)
        else:
            for row in rows:
                row_size = json_size(row)
                if self.bytes + row_size > self.max_bytes:
                    self.truncated_by = "max_bytes"
                    return False
                self.rows.append(row)
                self.bytes += row_size
        if len(batch) > room:
            self.truncated_by = "max_rows"
            return False
        return True


class ColumnInfo(BaseModel):
    name: str
    type: str


def inlined(model: type[BaseModel]) -> WithJsonSchema:
    """A list of `model` with the item schema inlined instead of $ref'd (see QueryResult.columns)."""
    return WithJsonSchema({"type": "array", "items": model.model_json_schema()})


_COLUMNS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "type": {"type": "string"}},
        "required": ["name", "type"],
    },
}


class QueryResult(BaseModel):
    """Rows of one statement, capped; `truncated` says honestly whether more existed."""

    # Schemas inlined rather than $ref'd: clients validate every result, and the Python SDK's
    # jsonschema resolves a $ref per column (2.6 ms a call for 11 columns).
    columns: Annotated[list[ColumnInfo], WithJsonSchema(_COLUMNS_SCHEMA)] = Field(
        description="Column names and warehouse types, in order."
    )
    rows: Annotated[list[list[Any]], WithJsonSchema({"type": "array"})] = Field(
        description="Rows as lists of values, in column order; JSON-safe values."
    )
    row_count: int = Field(description="Rows returned here (not the full result size when truncated).")
    truncated: bool = Field(description="True when the statement produced more rows than returned.")
    truncated_by: Literal["max_rows", "max_bytes"] | None = Field(
        None, description="Which cap cut the result, when truncated."
    )
    elapsed_ms: float = Field(description="Time in the warehouse and fetching, milliseconds.")
    cached: bool = Field(False, description="True when served from the result cache.")
    query_id: str | None = Field(None, description="The warehouse's id for the statement, when it has one.")

    _bytes: int = PrivateAttr(0)  # JSON bytes of `rows`, as counted by the collector

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @classmethod
    def from_collector(
        cls, collector: RowCollector, *, columns: list[ColumnInfo], elapsed_ms: float, query_id: str | None
    ) -> QueryResult:
        result = cls(
            columns=columns,
            rows=collector.rows,
            row_count=len(collector.rows),
            truncated=collector.truncated_by is not None,
            truncated_by=collector.truncated_by,
            elapsed_ms=round(elapsed_ms, 3),
            query_id=query_id,
        )
        result._bytes = collector.bytes
        return result
