"""Durations and instants as callers write them: every bad input is an InvalidArgument, never a crash."""

from __future__ import annotations

import datetime as dt

import pytest

from snowmcp.common.durations import UTC, parse_duration, parse_since, parse_timestamp
from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.etl.timeutil import parse_duration as seconds, to_datetime

NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("90 sec", 90), ("2 days", 172_800), ("3 hours", 10_800), ("5 minutes", 300), ("1 week", 604_800),
    ("PT30M", 1_800), ("P1DT2H", 93_600), ("P2W", 1_209_600), ("PT1.5S", 1.5), ("1h30m", 5_400),
])
def test_durations_in_words_and_iso_8601(text: str, expected: float) -> None:
    assert parse_duration(text).total_seconds() == expected


@pytest.mark.parametrize(("text", "message"), [
    ("999999999999d", "too long"), ("999999999999 days", "too long"), ("P999999999999D", "too long"),
    ("PT99999999999999999999H", "too long"), ("9" * 400 + "s", "not a duration"), ("P", "not a duration"),
    ("PT", "not a duration"), ("1e5s", "not a duration"), ("-1d", "not a duration"), ("", "empty"),
])
def test_bad_durations_are_refused_by_name(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_duration(text, "max_age")


@pytest.mark.parametrize("text", ["999999999999d", "P999999999999D", "0001-01-01T00:00:00+05:00",
                                  "9999-12-31T23:59:59-05:00", "2026-11-19\x00", "\ud800", "x" * 10_000])
def test_since_never_overflows(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_since(text, NOW)
    assert len(str(caught.value)) < 300  # a long input is not echoed whole


def test_a_century_back_and_the_first_day_are_fine() -> None:
    assert parse_since("5000w", NOW) == NOW - dt.timedelta(weeks=5000)
    assert parse_timestamp("0001-01-01") == dt.datetime(1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -5, 1e300])
def test_numeric_durations_must_be_real_seconds(value: float) -> None:
    with pytest.raises(InvalidArgument):
        seconds(value, "max_duration")


@pytest.mark.parametrize("value", [1e30, -1e30, float("nan"), "0001-01-01T00:00:00+05:00"])
def test_times_outside_the_calendar_read_as_unknown(value: object) -> None:
    assert to_datetime(value) is None
