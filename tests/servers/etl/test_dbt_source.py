"""The dbt source on artifacts produced by really running `dbt build` on tests/fixtures/dbt_project."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from mcp import Client

from tests.helpers import call_error, call_ok
from tests.servers.etl.conftest import DBT_ARTIFACTS, DBT_NOW

pytestmark = pytest.mark.anyio
INVOCATION = json.loads((DBT_ARTIFACTS / "run_results.json").read_text())["metadata"]["invocation_id"]


async def test_models_tests_seeds_and_snapshots_become_pipelines(dbt: Client) -> None:
    listing = await call_ok(dbt, "list_pipelines", {"source": "dbt"})
    by_id = {p["id"]: p for p in listing["pipelines"]}
    kinds = {p["kind"] for p in listing["pipelines"]}
    assert kinds == {"dbt_model", "dbt_test", "dbt_seed", "dbt_snapshot"}
    facts = by_id["model.shop.order_facts"]
    assert facts["upstream"] == ["model.shop.stg_orders"] and facts["downstream"] == ["model.shop.finance_report"]
    assert facts["targets"] == ["shop.main.order_facts"] and facts["last_run"]["status"] == "failed"
    assert by_id["seed.shop.raw_orders"]["last_run"]["rows_loaded"] == 5
    assert by_id["snapshot.shop.orders_snapshot"]["targets"] == ["shop.snapshots.orders_snapshot"]
    test = by_id["test.shop.assert_customer_revenue_at_least_20"]
    assert test["upstream"] == ["model.shop.customer_orders"] and test["targets"] == []


async def test_failed_runs_show_the_failing_model_test_and_the_skipped_dependant(dbt: Client) -> None:
    failures = await call_ok(dbt, "failed_runs", {"since": "7d"})
    groups = {g["pipeline_id"]: g for g in failures["groups"]}
    assert set(groups) == {"model.shop.order_facts", "test.shop.assert_customer_revenue_at_least_20",
                           "model.shop.finance_report"}
    assert "discount_amount" in groups["model.shop.order_facts"]["error"]
    assert groups["model.shop.order_facts"]["error_category"] == "missing_object"
    assert groups["test.shop.assert_customer_revenue_at_least_20"]["error"].startswith("Got 2 results")
    assert groups["model.shop.finance_report"]["error_category"] == "upstream"
    assert all(g["still_failing"] for g in groups.values())
    warned = await call_ok(dbt, "recent_runs", {"status": "warn"})
    assert [r["pipeline_id"] for r in warned["runs"]][0].startswith("test.shop.accepted_values_stg_orders_status")
    skipped = await call_ok(dbt, "recent_runs", {"status": "upstream_failed"})
    assert [r["run_id"] for r in skipped["runs"]] == [f"{INVOCATION}:model.shop.finance_report"]


async def test_diagnose_the_failing_model(dbt: Client) -> None:
    report = await call_ok(dbt, "diagnose_run", {"run_id": f"{INVOCATION}:model.shop.order_facts"})
    assert report["run"]["raw_status"] == "error" and report["run"]["status"] == "failed"
    assert report["last_good_run"] is None and any("No earlier successful run" in f for f in report["findings"])
    assert [u["pipeline_id"] for u in report["upstream"]] == ["model.shop.stg_orders"]
    assert report["upstream"][0]["status_before_run"] == "success" and not report["upstream"][0]["suspect"]
    assert [a["pipeline_id"] for a in report["downstream_affected"]] == ["model.shop.finance_report"]
    assert report["tables_affected"] == ["shop.main.order_facts", "shop.main.finance_report"]


async def test_diagnose_the_skipped_model_points_upstream(dbt: Client) -> None:
    report = await call_ok(dbt, "diagnose_run", {"run_id": f"{INVOCATION}:model.shop.finance_report"})
    assert report["run"]["status"] == "upstream_failed" and report["error_category"] == "upstream"
    assert report["upstream"][0]["pipeline_id"] == "model.shop.order_facts" and report["upstream"][0]["suspect"]


async def test_pipelines_are_found_by_name_and_durations_come_from_timing(dbt: Client) -> None:
    detail = await call_ok(dbt, "get_pipeline", {"pipeline": "customer_orders"})
    assert detail["pipeline"]["id"] == "model.shop.customer_orders"
    assert {p["id"] for p in detail["downstream"]} == {"test.shop.assert_customer_revenue_at_least_20",
                                                       "test.shop.not_null_customer_orders_customer_id.582e6bcaa0"}
    run = detail["recent_runs"][0]
    assert run["status"] == "success" and run["duration_s"] > 0 and run["started_at"] < run["ended_at"]


async def test_health_summary_on_dbt_alone(dbt: Client) -> None:
    health = await call_ok(dbt, "health_summary")
    assert {f["pipeline_id"] for f in health["failing"]} == {
        "model.shop.order_facts", "test.shop.assert_customer_revenue_at_least_20", "model.shop.finance_report"}
    assert health["runs_last_24h"]["warn"] == 1 and health["now"] == DBT_NOW


async def test_a_missing_artifacts_folder_is_named(make_client: Callable[..., Client], tmp_path: Path) -> None:
    async with make_client(etl_sources=("dbt",), dbt_target_dir=tmp_path / "nope") as client:
        error = await call_error(client, "list_pipelines", {})
    assert f"dbt target folder {tmp_path / 'nope'} does not exist" in error


async def test_a_corrupt_artifact_is_named(make_client: Callable[..., Client], tmp_path: Path) -> None:
    shutil.copy(DBT_ARTIFACTS / "manifest.json", tmp_path / "manifest.json")
    (tmp_path / "run_results.json").write_text('{"results": [')
    async with make_client(etl_sources=("dbt",), dbt_target_dir=tmp_path) as client:
        error = await call_error(client, "failed_runs", {})
    assert f"{tmp_path / 'run_results.json'} is not valid JSON" in error
    (tmp_path / "run_results.json").unlink()
    async with make_client(etl_sources=("dbt",), dbt_target_dir=tmp_path) as client:
        assert "run_results.json is missing" in await call_error(client, "failed_runs", {})


async def test_a_broken_dbt_folder_does_not_hide_the_audit_table(make_client: Callable[..., Client],
                                                                  tmp_path: Path) -> None:
    async with make_client(etl_sources=("audit", "dbt"), dbt_target_dir=tmp_path) as client:
        failures = await call_ok(client, "failed_runs", {})
    assert [g["pipeline_id"] for g in failures["groups"]] == ["load_products"]
    status = {s["name"]: s for s in failures["sources"]}
    assert status["audit"]["ok"] and not status["dbt"]["ok"]
    assert "manifest.json is missing" in status["dbt"]["error"]


async def test_audit_and_dbt_together(make_client: Callable[..., Client]) -> None:
    async with make_client(etl_sources=("audit", "dbt"), dbt_target_dir=DBT_ARTIFACTS, etl_now="latest") as client:
        listing = await call_ok(client, "list_pipelines")
        failures = await call_ok(client, "failed_runs", {"since": "2026-11-19T00:00:00Z"})
        qualified = await call_ok(client, "get_pipeline", {"pipeline": "audit:load_products", "runs": 1})
        by_name = await call_ok(client, "get_pipeline", {"pipeline": "order_facts", "runs": 1})
    assert qualified["pipeline"]["source"] == "audit" and by_name["pipeline"]["id"] == "model.shop.order_facts"
    assert {p["source"] for p in listing["pipelines"]} == {"audit", "dbt"}
    assert {"load_products", "model.shop.order_facts"} <= {g["pipeline_id"] for g in failures["groups"]}
    assert failures["now"].startswith("2026-12-01T21:51")  # "latest": the newest run in the data
