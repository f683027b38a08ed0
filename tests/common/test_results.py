"""JSON-safe values and the row/byte caps."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

import pytest

from snowmcp.common.results import RowCollector, json_safe


@pytest.mark.parametrize(("value", "expected"), [
    (decimal.Decimal("12.34"), 12.34),
    (decimal.Decimal("100"), 100),
    (decimal.Decimal("1E+2"), 100),
    (decimal.Decimal("1234567890123456789.01"), "1234567890123456789.01"),
    (decimal.Decimal("NaN"), "NaN"),
    (float("inf"), "Infinity"),
    (dt.date(2026, 1, 2), "2026-01-02"),
    (dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))), "2026-01-02T03:04:05-05:00"),
    (dt.time(3, 4, 5, 600), "03:04:05.000600"),
    (dt.timedelta(days=1, hours=2, seconds=4.5), "P1DT2H4.5S"),
    (dt.timedelta(minutes=-90), "PT-1H-30M"),
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
    from snowmcp.common.row_limit import with_row_limit

    assert with_row_limit(sql, "duckdb", 201) == expected


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT * FROM t LIMIT 50 PERCENT", "SELECT * FROM t LIMIT 50 PERCENT"),
    ("SELECT * FROM t ORDER BY a LIMIT 5 WITH TIES", None),
    ("SELECT * FROM t OFFSET 10", "SELECT * FROM t LIMIT 201 OFFSET 10"),
    ("SELECT * FROM t LIMIT 1 + 1", "SELECT * FROM t LIMIT 1 + 1"),
])
def test_a_limit_the_cap_cannot_compare_is_left_alone(sql: str, expected: str | None) -> None:
    import sqlglot

    from snowmcp.common.row_limit import capped

    statement = sqlglot.parse_one(sql, read="duckdb")
    before = statement.sql("duckdb")
    result = capped(statement, 201).sql("duckdb")
    assert result == (expected or before)
    assert statement.sql("duckdb") == before  # never changed in place


# -- the per-cell cap and byte-aware batches -----------------------------------------------------


def test_a_long_string_keeps_its_prefix_and_is_reported() -> None:
    from snowmcp.common.results import ColumnInfo, QueryResult

    collector = RowCollector(max_rows=10, max_bytes=10_000, max_cell_bytes=100)
    assert collector.add_batch([(1, "x" * 1_000), (2, "short")]) is True
    assert collector.rows == [[1, "x" * 100], [2, "short"]]
    assert collector.cut_cells == [(0, 1, 1_000)] and collector.truncation == "max_cell_bytes"
    result = QueryResult.from_collector(collector, columns=[ColumnInfo(name="id", type="INT"),
                                                            ColumnInfo(name="s", type="VARCHAR")],
                                        elapsed_ms=1.0, query_id=None)
    assert result.truncated is True and result.truncated_by == "max_cell_bytes"
    assert [c.model_dump() for c in result.cut_cells] == [{"row": 0, "column": "s", "bytes": 1_000}]


def test_a_multibyte_string_is_cut_at_a_character_boundary() -> None:
    collector = RowCollector(max_rows=10, max_bytes=10_000, max_cell_bytes=101)
    collector.add_batch([("é" * 100,)])
    assert collector.rows == [["é" * 50]] and collector.cut_cells == [(0, 0, 200)]


@pytest.mark.parametrize(("value", "original"), [
    (b"\x00" * 1_000, 1_000),
    (list(range(10_000_000)), 20_000_001),  # sized by its length alone: never serialised
    ({"k": "v" * 5_000}, None),
    ([["x" * 300]] * 3, None),
])
def test_oversized_binary_and_nested_values_become_null_and_are_reported(value: object, original: int | None) -> None:
    collector = RowCollector(max_rows=10, max_bytes=10_000, max_cell_bytes=500)
    collector.add_batch([("id", value)])
    assert collector.rows == [["id", None]]
    (row, col, size), = collector.cut_cells
    assert (row, col) == (0, 1) and size > 500
    if original is not None:
        assert size == original


def test_values_under_the_cell_cap_are_untouched() -> None:
    collector = RowCollector(max_rows=10, max_bytes=10_000, max_cell_bytes=500)
    collector.add_batch([("x" * 400, [1, 2, 3], {"a": "b"}, b"ab")])
    assert collector.rows == [["x" * 400, [1, 2, 3], {"a": "b"}, "YWI="]] and collector.cut_cells == []
    assert collector.truncation is None


def test_a_cut_made_by_the_warehouse_is_reported() -> None:
    from snowmcp.common.result_cells import Cut

    collector = RowCollector(max_rows=10, max_bytes=10_000, max_cell_bytes=100)
    collector.add_batch([(Cut("abc", 5_000_000), Cut(None, 42_000))])
    assert collector.rows == [["abc", None]] and collector.cut_cells == [(0, 0, 5_000_000), (0, 1, 42_000)]


def test_cut_cells_of_rows_left_out_by_the_byte_cap_are_not_reported() -> None:
    collector = RowCollector(max_rows=100, max_bytes=1_000, max_cell_bytes=600)
    assert collector.add_batch([("x" * 700,), ("y" * 700,)]) is False
    assert len(collector.rows) == 1 and collector.cut_cells == [(0, 0, 700)]
    assert collector.truncation == "max_bytes"  # the row cap or byte cap is named first


def test_the_cell_cap_never_exceeds_the_byte_budget() -> None:
    assert RowCollector(max_rows=1, max_bytes=1_000, max_cell_bytes=50_000).max_cell_bytes == 1_000


def test_batches_start_small_and_follow_the_bytes_per_row() -> None:
    narrow = RowCollector(max_rows=10_000, max_bytes=1_000_000)
    assert narrow.fetch_size == 8
    narrow.add_batch([(i,) for i in range(8)])
    assert narrow.fetch_size == 1_000  # tiny rows: the largest batch
    wide = RowCollector(max_rows=10_000, max_bytes=1_000_000, max_cell_bytes=100_000)
    wide.add_batch([("x" * 50_000,)] * 8)
    assert wide.fetch_size == 12  # ~600 kB left at ~50 kB a row
    huge = RowCollector(max_rows=10_000, max_bytes=1_000_000, max_cell_bytes=100_000)
    huge.add_batch([("x" * 1_000_000,)])
    assert huge.fetch_size == 1  # a row that was cut from 1 MB: one at a time from now on
