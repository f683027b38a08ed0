"""Other audit layouts through the mapping, the SLA file, the clock, and their errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.etl.settings import EtlSettings
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio

MAPPING = {"columns": {"pipeline": "JOB_NAME", "run_id": "EXECUTION_ID", "status": "STATE", "started_at": "START_TS",
                       "ended_at": "END_TS", "rows_loaded": "N_ROWS", "error_message": "ERR", "target_table": "DEST"},
           "statuses": {"OK": "success", "ERR": "failed", "LATE_START": "queued"}}


@pytest.fixture(scope="module")
def jobs_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import duckdb

    path = tmp_path_factory.mktemp("jobs") / "JOBS.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA LOGS")
        con.execute("""CREATE TABLE LOGS.JOB_HISTORY (JOB_NAME VARCHAR, EXECUTION_ID BIGINT, STATE VARCHAR,
                       START_TS TIMESTAMP, END_TS TIMESTAMP, N_ROWS BIGINT, ERR VARCHAR, DEST VARCHAR)""")
        con.execute("""INSERT INTO LOGS.JOB_HISTORY VALUES
          ('ingest', 1, 'OK', '2026-03-01 01:00:00', '2026-03-01 01:10:00', 100, NULL, 'JOBS.LOGS.T1'),
          ('ingest', 2, 'ERR', '2026-03-02 01:00:00', '2026-03-02 01:01:00', 0, 'Numeric value ''x'' is not recognized (row 12)', 'JOBS.LOGS.T1'),
          ('ingest', 3, 'ERR', '2026-03-03 01:00:00', '2026-03-03 01:01:00', 0, 'Numeric value ''x'' is not recognized (row 40)', 'JOBS.LOGS.T1'),
          ('publish', 4, 'LATE_START', '2026-03-03 02:00:00', NULL, NULL, NULL, NULL),
          ('publish', 5, 'ok', '2026-03-02 02:00:00', '2026-03-02 02:05:00', 7, NULL, NULL)""")
        con.execute("""CREATE TABLE LOGS.JOB_HISTORY_TZ AS SELECT * REPLACE (timezone('UTC', START_TS) AS START_TS,
                       timezone('UTC', END_TS) AS END_TS) FROM LOGS.JOB_HISTORY""")
    return path


def jobs_settings(jobs_db: Path, tmp_path: Path) -> Settings:
    return Settings(warehouse=f"duckdb://{jobs_db}", state_dir=tmp_path / "state")


async def test_a_mapping_reads_another_layout_and_status_vocabulary(
        make_client: Callable[..., Client], jobs_db: Path, tmp_path: Path) -> None:
    async with make_client(jobs_settings(jobs_db, tmp_path), etl_audit_table="JOBS.LOGS.JOB_HISTORY",
                           etl_audit_mapping=json.dumps(MAPPING), etl_sla_file=None,
                           etl_now="2026-03-03T12:00:00Z") as client:
        failures = await call_ok(client, "failed_runs", {"since": "7d"})
        ok_runs = await call_ok(client, "recent_runs", {"status": "success"})
        queued = await call_ok(client, "recent_runs", {"status": "queued"})
        listing = await call_ok(client, "list_pipelines")
    group = failures["groups"][0]
    assert (group["pipeline_id"], group["failures"], group["error_category"]) == ("ingest", 2, "bad_value")
    assert group["last_success_at"] == "2026-03-01T01:10:00Z" and group["still_failing"]
    assert [(r["run_id"], r["raw_status"]) for r in ok_runs["runs"]] == [("5", "ok"), ("1", "OK")]
    assert [r["run_id"] for r in queued["runs"]] == ["4"]
    assert {p["id"]: p["targets"] for p in listing["pipelines"]} == {"ingest": ["JOBS.LOGS.T1"], "publish": []}


async def test_zoned_timestamps_are_compared_as_instants(
        make_client: Callable[..., Client], jobs_db: Path, tmp_path: Path) -> None:
    async with make_client(jobs_settings(jobs_db, tmp_path), etl_audit_table="JOBS.LOGS.JOB_HISTORY_TZ",
                           etl_audit_mapping=json.dumps(MAPPING), etl_sla_file=None,
                           etl_now="2026-03-03T12:00:00Z") as client:
        runs = await call_ok(client, "recent_runs", {"since": "2026-03-02T01:30:00+00:00"})
        before = await call_ok(client, "recent_runs", {"since": "2026-03-02T02:30:00+01:00"})
    assert [r["run_id"] for r in runs["runs"]] == ["4", "3", "5"]
    assert runs["runs"][0]["started_at"] == "2026-03-03T02:00:00Z"
    assert [r["run_id"] for r in before["runs"]] == ["4", "3", "5"]  # 02:30+01:00 is 01:30 UTC


async def test_the_mapping_can_live_in_a_file(make_client: Callable[..., Client], jobs_db: Path,
                                              tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(MAPPING))
    async with make_client(jobs_settings(jobs_db, tmp_path), etl_audit_table="LOGS.JOB_HISTORY",
                           etl_audit_mapping=str(mapping), etl_sla_file=None, etl_now="latest") as client:
        health = await call_ok(client, "health_summary")
    assert health["now"] == "2026-03-03T02:00:00Z"  # "latest": the newest run in the data
    assert [f["pipeline_id"] for f in health["failing"]] == ["ingest"]


async def test_an_audit_table_without_a_mapped_column_is_named(
        make_client: Callable[..., Client], jobs_db: Path, tmp_path: Path) -> None:
    mapping = {"columns": {**MAPPING["columns"], "error_message": "ERROR_TEXT"}}
    async with make_client(jobs_settings(jobs_db, tmp_path), etl_audit_table="JOBS.LOGS.JOB_HISTORY",
                           etl_audit_mapping=json.dumps(mapping), etl_sla_file=None) as client:
        error = await call_error(client, "list_pipelines", {})
    assert "audit table JOBS.LOGS.JOB_HISTORY has no column ERROR_TEXT for `error_message`" in error
    assert "mapped in SNOWMCP_ETL_AUDIT_MAPPING" in error and "EXECUTION_ID" in error  # lists the columns


async def test_the_default_layout_missing_a_required_column_says_how_to_map_it(
        make_client: Callable[..., Client], jobs_db: Path, tmp_path: Path) -> None:
    async with make_client(jobs_settings(jobs_db, tmp_path), etl_audit_table="JOBS.LOGS.JOB_HISTORY",
                           etl_sla_file=None) as client:
        error = await call_error(client, "failed_runs", {})
    assert "has no column PIPELINE for `pipeline` (the default)" in error
    assert "SNOWMCP_ETL_AUDIT_MAPPING" in error


@pytest.mark.parametrize(("mapping", "expected"), [
    ('{"columns": {"pipeline": ', "SNOWMCP_ETL_AUDIT_MAPPING is not valid JSON"),
    ('{"columns": {"owner": "X"}}', "maps unknown field(s) owner"),
    ('{"statuses": {"OK": "fine"}}', "maps status 'OK' to 'fine'"),
    ("/no/such/mapping.json", "neither inline JSON nor an existing file"),
])
async def test_a_bad_mapping_is_reported(make_client: Callable[..., Client], mapping: str, expected: str) -> None:
    async with make_client(etl_audit_mapping=mapping) as client:
        assert expected in await call_error(client, "list_pipelines", {})


async def test_a_missing_audit_table_is_named(make_client: Callable[..., Client]) -> None:
    async with make_client(etl_audit_table="ANALYTICS.OPS.NO_SUCH_RUNS") as client:
        error = await call_error(client, "recent_runs", {})
    assert "NO_SUCH_RUNS" in error and "audit" in error


@pytest.mark.parametrize(("text", "suffix", "expected"), [
    ('[pipelines.load_orders]\nmax_lag = "two hours"\n', ".toml", "pipelines.load_orders: max_lag: 'two hours' is not a duration"),
    ('[pipelines.load_orders]\nexpected_by = "25:00"\n', ".toml", "expected_by '25:00' is not a time of day"),
    ('[pipelines.load_orders]\nmax_lagg = "2h"\n', ".toml", "unknown key(s) max_lagg"),
    ('[tables."A.B.C"]\nowner = "x"\n', ".toml", "tables.A.B.C: max_age is missing"),
    ("[pipelines\n", ".toml", "is not valid TOML"),
    ('{"pipelines": {"x": {"max_lag": "1h"}}', ".json", "is not valid JSON"),
    ("pipelines: {}\n", ".yaml", "use a .toml or .json file"),
    ('[jobs.x]\nmax_lag = "1h"\n', ".toml", "unknown section(s) jobs"),
])
async def test_a_bad_sla_file_is_reported_with_the_entry(make_client: Callable[..., Client], tmp_path: Path,
                                                         text: str, suffix: str, expected: str) -> None:
    path = tmp_path / f"slas{suffix}"
    path.write_text(text)
    async with make_client(etl_sla_file=path) as client:
        error = await call_error(client, "sla_breaches", {})
    assert str(path) in error and expected in error


async def test_a_json_sla_file_with_globs_and_table_slas(make_client: Callable[..., Client], tmp_path: Path) -> None:
    path = tmp_path / "slas.json"
    path.write_text(json.dumps({
        "pipelines": {"*": {"max_duration": "1m"}, "sync_crm": {"max_duration": "20m", "owner": "crm@example.com"}},
        "tables": {"CRM.*": {"max_age": "1h", "owner": "crm@example.com"}}}))
    async with make_client(etl_sla_file=path) as client:
        breaches = await call_ok(client, "sla_breaches", {"since": "24h"})
        fresh = await call_ok(client, "freshness", {"tables": ["CRM.ACCOUNTS"]})
    slow = {b["pipeline_id"] for b in breaches["breaches"] if b["kind"] == "too_slow"}
    assert "load_orders" in slow and "sync_crm" not in slow  # the exact entry wins over the glob
    crm = fresh["tables"][0]
    assert (crm["status"], crm["max_age"], crm["owner"]) == ("stale", "1h", "crm@example.com")


async def test_a_missing_sla_file_is_named(make_client: Callable[..., Client], tmp_path: Path) -> None:
    async with make_client(etl_sla_file=tmp_path / "nope.toml") as client:
        error = await call_error(client, "health_summary", {})
    assert f"SLA file {tmp_path / 'nope.toml'} does not exist" in error


async def test_a_malformed_now_setting_is_named(make_client: Callable[..., Client]) -> None:
    async with make_client(etl_now="soon") as client:
        assert "SNOWMCP_ETL_NOW: 'soon'" in await call_error(client, "failed_runs", {})


async def test_unknown_and_impossible_sources_are_reported(make_client: Callable[..., Client]) -> None:
    async with make_client(etl_sources=("audit", "snowflake")) as client:
        listing = await call_ok(client, "list_pipelines", {})
    status = {s["name"]: s for s in listing["sources"]}
    assert status["audit"]["ok"] and not status["snowflake"]["ok"]
    assert "needs a Snowflake warehouse" in status["snowflake"]["error"]
    async with make_client(etl_sources=("dbt",), dbt_target_dir=None) as client:
        error = await call_error(client, "list_pipelines", {})
    assert "no etl source could answer" in error and "SNOWMCP_DBT_TARGET_DIR" in error


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWMCP_ETL_SOURCES", "audit, DBT")
    monkeypatch.setenv("SNOWMCP_DBT_TARGET_DIR", "/x/target")
    monkeypatch.setenv("SNOWMCP_ETL_NOW", "")
    settings = EtlSettings()
    assert settings.etl_sources == ("audit", "dbt") and settings.dbt_target_dir == Path("/x/target")
    assert settings.etl_now is None and settings.etl_audit_table == "ANALYTICS.OPS.ETL_RUNS"
    monkeypatch.setenv("SNOWMCP_ETL_SOURCES", "audit,airflow")
    with pytest.raises(ValueError, match="etl_sources"):
        EtlSettings()
