"""DuckDB values Python would get wrong, read as DuckDB's own text and made exact ISO 8601.

DuckDB's Python conversion loses meaning in three places:

- an INTERVAL becomes a `timedelta`, which has no months: INTERVAL 1 MONTH came
  back as 30 days, and 36 hours as 1 day 12 hours;
- ±infinity DATEs and TIMESTAMPs become 9999-12-31 / 0001-01-01, dates that
  really exist (slowly changing dimensions use 9999-12-31 as "open");
- TIMESTAMP_NS, TIMESTAMPTZ_NS and TIME_NS lose their nanoseconds.

So the cell wrapper (`duckdb_cells.py`) selects such columns as text, with one
function call per value (`CAST`, `strftime`: each function in the wrapper costs
DuckDB ~0.1 ms of planning), and `Exact.fix` turns the text into its final form
in Python:

- INTERVAL: an ISO 8601 duration with DuckDB's three parts kept apart, each with
  its own sign (DuckDB's intervals are not normalised): `P1M`, `P1Y2M3DT4H5M6.5S`,
  `PT36H`, `P-1M2D`, `PT0S`;
- DATE, TIMESTAMP[_S|_MS|_NS], TIMESTAMPTZ[_NS]: the very text Python's `isoformat()`
  gives for ordinary values (`2026-01-02`, `2026-01-02T03:04:05.500000`, zone as
  `+00:00`; nanoseconds kept where the type has them), and "infinity" / "-infinity";
- TIME_NS: its text, nanoseconds included.

Text is also cheaper than Python's own conversion (a zoned `datetime` costs ~4 µs).
The same is done for these types anywhere inside a LIST, ARRAY, STRUCT or MAP (a
list comprehension, `struct_pack`, `map_from_entries` in SQL; the same walk in
Python); members of a UNION are left to DuckDB's Python conversion.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Fix = Callable[[Any], Any]


@dataclass(frozen=True)
class Exact:
    """A column's expression in the wrapper, and what Python does to each of its non-null values."""

    sql: str
    fix: Fix | None


_CLOCK = re.compile(r"(-?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?$")
_PARTS = re.compile(r"(-?\d+) (year|month|day)s?")


def iso_interval(text: str) -> str:
    """DuckDB's interval text ('1 year 2 months -3 days -04:05:06.5') as an ISO 8601 duration
    ('P1Y2M-3DT-4H-5M-6.5S'); each part keeps its own sign, as in DuckDB."""
    units = {"year": "Y", "month": "M", "day": "D"}
    date = "".join(f"{n}{units[unit]}" for n, unit in _PARTS.findall(text) if int(n))
    clock = ""
    if match := _CLOCK.search(text):
        sign, hours, minutes, seconds, fraction = match.groups()
        fraction = (fraction or "").rstrip("0")
        second = f"{int(seconds)}.{fraction}" if fraction else str(int(seconds))
        clock = "".join(f"{sign}{n}{u}" for n, u in ((str(int(hours)), "H"), (str(int(minutes)), "M"), (second, "S"))
                        if n != "0")
    if not date and not clock:
        return "PT0S"
    return f"P{date}" + (f"T{clock}" if clock else "")


def _fraction(zeros: str, zone: bool) -> Fix:
    """isoformat() leaves out a zero fraction and writes a whole-hour offset as +HH:00 (DuckDB: +HH)."""
    cut = len(zeros)
    if not zone:
        return lambda text: text[:-cut] if text.endswith(zeros) else text

    def fix(text: str) -> str:
        text = text.replace(zeros, "", 1)
        return text + ":00" if text[-3:-2] in ("+", "-") else text

    return fix


def _strftime(fraction: str, zone: bool) -> tuple[str, Fix]:
    zeros = "." + "0" * (6 if fraction == "%f" else 9)
    return f"strftime({{x}}, '%Y-%m-%dT%H:%M:%S.{fraction}{'%z' if zone else ''}')", _fraction(zeros, zone)


_LEAVES: dict[str, tuple[str, Fix | None]] = {
    "DATE": ("CAST({x} AS VARCHAR)", None),  # the same text as isoformat(), 'infinity' included
    "TIME_NS": ("CAST({x} AS VARCHAR)", None),
    "INTERVAL": ("CAST({x} AS VARCHAR)", iso_interval),
    "TIMESTAMP": _strftime("%f", zone=False),
    "TIMESTAMP_S": _strftime("%f", zone=False),
    "TIMESTAMP_MS": _strftime("%f", zone=False),
    "TIMESTAMP_NS": _strftime("%n", zone=False),
    "TIMESTAMP WITH TIME ZONE": _strftime("%f", zone=True),
    "TIMESTAMPTZ_NS": _strftime("%n", zone=True),
}
_NESTED = re.compile(r"\[|^(STRUCT|MAP)\(")  # LIST (T[]), ARRAY (T[n]), STRUCT, MAP
_INSIDE = re.compile(r"INTERVAL|DATE|TIMESTAMP|TIME_NS")  # worth parsing the type for (a field name may match too)


def exact(expr: str, type_name: str) -> Exact | None:
    """How to select `expr` (of DuckDB type `type_name`) exactly, or None when Python converts it faithfully."""
    upper = type_name.upper()
    if upper in _LEAVES:
        return _leaf(expr, upper)
    if not _NESTED.search(upper) or not _INSIDE.search(upper):
        return None
    import duckdb  # loaded already: only DuckDB statements get here

    try:
        parsed = duckdb.sqltype(type_name)
    except Exception:  # a type this DuckDB cannot parse back: Python converts it as it can
        return None
    return _nested(expr, parsed, 0)


def _leaf(expr: str, upper: str) -> Exact:
    sql, fix = _LEAVES[upper]
    return Exact(sql.replace("{x}", expr), fix)


def _nested(expr: str, kind: Any, depth: int) -> Exact | None:
    name = kind.id
    if name in ("list", "array"):
        var = f"_snowmcp_v{depth}"
        inner = _nested(var, kind.children[0][1], depth + 1)
        if inner is None:
            return None
        item = inner.fix
        return Exact(f"[{inner.sql} FOR {var} IN {expr}]",
                     None if item is None else lambda value: [None if v is None else item(v) for v in value])
    if name == "struct":
        fields = kind.children
        if any(not field for field, _ in fields):
            return None
        exacts = [(field, f"struct_extract({expr}, {_string(field)})", inner) for field, inner in fields]
        parts = [(field, value, _nested(value, inner, depth)) for field, value, inner in exacts]
        if all(part is None for _, _, part in parts):
            return None
        packed = ", ".join(f"{_quote(field)} := {part.sql if part else value}" for field, value, part in parts)
        fixes = [(field, part.fix) for field, _, part in parts if part and part.fix]
        return Exact(f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({packed}) END",
                     _struct_fix(fixes) if fixes else None)
    if name == "map":
        var = f"_snowmcp_e{depth}"
        (_, key_type), (_, value_type) = kind.children
        key = _nested(f"{var}.key", key_type, depth + 1)
        value = _nested(f"{var}.value", value_type, depth + 1)
        if key is None and value is None:
            return None
        entry = f"struct_pack(key := {key.sql if key else var + '.key'}, value := {value.sql if value else var + '.value'})"
        sql = f"map_from_entries([{entry} FOR {var} IN map_entries({expr})])"
        key_fix, value_fix = (key.fix if key else None), (value.fix if value else None)
        if key_fix is None and value_fix is None:
            return Exact(sql, None)
        return Exact(sql, lambda mapping: {_apply(key_fix, k): _apply(value_fix, v) for k, v in mapping.items()})
    upper = str(kind).upper()
    return _leaf(expr, upper) if upper in _LEAVES else None


def _struct_fix(fixes: list[tuple[str, Fix | None]]) -> Fix:
    def fix(value: dict[str, Any]) -> dict[str, Any]:
        value = dict(value)
        for field, apply in fixes:
            value[field] = _apply(apply, value.get(field))
        return value

    return fix


def _apply(fix: Fix | None, value: Any) -> Any:
    return value if fix is None or value is None else fix(value)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
