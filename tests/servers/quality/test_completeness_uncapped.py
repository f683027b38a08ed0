"""completeness_by_period counts every bucket of the range in the warehouse: no cap can hide a hole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.quality.server import build_server
from tests.helpers import call_ok

pytestmark = pytest.mark.anyio


async def test_a_48_hour_hole_past_100000_hourly_buckets_is_found(tmp_path: Path) -> None:
    path = tmp_path / "events.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute("""CREATE TABLE ops.events AS
                       SELECT TIMESTAMP '2010-01-01' + INTERVAL (h) HOUR AS ts FROM range(150000) r(h)
                       WHERE h NOT BETWEEN 120000 AND 120047""")
    settings = Settings(warehouse=f"duckdb://{path}", state_dir=tmp_path / "state")
    async with Client(build_server(settings)) as client:
        run = await call_ok(client, "run_checks", {
            "table": "events.ops.events",
            "checks": [{"completeness_by_period": {"column": "ts", "grain": "hour"}}]})
    [check] = run["results"]
    first_hole = dt.datetime(2010, 1, 1) + dt.timedelta(hours=120_000)
    assert check["status"] == "fail" and check["unexpected_count"] == 48, check
    assert first_hole.isoformat() in check["message"]
