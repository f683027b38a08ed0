"""The suites shipped for the demo warehouse find its planted defects, and nothing else."""

from __future__ import annotations

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.quality.demo import install_demo_suites, suites_folder
from snowmcp.servers.quality.server import build_server
from tests.helpers import call_ok

pytestmark = pytest.mark.anyio

PLANTED = {
    "orders": {"duplicate(ORDER_ID)": ("fail", 10), "relationships(CUSTOMER_ID)": ("fail", 306),
               "missing(CHANNEL)": ("warn", 1388), "value_range(AMOUNT)": ("fail", 40)},
    "customers": {"duplicate(CUSTOMER_ID)": ("fail", 25), "missing(EMAIL)": ("fail", 277), "duplicate(EMAIL)": ("fail", 24)},
    "products": {"freshness(UPDATED_AT)": ("fail", 486.517)},
    "order_items": {"relationships(PRODUCT_ID)": ("fail", 98)},
}


@pytest.mark.parametrize("name", sorted(PLANTED))
async def test_a_demo_suite_finds_exactly_the_planted_defects(settings: Settings, name: str) -> None:
    install_demo_suites(suites_folder(settings.state_path))  # as `snowmcp demo init` does
    async with Client(build_server(settings)) as client:
        run = await call_ok(client, "run_checks", {"suite_path": str(suites_folder(settings.state_path) / f"{name}.yml")})
    found = {r["check"]: (r["status"], r["observed_value"]) for r in run["results"] if r["status"] != "pass"}
    assert found == PLANTED[name]


async def test_freshness_of_a_zoned_timestamp(settings: Settings) -> None:
    suite = ("table: ANALYTICS.SALES.ORDERS\nas_of: '2026-11-20T01:00:00+01:00'\n"
             "columns:\n  ORDERED_AT: [freshness: {max_age: 2h}]\n")
    async with Client(build_server(settings)) as client:
        run = await call_ok(client, "run_checks", {"suite": suite})
    (result,) = run["results"]
    assert result["status"] == "pass" and 0 <= result["observed_value"] <= 2, result


def test_demo_init_installs_the_suites_without_overwriting_edits(tmp_path) -> None:  # noqa: ANN001
    installed = install_demo_suites(tmp_path)
    assert sorted(p.stem for p in installed) == sorted(PLANTED)
    installed[0].write_text("# edited\n")
    install_demo_suites(tmp_path)
    assert installed[0].read_text() == "# edited\n"
