"""Times for the etl tools: everything is an aware UTC datetime inside and ISO-8601 UTC outside."""

from __future__ import annotations

import datetime as dt
import math
import re

from snowmcp.common import durations
from snowmcp.common.durations import UTC, as_utc, parse_since, parse_timestamp  # noqa: F401 - re-exported
from snowmcp.common.errors import InvalidArgument



def parse_duration(text: str | float, what: str = "duration") -> float:
    """A duration in seconds; a number is seconds already (see `common.durations.parse_duration`)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
        if not math.isfinite(seconds) or not 0 <= seconds <= durations.MAX_DURATION_S:
            raise InvalidArgument(f"{what}: {text!r} is not a duration in seconds (0 to 100 years)",
                                  hint=durations.DURATION_HINT)
        return seconds
    return durations.parse_duration(text, what).total_seconds()


def parse_clock_time(text: str, what: str) -> dt.time:
    """ "HH:MM" (UTC) for daily deadlines."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*(?:UTC|Z)?\s*", text or "", re.IGNORECASE)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidArgument(f"{what} {text!r} is not a time of day", hint='Use "HH:MM" in UTC, e.g. "05:30".')
    return dt.time(int(match.group(1)), int(match.group(2)))


def to_datetime(value: object) -> dt.datetime | None:
    """A warehouse or artifact value (datetime or ISO text; naive means UTC) as aware UTC, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return as_utc(value)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        if isinstance(value, (int, float)):  # epoch milliseconds (SYSTEM$PIPE_STATUS)
            return dt.datetime.fromtimestamp(value / 1000, UTC)
        return as_utc(dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00").replace(" ", "T", 1)))
    except (ValueError, OverflowError, OSError):  # not a time, or one outside the calendar
        return None


def iso(value: dt.datetime | None) -> str | None:
    """UTC ISO-8601 with a Z, to the second (to the millisecond when there is a fraction)."""
    if value is None:
        return None
    value = as_utc(value)
    spec = "milliseconds" if value.microsecond >= 1000 else "seconds"
    return value.replace(microsecond=value.microsecond // 1000 * 1000).isoformat(timespec=spec).replace("+00:00", "Z")


def human(seconds: float | None) -> str | None:
    """3725 -> "1h 2m"."""
    if seconds is None:
        return None
    sign, seconds = ("-" if seconds < 0 else ""), abs(int(round(seconds)))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"
