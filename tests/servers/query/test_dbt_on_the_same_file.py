"""dbt (here: a DuckDB writer in the test process) writes the demo file while a real query server,
started over stdio as Claude Desktop starts it, is attached to it and idle; the server's next
answers show what was written. A writer that keeps the lock during a call gets a clear error
after a bounded wait, never a hang."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import anyio
import duckdb
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from snowmcp.common.demo_warehouse import demo_path
from tests.helpers import call_error, call_ok
from tests.processes import REPO, serve_command, server_env

pytestmark = pytest.mark.anyio
COUNT = {"sql": "SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS"}


async def write_lock(path: Path, within_s: float = 15.0) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `path`, as soon as the server has let go of the file."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "Conflicting lock" not in str(exc) or time.monotonic() > deadline:
                raise
            await anyio.sleep(0.05)


async def test_a_writer_builds_the_demo_file_while_the_server_is_idle(demo_db: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    path = demo_path(state)
    path.parent.mkdir(parents=True)
    shutil.copyfile(demo_db, path)
    command, *args = serve_command("query")
    env = server_env("demo", SNOWMCP_STATE_DIR=str(state), SNOWMCP_DUCKDB_IDLE_CLOSE_S="0.3")
    async with Client(StdioServerParameters(command=command, args=args, env=env, cwd=str(REPO))) as client:
        before = await call_ok(client, "run_query", COUNT)
        orders = int(before["rows"][0][0])
        assert (await call_ok(client, "run_query", COUNT))["cached"]

        with await write_lock(path) as writer:  # what `dbt build` does: changes rows, adds a schema and tables
            writer.execute("DELETE FROM SALES.ORDERS WHERE ORDER_ID IN "
                           "(SELECT ORDER_ID FROM SALES.ORDERS ORDER BY ORDER_ID LIMIT 10)")
            writer.execute("CREATE SCHEMA MARTS")
            writer.execute("CREATE TABLE MARTS.DAILY_ORDERS AS SELECT ORDER_DATE, count(*) AS N "
                           "FROM SALES.ORDERS GROUP BY ALL")

        after = await call_ok(client, "run_query", COUNT)  # the same question: not the cached answer
        assert int(after["rows"][0][0]) == orders - 10 and not after["cached"]
        tables = await call_ok(client, "list_tables", {"database": "ANALYTICS", "schema": "MARTS"})
        assert [t["name"] for t in tables["tables"]] == ["DAILY_ORDERS"]
        total = await call_ok(client, "run_query", {"sql": "SELECT sum(N) FROM MARTS.DAILY_ORDERS"})
        assert int(total["rows"][0][0]) == orders - 10

        with await write_lock(path) as writer:  # a writer that keeps the file while the model asks
            writer.execute("CREATE TABLE MARTS.MORE AS SELECT 42 AS answer")
            started = time.monotonic()
            text = await call_error(client, "run_query", {"sql": "SELECT answer FROM MARTS.MORE", "timeout_s": 1})
            assert time.monotonic() - started < 8
        assert "being written by another process" in text and "Conflicting lock is held" in text
        assert "dbt" in text and "try again" in text

        done = await call_ok(client, "run_query", {"sql": "SELECT answer FROM MARTS.MORE"})  # the writer is gone
        assert done["rows"] == [[42]]
