"""SQL planted in the history store is never run: get_failed_rows recompiles from the check's definition."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import open_warehouse
from snowmcp.servers.quality.server import build_server
from tests.helpers import SpyWarehouse, call_error, call_ok
from tests.servers.quality.test_history import lab_snowflake  # noqa: F401  (a fixture)

pytestmark = pytest.mark.anyio
TABLE = "LAB.LAB.MEASURES"
SUITE = json.dumps({"table": TABLE, "checks": [{"missing": {"column": "AMOUNT"}}, {"row_count": {}}]})
PLANTED = ["DELETE FROM LAB.LAB.MEASURES", "SELECT * FROM LAB.LAB.SINGLE", "DROP TABLE LAB.LAB.MEASURES"]


@pytest.fixture
async def spied(lab_settings: Settings) -> AsyncIterator[tuple[Client, SpyWarehouse, Path]]:
    spy = SpyWarehouse(await open_warehouse(lab_settings))
    async with Client(build_server(lab_settings, warehouse=spy)) as client:
        yield client, spy, lab_settings.state_path / "quality" / "history.duckdb"


def plant(history: Path, run_id: str, **columns: Any) -> None:
    """Write into the stored result of missing(AMOUNT) directly, as someone with write access could."""
    import duckdb

    assignments = ", ".join(f"{name} = ?" for name in columns)
    with duckdb.connect(str(history)) as con:  # the server may hold it open: same process, same configuration
        changed = con.execute(f"UPDATE results SET {assignments} WHERE run_id = ? AND check_name = 'missing(AMOUNT)'",
                              [*columns.values(), run_id]).fetchone()
    assert changed == (1,)


def sent_since(spy: SpyWarehouse, mark: int) -> list[str]:
    return [sql.upper() for sql in spy.statements[mark:]]


@pytest.mark.parametrize("planted", PLANTED)
async def test_a_statement_planted_in_failed_rows_sql_is_never_executed(
        spied: tuple[Client, SpyWarehouse, Path], planted: str) -> None:
    client, spy, history = spied
    run = await call_ok(client, "run_checks", {"suite": SUITE})
    plant(history, run["run_id"], failed_rows_sql=planted)
    mark = len(spy.statements)
    rows = await call_ok(client, "get_failed_rows", {"run_id": run["run_id"], "check": "missing(AMOUNT)"})
    assert len(rows["rows"]) == 1 and "IS NULL" in rows["sql"]  # recompiled from the definition
    for sql in sent_since(spy, mark):
        assert "DELETE" not in sql and "DROP" not in sql and "SINGLE" not in sql, sql


async def test_a_result_without_its_definition_is_refused_and_nothing_runs(
        spied: tuple[Client, SpyWarehouse, Path]) -> None:
    client, spy, history = spied
    run = await call_ok(client, "run_checks", {"suite": SUITE})
    plant(history, run["run_id"], failed_rows_sql=PLANTED[0], definition=None)
    mark = len(spy.statements)
    error = await call_error(client, "get_failed_rows", {"run_id": run["run_id"], "check": "missing(AMOUNT)"})
    assert "cannot be recompiled" in error and "Run the checks again" in error
    assert sent_since(spy, mark) == []


@pytest.mark.parametrize("definition, expected", [
    ({"table": TABLE, "checks": [{"failed_rows": {"sql": "DELETE FROM LAB.LAB.MEASURES", "name": "missing(AMOUNT)"}}]},
     "refused"),
    ({"table": TABLE, "filter": "1=1; DROP TABLE LAB.LAB.MEASURES", "checks": [{"missing": {"column": "AMOUNT"}}]},
     "refused"),
    ({"table": "LAB.LAB.SINGLE", "checks": [{"missing": {"column": "ID", "name": "missing(AMOUNT)"}}]},
     "names another table"),
    ({"table": TABLE, "checks": [{"missing": {"column": "ID"}}]}, "does not describe that check"),
    ("not json", "not valid JSON"),
    ({"table": TABLE, "checks": [{"nope": {}}]}, "not a valid suite"),
])
async def test_a_forged_definition_runs_only_what_run_checks_would_allow(
        spied: tuple[Client, SpyWarehouse, Path], definition: Any, expected: str) -> None:
    client, spy, history = spied
    run = await call_ok(client, "run_checks", {"suite": SUITE})
    plant(history, run["run_id"], definition=definition if isinstance(definition, str) else json.dumps(definition))
    mark = len(spy.statements)
    error = await call_error(client, "get_failed_rows", {"run_id": run["run_id"], "check": "missing(AMOUNT)"})
    assert expected in error, error
    for sql in sent_since(spy, mark):
        assert "DELETE" not in sql and "DROP" not in sql and "SINGLE" not in sql, sql


async def test_a_statement_planted_in_snowflake_history_is_never_executed(
        lab_snowflake: Settings, fakesnow_server: Any) -> None:  # noqa: F811
    """History in a writable Snowflake schema: whoever can UPDATE it still cannot make the server run a DELETE."""
    import snowflake.connector

    from snowmcp.servers.quality.settings import QualitySettings

    spy = SpyWarehouse(await open_warehouse(lab_snowflake))
    in_warehouse = QualitySettings(quality_history_schema="LAB.QUALITY_HISTORY")
    async with Client(build_server(lab_snowflake, warehouse=spy, quality_settings=in_warehouse)) as client:
        run = await call_ok(client, "run_checks", {"suite": SUITE})
        assert run["history"]["store"] == "warehouse"
        with snowflake.connector.connect(**fakesnow_server.connect_params(), network_timeout=10, login_timeout=10) as con:
            cursor = con.cursor()
            cursor.execute('UPDATE LAB.QUALITY_HISTORY.SNOWMCP_QUALITY_RESULTS SET "FAILED_ROWS_SQL" = %s '
                           "WHERE \"RUN_ID\" = %s AND \"CHECK_NAME\" = 'missing(AMOUNT)'", (PLANTED[0], run["run_id"]))
            cursor.execute('SELECT "FAILED_ROWS_SQL" FROM LAB.QUALITY_HISTORY.SNOWMCP_QUALITY_RESULTS '
                           'WHERE "RUN_ID" = %s AND "CHECK_NAME" = %s', (run["run_id"], "missing(AMOUNT)"))
            assert cursor.fetchall() == [(PLANTED[0],)]
        mark = len(spy.statements)
        rows = await call_ok(client, "get_failed_rows", {"run_id": run["run_id"], "check": "missing(AMOUNT)"})
    assert len(rows["rows"]) == 1 and "IS NULL" in rows["sql"]
    assert not any("DELETE" in sql.upper() for sql in spy.statements[mark:])



@pytest.mark.parametrize("form", ["checks", "columns"])
def test_every_check_type_is_recompiled_from_its_stored_definition_unchanged(form: str) -> None:
    from snowmcp.servers.quality.check_types import CHECK_TYPES
    from snowmcp.servers.quality.failed_rows import suite_of_definition
    from snowmcp.servers.quality.suite import check_definition, suite_from_data

    for kind, check_type in CHECK_TYPES.items():
        (entry,) = [check_type.example]
        params = dict(entry[kind] or {})
        column = params.pop("column", "AMOUNT" if check_type.needs_column else None)
        if form == "columns" and column is not None:
            data = {"table": TABLE, "filter": "ID > 0", "columns": {column: [{kind: params}]}}
        else:
            data = {"table": TABLE, "filter": "ID > 0", "checks": [{kind: {**params, **({"column": column} if column else {})}}]}
        suite = suite_from_data(data)
        (check,) = suite.checks
        again = suite_of_definition(check_definition(suite, check), check.name)
        (recompiled,) = again.checks
        assert (again.table, again.filter) == (suite.table, suite.filter)
        assert (recompiled.type, recompiled.column, recompiled.params, recompiled.name) == (
            check.type, check.column, check.params, check.name), kind
