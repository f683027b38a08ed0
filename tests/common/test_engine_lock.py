"""The locked DuckDB engine: no statement changes a setting, resources are bounded, temp files stay
in the state dir (common/warehouse/duckdb_engine.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import anyio
import duckdb
import pytest

from snowmcp.common.errors import QueryFailed
from snowmcp.common.results import RowCollector
from snowmcp.common.warehouse.base import QueryTag
from snowmcp.common.warehouse.duckdb import DuckDBWarehouse
from snowmcp.common.warehouse.duckdb_engine import EngineConfig
from tests.processes import REPO

pytestmark = pytest.mark.anyio
TAG = QueryTag(server="test", tool="test")


@pytest.fixture
def warehouse_file(tmp_path: Path) -> Path:
    """A small DuckDB file of its own (a shared engine per file: no other test's config)."""
    path = tmp_path / "data" / "W.duckdb"
    path.parent.mkdir()
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(1000)")
    return path


def engine(tmp_path: Path, **overrides: object) -> EngineConfig:
    return EngineConfig(**{"temp_directory": tmp_path / "state" / "duckdb_tmp", **overrides})  # type: ignore[arg-type]


async def run(warehouse: DuckDBWarehouse, sql: str, timeout_s: float = 30) -> list[list[object]]:
    collector = RowCollector(max_rows=200, max_bytes=100_000)
    await warehouse.execute(sql, collector, timeout_s=timeout_s, tag=TAG)
    return collector.rows


SETTING_CHANGES = [
    "SET memory_limit = '64GB'",
    "SET threads = 64",
    "RESET memory_limit",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "SET GLOBAL temp_directory = '/tmp'",
    "PRAGMA enable_profiling",
    "SELECT * FROM enable_logging()",
    "SELECT * FROM enable_logging(level := 'trace')",
    "SELECT * FROM enable_profiling()",
    "CALL enable_profiling(format := 'json', save_location := 'profile.json')",
]


@pytest.mark.parametrize("sql", SETTING_CHANGES)
async def test_no_statement_changes_a_setting(sql: str, warehouse_file: Path, tmp_path: Path) -> None:
    warehouse = DuckDBWarehouse(warehouse_file, engine(tmp_path))
    try:
        with pytest.raises(QueryFailed, match="configuration has been locked"):
            await run(warehouse, sql)
        assert await run(warehouse, "SELECT count(*) FROM t") == [[1000]]  # still answering
    finally:
        await warehouse.close()


def test_file_logging_fails_cleanly_and_the_process_keeps_answering(warehouse_file: Path, tmp_path: Path) -> None:
    """Unlocked, this made the NEXT statement abort the process (SIGABRT): run it in a child."""
    script = textwrap.dedent(f"""
        import anyio
        from pathlib import Path
        from snowmcp.common.errors import QueryFailed
        from snowmcp.common.results import RowCollector
        from snowmcp.common.warehouse.base import QueryTag
        from snowmcp.common.warehouse.duckdb import DuckDBWarehouse
        from snowmcp.common.warehouse.duckdb_engine import EngineConfig

        async def main():
            w = DuckDBWarehouse(Path({str(warehouse_file)!r}), EngineConfig(temp_directory=Path({str(tmp_path / "t")!r})))
            for sql in ["SELECT * FROM enable_logging(storage := 'file', storage_path := {str(tmp_path / "logs")!r})",
                        "SELECT * FROM enable_logging(storage := 'file')"]:
                try:
                    await w.execute(sql, RowCollector(max_rows=5, max_bytes=1000), timeout_s=30, tag=QueryTag("t", "t"))
                    print("ALLOWED", sql)
                except QueryFailed as exc:
                    print("REFUSED", "locked" in str(exc))
                collector = RowCollector(max_rows=5, max_bytes=1000)
                await w.execute("SELECT 42", collector, timeout_s=30, tag=QueryTag("t", "t"))
                print("ANSWER", collector.rows)

        anyio.run(main)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["REFUSED", "True", "ANSWER", "[[42]]"] * 2
    assert not (tmp_path / "logs").exists()


async def test_the_settings_are_applied_and_locked(warehouse_file: Path, tmp_path: Path) -> None:
    config = engine(tmp_path, memory_limit="300MB", threads=1, max_temp_directory_size="123MB")
    warehouse = DuckDBWarehouse(warehouse_file, config)
    try:
        assert warehouse._engine is not None
        con = warehouse._engine.con.cursor()

        def setting(name: str) -> object:
            return con.execute("SELECT current_setting(?)", [name]).fetchone()[0]  # type: ignore[index]

        assert setting("memory_limit") == "286.1 MiB"  # 300 MB as DuckDB prints it
        assert setting("threads") == 1
        assert setting("temp_directory") == str(tmp_path / "state" / "duckdb_tmp")
        assert setting("max_temp_directory_size") == "117.3 MiB"
        for name in ("enable_external_access", "autoload_known_extensions", "autoinstall_known_extensions",
                     "allow_community_extensions", "python_enable_replacements", "enable_progress_bar"):
            assert setting(name) is False, name
        assert setting("lock_configuration") is True
    finally:
        await warehouse.close()


async def test_a_python_variable_is_never_a_table(warehouse_file: Path, tmp_path: Path) -> None:
    pyarrow = pytest.importorskip("pyarrow")
    warehouse = DuckDBWarehouse(warehouse_file, engine(tmp_path))
    try:
        assert warehouse._engine is not None
        con = warehouse._engine.con.cursor()
        secret_rows = pyarrow.table({"secret": ["do not show"]})  # noqa: F841 - what a replacement scan would find
        with pytest.raises(duckdb.CatalogException):
            con.execute("SELECT * FROM secret_rows").fetchall()
        with pytest.raises(QueryFailed):
            await run(warehouse, "SELECT * FROM secret_rows")
    finally:
        await warehouse.close()


async def test_spills_go_to_the_state_dir_and_never_beside_the_warehouse_file(
    warehouse_file: Path, tmp_path: Path
) -> None:
    temp_dir = tmp_path / "state" / "duckdb_tmp"
    warehouse = DuckDBWarehouse(warehouse_file, engine(tmp_path, memory_limit="64MB", threads=1))
    seen: set[str] = set()
    big_aggregate = ("SELECT count(*) FROM (SELECT s, count(*) FROM "
                     "(SELECT md5(i::VARCHAR) || repeat('y', 100) AS s FROM range(3000000) t(i)) GROUP BY s)")

    async def watch() -> None:
        while True:
            seen.update(p.name for p in temp_dir.iterdir())
            await anyio.sleep(0.005)

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(watch)
            rows = await run(warehouse, big_aggregate, timeout_s=120)
            tasks.cancel_scope.cancel()
    finally:
        await warehouse.close()
    assert rows == [[3_000_000]]
    assert seen, "the aggregate should have spilled into the state dir's duckdb_tmp"
    assert sorted(p.name for p in warehouse_file.parent.iterdir()) == ["W.duckdb"]  # no W.duckdb.tmp, no wal
