"""CAPS.CAPS: tables longer or stranger than the analytics tools' caps, the same in DuckDB and fakesnow.

- DAILY (DAY DATE, V DOUBLE): `DAYS` consecutive days of ~100 with a weekly ripple; an old spike on
  `OLD_SPIKE` and a new one on the very last day (`NEW_SPIKE`), so a cap that keeps the oldest buckets
  misses the new one.
- SPECIAL (X DOUBLE, Y DOUBLE): X is NaN, +inf, -inf, NULL and three ordinary values; Y counts rows.
- WIDE (X DOUBLE): the two extremes of a double, whose difference overflows.
- CODES (CODE VARCHAR): `CODES` distinct codes, code k appearing k times.
"""

from __future__ import annotations

import datetime as dt

DAYS = 1_200
FIRST_DAY = dt.date(2023, 1, 1)
OLD_SPIKE = FIRST_DAY + dt.timedelta(days=10)
NEW_SPIKE = FIRST_DAY + dt.timedelta(days=DAYS - 1)
CODES = 40
SPECIAL_FINITE = (1.0, 2.0, 4.0)


def daily_value(day: dt.date) -> float:
    if day in (OLD_SPIKE, NEW_SPIKE):
        return 1_000.0
    return 100.0 + day.weekday() % 3


def statements() -> list[str]:
    """DDL and inserts valid in both DuckDB and Snowflake."""
    days = [FIRST_DAY + dt.timedelta(days=i) for i in range(DAYS)]
    daily = ", ".join(f"('{d.isoformat()}', {daily_value(d)})" for d in days)
    double = lambda text: f"CAST('{text}' AS DOUBLE)"  # noqa: E731
    xs = [double("NaN"), double("inf"), double("-inf"), "NULL", *(str(v) for v in SPECIAL_FINITE)]
    special = ", ".join(f"({x}, {i})" for i, x in enumerate(xs))
    codes = ", ".join(f"('code-{k:02d}')" for k in range(1, CODES + 1) for _ in range(k))
    return [
        "CREATE TABLE CAPS.CAPS.DAILY (DAY DATE, V DOUBLE)",
        f"INSERT INTO CAPS.CAPS.DAILY VALUES {daily}",
        "CREATE TABLE CAPS.CAPS.SPECIAL (X DOUBLE, Y DOUBLE)",
        f"INSERT INTO CAPS.CAPS.SPECIAL VALUES {special}",
        "CREATE TABLE CAPS.CAPS.WIDE (X DOUBLE)",
        "INSERT INTO CAPS.CAPS.WIDE VALUES (-1.7e308), (0.0), (1.7e308)",
        "CREATE TABLE CAPS.CAPS.CODES (CODE VARCHAR)",
        f"INSERT INTO CAPS.CAPS.CODES VALUES {codes}",
    ]
