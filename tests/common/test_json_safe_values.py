"""Values a JSON client reads exactly: big integers as strings (and the column says so),
intervals with their months, infinite dates and timestamps as strings."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from mcp import Client

from snowmcp.common.results import RowCollector, json_safe
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.duckdb_cells import iso_duration
from snowmcp.servers.query.server import build_server
from tests.helpers import call_ok

pytestmark = pytest.mark.anyio


async def _query(settings: Settings, sql: str) -> dict:  # type: ignore[type-arg]
    async with Client(build_server(settings)) as client:
        return await call_ok(client, "run_query", {"sql": sql})


async def test_integers_beyond_2_53_are_strings_and_the_column_says_so(settings: Settings) -> None:
    result = await _query(settings, "SELECT 9007199254740993::BIGINT AS big, 9007199254740991::BIGINT AS edge, "
                                    "-9007199254740993::BIGINT AS neg, "
                                    "170141183460469231731687303715884105727::HUGEINT AS huge, 7 AS small, "
                                    "[9007199254740993::BIGINT] AS listed")
    assert result["rows"] == [["9007199254740993", 9007199254740991, "-9007199254740993",
                               "170141183460469231731687303715884105727", 7, ["9007199254740993"]]]
    types = {c["name"]: c["type"] for c in result["columns"]}
    assert types["big"].endswith("(integers beyond ±2^53 as strings)") and types["edge"] == "BIGINT"
    assert types["small"] == "INTEGER"


async def test_intervals_keep_their_months(settings: Settings) -> None:
    result = await _query(settings, "SELECT INTERVAL 1 MONTH AS m, INTERVAL '1 year 2 months 3 days 4 hours' AS mixed, "
                                    "INTERVAL 90 SECONDS AS s, -INTERVAL '1 day 2 hours' AS neg, NULL::INTERVAL AS nothing")
    assert result["rows"] == [["P1M", "P1Y2M3DT4H", "PT1M30S", "P-1DT-2H", None]]


async def test_infinite_dates_and_timestamps_are_strings(settings: Settings) -> None:
    result = await _query(settings, "SELECT 'infinity'::DATE AS d, '-infinity'::TIMESTAMP AS t, "
                                    "'infinity'::TIMESTAMPTZ AS tz, DATE '9999-12-31' AS real_end, "
                                    "'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf")
    assert result["rows"] == [["infinity", "-infinity", "infinity", "9999-12-31", "nan", "inf"]]


def test_iso_durations_keep_each_parts_sign() -> None:
    assert iso_duration("2 years 1 month -2 days -00:00:01.000001") == "P2Y1M-2DT-1.000001S"
    assert iso_duration("00:00:00") == "PT0S"


def test_snowflake_values_from_the_connector_are_exact() -> None:
    collector = RowCollector(max_rows=10, max_bytes=10_000)
    collector.add_batch([[2**63 - 1, decimal.Decimal("12345678901234567890"), decimal.Decimal("1.5"), 12,
                          dt.date(2024, 2, 29), float("-inf")]])
    assert collector.rows == [["9223372036854775807", "12345678901234567890", 1.5, 12, "2024-02-29", "-inf"]]
    assert collector.big_int_columns == {0}
    assert json_safe({"n": [2**60]}) == {"n": [str(2**60)]}
