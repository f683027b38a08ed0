"""No analytics answer is capped or partial without saying so; odd numbers never cause internal errors.

The tables (tests/servers/analytics/caps_data.py) are longer than a lowered point cap
(`max_rows_limit=500`, so 499 buckets a call), on DuckDB and on Snowflake (fakesnow).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from tests.helpers import call_error, call_ok
from tests.servers.analytics import caps_data
from tests.servers.analytics.caps_data import DAYS, FIRST_DAY, NEW_SPIKE, OLD_SPIKE

pytestmark = pytest.mark.anyio
CAP = 499  # buckets one call returns with max_rows_limit=500
DAILY = "CAPS.CAPS.DAILY"
SUM_V = {"fn": "sum", "column": "V"}


@pytest.fixture(scope="session")
def caps_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("caps") / "CAPS.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA CAPS")
        for sql in caps_data.statements():
            con.execute(sql)
    return path


@pytest.fixture(params=["duckdb", "snowflake"])
def caps_settings(request: pytest.FixtureRequest, caps_duckdb: Path, tmp_path: Path) -> Settings:
    if request.param == "duckdb":
        return Settings(warehouse=f"duckdb://{caps_duckdb}", state_dir=tmp_path / "state", max_rows_limit=500)
    from tests.snowflake_fixtures import create_database

    create_database(request.getfixturevalue("fakesnow_server"), "CAPS",
                    ["CREATE DATABASE CAPS", "CREATE SCHEMA CAPS.CAPS", *caps_data.statements()])
    settings: Settings = request.getfixturevalue("snowflake_settings")
    return settings.model_copy(update={"snowflake_database": "CAPS", "max_rows_limit": 500})


@pytest.fixture
async def caps(caps_settings: Settings) -> AsyncIterator[Client]:
    from snowmcp.servers.analytics.server import build_server

    async with Client(build_server(caps_settings)) as client:
        yield client


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


async def test_a_spike_in_the_newest_bucket_is_found_when_the_series_is_longer_than_the_cap(caps: Client) -> None:
    result = await call_ok(caps, "detect_anomalies", {"table": DAILY, "time_column": "DAY", "metric": SUM_V})
    found = {day(a["time"]) for a in result["anomalies"]}
    assert NEW_SPIKE in found and OLD_SPIKE not in found  # the newest buckets are the ones scored
    assert result["truncated"] and result["buckets_total"] == DAYS
    left_out = result["left_out"]
    assert left_out["count"] == DAYS - CAP
    assert day(left_out["first"]) == FIRST_DAY
    assert day(left_out["until"]) == FIRST_DAY + dt.timedelta(days=DAYS - CAP)
    assert result["anomalies_total"] == len(result["anomalies"])


async def test_a_series_that_fits_says_it_is_complete(caps: Client) -> None:
    result = await call_ok(caps, "detect_anomalies", {
        "table": DAILY, "time_column": "DAY", "metric": SUM_V, "grain": "month"})
    assert not result["truncated"] and result["left_out"] is None
    assert result["buckets_total"] == len({(FIRST_DAY + dt.timedelta(days=i)).replace(day=1) for i in range(DAYS)})


async def test_a_long_time_series_returns_the_newest_buckets_and_says_which_were_left_out(caps: Client) -> None:
    for fill_gaps in (True, False):
        result = await call_ok(caps, "time_series", {"table": DAILY, "time_column": "DAY", "metric": SUM_V,
                                                     "fill_gaps": fill_gaps})
        points = result["points"]
        assert len(points) == CAP and day(points[-1]["time"]) == NEW_SPIKE
        assert [p["time"] for p in points] == sorted(p["time"] for p in points)  # still oldest first
        assert result["truncated"] and result["buckets_total"] == DAYS
        assert result["left_out"]["count"] == DAYS - CAP and day(result["left_out"]["first"]) == FIRST_DAY
        assert result["left_out"]["until"] == points[0]["time"]


async def test_a_byte_capped_series_still_says_how_much_is_missing(caps_settings: Settings) -> None:
    from snowmcp.servers.analytics.server import build_server

    small = caps_settings.model_copy(update={"max_result_tokens": 500})
    async with Client(build_server(small)) as client:
        result = await call_ok(client, "time_series", {"table": DAILY, "time_column": "DAY", "metric": SUM_V})
    points = result["points"]
    assert 0 < len(points) < CAP and day(points[-1]["time"]) == NEW_SPIKE
    assert result["truncated"] and result["left_out"]["count"] == DAYS - len(points)


async def test_a_series_within_the_cap_is_complete(caps: Client) -> None:
    result = await call_ok(caps, "time_series", {"table": DAILY, "time_column": "DAY", "metric": SUM_V,
                                                 "start": "2025-01-01", "end": "2025-02-01"})
    assert len(result["points"]) == 31 and result["buckets_total"] == 31
    assert not result["truncated"] and result["left_out"] is None


async def test_value_counts_say_when_values_are_left_out(caps: Client) -> None:
    top = await call_ok(caps, "value_counts", {"table": "CAPS.CAPS.CODES", "column": "CODE", "top": 5})
    assert [v["value"] for v in top["values"]] == [f"code-{k}" for k in range(40, 35, -1)]
    assert top["truncated"] and top["distinct"] == caps_data.CODES
    assert top["other_count"] == sum(range(1, 36))
    every = await call_ok(caps, "value_counts", {"table": "CAPS.CAPS.CODES", "column": "CODE", "top": 40})
    assert not every["truncated"] and every["other_count"] == 0


async def test_aggregate_counts_every_group_when_it_lists_only_some(caps: Client) -> None:
    result = await call_ok(caps, "aggregate", {"table": "CAPS.CAPS.CODES", "metrics": [{"fn": "count"}],
                                               "group_by": ["CODE"], "limit": 3})
    assert result["truncated"] and result["groups_total"] == caps_data.CODES and len(result["rows"]) == 3
    assert set(result["rows"][0]) == {"CODE", "count"}  # the group count is not a column


async def test_a_histogram_over_nan_and_infinity_bins_the_finite_values(caps: Client) -> None:
    result = await call_ok(caps, "histogram", {"table": "CAPS.CAPS.SPECIAL", "column": "X", "bins": 3})
    assert (result["count"], result["non_finite"], result["nulls"]) == (3, 3, 1)
    assert (result["min"], result["max"]) == (1.0, 4.0)
    assert [b["count"] for b in result["bins"]] == [1, 1, 1]


async def test_a_histogram_wider_than_the_largest_double_does_not_overflow(caps: Client) -> None:
    result = await call_ok(caps, "histogram", {"table": "CAPS.CAPS.WIDE", "column": "X", "bins": 2})
    assert [b["count"] for b in result["bins"]] == [1, 2]
    assert [(b["low"], b["high"]) for b in result["bins"]] == [(-1.7e308, 0.0), (0.0, 1.7e308)]


@pytest.mark.parametrize(("tool", "arguments"), [
    ("profile_table", {}),
    ("correlations", {"columns": ["X", "Y"]}),
    ("value_counts", {"column": "X"}),
    ("aggregate", {"metrics": [{"fn": "avg", "column": "X"}, {"fn": "max", "column": "X"}]}),
])
async def test_nan_and_infinity_never_cause_an_internal_error(caps: Client, tool: str, arguments: dict) -> None:
    await call_ok(caps, tool, {"table": "CAPS.CAPS.SPECIAL", **arguments})


async def test_anomalies_skip_non_finite_buckets(caps_duckdb: Path, tmp_path: Path) -> None:
    import duckdb

    from snowmcp.servers.analytics.server import build_server

    path = tmp_path / "NAN.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA S")
        con.execute("CREATE TABLE S.T AS SELECT DATE '2026-01-01' + INTERVAL (i) DAY AS D, "
                    "CASE WHEN i = 20 THEN 'NaN'::DOUBLE WHEN i = 21 THEN 'inf'::DOUBLE "
                    "WHEN i = 29 THEN 900.0 ELSE 100.0 + i % 3 END AS V FROM range(30) t(i)")
    async with Client(build_server(Settings(warehouse=f"duckdb://{path}", state_dir=tmp_path / "s"))) as client:
        result = await call_ok(client, "detect_anomalies", {"table": "NAN.S.T", "time_column": "D",
                                                            "metric": {"fn": "sum", "column": "V"}})
    assert result["non_finite"] == 2 and [a["time"][:10] for a in result["anomalies"]] == ["2026-01-30"]


async def test_counts_of_a_column_too_large_for_the_byte_cap_are_refused_clearly(tmp_path: Path) -> None:
    import duckdb

    from snowmcp.servers.analytics.server import build_server

    path = tmp_path / "BIG.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA S")
        con.execute("CREATE TABLE S.T AS SELECT repeat('x', 5000) || i AS V FROM range(3) t(i)")
    settings = Settings(warehouse=f"duckdb://{path}", state_dir=tmp_path / "s", max_result_tokens=250)
    async with Client(build_server(settings)) as client:
        error = await call_error(client, "value_counts", {"table": "BIG.S.T", "column": "V"})
    assert "too large to list" in error


def test_the_values_of_the_demo_codes_table_are_what_the_tests_assume() -> None:
    counts = Counter(code for sql in caps_data.statements() if "CODES VALUES" in sql
                     for code in sql.split("VALUES ", 1)[1].split(", "))
    assert len(counts) == caps_data.CODES and max(counts.values()) == caps_data.CODES
