"""A DuckDB warehouse lets go of its file when idle, so another process (dbt) can write it
(common/warehouse/duckdb_lifecycle.py); the next call reopens it and sees what was written."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import duckdb
import pytest

from snowmcp.common.errors import QueryTimeout
from snowmcp.common.results import RowCollector
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import QueryTag
from snowmcp.common.warehouse.duckdb import DuckDBWarehouse
from snowmcp.common.warehouse.duckdb_engine import EngineConfig, is_open
from snowmcp.common.warehouse.duckdb_lifecycle import Clock, DuckDBFileLocked

pytestmark = pytest.mark.anyio
TAG = QueryTag(server="test", tool="test")
SLOW = "SELECT count(*) FILTER (WHERE hash(i) % 2 = 0) AS n FROM range(200000000) t(i)"  # ~1.5 s, two threads


class ManualClock(Clock):
    """Time moves only by `advance` (timers due by then fire) and by the waits of the code under test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.timers: list[list[object]] = []  # [due, fn, cancelled]

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await anyio.sleep(0.01)  # a real (short) pause: a writer in another process gets its turn

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        entry: list[object] = [self.now + delay_s, fn, False]
        self.timers.append(entry)
        return lambda: entry.__setitem__(2, True)

    def pending(self) -> int:
        return sum(1 for _, _, cancelled in self.timers if not cancelled)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := [t for t in self.timers if t[0] <= self.now and not t[2]]:  # type: ignore[operator]
            self.timers = [t for t in self.timers if t not in due]
            for _, fn, _ in due:
                fn()  # type: ignore[operator]  (it may arm another timer, due by now too)


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "W.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(3)")
    return path


def engine(tmp_path: Path, **overrides: object) -> EngineConfig:
    return EngineConfig(**{"temp_directory": tmp_path / "state" / "duckdb_tmp", **overrides})  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def warehouse(warehouse_file: Path, tmp_path: Path, clock: ManualClock) -> AsyncIterator[DuckDBWarehouse]:
    w = DuckDBWarehouse(warehouse_file, engine(tmp_path, idle_close_s=2.0, lock_wait_s=1.0), clock=clock)
    yield w
    await w.close()


async def rows(warehouse: DuckDBWarehouse, sql: str, timeout_s: float = 30) -> list[list[object]]:
    collector = RowCollector(max_rows=200, max_bytes=100_000)
    await warehouse.execute(sql, collector, timeout_s=timeout_s, tag=TAG)
    return collector.rows


def write(path: Path, *statements: str) -> None:
    """What dbt does to the file: a read-write connection, some DDL and DML, closed."""
    with duckdb.connect(str(path)) as con:
        for sql in statements:
            con.execute(sql)


def writer_process(path: Path, hold_s: float | None = None) -> subprocess.Popen[str]:
    """A writer in another process (file locks are per process): it writes, says "locked" and keeps the
    lock until stdin closes (or for `hold_s`)."""
    script = textwrap.dedent(f"""
        import sys, time, duckdb
        con = duckdb.connect({str(path)!r})
        con.execute("CREATE OR REPLACE TABLE written AS SELECT 'by the writer' AS who")
        print("locked", flush=True)
        time.sleep({hold_s}) if {hold_s is not None} else sys.stdin.read()
        con.close()
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process


async def test_the_file_is_let_go_of_when_idle_and_the_next_call_reads_what_was_written(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock
) -> None:
    assert await rows(warehouse, "SELECT count(*) FROM t") == [[3]]
    clock.advance(1.9)
    assert is_open(warehouse_file)
    clock.advance(0.2)
    assert not is_open(warehouse_file)  # let go of: a writer may open it now
    write(warehouse_file, "INSERT INTO t VALUES (3), (4)", "CREATE TABLE fresh AS SELECT 'new' AS x")
    assert await rows(warehouse, "SELECT count(*) FROM t") == [[5]]
    assert await rows(warehouse, "SELECT x FROM fresh") == [["new"]]
    assert [t.name for t in await warehouse.list_tables("W", "main")] == ["fresh", "t"]
    assert is_open(warehouse_file) and warehouse._file.opens == 2


async def test_each_call_restarts_the_idle_time(warehouse: DuckDBWarehouse, warehouse_file: Path,
                                                clock: ManualClock) -> None:
    for _ in range(5):
        clock.advance(1.5)
        assert await rows(warehouse, "SELECT 1") == [[1]]
    assert is_open(warehouse_file) and warehouse._file.opens == 1
    for _ in range(50):
        await rows(warehouse, "SELECT 1")
    assert clock.pending() == 1  # one timer, its deadline moved on: no timer per call
    clock.advance(2.0)
    assert not is_open(warehouse_file)


async def test_zero_keeps_the_file_open(warehouse_file: Path, tmp_path: Path, clock: ManualClock) -> None:
    w = DuckDBWarehouse(warehouse_file, engine(tmp_path, idle_close_s=0), clock=clock)
    try:
        await rows(w, "SELECT 1")
        clock.advance(1e6)
        assert is_open(warehouse_file) and clock.pending() == 0
    finally:
        await w.close()
    assert not is_open(warehouse_file)


async def test_a_long_statement_is_never_closed_under_itself(warehouse_file: Path, tmp_path: Path) -> None:
    """Real time and the real timer: the idle time (50 ms) passes many times while the statement runs."""
    w = DuckDBWarehouse(warehouse_file, engine(tmp_path, idle_close_s=0.05, threads=2))
    open_while_running: list[bool] = []
    try:
        async with anyio.create_task_group() as tasks:
            async def watch() -> None:
                while True:
                    await anyio.sleep(0.02)
                    open_while_running.append(is_open(warehouse_file))

            tasks.start_soon(watch)
            started = time.monotonic()
            answer = await rows(w, SLOW, timeout_s=60)
            tasks.cancel_scope.cancel()
        assert time.monotonic() - started > 0.3, "the statement should outlast the idle time many times"
        assert len(answer) == 1 and 50_000_000 < int(answer[0][0]) < 150_000_000  # type: ignore[call-overload]
        assert all(open_while_running) and len(open_while_running) > 10
        with anyio.fail_after(5):
            while is_open(warehouse_file):  # and once it is done, the file is let go of
                await anyio.sleep(0.02)
        assert await rows(w, "SELECT count(*) FROM t") == [[3]]
    finally:
        await w.close()


async def test_the_idle_time_counts_from_the_end_of_the_last_statement(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock
) -> None:
    answer: list[list[object]] = []
    async with anyio.create_task_group() as tasks:
        async def slow() -> None:
            answer.extend(await rows(warehouse, SLOW, timeout_s=60))

        tasks.start_soon(slow)
        with anyio.fail_after(10):
            while not warehouse._file.running:
                await anyio.sleep(0.005)
        clock.advance(100)  # long past the idle time, while the statement runs
        assert is_open(warehouse_file) and clock.pending() == 0
    assert len(answer) == 1
    clock.advance(1.9)
    assert is_open(warehouse_file)
    clock.advance(0.2)
    assert not is_open(warehouse_file)


async def test_closing_the_warehouse_lets_running_statements_finish(warehouse_file: Path, tmp_path: Path) -> None:
    w = DuckDBWarehouse(warehouse_file, engine(tmp_path))
    answer: list[list[object]] = []
    async with anyio.create_task_group() as tasks:
        async def slow() -> None:
            answer.extend(await rows(w, SLOW, timeout_s=60))

        tasks.start_soon(slow)
        with anyio.fail_after(10):
            while not w._file.running:
                await anyio.sleep(0.005)
        await w.close()  # a server shutting down: the statement keeps its own use of the file
        assert is_open(warehouse_file)
    assert len(answer) == 1
    assert not is_open(warehouse_file)


async def test_a_statement_given_up_keeps_the_file_until_it_has_wound_down(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock
) -> None:
    with pytest.raises(QueryTimeout):
        await rows(warehouse, SLOW, timeout_s=0.2)
    clock.advance(10)  # whatever the interrupted work still does, its lease is counted until it ends
    with anyio.fail_after(10):
        while warehouse._file.running:
            await anyio.sleep(0.01)
    clock.advance(2.0)
    assert not is_open(warehouse_file)
    assert await rows(warehouse, "SELECT count(*) FROM t") == [[3]]


async def test_concurrent_calls_while_the_file_reopens_share_one_connection(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock
) -> None:
    await rows(warehouse, "SELECT 1")
    clock.advance(2.0)
    assert not is_open(warehouse_file)
    write(warehouse_file, "INSERT INTO t VALUES (3)")
    answers: list[object] = []

    async def one(n: int) -> None:
        if n % 3 == 0:
            answers.append(len(await warehouse.list_tables("W", "main")))
        else:
            answers.append((await rows(warehouse, f"SELECT count(*) + {n} - {n} FROM t"))[0][0])

    async with anyio.create_task_group() as tasks:
        for n in range(24):
            tasks.start_soon(one, n)
    assert sorted(answers, key=str) == sorted([1] * 8 + [4] * 16, key=str)
    assert warehouse._file.opens == 2 and warehouse._file.running == 0
    clock.advance(2.0)
    assert not is_open(warehouse_file)


async def test_calls_racing_the_real_idle_timer_all_answer(warehouse_file: Path, tmp_path: Path) -> None:
    """An idle time of 1 ms on the real timer: the file closes and reopens between and under calls."""
    w = DuckDBWarehouse(warehouse_file, engine(tmp_path, idle_close_s=0.001))
    answers: list[object] = []

    async def one(n: int) -> None:
        await anyio.sleep((n % 7) * 0.002)
        if n % 4 == 0:
            answers.append(len(await w.list_tables("W", "main")))
        else:
            answers.append((await rows(w, "SELECT count(*) FROM t"))[0][0])

    try:
        for _ in range(10):
            async with anyio.create_task_group() as tasks:
                for n in range(20):
                    tasks.start_soon(one, n)
            await anyio.sleep(0.01)
    finally:
        await w.close()
    assert sorted(answers, key=str) == sorted([1] * 50 + [3] * 150, key=str)
    assert w._file.opens > 1 and not is_open(warehouse_file)


async def test_a_writer_holding_the_lock_gets_a_clear_error_after_a_bounded_wait(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock
) -> None:
    await rows(warehouse, "SELECT 1")
    clock.advance(2.0)
    writer = writer_process(warehouse_file)
    try:
        started = clock.monotonic()
        with anyio.fail_after(10):  # real time: never a hang
            with pytest.raises(DuckDBFileLocked) as caught:
                await rows(warehouse, "SELECT count(*) FROM t")
        assert clock.monotonic() - started == pytest.approx(1.0, abs=0.3)  # lock_wait_s, in the clock's time
        text = str(caught.value)
        assert "being written by another process" in text and f"(PID {writer.pid})" in text
        assert "Conflicting lock is held" in text and "dbt" in text and "try again" in text
        with pytest.raises(DuckDBFileLocked):  # the call's own timeout bounds the wait too
            await rows(warehouse, "SELECT 1", timeout_s=0.3)
        assert clock.monotonic() - started == pytest.approx(1.3, abs=0.3)
    finally:
        writer.communicate("")
    assert await rows(warehouse, "SELECT who FROM written") == [["by the writer"]]


async def test_a_call_waits_out_a_short_write(warehouse_file: Path, tmp_path: Path) -> None:
    w = DuckDBWarehouse(warehouse_file, engine(tmp_path, idle_close_s=0.05, lock_wait_s=20))
    try:
        with anyio.fail_after(5):
            while is_open(warehouse_file):
                await anyio.sleep(0.01)
        writer = writer_process(warehouse_file, hold_s=0.5)
        assert await rows(w, "SELECT who FROM written") == [["by the writer"]]
        writer.wait(5)
    finally:
        await w.close()


async def test_a_warehouse_opened_while_a_writer_holds_the_file_starts_and_answers_later(
    warehouse_file: Path, tmp_path: Path, clock: ManualClock
) -> None:
    writer = writer_process(warehouse_file)
    try:
        w = DuckDBWarehouse(warehouse_file, engine(tmp_path, lock_wait_s=0.5), clock=clock)  # no error at start
        with pytest.raises(DuckDBFileLocked):
            await rows(w, "SELECT 1")
    finally:
        writer.communicate("")
    try:
        assert await rows(w, "SELECT who FROM written") == [["by the writer"]]
    finally:
        await w.close()


async def test_columns_are_described_afresh_after_the_file_changed(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock
) -> None:
    """The cell capper remembers each statement's columns; a table rebuilt by dbt has other ones."""
    assert await rows(warehouse, "SELECT * FROM t ORDER BY 1") == [[0], [1], [2]]
    clock.advance(2.0)
    write(warehouse_file, "CREATE OR REPLACE TABLE t AS SELECT range AS i, repeat('x', 5000) AS s FROM range(2)")
    collector = RowCollector(max_rows=10, max_bytes=100_000, max_cell_bytes=100)
    outcome = await warehouse.execute("SELECT * FROM t ORDER BY 1", collector, timeout_s=30, tag=TAG)
    assert [c.name for c in outcome.columns] == ["i", "s"]
    assert collector.rows[0][0] == 0 and len(str(collector.rows[0][1])) <= 100  # the new text column is capped


async def test_the_result_cache_never_serves_an_answer_from_before_a_write(
    warehouse: DuckDBWarehouse, warehouse_file: Path, clock: ManualClock, tmp_path: Path
) -> None:
    runtime = ServerRuntime("test", Settings(state_dir=tmp_path / "state"), warehouse)
    sql = "SELECT count(*) AS n FROM t"
    first = await runtime.query(sql, tool="t")
    assert first.rows == [[3]] and not first.cached
    assert (await runtime.query(sql, tool="t")).cached
    clock.advance(2.0)  # let go of, not written: the cached answer is still true
    again = await runtime.query(sql, tool="t")
    assert again.cached and again.rows == [[3]]
    write(warehouse_file, "INSERT INTO t VALUES (3)")
    after = await runtime.query(sql, tool="t")  # the file changed on disk: the cache is not asked
    assert after.rows == [[4]] and not after.cached
    assert (await runtime.query(sql, tool="t")).cached


def test_the_setting_reaches_the_engine_config(tmp_path: Path) -> None:
    assert Settings().duckdb_idle_close_s == 2.0
    config = EngineConfig.from_settings(Settings(state_dir=tmp_path, duckdb_idle_close_s=0.5))
    assert config.idle_close_s == 0.5
    assert config == EngineConfig.from_settings(Settings(state_dir=tmp_path))  # the same engine either way
