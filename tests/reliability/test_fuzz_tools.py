"""Every tool of every server, called with generated arguments: no crash, every failure a readable isError.

Arguments are drawn from what a confused or hostile model sends: wrong types, missing and
extra keys, huge and unicode strings, SQL fragments and hostile identifiers, deep JSON,
negative and huge numbers — mixed with plausible values so that calls also get past
validation into the SQL builders. The servers run in memory on the demo warehouse.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from mcp import Client

from snowmcp.common.settings import Settings

SERVERS = ("query", "analytics", "etl", "quality")
PLAUSIBLE_TEXT = ["ANALYTICS.SALES.ORDERS", "ANALYTICS.SALES.CUSTOMERS", "ORDER_DATE", "AMOUNT", "STATUS", "day",
                  "24h", "2026-11-01", "load_products", "SELECT 1", "row_count", "zscore", "weekly"]
HOSTILE_TEXT = ['x"; DROP TABLE y; --', "' OR 1=1 --", "1); DELETE FROM ANALYTICS.SALES.ORDERS; --",
                "COPY ANALYTICS.SALES.ORDERS TO 'leak.csv'", "read_text('/etc/passwd')", "${HOME}", "../../etc/passwd",
                "\x00", "", " ", "日本語のテーブル", "🙂" * 50, "a" * 100_000, "SELECT * FROM x; SELECT 2"]
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=50),
                      st.sampled_from(PLAUSIBLE_TEXT + HOSTILE_TEXT))
json_value = st.recursive(json_leaf, lambda children: st.one_of(st.lists(children, max_size=4),
                                                                 st.dictionaries(st.text(max_size=10), children, max_size=4)),
                          max_leaves=12)


O, C = "ANALYTICS.SALES.ORDERS", "ANALYTICS.SALES.CUSTOMERS"
SUM = {"fn": "sum", "column": "AMOUNT"}
# A valid call of each tool; the generator mutates one or two of its arguments, so calls get past
# validation into the SQL builders with slightly wrong values.
GOOD: dict[str, dict[str, Any]] = {
    "list_schemas": {"database": "ANALYTICS"}, "list_tables": {"database": "ANALYTICS", "schema": "SALES"},
    "describe_table": {"table": C}, "sample_rows": {"table": C, "limit": 3}, "run_query": {"sql": "SELECT 1"},
    "explain_query": {"sql": "SELECT 1"}, "validate_sql": {"sql": "SELECT 1"},
    "profile_table": {"table": C, "columns": ["SEGMENT"]},
    "aggregate": {"table": O, "metrics": [SUM], "group_by": ["STATUS"], "limit": 3},
    "time_series": {"table": O, "time_column": "ORDER_DATE", "metric": SUM, "grain": "month"},
    "detect_anomalies": {"table": O, "time_column": "ORDER_DATE", "metric": SUM, "grain": "week"},
    "compare_periods": {"table": O, "time_column": "ORDER_DATE", "metric": SUM,
                        "current": {"start": "2026-09-14", "end": "2026-09-15"},
                        "previous": {"start": "2026-09-07", "end": "2026-09-08"}},
    "histogram": {"table": C, "column": "LIFETIME_VALUE", "bins": 5}, "value_counts": {"table": C, "column": "SEGMENT"},
    "correlations": {"table": C, "columns": ["CUSTOMER_ID", "LIFETIME_VALUE"]},
    "get_pipeline": {"pipeline": "load_products"}, "recent_runs": {"limit": 5}, "failed_runs": {"since": "7d"},
    "diagnose_run": {"run_id": "load_products-20261120T0230"}, "freshness": {"tables": [C]},
    "sla_breaches": {"since": "3d"}, "run_duration_trends": {"pipeline": "build_order_items", "window": 10},
    "validate_suite": {"suite": {"table": C, "checks": [{"row_count": {}}]}},
    "run_checks": {"table": C, "checks": [{"missing": {"column": "EMAIL"}}]},
    "get_failed_rows": {"run_id": "nope", "check": "missing(EMAIL)"}, "check_history": {"since": "1h"},
    "schema_diff": {"table": C}, "suggest_checks": {"table": "ANALYTICS.OPS.TABLE_SLAS"},
}


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def arguments_for(tool: str, schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid call with a key or two changed, or dicts over the declared keys with any values and stray keys."""
    keys = list(schema.get("properties", {}))
    value = st.one_of(json_value, st.sampled_from(PLAUSIBLE_TEXT + HOSTILE_TEXT), st.just(deep(60)),
                      st.integers(min_value=-10, max_value=10_000_000))
    known = st.fixed_dictionaries({}, optional={k: value for k in keys}) if keys else st.just({})
    stray = st.dictionaries(st.sampled_from(["__proto__", "max_rows ", "sql\x00", "extra"]), json_value, max_size=2)
    anything = st.builds(lambda a, b: {**b, **a}, known, stray)
    good = GOOD.get(tool, {})
    if not keys:
        return st.one_of(st.just(good), anything)
    mutated = st.builds(lambda changes: {**good, **changes},
                        st.dictionaries(st.sampled_from(keys), value, min_size=0, max_size=2))
    return st.one_of(mutated, anything)


@pytest.fixture(scope="module")
def servers(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import importlib

    settings = Settings(warehouse=f"duckdb://{demo_db}", state_dir=tmp_path_factory.mktemp("fuzz-state"),
                        query_timeout_s=5, default_max_rows=20, max_result_tokens=12_500)
    return {name: importlib.import_module(f"servers.{name}.server").build_server(settings) for name in SERVERS}


def tool_list(server: Any) -> list[Any]:
    async def listing() -> list[Any]:
        async with Client(server) as client:
            return list((await client.list_tools()).tools)

    return anyio.run(listing)


@pytest.mark.parametrize("name", SERVERS)
def test_every_tool_survives_generated_arguments(servers: dict[str, Any], name: str,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    server = servers[name]
    tools = tool_list(server)
    tool_args = st.sampled_from(tools).flatmap(lambda t: st.tuples(st.just(t.name), arguments_for(t.name, t.input_schema)))
    seen: list[str] = []
    outcomes: list[bool] = []

    @hypothesis_settings(max_examples=200, deadline=None, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture])
    @given(call=tool_args)
    def check(call: tuple[str, dict[str, Any]]) -> None:
        tool, arguments = call

        async def once() -> None:
            async with Client(server) as client:
                with anyio.fail_after(30):
                    result = await client.call_tool(tool, arguments)
            if result.is_error:
                text = " ".join(getattr(b, "text", "") for b in result.content)
                assert text.strip(), f"{tool}: an error without a message"
                assert "Traceback" not in text
            seen.append(tool)
            outcomes.append(result.is_error)

        anyio.run(once)

    with caplog.at_level(logging.ERROR):
        check()
    ours = [r for r in caplog.records if r.name.startswith(("snowmcp", "mcp"))]  # not other tests' driver threads
    crashes = [r.getMessage() for r in ours if "crashed" in r.getMessage() or r.exc_info]
    assert crashes == [], crashes
    assert len(set(seen)) >= len(tools) // 2  # the draw reached most tools
    assert any(outcomes) and not all(outcomes)  # both refusals and calls that got through
