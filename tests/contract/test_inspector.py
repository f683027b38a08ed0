"""The real MCP Inspector CLI (npm, Node 22) against the query server, over stdio and HTTP.

`make test` installs the Inspector into .tools/ and puts it on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.processes import REPO, http_server, serve_command

TOKEN = "inspector-token-42"


def _inspector() -> str:
    found = shutil.which("mcp-inspector") or str(REPO / ".tools/node_modules/.bin/mcp-inspector")
    if not Path(found).exists():
        pytest.fail("the MCP Inspector is not installed: run `make tools` (make test does it)")
    return found


def _run(target: list[str], *method: str, tool_error: bool = False) -> Any:
    """Run one Inspector CLI call; it exits 5 when a tool returns isError, 0 otherwise."""
    env = dict(os.environ)
    env["PATH"] = f"{REPO / '.tools/node_modules/.bin'}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("MCP_CATALOG_PATH", str(REPO / ".tools/catalog.json"))
    result = subprocess.run([_inspector(), "--cli", *target, *method], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == (5 if tool_error else 0), result.stderr[-2000:]
    return json.loads(result.stdout)


def _stdio_target(demo_db: Path) -> list[str]:
    command = serve_command("query")
    return [*command[:1], "-e", f"SNOWMCP_WAREHOUSE=duckdb://{demo_db}", *command[1:]]


def test_inspector_over_stdio(demo_db: Path) -> None:
    target = _stdio_target(demo_db)
    tools = _run(target, "--method", "tools/list")["tools"]
    assert {t["name"] for t in tools} >= {"run_query", "describe_table", "validate_sql"}
    assert all(t["annotations"]["readOnlyHint"] is True for t in tools)

    called = _run(target, "--method", "tools/call", "--tool-name", "run_query",
                  "--tool-arg", "sql=SELECT count(*) AS n FROM ANALYTICS.SALES.ORDERS")
    assert called.get("isError") in (None, False)
    assert called["structuredContent"]["rows"][0][0] >= 1_000_000

    refused = _run(target, "--method", "tools/call", "--tool-name", "run_query", "--tool-arg", "sql=DROP TABLE x", tool_error=True)
    assert refused["isError"] is True and "refused" in refused["content"][0]["text"]

    resources = _run(target, "--method", "resources/list")["resources"]
    assert [r["uri"] for r in resources] == ["snowmcp://catalog"]
    templates = _run(target, "--method", "resources/templates/list")["resourceTemplates"]
    assert templates[0]["uriTemplate"] == "snowmcp://tables/{database}/{schema}/{table}"
    prompts = _run(target, "--method", "prompts/list")["prompts"]
    assert [p["name"] for p in prompts] == ["explore_table"]


def test_inspector_over_streamable_http_with_a_token(demo_db: Path) -> None:
    with http_server(f"duckdb://{demo_db}", "streamable-http", env={"SNOWMCP_AUTH_TOKEN": TOKEN}) as url:
        auth = ["--transport", "http", "--header", f"Authorization: Bearer {TOKEN}"]
        tools = _run([f"{url}/mcp", *auth], "--method", "tools/list")["tools"]
        assert len(tools) == 10
        called = _run([f"{url}/mcp", *auth], "--method", "tools/call", "--tool-name", "describe_table",
                      "--tool-arg", "table=ANALYTICS.SALES.ORDERS")
        assert called["structuredContent"]["name"] == "ORDERS"
        assert len(_run([f"{url}/mcp", *auth], "--method", "prompts/list")["prompts"]) == 1


def test_inspector_calls_the_analytics_server_over_stdio(demo_db: Path) -> None:
    command = serve_command("analytics")
    target = [*command[:1], "-e", f"SNOWMCP_WAREHOUSE=duckdb://{demo_db}", *command[1:]]
    tools = _run(target, "--method", "tools/list")["tools"]
    assert {t["name"] for t in tools} == {"profile_table", "aggregate", "time_series", "detect_anomalies",
                                          "compare_periods", "histogram", "value_counts", "correlations",
                                          "get_query_result", "cancel_query"}
    found = _run(target, "--method", "tools/call", "--tool-name", "detect_anomalies",
                 "--tool-arg", "table=ANALYTICS.SALES.ORDERS", "--tool-arg", "time_column=ORDER_DATE",
                 "--tool-arg", 'metric={"fn": "sum", "column": "AMOUNT"}')
    assert [a["time"] for a in found["structuredContent"]["anomalies"]] == ["2026-09-14"]
    bad = _run(target, "--method", "tools/call", "--tool-name", "histogram",
               "--tool-arg", "table=ANALYTICS.SALES.ORDERS", "--tool-arg", "column=STATUS", tool_error=True)
    assert "needs a number column" in bad["content"][0]["text"]


def test_inspector_runs_quality_checks_and_reads_etl_over_stdio(demo_db: Path) -> None:
    from snowmcp.servers.quality.demo import SUITES

    def target(server: str) -> list[str]:
        command = serve_command(server)
        return [*command[:1], "-e", f"SNOWMCP_WAREHOUSE=duckdb://{demo_db}", "-e",
                f"SNOWMCP_STATE_DIR={demo_db.parent / 'inspector-state'}", *command[1:]]

    run = _run(target("quality"), "--method", "tools/call", "--tool-name", "run_checks",
               "--tool-arg", f"suite_path={SUITES / 'products.yml'}")
    assert run["structuredContent"]["status"] == "fail"
    assert [r["check"] for r in run["structuredContent"]["results"] if r["status"] == "fail"] == ["freshness(UPDATED_AT)"]
    failed = _run(target("etl"), "--method", "tools/call", "--tool-name", "failed_runs", "--tool-arg",
                  "since=2026-11-19T09:00:00Z")  # the demo's data ends on 2026-11-20
    assert [g["pipeline_id"] for g in failed["structuredContent"]["groups"]] == ["load_products"]
    prompts = _run(target("etl"), "--method", "prompts/list")["prompts"]
    assert [p["name"] for p in prompts] == ["daily_health_check"]
