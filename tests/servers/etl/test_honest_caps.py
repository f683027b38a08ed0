"""No etl answer leaves runs out without saying so; odd times and durations get clear errors.

AUD.OPS.RUNS holds 3,000 failures of one pipeline (one every 10 minutes, each with a ~400-character
error) - more bytes than one result may carry - and one success before them. A stand-in Snowflake
serves 3,000 failed task runs and honours LIMIT/OFFSET, as the real one does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from mcp import Client
from sqlglot import exp

from snowmcp.common.results import ColumnInfo, RowCollector
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import FetchOutcome, QueryTag
from snowmcp.servers.etl.server import build_server
from tests.helpers import call_error, call_ok
from tests.servers.etl.conftest import etl_settings
from tests.servers.etl.test_snowflake_source import StandInSnowflake

pytestmark = pytest.mark.anyio
FAILURES = 3_000
NOW = dt.datetime(2026, 11, 20, 9, 0)
HUGE_RUN = "load_x-0"  # the newest failure; its error message is 200,000 characters


@pytest.fixture(scope="module")
def audit_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("aud") / "AUD.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA OPS")
        con.execute(f"""
            CREATE TABLE OPS.RUNS AS
            SELECT 'load_x' AS PIPELINE, 'load_x-' || i AS RUN_ID, 'failed' AS STATUS,
                   TIMESTAMP '{NOW}' - INTERVAL (i * 10) MINUTE AS STARTED_AT,
                   TIMESTAMP '{NOW}' - INTERVAL (i * 10) MINUTE + INTERVAL 1 MINUTE AS ENDED_AT,
                   0 AS ROWS_LOADED,
                   CASE WHEN i = 0 THEN repeat('y', 200000)
                        ELSE 'Object RAW.FEED_' || (i % 7) || ' does not exist or not authorized. ' || repeat('x', 330)
                   END AS ERROR_MESSAGE,
                   'AUD.OPS.X' AS TARGET_TABLE
            FROM range({FAILURES}) t(i)
            UNION ALL
            SELECT 'load_x', 'load_x-ok', 'success', TIMESTAMP '{NOW}' - INTERVAL 60 DAY,
                   TIMESTAMP '{NOW}' - INTERVAL 60 DAY + INTERVAL 1 MINUTE, 10, NULL, 'AUD.OPS.X'
        """)
    return path


@pytest.fixture
def make_audit(audit_db: Path, tmp_path: Path) -> Callable[..., Client]:
    def make(**overrides: Any) -> Client:
        settings = Settings(warehouse=f"duckdb://{audit_db}", state_dir=tmp_path / "state")
        values: dict[str, Any] = dict(etl_audit_table="AUD.OPS.RUNS", etl_now=NOW.isoformat() + "Z",
                                      etl_table_slas="")
        values.update(overrides)
        return Client(build_server(settings, etl_settings=etl_settings(**values)))

    return make


@pytest.fixture
async def audit(make_audit: Callable[..., Client]) -> AsyncIterator[Client]:
    async with make_audit() as client:
        yield client


async def test_the_audit_source_reports_all_3000_failures_past_the_byte_cap(audit: Client) -> None:
    result = await call_ok(audit, "failed_runs", {"since": "30d"})
    assert result["total_failures"] == FAILURES
    assert sum(g["failures"] for g in result["groups"]) == FAILURES
    assert not result["truncated"] and result["left_out"] == []


async def test_beyond_max_runs_the_answer_says_what_it_left_out(make_audit: Callable[..., Client]) -> None:
    async with make_audit(etl_max_runs=1_000) as client:
        failed = await call_ok(client, "failed_runs", {"since": "30d"})
        health = await call_ok(client, "health_summary")
    assert failed["total_failures"] == FAILURES  # counted in the warehouse, not in what was read
    assert sum(g["failures"] for g in failed["groups"]) == 1_000
    assert failed["truncated"] and any("3,000 failures matched" in note for note in failed["left_out"])
    assert health["truncated"] and health["left_out"]


async def test_recent_runs_says_how_many_matched(audit: Client) -> None:
    runs = await call_ok(audit, "recent_runs", {"limit": 1_000})
    assert runs["count"] == 1_000 and runs["matched"] == FAILURES + 1 and runs["truncated"]
    assert runs["runs"][0]["run_id"] == HUGE_RUN and runs["left_out"] == []  # the limit, not a cap
    every = await call_ok(audit, "recent_runs", {"pipeline": "load_x", "status": "success"})
    assert (every["count"], every["matched"], every["truncated"]) == (1, 1, False)


async def test_a_huge_error_message_is_cut_in_the_warehouse_and_says_so(audit: Client) -> None:
    report = await call_ok(audit, "diagnose_run", {"run_id": HUGE_RUN})
    message = report["run"]["error_message"]
    assert len(message) < 2_100 and message.endswith("[... cut: 200000 characters in all]")
    assert report["failures_since_last_good"] == FAILURES and not report["truncated"]


@pytest.mark.parametrize(("tool", "since", "expected"), [
    ("failed_runs", "999999999999d", "too long a duration"),
    ("failed_runs", "999999999999 days", "too long a duration"),
    ("failed_runs", "P999999999999D", "too long a duration"),
    ("recent_runs", "0001-01-01T00:00:00+05:00", "outside the calendar"),
    ("recent_runs", "9" * 500, "neither a duration nor an ISO timestamp"),
    ("sla_breaches", "3650d", "at most 366 days"),
    ("sla_breaches", "0001-01-01", "at most 366 days"),
])
async def test_odd_times_get_a_clear_error(audit: Client, tool: str, since: str, expected: str) -> None:
    error = await call_error(audit, tool, {"since": since})
    assert expected in error and "internal error" not in error.lower() and len(error) < 400


async def test_iso_durations_are_understood(audit: Client) -> None:
    iso, plain = [await call_ok(audit, "failed_runs", {"since": s}) for s in ("P1DT12H", "36h")]
    assert iso["since"] == plain["since"] and iso["total_failures"] == plain["total_failures"] == 36 * 6 + 1  # both ends included


# -- Snowflake: a stand-in that pages like the real warehouse ------------------------------------------

def task_rows(count: int) -> list[dict[str, Any]]:
    start = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
    return [{"NAME": "LOAD_RAW", "DATABASE_NAME": "RAW", "SCHEMA_NAME": "PUBLIC", "STATE": "FAILED",
             "SCHEDULED_TIME": (start - dt.timedelta(minutes=i)).isoformat(),
             "QUERY_START_TIME": (start - dt.timedelta(minutes=i)).isoformat(),
             "COMPLETED_TIME": (start - dt.timedelta(minutes=i, seconds=-5)).isoformat(),
             "ERROR_CODE": "002003", "ERROR_MESSAGE": f"Object RAW.FEED does not exist {'z' * 300}",
             "QUERY_ID": f"q-{i:05d}", "ROOT_TASK_ID": "root", "RUN_ID": str(i)} for i in range(count)]


class PagingSnowflake(StandInSnowflake):
    """Task history of `count` failed runs, served by LIMIT/OFFSET; the other histories are empty."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.tasks = task_rows(count)

    async def execute(self, sql_text: str, collector: RowCollector, *, params: Any = None, timeout_s: float,
                      tag: QueryTag) -> FetchOutcome:
        self.sent.append(sql_text)
        statement = sqlglot.parse_one(sql_text, read="snowflake")
        columns = [ColumnInfo(name=k, type="TEXT") for k in self.tasks[0]]
        if "TASK_HISTORY" not in sql_text:
            return FetchOutcome(columns, None)
        limit, offset = statement.args.get("limit"), statement.args.get("offset")
        first = int(offset.expression.name) if isinstance(offset, exp.Offset) else 0
        last = first + int(limit.expression.name) if limit is not None else None
        collector.add_batch([list(r.values()) for r in self.tasks[first:last]])
        return FetchOutcome(columns, None)


async def test_the_snowflake_source_pages_a_history_larger_than_one_result(tmp_path: Path) -> None:
    warehouse = PagingSnowflake(FAILURES)
    settings = Settings(warehouse="snowflake://stand-in", state_dir=tmp_path / "state", cache_ttl_s=0)
    client = Client(build_server(settings, warehouse=warehouse, etl_settings=etl_settings(
        etl_sources=("snowflake",), etl_sla_file=None, etl_now="2026-11-20T09:00:00Z")))
    async with client:
        failed = await call_ok(client, "failed_runs", {"since": "7d"})
    assert failed["total_failures"] == FAILURES and not failed["truncated"]
    assert sum("TASK_HISTORY" in s for s in warehouse.sent) > 2  # more than one page per read


async def test_a_snowflake_history_beyond_max_runs_is_marked_partial(tmp_path: Path) -> None:
    warehouse = PagingSnowflake(FAILURES)
    settings = Settings(warehouse="snowflake://stand-in", state_dir=tmp_path / "state", cache_ttl_s=0)
    client = Client(build_server(settings, warehouse=warehouse, etl_settings=etl_settings(
        etl_sources=("snowflake",), etl_sla_file=None, etl_now="2026-11-20T09:00:00Z", etl_max_runs=1_000)))
    async with client:
        failed = await call_ok(client, "failed_runs", {"since": "7d"})
    status = next(s for s in failed["sources"] if s["name"] == "snowflake")
    assert failed["truncated"] and "task_history" in status["left_out"]
    assert failed["total_failures"] == 1_000  # all that could be read: the note says older ones are missing
