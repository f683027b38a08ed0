"""The per-cell cap: one value in a result may take at most `max_cell_bytes`.

A longer string is replaced by its prefix (cut at a character boundary); an
oversized binary value or nested value (list, map, struct, variant) is
replaced by null. Either way the cell is reported (`CutCell`), so a cut
value is never passed off as the real one.

Backends that can cap cells inside the statement (DuckDB) hand the collector
a `Cut` holding what is left and the original size; any other value is
checked here after the fetch, walking nested values only as far as the
budget (a list of ten million numbers costs one `len`, not a serialisation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

_CHUNK = 1 << 20  # characters measured at a time when a long non-ASCII string is sized


@dataclass(slots=True)
class Cut:
    """A value already cut by the warehouse: what is left (`shown`) and the original size."""

    shown: Any
    bytes: int


class CutCell(BaseModel):
    """One cell the per-cell cap cut."""

    row: int = Field(description="Row index in `rows` (0-based).")
    column: str = Field(description="Column name.")
    bytes: int = Field(description="The cell's original size in bytes (a lower bound for nested values).")


def utf8_length(text: str) -> int:
    """Bytes of `text` as UTF-8, without encoding a long string in one piece."""
    if text.isascii():
        return len(text)
    return sum(len(text[i : i + _CHUNK].encode("utf-8", "surrogatepass")) for i in range(0, len(text), _CHUNK))


def prefix(text: str, budget: int) -> str:
    """The longest prefix of `text` that takes at most `budget` UTF-8 bytes."""
    head = text[:budget].encode("utf-8", "surrogatepass")[:budget]
    return head.decode("utf-8", "ignore")


def cut_if_oversized(value: Any, budget: int) -> Cut | None:
    """A `Cut` when `value` takes more than `budget` bytes, else None (the value stays)."""
    if isinstance(value, Cut):
        shown = prefix(value.shown, budget) if isinstance(value.shown, str) else None
        return Cut(shown, value.bytes)
    if isinstance(value, str):
        if len(value) * 4 <= budget:  # cannot be over, whatever its characters
            return None
        size = utf8_length(value)
        return Cut(prefix(value, budget), size) if size > budget else None
    if isinstance(value, (bytes, bytearray, memoryview)):
        size = len(value) if not isinstance(value, memoryview) else value.nbytes
        return Cut(None, size) if (size + 2) // 3 * 4 > budget else None  # base64 in the result
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        size = nested_size(value, budget)
        return Cut(None, size) if size > budget else None
    return None


def nested_size(value: Any, budget: int) -> int:
    """Approximate JSON bytes of a nested value; stops counting once past `budget`.

    Past the budget the number returned is a lower bound of the real size."""
    total = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if 2 * len(item) > budget:
                return total + 6 * len(item)
            total += 2 + 2 * len(item)
            for key, inner in item.items():
                total += len(str(key)) + 2
                stack.append(inner)
        elif isinstance(item, (list, tuple, set, frozenset)):
            if 2 * len(item) > budget:
                return total + 2 * len(item) + 1
            total += 1 + len(item)
            stack.extend(item)
        elif isinstance(item, str):
            total += (utf8_length(item) if len(item) * 4 > budget else len(item)) + 2
        elif isinstance(item, (bytes, bytearray)):
            total += (len(item) + 2) // 3 * 4 + 2
        else:
            total += 8  # numbers, dates, null: small
        if total > budget:
            return total
    return total
