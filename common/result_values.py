"""JSON-safe values: what a warehouse value becomes in a result, so every client reads it exactly.

The one place Python values are made JSON-safe, for every backend and every tool
(`RowCollector` calls it for each cell; nested values are converted inside):

- integers within ±(2^53 - 1) stay numbers; beyond, they are decimal strings (a
  JavaScript client would round them: 2^53 + 1 reads as 2^53). Decided per value,
  so a column whose values are all small stays numbers;
- decimals: an integral one follows the integer rule (DuckDB DECIMAL(38,0),
  Snowflake NUMBER(38,0) read as decimals); others are numbers when a double holds
  them exactly (15 significant digits always; more when the double's shortest text
  is the same number: 1.5000000000000000000 is 1.5), else strings
  ("12345678901234567.25");
- NaN and ±infinity (float or decimal) are the strings "NaN", "Infinity", "-Infinity"
  (what JavaScript's `Number()` and Python's `float()` read back; JSON has no NaN);
- dates, times and timestamps are ISO 8601 text (timestamps keep their zone);
  timedeltas are ISO 8601 durations ("P1DT2H", each part signed: "PT-1H-30M");
- binary is base64, UUIDs their text, anything else its `str()`.

A number sent as a string is reported (`Flag`), so the result's column can say so.
Warehouse values Python cannot hold exactly (DuckDB intervals with months, ±infinity
dates, nanoseconds) are turned into text inside the statement, before Python sees
them (`common.warehouse.duckdb_cells`).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from typing import Any

MAX_SAFE_INT = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER
_MAX_EXACT_DIGITS = 15  # significant digits a double always carries exactly (DBL_DIG)
_MAX_INTEGRAL_DIGITS = 40  # an integral decimal longer than this is left in its own notation


class Flag:
    """Set when a conversion sent a number as a string."""

    __slots__ = ("set",)

    def __init__(self) -> None:
        self.set = False


def json_safe(value: Any) -> Any:
    """`value` as a JSON-serializable Python value that keeps its meaning (the rules above)."""
    return converted(value, Flag())


def converted(value: Any, flag: Flag) -> Any:
    """`json_safe`, setting `flag` when a number, here or nested inside, became a string."""
    kind = type(value)
    number = NUMBERS.get(kind)
    if number is not None:
        out = number(value)
        if type(out) is str:
            flag.set = True
        return out
    other = _OTHERS.get(kind)
    if other is not None:
        return other(value)
    if kind is dict:
        return {_key(k): converted(v, flag) for k, v in value.items()}
    if kind in _SEQUENCES:
        return [converted(v, flag) for v in value]
    return _subclass(value, flag)


def _subclass(value: Any, flag: Flag) -> Any:
    """Values of a subclass (an IntEnum, a str enum, an OrderedDict, a pytz datetime...)."""
    if isinstance(value, bool):
        return value
    for kind, number in NUMBERS.items():
        if isinstance(value, kind):
            return converted(kind(value), flag)
    for kind, other in _OTHERS.items():
        if isinstance(value, kind):
            return other(value)
    if isinstance(value, dict):
        return {_key(k): converted(v, flag) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [converted(v, flag) for v in value]
    return str(value)


def _key(key: Any) -> str:
    return key if type(key) is str else str(json_safe(key))


def _int(value: int) -> int | str:
    return value if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else str(value)


def _float(value: float) -> float | str:
    if value - value == 0.0:  # finite (inf - inf and NaN - NaN are NaN)
        return value
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _decimal(value: decimal.Decimal) -> int | float | str:
    if not value.is_finite():
        return "NaN" if value.is_nan() else ("Infinity" if value > 0 else "-Infinity")
    _, digits, exponent = value.as_tuple()
    if exponent >= 0:  # type: ignore[operator]  # integral: the integer rule
        if len(digits) + exponent > _MAX_INTEGRAL_DIGITS:  # type: ignore[operator]
            return str(value)
        return _int(int(value))
    if len(digits) <= _MAX_EXACT_DIGITS and exponent >= -300:  # type: ignore[operator]
        return float(value)
    number = float(value)  # longer: a number only if the double's shortest text is this very value
    if number - number == 0.0 and decimal.Decimal(repr(number)) == value:
        return number
    return str(value)


def iso_duration(value: dt.timedelta) -> str:
    """ISO 8601 duration of a timedelta (which has no months): P1DT2H3M4.5S; negative: each part signed."""
    micros = value // dt.timedelta(microseconds=1)
    sign, micros = ("-" if micros < 0 else ""), abs(micros)
    days, micros = divmod(micros, 86_400_000_000)
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds = f"{micros // 1_000_000}.{micros % 1_000_000:06d}".rstrip("0").rstrip(".") if micros else ""
    date = f"{sign}{days}D" if days else ""
    clock = "".join(f"{sign}{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    clock += f"{sign}{seconds}S" if seconds else ""
    if not date and not clock:
        return "PT0S"
    return f"P{date}" + (f"T{clock}" if clock else "")


def _binary(value: Any) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


# Numbers: JSON numbers when exact, else strings (and the column is told).
NUMBERS: dict[type, Callable[[Any], Any]] = {int: _int, float: _float, decimal.Decimal: _decimal}
# Values whose JSON is a few dozen bytes at most, whatever they hold: no cell cap to check.
BOUNDED: dict[type, Callable[[Any], Any]] = {
    dt.datetime: dt.datetime.isoformat, dt.date: dt.date.isoformat, dt.time: dt.time.isoformat,
    dt.timedelta: iso_duration, uuid.UUID: str,
}
_OTHERS: dict[type, Callable[[Any], Any]] = {
    type(None): lambda v: v, bool: lambda v: v, str: lambda v: v,
    **BOUNDED,
    bytes: _binary, bytearray: _binary, memoryview: _binary,
}
_SEQUENCES = frozenset({list, tuple, set, frozenset})
