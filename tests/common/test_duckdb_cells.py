"""Cells capped inside the DuckDB statement (common/warehouse/duckdb_cells.py), through DuckDBWarehouse."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from snowmcp.common.results import ColumnInfo, QueryResult, RowCollector
from snowmcp.common.warehouse.base import QueryTag
from snowmcp.common.warehouse.duckdb import DuckDBWarehouse
from snowmcp.common.warehouse.duckdb_engine import EngineConfig

pytestmark = pytest.mark.anyio


@pytest.fixture
async def warehouse(tmp_path: Path) -> AsyncIterator[DuckDBWarehouse]:
    path = tmp_path / "C.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i, repeat('ab', range::INT * 100) AS s FROM range(50)")
    w = DuckDBWarehouse(path, EngineConfig(temp_directory=tmp_path / "state" / "duckdb_tmp"))
    yield w
    await w.close()


async def fetch(warehouse: DuckDBWarehouse, sql: str, *, cell: int = 1_000, params: list[Any] | None = None,
                rows: int = 200) -> QueryResult:
    collector = RowCollector(max_rows=rows, max_bytes=1_000_000, max_cell_bytes=cell)
    outcome = await warehouse.execute(sql, collector, params=params, timeout_s=30, tag=QueryTag("t", "t"))
    return QueryResult.from_collector(collector, columns=outcome.columns, elapsed_ms=0, query_id=None)


async def test_strings_are_cut_in_the_statement_with_their_real_size(warehouse: DuckDBWarehouse) -> None:
    result = await fetch(warehouse, "SELECT i, s FROM t ORDER BY i DESC")
    assert [r[0] for r in result.rows] == list(range(49, -1, -1))  # order kept through the wrapper
    assert all(len(r[1]) <= 1_000 for r in result.rows)
    assert result.rows[-1] == [0, ""]
    cut = {c.row: c.bytes for c in result.cut_cells}
    assert cut == {49 - i: 200 * i for i in range(50) if 200 * i > 1_000}
    assert {c.column for c in result.cut_cells} == {"s"}
    assert result.truncated is True and result.truncated_by == "max_cell_bytes"


async def test_lists_maps_and_blobs_over_the_cap_become_null(warehouse: DuckDBWarehouse) -> None:
    result = await fetch(warehouse, "SELECT range(5000) AS l, map(range(1000), range(1000)) AS m, "
                                    "repeat('z', 2000)::BLOB AS b, [1, 2] AS small, 42 AS n")
    assert result.rows == [[None, None, None, [1, 2], 42]]
    assert [(c.column, c.bytes) for c in result.cut_cells] == [("l", 10_001), ("m", 6_001), ("b", 2_000)]
    assert [c.type for c in result.columns] == ["BIGINT[]", "MAP(BIGINT, BIGINT)", "BLOB", "INTEGER[]", "INTEGER"]


async def test_the_wrapper_keeps_names_types_and_parameters(warehouse: DuckDBWarehouse) -> None:
    result = await fetch(warehouse, 'SELECT ? AS "a ""quoted"" name", ?::INT AS x, \'{"k": 1}\'::JSON AS j, 1 AS x',
                         params=["v" * 2_000, 7])
    assert result.columns == [ColumnInfo(name='a "quoted" name', type="VARCHAR"), ColumnInfo(name="x", type="INTEGER"),
                              ColumnInfo(name="j", type="JSON"), ColumnInfo(name="x", type="INTEGER")]
    assert result.rows == [["v" * 1_000, 7, '{"k": 1}', 1]]


@pytest.mark.parametrize("sql", ["EXPLAIN SELECT * FROM t", "SHOW TABLES", "DESCRIBE t", "SUMMARIZE t",
                                 "PIVOT (SELECT i % 2 AS p, i % 3 AS g FROM t) ON p USING count(*) GROUP BY g ORDER BY g"])
async def test_statements_of_every_kind_still_run(warehouse: DuckDBWarehouse, sql: str) -> None:
    result = await fetch(warehouse, sql, cell=100_000)
    assert result.rows


async def test_a_statement_that_fails_reports_its_own_error(warehouse: DuckDBWarehouse) -> None:
    from snowmcp.common.errors import QueryFailed

    with pytest.raises(QueryFailed, match="no_such_table"):
        await fetch(warehouse, "SELECT * FROM no_such_table")
