"""What runs leave behind: stored results, failed rows, schema snapshots, and history-based checks."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.quality.history import HistoryStore, RunRecord
from snowmcp.servers.quality.server import build_server
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio
TABLE = "LAB.LAB.MEASURES"


def suite(*checks: dict, filter_sql: str | None = None) -> str:
    return json.dumps({"table": TABLE, "checks": list(checks), **({"filter": filter_sql} if filter_sql else {})})


async def test_history_survives_a_restart_and_says_where_it_lives(lab_settings: Settings) -> None:
    async with Client(build_server(lab_settings)) as first:
        run = await call_ok(first, "run_checks", {"suite": suite({"missing": {"column": "AMOUNT"}}, {"row_count": {}})})
    assert run["history"]["saved"] is True and run["history"]["store"] == "local"
    assert run["history"]["location"].startswith(str(lab_settings.state_path))
    assert "read-only" in run["history"]["note"]
    async with Client(build_server(lab_settings)) as second:
        history = await call_ok(second, "check_history", {"table": TABLE})
        rows = await call_ok(second, "get_failed_rows", {"run_id": run["run_id"], "check": "missing(AMOUNT)"})
    assert [(r["check_name"], r["status"], r["run_id"]) for r in history["results"]] == [
        ("missing(AMOUNT)", "fail", run["run_id"]), ("row_count", "pass", run["run_id"])]
    id_column = [c.upper() for c in rows["columns"]].index("ID")
    assert [row[id_column] for row in rows["rows"]] == [4] and "IS NULL" in rows["sql"]


async def test_failed_rows_of_each_row_check(quality: Client) -> None:
    run = await call_ok(quality, "run_checks", {"suite": suite(
        {"duplicate": {"column": "AMOUNT"}}, {"accepted_values": {"column": "GRP", "values": ["a", "b"]}},
        {"expression": {"sql": "QTY >= 1"}}, {"relationships": {"column": "ID", "to": "LAB.LAB.SINGLE", "to_column": "ID"}},
        {"failed_rows": {"sql": f"SELECT ID FROM {TABLE} WHERE AMOUNT < 0"}}, {"row_count": {}})})

    async def ids(check: str, limit: int = 20) -> list[int]:
        found = await call_ok(quality, "get_failed_rows", {"run_id": run["run_id"], "check": check, "limit": limit})
        index = [c.upper() for c in found["columns"]].index("ID")
        return sorted(row[index] for row in found["rows"])

    assert await ids("duplicate(AMOUNT)") == [2, 6, 10]
    assert await ids("accepted_values(GRP)") == [5, 10]
    assert await ids("expression") == [3]
    assert await ids("relationships(ID)") == list(range(2, 11))
    assert await ids("failed_rows") == [5]
    limited = await call_ok(quality, "get_failed_rows", {"run_id": run["run_id"], "check": "relationships(ID)", "limit": 2})
    assert len(limited["rows"]) == 2 and limited["truncated"] is True
    assert "does not test rows" in await call_error(quality, "get_failed_rows", {"run_id": run["run_id"], "check": "row_count"})
    error = await call_error(quality, "get_failed_rows", {"run_id": run["run_id"], "check": "missing(X)"})
    assert "no check named 'missing(X)'" in error and "duplicate(AMOUNT)" in error
    assert "no stored run" in await call_error(quality, "get_failed_rows", {"run_id": "nope", "check": "row_count"})


async def test_a_run_with_errors_stores_everything_it_measured(quality: Client) -> None:
    await call_ok(quality, "run_checks", {"suite": suite({"missing": {"column": "NOPE"}}, {"row_count": {}})})
    history = await call_ok(quality, "check_history", {"table": TABLE})
    assert sorted((r["check_name"], r["status"]) for r in history["results"]) == [
        ("missing(NOPE)", "error"), ("row_count", "pass")]
    assert "NOPE" in next(r["message"] for r in history["results"] if r["status"] == "error")


async def test_an_unwritable_state_dir_loses_no_result(lab_settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state folder should be")
    async with Client(build_server(lab_settings.model_copy(update={"state_dir": blocker}))) as client:
        run = await call_ok(client, "run_checks", {"suite": suite({"row_count": {}})})
    assert run["results"][0]["status"] == "pass"
    assert run["history"]["saved"] is False and run["history"]["error"]


async def test_check_history_filters(quality: Client) -> None:
    await call_ok(quality, "run_checks", {"suite": suite({"row_count": {}}, {"missing": {"column": "ID"}})})
    only = await call_ok(quality, "check_history", {"check": "row_count", "since": "1h"})
    assert [r["check_name"] for r in only["results"]] == ["row_count"]
    assert (await call_ok(quality, "check_history", {"since": "2999-01-01"}))["results"] == []
    assert "neither a duration nor an ISO" in await call_error(quality, "check_history", {"since": "lately"})
    assert "NOPE" in await call_error(quality, "check_history", {"table": "LAB.LAB.NOPE"})


async def test_volume_anomaly_learns_then_flags_a_jump(quality: Client) -> None:
    check = {"volume_anomaly": {"min_history": 3, "window": 5}}
    for _ in range(3):  # three runs see 8 rows
        learning = await call_ok(quality, "run_checks", {"suite": suite(check, filter_sql="ID <= 8")})
    assert learning["results"][0]["status"] == "pass"
    steady = await call_ok(quality, "run_checks", {"suite": suite(check, filter_sql="ID <= 8")})
    assert steady["results"][0]["status"] == "pass" and "z = 0" in steady["results"][0]["message"]
    jump = await call_ok(quality, "run_checks", {"suite": suite(check)})
    assert (jump["results"][0]["status"], jump["results"][0]["observed_value"]) == ("fail", 10)
    assert "expected about 8" in jump["results"][0]["message"]


async def test_metric_anomaly_uses_the_history_of_its_metric(quality: Client) -> None:
    check = {"metric_anomaly": {"column": "QTY", "fn": "max", "min_history": 2, "sensitivity": 3, "warn_sensitivity": 2}}
    for bound in (5, 6, 7):  # the first 5, 6 and 7 rows: max QTY 3 each time
        await call_ok(quality, "run_checks", {"suite": suite(check, filter_sql=f"ID <= {bound}")})
    history = await call_ok(quality, "check_history", {"check": "metric_anomaly(QTY)"})
    assert [r["observed"] for r in reversed(history["results"])] == [3.0, 3.0, 3.0]
    judged = await call_ok(quality, "run_checks", {"suite": suite(check)})
    assert judged["results"][0]["status"] == "fail" and judged["results"][0]["observed_value"] == 5


async def test_schema_change_and_schema_diff_against_the_stored_snapshot(quality: Client, lab_settings: Settings) -> None:
    assert "no snapshot stored yet" in (await call_ok(quality, "schema_diff", {"table": TABLE}))["message"]
    first = await call_ok(quality, "run_checks", {"suite": suite({"schema_change": {}})})
    assert "first one" in first["results"][0]["message"]
    assert (await call_ok(quality, "schema_diff", {"table": TABLE}))["message"] == "no change"

    # Pretend the table looked different at the last snapshot: no CONST, QTY was text, an OLD column existed.
    store = HistoryStore(lab_settings.state_path / "quality" / "history.duckdb")
    identity = await _identity(store)
    snapshot = await store.last_snapshot(identity, TABLE)
    assert snapshot is not None
    columns = {k: v for k, v in snapshot[1].items() if k != "CONST"} | {"QTY": "VARCHAR", "OLD": "DATE"}
    now = dt.datetime.now(dt.timezone.utc)
    await store.save_run(RunRecord("fake", identity, TABLE, None, now, now, now,
                                   {"pass": 0, "warn": 0, "fail": 0, "error": 0}), [], columns)

    diff = await call_ok(quality, "schema_diff", {"table": TABLE})
    assert (len(diff["added"]), len(diff["dropped"]), len(diff["changed"])) == (1, 1, 1)
    assert "CONST added" in diff["added"][0] and "OLD dropped" in diff["dropped"][0]
    assert "QTY changed from VARCHAR" in diff["changed"][0]
    changed = await call_ok(quality, "run_checks", {"suite": suite({"schema_change": {"fail_on": ["dropped"]}})})
    assert changed["results"][0]["status"] == "fail" and changed["results"][0]["observed_value"] == 3
    added_only = await call_ok(quality, "run_checks", {"suite": suite({"schema_change": {"fail_on": ["dropped"]}})})
    assert added_only["results"][0]["status"] == "pass"  # the previous run stored the current snapshot


async def _identity(store: HistoryStore) -> str:
    import duckdb

    with duckdb.connect(str(store.path)) as con:  # the server holds the file open: same configuration
        return con.execute("SELECT warehouse FROM runs LIMIT 1").fetchone()[0]


@pytest.fixture
def lab_snowflake(request: pytest.FixtureRequest, snowflake_settings: Settings) -> Settings:
    """Settings for the lab tables on Snowflake (fakesnow), with a schema writable for history."""
    import snowflake.connector

    from tests.conftest import seed_lab

    server = request.getfixturevalue("fakesnow_server")
    seed_lab(server)
    with snowflake.connector.connect(**server.connect_params(), network_timeout=10, login_timeout=10) as con:
        con.cursor().execute("CREATE SCHEMA IF NOT EXISTS LAB.QUALITY_HISTORY")
    return snowflake_settings.model_copy(update={"snowflake_database": "LAB"})


async def test_history_in_a_writable_snowflake_schema(lab_snowflake: Settings) -> None:
    from snowmcp.servers.quality.settings import QualitySettings

    settings, schema = lab_snowflake, "LAB.QUALITY_HISTORY"
    in_warehouse = QualitySettings(quality_history_schema=schema)
    checks = suite({"missing": {"column": "AMOUNT"}}, {"volume_anomaly": {"min_history": 2}}, {"schema_change": {}})
    async with Client(build_server(settings, quality_settings=in_warehouse)) as first:
        runs = [await call_ok(first, "run_checks", {"suite": checks}) for _ in range(3)]
    assert {(r["history"]["store"], r["history"]["location"], r["history"]["saved"]) for r in runs} == {
        ("warehouse", schema, True)}
    assert "z = 0" in runs[2]["results"][1]["message"]  # judged against the two runs stored in the warehouse
    async with Client(build_server(settings, quality_settings=in_warehouse)) as second:
        history = await call_ok(second, "check_history", {"check": "missing(AMOUNT)"})
        rows = await call_ok(second, "get_failed_rows", {"run_id": runs[0]["run_id"], "check": "missing(AMOUNT)"})
        diff = await call_ok(second, "schema_diff", {"table": TABLE})
    assert [r["run_id"] for r in history["results"]][:3] == [r["run_id"] for r in reversed(runs)]
    assert len(rows["rows"]) == 1 and diff["message"] == "no change"
    assert not (settings.state_path / "quality" / "history.duckdb").exists()  # nothing went to the local file


async def test_a_schema_the_role_cannot_write_keeps_the_run_locally(lab_snowflake: Settings) -> None:
    from snowmcp.servers.quality.settings import QualitySettings

    unwritable = QualitySettings(quality_history_schema="LAB.NO_SUCH_SCHEMA")
    async with Client(build_server(lab_snowflake, quality_settings=unwritable)) as client:
        run = await call_ok(client, "run_checks", {"suite": suite({"row_count": {}})})
        history = await call_ok(client, "check_history", {})
    assert run["history"]["store"] == "local" and run["history"]["saved"] is True
    assert "Could not write to LAB.NO_SUCH_SCHEMA" in run["history"]["note"]
    assert [r["run_id"] for r in history["results"]] == [run["run_id"]]
