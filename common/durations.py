"""Durations and "since" values as callers write them: "24h", "7d", "90m", "1d12h", or an ISO instant."""

from __future__ import annotations

import datetime as dt
import re

from common.errors import InvalidArgument

_UNITS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[smhdw]\s*)+$", re.IGNORECASE)
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)


def parse_duration(text: str, what: str = "duration") -> dt.timedelta:
    """`"24h"` -> 24 hours; units s, m, h, d, w, combinable (`"1d12h"`)."""
    if not isinstance(text, str) or not _DURATION.match(text):
        raise InvalidArgument(f"{what}: {text!r} is not a duration", hint='Write e.g. "30m", "24h", "7d" or "1d12h".')
    seconds = sum(float(n) * _UNITS[u.lower()] for n, u in _PART.findall(text))
    return dt.timedelta(seconds=seconds)


def parse_since(text: str, now: dt.datetime, what: str = "since") -> dt.datetime:
    """A duration back from `now`, or an ISO date/date-time (naive means UTC); returns an aware UTC instant."""
    if isinstance(text, str) and _DURATION.match(text):
        return now - parse_duration(text, what)
    try:
        instant = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise InvalidArgument(f"{what}: {text!r} is neither a duration nor an ISO date-time",
                              hint='Write e.g. "24h", "7d" or "2026-11-01T00:00:00Z".') from None
    return as_utc(instant)


def as_utc(instant: dt.datetime) -> dt.datetime:
    return instant.replace(tzinfo=dt.timezone.utc) if instant.tzinfo is None else instant.astimezone(dt.timezone.utc)
