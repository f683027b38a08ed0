"""Values a JSON client reads exactly (common/result_values.py, common/warehouse/duckdb_values.py):
big integers as strings (and the column says so), intervals with their months, infinite dates and
timestamps as strings, NaN and infinities as strings, nanoseconds kept; through the query server on
DuckDB, and the values snowflake-connector-python hands the collector."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest
from mcp import Client

from snowmcp.common.result_values import iso_duration, json_safe
from snowmcp.common.results import ColumnInfo, QueryResult, RowCollector
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.duckdb_values import exact
from snowmcp.servers.query.server import build_server
from tests.helpers import call_ok

pytestmark = pytest.mark.anyio

BIG = 2**53  # the first integer a JavaScript number cannot tell from its neighbour


async def _query(settings: Settings, sql: str, **arguments: Any) -> dict[str, Any]:
    async with Client(build_server(settings)) as client:
        return await call_ok(client, "run_query", {"sql": sql, **arguments})


def _by_name(result: dict[str, Any]) -> dict[str, Any]:
    return dict(zip([c["name"] for c in result["columns"]], result["rows"][0]))


def _flagged(result: dict[str, Any]) -> set[str]:
    return {c["name"] for c in result["columns"] if c.get("numbers_as_strings")}


# -- integers beyond ±2^53 --------------------------------------------------------------------------


async def test_integers_beyond_2_53_are_strings_and_the_column_says_so(settings: Settings) -> None:
    result = await _query(settings, (
        f"SELECT {BIG + 1}::BIGINT AS big, {BIG - 1}::BIGINT AS edge, -{BIG + 1}::BIGINT AS neg, "
        f"-{BIG - 1}::BIGINT AS neg_edge, {2**127 - 1}::HUGEINT AS huge, {2**64 - 1}::UBIGINT AS ubig, "
        f"{2**128 - 1}::UHUGEINT AS uhuge, 12345678901234567890123456789012345678::DECIMAL(38,0) AS dec38, "
        f"{BIG - 1}::DECIMAL(38,0) AS dec_edge, 7 AS small, [{BIG + 1}::BIGINT, 1] AS listed, "
        f"{{'k': {BIG + 1}::HUGEINT}} AS packed"))
    assert _by_name(result) == {
        "big": str(BIG + 1), "edge": BIG - 1, "neg": str(-(BIG + 1)), "neg_edge": -(BIG - 1),
        "huge": str(2**127 - 1), "ubig": str(2**64 - 1), "uhuge": str(2**128 - 1),
        "dec38": "12345678901234567890123456789012345678", "dec_edge": BIG - 1, "small": 7,
        "listed": [str(BIG + 1), 1], "packed": {"k": str(BIG + 1)},
    }
    assert _flagged(result) == {"big", "neg", "huge", "ubig", "uhuge", "dec38", "listed", "packed"}
    types = {c["name"]: c["type"] for c in result["columns"]}
    assert types["big"] == "BIGINT" and types["dec38"] == "DECIMAL(38,0)"  # the type itself is untouched
    assert "numbers_as_strings" not in next(c for c in result["columns"] if c["name"] == "edge")


async def test_it_is_decided_per_value_a_column_of_small_values_stays_numbers(settings: Settings) -> None:
    result = await _query(settings, f"SELECT * FROM (VALUES (1::HUGEINT, 1::BIGINT), ({BIG}::HUGEINT, 2::BIGINT)) "
                                    "AS v(mixed, small) ORDER BY small")
    assert result["rows"] == [[1, 1], [str(BIG), 2]]
    assert _flagged(result) == {"mixed"}


# -- intervals, infinities, NaN ---------------------------------------------------------------------


async def test_intervals_keep_their_months_and_each_parts_sign(settings: Settings) -> None:
    result = await _query(settings, (
        "SELECT INTERVAL 1 MONTH AS m, INTERVAL '1 year 2 months 3 days 4 hours 5 minutes 6.5 seconds' AS mixed, "
        "INTERVAL 90 SECONDS AS s, INTERVAL 36 HOUR AS hours, -INTERVAL '1 day 2 hours' AS neg, "
        "INTERVAL '-1 month 2 days' AS signs, INTERVAL '1 microsecond' AS us, INTERVAL 0 SECOND AS zero, "
        "NULL::INTERVAL AS nothing, [INTERVAL 1 MONTH, NULL] AS listed, {'i': INTERVAL 14 MONTH} AS packed, "
        "MAP {'k': INTERVAL 1 YEAR} AS mapped"))
    assert _by_name(result) == {
        "m": "P1M", "mixed": "P1Y2M3DT4H5M6.5S", "s": "PT1M30S", "hours": "PT36H", "neg": "P-1DT-2H",
        "signs": "P-1M2D", "us": "PT0.000001S", "zero": "PT0S", "nothing": None, "listed": ["P1M", None],
        "packed": {"i": "P1Y2M"}, "mapped": {"k": "P1Y"},
    }


async def test_infinite_dates_and_timestamps_are_strings_real_dates_stay(settings: Settings) -> None:
    result = await _query(settings, (
        "SELECT 'infinity'::DATE AS d, '-infinity'::DATE AS nd, '-infinity'::TIMESTAMP AS t, "
        "'infinity'::TIMESTAMPTZ AS tz, 'infinity'::TIMESTAMP_S AS ts_s, '-infinity'::TIMESTAMP_MS AS ts_ms, "
        "'infinity'::TIMESTAMP_NS AS ts_ns, DATE '9999-12-31' AS real_end, TIMESTAMP '9999-12-31 23:59:59.999999' "
        "AS real_last, TIMESTAMP '0001-01-01 00:00:00' AS real_first, ['infinity'::DATE, DATE '2024-02-29'] AS listed, "
        "{'until': '-infinity'::TIMESTAMP} AS packed, MAP {'open': 'infinity'::DATE} AS mapped"))
    assert _by_name(result) == {
        "d": "infinity", "nd": "-infinity", "t": "-infinity", "tz": "infinity", "ts_s": "infinity",
        "ts_ms": "-infinity", "ts_ns": "infinity", "real_end": "9999-12-31", "real_last": "9999-12-31T23:59:59.999999",
        "real_first": "0001-01-01T00:00:00", "listed": ["infinity", "2024-02-29"], "packed": {"until": "-infinity"},
        "mapped": {"open": "infinity"},
    }


async def test_nan_and_infinities_are_strings_javascript_reads_back(settings: Settings) -> None:
    result = await _query(settings, "SELECT 'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, '-inf'::FLOAT AS ninf, "
                                    "1.5::DOUBLE AS finite, ['nan'::DOUBLE] AS listed")
    assert _by_name(result) == {"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity", "finite": 1.5, "listed": ["NaN"]}
    assert _flagged(result) == {"nan", "inf", "ninf", "listed"}


async def test_other_types_keep_their_meaning(settings: Settings) -> None:
    result = await _query(settings, (
        "SELECT '2020-01-01 01:02:03.123456789'::TIMESTAMP_NS AS ns, '12:00:00.123456789'::TIME_NS AS time_ns, "
        "'2020-01-01 01:02:03.123456789+00'::TIMESTAMPTZ_NS AS tz_ns, TIMESTAMPTZ '2026-01-02 03:04:05.5+00' AS tz, "
        "TIMETZ '12:00:00+05:30' AS timetz, TIME '10:00:00' AS t, "
        "'00000000-0000-0000-0000-000000000001'::UUID AS id, '\\xAA\\x00'::BLOB AS b, "
        "123456789012345678.25::DECIMAL(38,2) AS wide, 1.50::DECIMAL(38,10) AS short, 12.34::DECIMAL(10,2) AS d"))
    assert _by_name(result) == {
        "ns": "2020-01-01T01:02:03.123456789", "time_ns": "12:00:00.123456789",
        "tz_ns": "2020-01-01T01:02:03.123456789+00:00", "tz": "2026-01-02T03:04:05.500000+00:00",
        "timetz": "12:00:00+05:30", "t": "10:00:00", "id": "00000000-0000-0000-0000-000000000001", "b": "qgA=",
        "wide": "123456789012345678.25", "short": 1.5, "d": 12.34,
    }
    assert _flagged(result) == {"wide"}


async def test_cell_caps_still_hold_for_converted_values(tmp_path: Path) -> None:
    from snowmcp.common.warehouse.base import QueryTag
    from snowmcp.common.warehouse.duckdb import DuckDBWarehouse
    from snowmcp.common.warehouse.duckdb_engine import EngineConfig

    duckdb.connect(str(tmp_path / "E.duckdb")).close()
    warehouse = DuckDBWarehouse(tmp_path / "E.duckdb", EngineConfig(temp_directory=tmp_path / "state" / "tmp"))
    collector = RowCollector(max_rows=10, max_bytes=100_000, max_cell_bytes=100)
    try:
        outcome = await warehouse.execute(
            "SELECT [INTERVAL (i) DAY FOR i IN range(5000)] AS many, "  # cut in the statement (too many items)
            "[DATE '2024-01-01' + i::INT FOR i IN range(40)] AS dates, "  # converted, then cut by its bytes
            f"[{BIG + 1}::BIGINT FOR i IN range(40)] AS bigs, [INTERVAL 1 MONTH] AS few",
            collector, timeout_s=30, tag=QueryTag("t", "t"))
    finally:
        await warehouse.close()
    result = QueryResult.from_collector(collector, columns=outcome.columns, elapsed_ms=0, query_id=None)
    assert result.rows == [[None, None, None, ["P1M"]]]
    cut = {c.column: c.bytes for c in result.cut_cells}
    assert set(cut) == {"many", "dates", "bigs"} and all(size > 100 for size in cut.values())
    assert result.truncated_by == "max_cell_bytes"


async def test_every_tool_that_returns_values_gets_them_exact(tmp_path: Path) -> None:
    """The analytics tools read rows through the same collector: big integers and infinite dates too."""
    from snowmcp.servers.analytics.server import build_server as build_analytics

    with duckdb.connect(str(tmp_path / "B.duckdb")) as con:
        con.execute("CREATE SCHEMA S")
        con.execute(f"CREATE TABLE S.T AS SELECT ({BIG + 1} + i % 2)::BIGINT AS ID, CASE WHEN i % 2 = 0 "
                    "THEN 'infinity'::DATE ELSE DATE '2026-01-01' END AS UNTIL FROM range(10) t(i)")
    settings = Settings(warehouse=f"duckdb://{tmp_path / 'B.duckdb'}", state_dir=tmp_path / "state")
    async with Client(build_analytics(settings)) as client:
        ids = await call_ok(client, "value_counts", {"table": "B.S.T", "column": "ID"})
        profile = await call_ok(client, "profile_table", {"table": "B.S.T"})
    assert sorted(v["value"] for v in ids["values"]) == [str(BIG + 1), str(BIG + 2)]
    until = next(c for c in profile["columns"] if c["name"] == "UNTIL")
    assert until["max"] == "infinity" and {v["value"] for v in until["top_values"]} == {"infinity", "2026-01-01"}
    assert next(c for c in profile["columns"] if c["name"] == "ID")["max"] == str(BIG + 2)


# -- the SQL text is the text Python's isoformat() gave, in any session time zone -------------------


def _exactly(con: duckdb.DuckDBPyConnection, values_sql: str, type_name: str) -> list[tuple[Any, Any]]:
    """(DuckDB's Python value, the exact form) of each value of column x."""
    chosen = exact("x", type_name)
    assert chosen is not None
    rows = con.execute(f"SELECT x, {chosen.sql} FROM ({values_sql})").fetchall()
    fix = chosen.fix or (lambda v: v)
    return [(value, None if text is None else fix(text)) for value, text in rows]


@pytest.mark.parametrize("zone", ["Etc/UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
def test_temporal_text_matches_isoformat(zone: str) -> None:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{zone}'")
    step = "INTERVAL (i * 37) DAY + INTERVAL (i * 7919) SECOND + INTERVAL (i % 3 * 123457) MICROSECOND"
    for type_name, start in (("TIMESTAMP WITH TIME ZONE", "1850-01-01 00:00:00+00"), ("TIMESTAMP", "0001-01-01"),
                             ("DATE", "0001-01-01")):
        values = f"SELECT CAST(CAST('{start}' AS {type_name}) + {step} AS {type_name}) AS x FROM range(3000) t(i)"
        pairs = _exactly(con, values, type_name)
        assert [text for _, text in pairs] == [value.isoformat() for value, _ in pairs], type_name
        nested = f"SELECT list(x ORDER BY x) AS x FROM ({values})"  # the same values inside a list
        (listed, texts), = _exactly(con, nested, f"{type_name}[]")
        assert texts == [value.isoformat() for value in listed], type_name


def test_interval_text_keeps_every_part() -> None:
    con = duckdb.connect()
    values = ("SELECT to_months((i % 50) - 25) + to_days((i * 7) % 61 - 30) + "
              "to_microseconds(((i * 7919) % 200000000000) - 100000000000) AS x FROM range(5000) t(i)")
    parts = con.execute(f"SELECT datepart('month', x) + 12 * datepart('year', x), datepart('day', x), "
                        f"epoch_us(x) - (datepart('month', x) + 12 * datepart('year', x)) * 30 * 86400000000 "
                        f"- datepart('day', x) * 86400000000 FROM ({values})").fetchall()
    texts = [text for _, text in _exactly(con, values, "INTERVAL")]
    for (months, days, micros), text in zip(parts, texts):
        assert _iso_reference(months, days, micros) == text


def _iso_reference(months: int, days: int, micros: int) -> str:
    """An independent ISO 8601 rendering of DuckDB's (months, days, microseconds)."""
    years, months = int(months / 12), months - 12 * int(months / 12)  # DuckDB's parts share the sign of the months
    sign, micros = ("-" if micros < 0 else ""), abs(micros)
    hours, minutes, seconds = micros // 3_600_000_000, micros // 60_000_000 % 60, decimal.Decimal(micros % 60_000_000)
    date = "".join(f"{n}{u}" for n, u in ((years, "Y"), (months, "M"), (days, "D")) if n)
    second = format((seconds / 1_000_000).normalize(), "f") if seconds else ""
    clock = "".join(f"{sign}{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (second, "S")) if n)
    return f"P{date}" + (f"T{clock}" if clock else "") if date or clock else "PT0S"


def test_a_struct_field_named_like_a_type_is_left_alone() -> None:
    assert exact("c0", "STRUCT(date INTEGER, \"interval\" VARCHAR)") is None
    assert exact("c0", "INTEGER[]") is None and exact("c0", "VARCHAR") is None


# -- Snowflake: the values the connector returns ------------------------------------------------------


def test_snowflake_connector_values_are_exact() -> None:
    import pytz

    collector = RowCollector(max_rows=10, max_bytes=10_000)
    collector.add_batch([[
        2**63 - 1,                                                        # NUMBER(38,0): a Python int
        decimal.Decimal("12345678901234567890"),                         # NUMBER(38,0) read as a decimal
        decimal.Decimal("1234.56"), decimal.Decimal("12345678901234567.25"),  # NUMBER(38,2)
        42,
        dt.datetime(2024, 2, 29, 13, 45, 30, 250000, tzinfo=pytz.FixedOffset(330)),  # TIMESTAMP_TZ
        dt.datetime(2024, 2, 29, 13, 45, 30, 123456),                   # TIMESTAMP_NTZ
        dt.date(2024, 2, 29), dt.time(13, 45, 30, 250000),
        float("nan"), float("-inf"), 0.25,                                # FLOAT
        bytearray(b"\xde\xad"),                                           # BINARY
        dt.timedelta(days=1, hours=2, microseconds=5),                    # INTERVAL DAY TO SECOND
    ]])
    assert collector.rows == [[
        "9223372036854775807", "12345678901234567890", 1234.56, "12345678901234567.25", 42,
        "2024-02-29T13:45:30.250000+05:30", "2024-02-29T13:45:30.123456", "2024-02-29", "13:45:30.250000",
        "NaN", "-Infinity", 0.25, "3q0=", "P1DT2H0.000005S",
    ]]
    assert collector.numbers_as_strings == {0, 1, 3, 9, 10}
    json.dumps(collector.rows, allow_nan=False)


def test_snowflake_semi_structured_and_interval_columns() -> None:
    from snowflake.connector.constants import FIELD_ID_TO_NAME

    from snowmcp.common.warehouse.snowflake_values import result_columns

    codes = {name: code for code, name in FIELD_ID_TO_NAME.items()}
    description = [("DOC", codes["VARIANT"], None, None, None, None, True),
                   ("N", codes["FIXED"], None, None, 38, 0, True)]
    has_intervals = "INTERVAL_YEAR_MONTH" in codes  # the 4.x connector has no interval types
    if has_intervals:
        description += [("YM", codes["INTERVAL_YEAR_MONTH"], None, None, None, 0, True),
                        ("Y", codes["INTERVAL_YEAR_MONTH"], None, None, None, 1, True),
                        ("M", codes["INTERVAL_YEAR_MONTH"], None, None, None, 2, True)]
    columns, convert = result_columns(description, dict(FIELD_ID_TO_NAME))
    doc = '{"id": 9007199254740993, "ratio": 0.1, "exact": 1.00000000000000000001, "list": [1, 2.5, null]}'
    row = [doc, 2**60] + (["-1-02", "+3", "+14"] if has_intervals else [])
    collector = RowCollector(max_rows=10, max_bytes=10_000)
    collector.add_batch(convert([tuple(row)]))
    expected: list[Any] = [{"id": "9007199254740993", "ratio": 0.1, "exact": "1.00000000000000000001",
                            "list": [1, 2.5, None]}, str(2**60)]
    if has_intervals:
        expected += ["P-1Y-2M", "P3Y", "P14M"]
    assert collector.rows == [expected]
    assert collector.numbers_as_strings == {0, 1}
    assert [c.type for c in columns][:2] == ["VARIANT", "NUMBER(38,0)"]


def test_year_month_intervals_from_the_connector() -> None:
    from snowmcp.common.warehouse.snowflake import year_month_duration

    assert [year_month_duration(v, 0) for v in ("+1-02", "-0-05", "+0-00", None)] == ["P1Y2M", "P-5M", "PT0S", None]
    assert year_month_duration("-2", 1) == "P-2Y" and year_month_duration("+25", 2) == "P25M"


# -- the conversion itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    (BIG - 1, BIG - 1), (BIG, str(BIG)), (-BIG, str(-BIG)), (True, True),
    (decimal.Decimal("1E+2"), 100), (decimal.Decimal(BIG), str(BIG)), (decimal.Decimal("-0.5"), -0.5),
    (decimal.Decimal("1.50000000000000000000"), 1.5), (decimal.Decimal("Infinity"), "Infinity"),
    (decimal.Decimal("-Infinity"), "-Infinity"), (decimal.Decimal("NaN"), "NaN"),
    (float("inf"), "Infinity"), (float("nan"), "NaN"),
    (dt.timedelta(minutes=-90), "PT-1H-30M"), (dt.timedelta(0), "PT0S"), (dt.timedelta(days=2), "P2D"),
    (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ({1: [BIG, {"x": float("nan")}]}, {"1": [str(BIG), {"x": "NaN"}]}),
    ((dt.date(2024, 1, 1), memoryview(b"ab")), ["2024-01-01", "YWI="]),
])
def test_json_safe_values(value: Any, expected: Any) -> None:
    assert json_safe(value) == expected
    json.dumps(json_safe(value), allow_nan=False)


def test_iso_durations_of_timedeltas_are_exact() -> None:
    assert iso_duration(dt.timedelta(days=10_000, microseconds=1)) == "P10000DT0.000001S"
    assert iso_duration(-dt.timedelta(days=1, seconds=1)) == "P-1DT-1S"


def test_the_flag_is_only_sent_when_set() -> None:
    collector = RowCollector(max_rows=10, max_bytes=10_000)
    collector.add_batch([[BIG, 1]])
    columns = [ColumnInfo(name="a", type="HUGEINT"), ColumnInfo(name="b", type="INTEGER")]
    result = QueryResult.from_collector(collector, columns=columns, elapsed_ms=0, query_id=None)
    assert result.model_dump(mode="json")["columns"] == [
        {"name": "a", "type": "HUGEINT", "numbers_as_strings": True}, {"name": "b", "type": "INTEGER"}]
    assert columns[0].numbers_as_strings is False  # the backend's own list is not changed
