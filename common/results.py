"""Query results: JSON-safe values, row and byte caps, and the result model.

Backends fetch rows in batches and feed them to a `RowCollector`, which turns
each value into something JSON can carry faithfully and stops once either cap
is reached. It is told one row more than the cap allows, so `truncated` is
known rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

import pydantic_core
from pydantic import BaseModel, Field, PrivateAttr, WithJsonSchema

from snowmcp.common.result_cells import CutCell, cut_if_oversized
from snowmcp.common.result_values import BOUNDED, MAX_SAFE_INT, NUMBERS, Flag, converted, json_safe

__all__ = ["CapName", "ColumnInfo", "QueryResult", "RowCollector", "inlined", "json_safe", "json_size"]

_SCALARS = frozenset({bool, type(None)})  # already JSON and small: skip the converter call
_FIRST_BATCH = 8  # rows fetched before anything is known about their size
_MAX_BATCH = 1_000


def json_size(value: Any) -> int:
    """Bytes a value takes as compact UTF-8 JSON (the unit of the byte cap)."""
    return len(pydantic_core.to_json(value))


CapName = Literal["max_rows", "max_bytes", "max_cell_bytes"]


class RowCollector:
    """Accumulates converted rows until the row cap or the byte cap is hit.

    `add_batch` returns False once it needs no more rows, so a backend can stop
    fetching (and a cursor over a million rows is never drained). Memory is
    bounded while fetching: `fetch_size` starts small and follows the bytes
    seen per row and the budget left, so a batch of wide rows stays near the
    budget; a cell over `max_cell_bytes` is cut and listed in `cut_cells`
    (row index, column index, original bytes).
    """

    def __init__(self, *, max_rows: int, max_bytes: int, max_cell_bytes: int | None = None, skip: int = 0) -> None:
        self.max_rows = max_rows
        self.skip = skip  # rows dropped unseen before the first kept one (a next page, `common.pages`)
        self.max_bytes = max_bytes
        self.max_cell_bytes = min(max_cell_bytes or max_bytes, max_bytes)
        self.rows: list[list[Any]] = []
        self.bytes = 0
        self.truncated_by: Literal["max_rows", "max_bytes"] | None = None
        self.cut_cells: list[tuple[int, int, int]] = []
        self._seen_bytes = 0  # bytes of the rows kept, counting cut cells at their original size
        self._short = self.max_cell_bytes // 4  # a string this long (characters) is never over the cell cap
        self.numbers_as_strings: set[int] = set()  # columns where a number became a string (result_values)

    @property
    def fetch_size(self) -> int:
        """Rows worth fetching next: what the byte budget left can hold (8 to 1000), within
        the remainder of the row cap plus one probe row."""
        if self.skip:
            return min(_MAX_BATCH, self.skip + _FIRST_BATCH)
        rows_left = self.max_rows + 1 - len(self.rows)
        if not self.rows:
            wanted = _FIRST_BATCH
        else:
            per_row = max(1.0, self._seen_bytes / len(self.rows))
            wanted = int((self.max_bytes - self.bytes) / per_row) + 1
        return max(1, min(_MAX_BATCH, rows_left, wanted))

    def add_batch(self, batch: Sequence[Sequence[Any]]) -> bool:
        if self.skip:
            skipped = min(self.skip, len(batch))
            self.skip -= skipped
            batch = batch[skipped:]
            if not batch:
                return skipped > 0  # an empty batch is the end of the result
        room = self.max_rows - len(self.rows)
        short, cuts = self._short, []
        rows = []
        bounded, safe = BOUNDED, MAX_SAFE_INT
        for index, raw in enumerate(batch[:room]):
            rows.append([  # the common values inline; the rest (big or odd numbers, long or nested values) in _cell
                v if (t := type(v)) in _SCALARS or (t is int and -safe <= v <= safe) or (t is str and len(v) <= short)
                or (t is float and v - v == 0.0)
                else bounded[t](v) if t in bounded else self._cell(v, index, col, cuts)
                for col, v in enumerate(raw)
            ])
        size = json_size(rows) - 1 - len(rows)  # brackets and commas between rows don't count
        if self.bytes + size > self.max_bytes:  # rare: find the last row that fits
            total, fits = self.bytes, 0
            for row in rows:
                row_size = json_size(row)
                if total + row_size > self.max_bytes:
                    self.truncated_by = "max_bytes"
                    break
                total, fits = total + row_size, fits + 1
            rows, size = rows[:fits], total - self.bytes
        self._keep(rows, max(size, 0), cuts)
        if self.truncated_by == "max_bytes":
            return False
        if len(batch) > room:
            self.truncated_by = "max_rows"
            return False
        return True

    @property
    def truncation(self) -> CapName | None:
        """The cap that cut this result: a row or byte cap first, else the cell cap."""
        if self.truncated_by is not None:
            return self.truncated_by
        return "max_cell_bytes" if self.cut_cells else None

    def _cell(self, value: Any, index: int, col: int, cuts: list[tuple[int, int, int]]) -> Any:
        number = NUMBERS.get(type(value))
        if number is not None:  # a decimal, a big integer, NaN or an infinity
            out = number(value)
            if type(out) is str:
                self.numbers_as_strings.add(col)
            return out
        cut = cut_if_oversized(value, self.max_cell_bytes)
        if cut is None:
            flag = Flag()
            out = converted(value, flag)
            if flag.set:
                self.numbers_as_strings.add(col)
            return out
        cuts.append((index, col, cut.bytes))
        return cut.shown

    def _keep(self, rows: list[list[Any]], size: int, cuts: list[tuple[int, int, int]]) -> None:
        """Append `rows` (their JSON bytes: `size`) and record the cut cells of the rows kept."""
        start = len(self.rows)
        self.rows += rows
        self.bytes += size
        self._seen_bytes += size
        for index, col, original in cuts:
            if index < len(rows):
                self.cut_cells.append((start + index, col, original))
                self._seen_bytes += original


_NUMBERS_AS_STRINGS = ("True when some values are numbers sent as strings, as JSON numbers would round them "
                       "(integers beyond ±2^53, long decimals, NaN, ±Infinity); the others stay numbers.")


class ColumnInfo(BaseModel):
    name: str
    type: str
    numbers_as_strings: bool = Field(False, exclude_if=lambda v: not v, description=_NUMBERS_AS_STRINGS)


def inlined(model: type[BaseModel]) -> WithJsonSchema:
    """A list of `model` with the item schema inlined instead of $ref'd (see QueryResult.columns)."""
    return WithJsonSchema({"type": "array", "items": model.model_json_schema()})


_COLUMNS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "type": {"type": "string"},
                       "numbers_as_strings": {"type": "boolean", "description": _NUMBERS_AS_STRINGS}},
        "required": ["name", "type"],
    },
}


_CUT_CELLS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"row": {"type": "integer"}, "column": {"type": "string"}, "bytes": {"type": "integer"}},
        "required": ["row", "column", "bytes"],
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
        description="Rows as lists of values, in column order. Exact JSON: big integers, long decimals, NaN, "
        "±Infinity as strings; dates and times ISO 8601 (or \"infinity\"); intervals ISO 8601 durations (P1M)."
    )
    row_count: int = Field(description="Rows returned here (not the full result size when truncated).")
    truncated: bool = Field(
        description="True when the statement produced more rows than returned, or a cell was cut."
    )
    truncated_by: CapName | None = Field(
        None, exclude_if=lambda v: v is None, description="Which cap cut the result, when truncated (a row or byte cap before the cell cap)."
    )
    cut_cells: Annotated[list[CutCell], WithJsonSchema(_CUT_CELLS_SCHEMA)] = Field(
        default_factory=list, exclude_if=lambda v: not v,
        description="Cells longer than the per-cell cap: strings keep their prefix, other values become null.",
    )
    elapsed_ms: float = Field(description="Time in the warehouse and fetching, milliseconds.")
    cached: bool = Field(False, description="True when served from the result cache.")
    query_id: str | None = Field(None, exclude_if=lambda v: v is None,
                                 description="The warehouse's id for the statement, when it has one.")
    next_page: str | None = Field(None, exclude_if=lambda v: v is None,
                                  description="When cut: pass to get_query_result for the following rows.")
    note: str | None = Field(None, exclude_if=lambda v: v is None,
                             description="When cut: which limit, and how to get the rest.")

    _bytes: int = PrivateAttr(0)  # JSON bytes of `rows`, as counted by the collector

    @property
    def size_bytes(self) -> int:
        return self._bytes

    @classmethod
    def from_collector(
        cls, collector: RowCollector, *, columns: list[ColumnInfo], elapsed_ms: float, query_id: str | None
    ) -> QueryResult:
        if collector.numbers_as_strings:  # copies: a backend may keep its column list for the next statement
            columns = [c.model_copy(update={"numbers_as_strings": True}) if i in collector.numbers_as_strings else c
                       for i, c in enumerate(columns)]
        result = cls(
            columns=columns,
            rows=collector.rows,
            row_count=len(collector.rows),
            truncated=collector.truncation is not None,
            truncated_by=collector.truncation,
            cut_cells=[CutCell(row=r, column=columns[c].name if c < len(columns) else str(c), bytes=b)
                       for r, c, b in collector.cut_cells],
            elapsed_ms=round(elapsed_ms, 3),
            query_id=query_id,
        )
        result._bytes = collector.bytes
        return result
