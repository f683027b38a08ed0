"""Durations and instants as callers write them: "24h", "7d", "1h30m", "90 sec", ISO 8601 durations
("PT30M", "P1DT2H"), or ISO timestamps.

Everything returned is aware UTC (a naive timestamp is taken as UTC). Used by the
quality server (freshness ages, history windows) and the etl server (since, SLAs).
Every bad input - malformed, negative, too large for a date, out of the calendar -
raises `InvalidArgument` naming what was wrong; nothing here raises an internal error.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from snowmcp.common.errors import InvalidArgument

UTC = dt.timezone.utc
DURATION_HINT = 'Use a duration like "30m", "24h", "7d", "1h30m", or an ISO timestamp like "2026-11-19T06:00:00Z".'
MAX_DURATION_S = 100 * 366 * 86_400.0  # a century: longer is never a real window, and dates stay in range
MAX_TEXT = 100  # no real duration or timestamp is longer
_SINGLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s*$",
                     re.IGNORECASE)
_PARTS = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_ISO = re.compile(r"^\s*P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
                  r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?\s*$", re.IGNORECASE)
_ISO_UNITS_S = (604_800, 86_400, 3_600, 60, 1)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}  # by the unit's first letter


def _seconds(text: str) -> float | None:
    """Seconds written in `text`, or None when it is not a duration at all."""
    if len(text) > MAX_TEXT:
        return None
    single = _SINGLE.match(text)
    if single:
        return float(single.group(1)) * _UNIT_S[single.group(2)[0].lower()]
    iso = _ISO.match(text)
    if iso and any(iso.groups()) and not text.strip().upper().endswith("T"):
        return sum(float(n) * unit for n, unit in zip(iso.groups(), _ISO_UNITS_S) if n)
    compact = text.strip().replace(" ", "")
    parts = _PARTS.findall(compact)
    if parts and "".join(n + u for n, u in parts) == compact:
        return sum(float(n) * _UNIT_S[u.lower()] for n, u in parts)
    return None


def _bounded(seconds: float, text: str, what: str) -> float:
    if not math.isfinite(seconds) or seconds > MAX_DURATION_S:
        raise InvalidArgument(f"{what}: {text!r} is too long a duration (at most 100 years)", hint=DURATION_HINT)
    return seconds


def parse_duration(text: str, what: str = "duration") -> dt.timedelta:
    """ "90s", "30m", "24h", "7d", "2w", "1h30m", "PT30M" -> a timedelta; anything else raises InvalidArgument naming it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{what} is empty", hint=DURATION_HINT)
    seconds = _seconds(text)
    if seconds is None:
        raise InvalidArgument(f"{what}: {_shown(text)} is not a duration", hint=DURATION_HINT)
    return dt.timedelta(seconds=_bounded(seconds, text, what))


def parse_timestamp(text: str, what: str = "timestamp") -> dt.datetime:
    """An ISO date or date-time (Z allowed); naive values are taken as UTC."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise InvalidArgument(f"{what}: {_shown(text)} is neither a duration nor an ISO timestamp", hint=DURATION_HINT)
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T", 1))
        return as_utc(value)
    except ValueError:
        raise InvalidArgument(f"{what}: {_shown(text)} is neither a duration nor an ISO timestamp",
                              hint=DURATION_HINT) from None
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is before the first UTC instant a datetime holds
        raise InvalidArgument(f"{what}: {_shown(text)} is outside the calendar range in UTC",
                              hint=DURATION_HINT) from None


def parse_since(text: str | None, now: dt.datetime, what: str = "since") -> dt.datetime | None:
    """`since` as a duration back from `now` ("24h", "7d") or an absolute ISO timestamp; None stays None."""
    if text is None:
        return None
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{what} is empty", hint=DURATION_HINT)
    seconds = _seconds(text)
    if seconds is not None:
        return shift(now, -_bounded(seconds, text, what), what)
    return parse_timestamp(text, what)


def shift(instant: dt.datetime, seconds: float, what: str = "time") -> dt.datetime:
    """`instant` moved by `seconds`, refused (not crashed) when that leaves the calendar."""
    try:
        return instant + dt.timedelta(seconds=seconds)
    except OverflowError:
        raise InvalidArgument(f"{what}: moving {instant.isoformat()} by {seconds:g}s leaves the calendar",
                              hint=DURATION_HINT) from None


def as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _shown(text: object) -> str:
    """The input as an error shows it: quoted, and cut when long."""
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."
