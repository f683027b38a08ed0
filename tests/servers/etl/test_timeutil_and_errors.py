"""`since` parsing, UTC formatting, error signatures and categories."""

from __future__ import annotations

import datetime as dt

import pytest

from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.etl.errors_kb import categorize, signature
from snowmcp.servers.etl.timeutil import UTC, human, iso, parse_duration, parse_since, to_datetime

NOW = dt.datetime(2026, 11, 20, 9, 10, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("24h", "2026-11-19T09:10:00Z"), ("7d", "2026-11-13T09:10:00Z"), ("30m", "2026-11-20T08:40:00Z"),
    ("1h30m", "2026-11-20T07:40:00Z"), ("2w", "2026-11-06T09:10:00Z"), ("90s", "2026-11-20T09:08:30Z"),
    ("2026-11-19", "2026-11-19T00:00:00Z"), ("2026-11-19T06:00:00Z", "2026-11-19T06:00:00Z"),
    ("2026-11-19T08:00:00+02:00", "2026-11-19T06:00:00Z"), ("2026-11-19 06:00", "2026-11-19T06:00:00Z"),
])
def test_since_takes_durations_and_timestamps(text: str, expected: str) -> None:
    assert iso(parse_since(text, NOW)) == expected


@pytest.mark.parametrize("text", ["yesterday", "24", "h24", "-1d", "2026-11-32", " "])
def test_a_malformed_since_names_itself(text: str) -> None:
    with pytest.raises(InvalidArgument, match="since"):
        parse_since(text, NOW)


def test_durations_times_and_words() -> None:
    assert parse_duration("26h") == 93_600 and parse_duration("1d2h") == 93_600
    assert iso(to_datetime("2026-11-20 09:05:08")) == "2026-11-20T09:05:08Z"  # naive means UTC
    assert iso(to_datetime("2026-11-20T10:05:08.250+01:00")) == "2026-11-20T09:05:08.250Z"
    assert iso(to_datetime(1_700_000_000_000)) == "2023-11-14T22:13:20Z"  # epoch ms (SYSTEM$PIPE_STATUS)
    assert (human(3725), human(1_751_806), human(42)) == ("1h 2m", "20d 6h", "42s")


def test_signatures_group_errors_that_differ_only_in_numbers_and_ids() -> None:
    a = signature("Duplicate row detected during DML action: ORDER_ID 1048577")
    b = signature("Duplicate row detected during DML action: ORDER_ID 77")
    assert a == b != signature("Duplicate row detected during DML action: CUSTOMER_ID 77")
    assert signature("query 01b2c3d4-0000-1111-2222-333344445555 failed") == "query <id> failed"


@pytest.mark.parametrize(("message", "category"), [
    ("SQL compilation error: Object 'RAW.PRODUCTS_FEED' does not exist or not authorized.", "missing_object"),
    ("Insufficient privileges to operate on table 'RAW.CRM_ACCOUNTS'", "permission"),
    ("Statement reached its statement or warehouse timeout of 3,600 second(s) and was canceled.", "timeout"),
    ("Duplicate row detected during DML action: ORDER_ID 1048577", "duplicate"),
    ("Numeric value 'N/A' is not recognized", "bad_value"),
    ("JDBC driver encountered communication error: connection reset by peer", "connection"),
    ("Got 2 results, configured to fail if != 0", "test_failure"),
    ("something odd", "other"),
])
def test_error_categories(message: str, category: str) -> None:
    found, hint = categorize(message)
    assert found == category and hint
