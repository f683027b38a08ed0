"""Durations and instants as callers write them: "24h", "7d", "1h30m", "90 sec", or ISO timestamps.

Everything returned is aware UTC (a naive timestamp is taken as UTC). Used by the
quality server (freshness ages, history windows) and the etl server (since, SLAs).
"""

from __future__ import annotations

import datetime as dt
import re

from common.errors import InvalidArgument

UTC = dt.timezone.utc
DURATION_HINT = 'Use a duration like "30m", "24h", "7d", "1h30m", or an ISO timestamp like "2026-11-19T06:00:00Z".'
_SINGLE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|w)\s*$", re.IGNORECASE)
_PARTS = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "w": 604800}


def _seconds(text: str) -> float | None:
    single = _SINGLE.match(text)
    if single:
        return float(single.group(1)) * _UNIT_S[single.group(2).lower()]
    compact = text.strip().replace(" ", "")
    parts = _PARTS.findall(compact)
    if parts and "".join(n + u for n, u in parts) == compact:
        return sum(float(n) * _UNIT_S[u.lower()] for n, u in parts)
    return None


def parse_duration(text: str, what: str = "duration") -> dt.timedelta:
    """ "90s", "30m", "24h", "7d", "2w", "1h30m" -> a timedelta; anything else raises InvalidArgument naming it."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{what} is empty", hint=DURATION_HINT)
    seconds = _seconds(text)
    if seconds is None:
        raise InvalidArgument(f"{what}: {text!r} is not a duration", hint=DURATION_HINT)
    return dt.timedelta(seconds=seconds)


def parse_timestamp(text: str, what: str = "timestamp") -> dt.datetime:
    """An ISO date or date-time (Z allowed); naive values are taken as UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "T", 1))
    except (ValueError, AttributeError):
        raise InvalidArgument(f"{what}: {text!r} is neither a duration nor an ISO timestamp",
                              hint=DURATION_HINT) from None
    return as_utc(value)


def parse_since(text: str | None, now: dt.datetime, what: str = "since") -> dt.datetime | None:
    """`since` as a duration back from `now` ("24h", "7d") or an absolute ISO timestamp; None stays None."""
    if text is None:
        return None
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument(f"{what} is empty", hint=DURATION_HINT)
    seconds = _seconds(text)
    if seconds is not None:
        return now - dt.timedelta(seconds=seconds)
    return parse_timestamp(text, what)


def as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
