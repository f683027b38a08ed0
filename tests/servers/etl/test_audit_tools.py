"""The tools on the demo audit table (ANALYTICS.OPS.ETL_RUNS) with the demo SLA file."""

from __future__ import annotations

import pytest
from mcp import Client

from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio


async def test_list_pipelines_maps_the_audit_table_and_the_sla_file(etl: Client) -> None:
    listing = await call_ok(etl, "list_pipelines")
    by_id = {p["id"]: p for p in listing["pipelines"]}
    assert listing["count"] == 8 and set(by_id) >= {"load_orders", "load_products", "build_order_items"}
    products = by_id["load_products"]
    assert products["kind"] == "audit_pipeline" and products["targets"] == ["ANALYTICS.SALES.PRODUCTS"]
    assert products["last_run"]["status"] == "failed" and products["last_success_at"] == "2026-10-31T02:33:14Z"
    assert products["sla"] == {"expected_by": "03:00", "max_lag": "26h", "max_duration": None}
    assert products["owner"] == "ingest-team@example.com"  # from the "load_*" glob
    assert by_id["load_orders"]["last_run"]["status"] == "running"
    assert set(by_id["load_orders"]["downstream"]) == {"build_order_items", "refresh_revenue_mart"}
    assert listing["sources"] == [{"name": "audit", "ok": True, "error": None, "left_out": None}]
    assert not listing["truncated"] and listing["left_out"] == []
    only = await call_ok(etl, "list_pipelines", {"name_like": "LOAD_*"})
    assert sorted(p["id"] for p in only["pipelines"]) == ["load_customers", "load_orders", "load_products"]


async def test_get_pipeline_shows_its_neighbours_and_recent_runs(etl: Client) -> None:
    detail = await call_ok(etl, "get_pipeline", {"pipeline": "build_order_items", "runs": 3})
    assert [p["id"] for p in detail["upstream"]] == ["load_orders", "load_products"]
    assert [r["run_id"] for r in detail["recent_runs"]] == [
        "build_order_items-20261120T0300", "build_order_items-20261119T0300", "build_order_items-20261118T0300"]
    assert detail["recent_runs"][0]["started_at"].endswith("Z")
    error = await call_error(etl, "get_pipeline", {"pipeline": "load_product"})
    assert "no pipeline 'load_product'" in error and "load_products" in error  # a suggestion


async def test_recent_runs_filters_by_pipeline_status_and_since(etl: Client) -> None:
    runs = await call_ok(etl, "recent_runs", {"pipeline": "load_products", "status": "failed", "since": "7d"})
    assert runs["count"] == 7 and not runs["truncated"] and runs["since"] == "2026-11-13T09:10:00Z"
    assert all(r["status"] == "failed" and "RAW.PRODUCTS_FEED" in r["error_message"] for r in runs["runs"])
    newest = await call_ok(etl, "recent_runs", {"limit": 2})
    assert newest["truncated"] and [r["run_id"] for r in newest["runs"]] == [
        "load_orders-20261120T0905", "load_orders-20261120T0805"]
    assert newest["runs"][0]["ended_at"] is None and newest["runs"][1]["duration_s"] > 0
    absolute = await call_ok(etl, "recent_runs", {"since": "2026-11-20T06:00:00Z", "pipeline": "export_finance"})
    assert [r["run_id"] for r in absolute["runs"]] == ["export_finance-20261120T0600"]


@pytest.mark.parametrize("since", ["yesterday", "24x", "2026-13-45", ""])
async def test_a_malformed_since_is_refused_by_name(etl: Client, since: str) -> None:
    error = await call_error(etl, "recent_runs", {"since": since})
    assert "since" in error and ("duration" in error or "empty" in error)
    assert "since" in await call_error(etl, "failed_runs", {"since": since})


async def test_failed_runs_groups_failures_with_the_last_success(etl: Client) -> None:
    day = await call_ok(etl, "failed_runs")
    assert (day["total_failures"], day["pipelines_failing"]) == (1, 1)
    group = day["groups"][0]
    assert group["pipeline_id"] == "load_products" and group["still_failing"]
    assert group["error_category"] == "missing_object" and group["last_success_at"] == "2026-10-31T02:33:14Z"
    month = await call_ok(etl, "failed_runs", {"since": "30d"})
    products = [g for g in month["groups"] if g["pipeline_id"] == "load_products"]
    assert len(products) == 1 and products[0]["failures"] == 20
    assert products[0]["first_failed_at"].startswith("2026-11-01T02:30")
    assert month["groups"][0]["pipeline_id"] == "load_products"  # still failing comes first
    others = [g for g in month["groups"] if g["pipeline_id"] != "load_products"]
    assert others and not any(g["still_failing"] for g in others)  # one-off failures, succeeded since


async def test_diagnose_run_explains_the_failing_load_and_its_blast_radius(etl: Client) -> None:
    report = await call_ok(etl, "diagnose_run", {"run_id": "load_products-20261120T0230"})
    assert report["run"]["status"] == "failed" and report["error_category"] == "missing_object"
    assert report["last_good_run"]["run_id"] == "load_products-20261031T0230"
    assert report["failures_since_last_good"] == 20
    assert report["similar_failures"] == 19 and report["similar_first_seen"].startswith("2026-11-01")
    assert [a["pipeline_id"] for a in report["downstream_affected"]] == ["build_order_items"]
    assert report["tables_affected"] == ["ANALYTICS.SALES.PRODUCTS", "ANALYTICS.SALES.ORDER_ITEMS"]
    assert any("still not fixed" in f for f in report["findings"]) is False  # the newest run is this one
    assert "RAW.PRODUCTS_FEED" in report["findings"][0]


async def test_diagnose_run_sees_a_failed_upstream(etl: Client) -> None:
    report = await call_ok(etl, "diagnose_run", {"run_id": "build_order_items-20261120T0300"})
    states = {u["pipeline_id"]: u for u in report["upstream"]}
    assert states["load_products"]["status_before_run"] == "failed" and states["load_products"]["suspect"]
    assert states["load_orders"]["status_before_run"] == "success" and not states["load_orders"]["suspect"]
    assert any("Upstream load_products's last run before this one failed" in f for f in report["findings"])
    assert any("over its max_duration of 30m" in f for f in report["findings"])


async def test_diagnose_a_one_off_failure_that_was_fixed(etl: Client) -> None:
    runs = await call_ok(etl, "recent_runs", {"pipeline": "load_customers", "status": "failed"})
    report = await call_ok(etl, "diagnose_run", {"run_id": runs["runs"][0]["run_id"]})
    assert report["latest_run"]["status"] == "success" and report["failures_since_last_good"] == 1
    assert any("fixed since" in f for f in report["findings"])


async def test_diagnose_an_unknown_run_is_a_clear_error(etl: Client) -> None:
    error = await call_error(etl, "diagnose_run", {"run_id": "load_products-19990101T0000"})
    assert "no run with id 'load_products-19990101T0000'" in error and "audit" in error


async def test_freshness_finds_the_stale_products_table(etl: Client) -> None:
    report = await call_ok(etl, "freshness")
    by_table = {t["table"]: t for t in report["tables"]}
    products = by_table["ANALYTICS.SALES.PRODUCTS"]
    assert report["tables"][0]["table"] == "ANALYTICS.SALES.PRODUCTS" and report["stale"] == 1
    assert (products["status"], products["max_age"], products["owner"]) == ("stale", "26h", "catalog-team@example.com")
    assert products["last_success_at"] == "2026-10-31T02:33:14Z" and products["age"] == "20d 6h"
    assert by_table["ANALYTICS.SALES.ORDERS"]["status"] == "fresh"  # loaded 08:08, SLA 2h
    assert by_table["CRM.ACCOUNTS"]["status"] == "no_sla"
    picked = await call_ok(etl, "freshness", {"tables": ["analytics.sales.orders", "ANALYTICS.SALES.NOPE"]})
    assert [(t["table"], t["status"]) for t in picked["tables"]] == [
        ("ANALYTICS.SALES.NOPE", "unknown_table"), ("ANALYTICS.SALES.ORDERS", "fresh")]
    assert "invalid table name" in await call_error(etl, "freshness", {"tables": ["A.B;DROP"]})


async def test_sla_breaches_find_late_missed_slow_and_stale(etl: Client) -> None:
    week = await call_ok(etl, "sla_breaches", {"since": "7d"})
    kinds = {(b["pipeline_id"], b["kind"], (b["due_at"] or "")[:10]) for b in week["breaches"]}
    assert ("refresh_revenue_mart", "late", "2026-11-17") in kinds
    assert ("refresh_revenue_mart", "late", "2026-11-19") in kinds
    assert not any(p == "refresh_revenue_mart" and d == "2026-11-18" for p, _, d in kinds)
    slow = sorted(b["run_id"] for b in week["breaches"] if b["kind"] == "too_slow")
    assert slow == [f"build_order_items-202611{d}T0300" for d in (18, 19, 20)]
    missed = [b for b in week["breaches"] if b["pipeline_id"] == "load_products" and b["kind"] == "missed"]
    assert len(missed) == 7
    assert any(b["pipeline_id"] == "load_products" and b["kind"] == "stale" for b in week["breaches"])
    late = next(b for b in week["breaches"] if b["kind"] == "late" and b["due_at"] == "2026-11-19T05:00:00Z")
    assert late["by_s"] > 2 * 3600 and late["run_id"] == "refresh_revenue_mart-20261119T0400"
    today = await call_ok(etl, "sla_breaches")
    assert not any(b["pipeline_id"] == "refresh_revenue_mart" for b in today["breaches"])  # on time today


async def test_run_duration_trends_flag_the_slow_builds(etl: Client) -> None:
    trends = await call_ok(etl, "run_duration_trends", {"pipeline": "build_order_items", "window": 30})
    assert trends["runs_considered"] == 30
    assert sorted(r["run_id"] for r in trends["anomalous_runs"]) == [
        f"build_order_items-202611{d}T0300" for d in (18, 19, 20)]
    assert all("slow" in r["flags"] for r in trends["anomalous_runs"])
    assert 9.6 * 60 <= trends["p50_duration_s"] <= 14.4 * 60 < trends["p95_duration_s"]
    steady = await call_ok(etl, "run_duration_trends", {"pipeline": "load_customers"})
    assert steady["anomalous_runs"] == []
    assert "no pipeline" in await call_error(etl, "run_duration_trends", {"pipeline": "nope"})


async def test_health_summary_puts_the_broken_load_first(etl: Client) -> None:
    health = await call_ok(etl, "health_summary")
    assert health["now"] == "2026-11-20T09:10:00Z" and health["pipelines"] == 8
    failing = health["failing"]
    assert [f["pipeline_id"] for f in failing] == ["load_products"]
    assert failing[0]["consecutive_failures"] == 20 and failing[0]["failing_since"].startswith("2026-11-01")
    assert health["headline"][0].startswith("FAILING: load_products")
    assert [t["table"] for t in health["stale_tables"]] == ["ANALYTICS.SALES.PRODUCTS"]
    assert [r["run_id"] for r in health["running"]] == ["load_orders-20261120T0905"]
    assert {r["run_id"] for r in health["slow_runs"]} == {"build_order_items-20261120T0300"}
    assert health["runs_last_24h"]["failed"] == 1 and health["runs_last_24h"]["running"] == 1
    kinds = {(b["pipeline_id"], b["kind"]) for b in health["sla_breaches"]}
    assert ("build_order_items", "too_slow") in kinds and ("load_products", "missed") in kinds


async def test_the_daily_health_check_prompt_walks_through_the_tools(etl: Client) -> None:
    prompts = await etl.list_prompts()
    assert "daily_health_check" in [p.name for p in prompts.prompts]
    result = await etl.get_prompt("daily_health_check", {"since": "12h"})
    text = result.messages[0].content.text
    assert "health_summary" in text and "diagnose_run" in text and "'12h'" in text


async def test_every_tool_is_read_only(etl: Client) -> None:
    tools = (await etl.list_tools()).tools
    assert {t.name for t in tools} == {"list_pipelines", "get_pipeline", "recent_runs", "failed_runs", "diagnose_run",
                                       "freshness", "sla_breaches", "run_duration_trends", "health_summary",
                                       "get_query_result", "cancel_query"}
    assert all(t.annotations.read_only_hint and t.output_schema for t in tools)


async def test_on_the_demo_warehouse_now_is_the_latest_run_and_the_demo_slas_apply(demo_db) -> None:  # noqa: ANN001
    from snowmcp.common.settings import Settings
    from snowmcp.servers.etl.server import build_server
    from snowmcp.servers.etl.settings import EtlSettings

    settings = Settings(warehouse="demo", state_dir=demo_db.parent.parent)  # the session's demo, not rebuilt
    etl_settings = EtlSettings(etl_now=None, etl_sla_file=None, etl_sources=None, dbt_target_dir=None)
    async with Client(build_server(settings, etl_settings=etl_settings)) as client:
        health = await call_ok(client, "health_summary")
    assert health["now"] == "2026-11-20T09:05:08Z"  # the running load_orders run started then
    assert [s["name"] for s in health["sources"]] == ["audit", "table_slas"]
    assert {(b["pipeline_id"], b["kind"]) for b in health["sla_breaches"]} >= {("load_products", "missed"),
                                                                                ("build_order_items", "too_slow")}


async def test_arguments_outside_the_schema_are_refused_by_name(etl: Client) -> None:
    assert "status" in await call_error(etl, "recent_runs", {"status": "broken"})
    assert "window" in await call_error(etl, "run_duration_trends", {"pipeline": "load_orders", "window": 2})
    assert "source" in await call_error(etl, "list_pipelines", {"source": "airflow"})
    assert "run_id is empty" in await call_error(etl, "diagnose_run", {"run_id": " "})


async def test_without_a_fixed_clock_now_is_the_wall_clock(make_client) -> None:  # noqa: ANN001
    import datetime as dt

    async with make_client(etl_now=None) as client:
        failures = await call_ok(client, "failed_runs", {"since": "24h"})
    now = dt.datetime.fromisoformat(failures["now"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.timezone.utc) - now).total_seconds()) < 120
    assert failures["groups"] == []  # the demo's runs are all older than a day by the real clock
