"""JSON-safe values and the row/byte caps."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pytest

from common.results import RowCollector, json_safe


@pytest.mark.parametrize(("value", "expected"), [
    (decimal.Decimal("12.34"), 12.34),
    (decimal.Decimal("100"), 100),
    (decimal.Decimal("1E+2"), 100),
    (decimal.Decimal("1234567890123456789.01"), "1234567890123456789.01"),
    (decimal.Decimal("NaN"), "NaN"),
    (float("inf"), "inf"),
    (dt.date(2026, 1, 2), "2026-01-02"),
    (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2026-01-02T03:04:05-05:00"),
    (dt.time(3, 4, 5, 600), "03:04:05.000600"),
    (dt.timedelta(days=1, hours=2, seconds=4.5), "P1DT2H0M4.5S"),
    (dt.timedelta(minutes=-90), "-PT1H30M0S"),
    (b"\x00\xff", "AP8="),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ({"a": [decimal.Decimal("1.5"), None]}, {"a": [1.5, None]}),
])
def test_json_safe_keeps_meaning(value: object, expected: object) -> None:
    assert json_safe(value) == expected
    json.dumps(json_safe(value))


def test_collector_stops_one_row_past_the_cap() -> None:
    collector = RowCollector(max_rows=3, max_bytes=10_000)
    assert collector.fetch_size == 4
    assert collector.add_batch([(1,), (2,), (3,), (4,)]) is False
    assert collector.rows == [[1], [2], [3]] and collector.truncated_by == "max_rows"


def test_collector_at_exactly_the_cap_is_not_truncated() -> None:
    collector = RowCollector(max_rows=3, max_bytes=10_000)
    assert collector.add_batch([(1,), (2,), (3,)]) is True
    assert collector.add_batch([]) is True
    assert collector.truncated_by is None


def test_collector_respects_the_byte_budget() -> None:
    collector = RowCollector(max_rows=1_000, max_bytes=50)
    collector.add_batch([("x" * 20,)] * 10)
    assert collector.truncated_by == "max_bytes" and collector.bytes <= 50 and len(collector.rows) == 2


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM t", "SELECT * FROM t LIMIT 201"),
    ("SELECT * FROM t ORDER BY a DESC", "SELECT * FROM t ORDER BY a DESC LIMIT 201"),
    ("SELECT * FROM t LIMIT 5", "SELECT * FROM t LIMIT 5"),
    ("SELECT * FROM t LIMIT 500 OFFSET 10", "SELECT * FROM t LIMIT 201 OFFSET 10"),
    ("SELECT 1 UNION ALL SELECT 2", "SELECT 1 UNION ALL SELECT 2 LIMIT 201"),
    ("SHOW TABLES", "SHOW TABLES"),
    ("SELECT * FROM t FETCH FIRST 3 ROWS ONLY", "SELECT * FROM t LIMIT 3"),  # DuckDB spells FETCH as LIMIT
])
def test_the_row_cap_is_pushed_into_the_statement(sql: str, expected: str) -> None:
    from common.row_limit import with_row_limit

    assert with_row_limit(sql, "duckdb", 201) == expected


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM t LIMIT 50 PERCENT", "SELECT * FROM t LIMIT 50 PERCENT"),
    ("SELECT * FROM t ORDER BY a LIMIT 5 WITH TIES", None),
    ("SELECT * FROM t OFFSET 10", "SELECT * FROM t LIMIT 201 OFFSET 10"),
    ("SELECT * FROM t LIMIT 1 + 1", "SELECT * FROM t LIMIT 1 + 1"),
])
def test_a_limit_the_cap_cannot_compare_is_left_alone(sql: str, expected: str | None) -> None:
    import sqlglot

    from common.row_limit import capped

    statement = sqlglot.parse_one(sql, read="duckdb")
    before = statement.sql("duckdb")
    result = capped(statement, 201).sql("duckdb")
    assert result == (expected or before)
    assert statement.sql("duckdb") == before  # never changed in place
