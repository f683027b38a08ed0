"""The charts page in a real browser: headless Chromium opens the pages the host saves, where the view
runs in a sandboxed iframe and gets the recorded result over postMessage as from a live host; the
marks are read from the view's DOM, and the anomaly colour from the screenshot's pixels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from snowmcp.clients.host.app_pages import app_page
from snowmcp.common.settings import Settings
from tests.browser import Chromium, Page, chromium_path
from tests.png import count_near
from tests.servers.analytics.test_charts import CALLS

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="no chromium: `make chromium` installs it")
MARKS = "JSON.stringify([...document.querySelectorAll('.mark')].map(m => m.getAttribute('class')))"


@dataclass(frozen=True)
class Recorded:
    page: Path
    files: list[Path]
    arguments: dict[str, Any]
    structured: dict[str, Any]
    tool: dict[str, Any]


@pytest.fixture(scope="module")
def recorded(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Recorded]:
    """Each charted tool called once through the host, its page saved as `snowmcp host call` saves it."""
    from snowmcp.clients.host.artifacts import Artifacts
    from snowmcp.clients.host.config import ServerSpec
    from snowmcp.clients.host.host import Host
    from snowmcp.servers.analytics.server import build_server

    out = tmp_path_factory.mktemp("artifacts")
    settings = Settings(warehouse=f"duckdb://{demo_db}", state_dir=out / "state")

    async def record() -> dict[str, Recorded]:
        spec = ServerSpec(name="analytics", transport="stdio", command="(in memory)")
        found = {}
        async with Host([spec], targets={"analytics": build_server(settings)}) as host:
            artifacts = Artifacts(out)
            for tool, arguments in CALLS.items():
                name = f"analytics__{tool}"
                outcome = await host.call(name, arguments)
                assert not outcome.is_error, outcome.text
                files = await artifacts.save(host, name, arguments, outcome)
                pages = [f for f in files if f.suffix == ".html"]
                assert len(pages) == 1, files
                definition = host.resolve(name).definition  # type: ignore[union-attr]
                found[tool] = Recorded(pages[0], files, arguments, outcome.structured or {}, definition or {})
        return found

    return anyio.run(record)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        yield chromium


def drawn(browser: Chromium, path: Path, kind: str) -> tuple[Page, list[str]]:
    page = browser.open(path)
    page.wait_for(f"document.documentElement.getAttribute('data-chart') === {json.dumps(kind)}", frame=True)
    return page, json.loads(page.evaluate(MARKS, frame=True))


def test_time_series_draws_a_line_and_a_point_per_bucket(browser: Chromium, recorded: dict[str, Recorded]) -> None:
    result = recorded["time_series"]
    page, marks = drawn(browser, result.page, "time_series")
    values = [p["value"] for p in result.structured["points"] if p["value"] is not None]
    assert marks.count("mark point") == len(values) > 10 and marks.count("mark line") == 1
    shown = json.loads(page.evaluate(
        "JSON.stringify([...document.querySelectorAll('.mark.point')].map(p => +p.dataset.value))", frame=True))
    assert shown == pytest.approx(values)
    heights = json.loads(page.evaluate(  # a bigger value is drawn higher (SVG y grows downwards)
        "JSON.stringify([...document.querySelectorAll('.mark.point')].map(p => +p.getAttribute('cy')))", frame=True))
    top, bottom = values.index(max(values)), values.index(min(values))
    assert heights[top] == min(heights) and heights[bottom] == max(heights)


def test_anomalies_are_marked_by_direction_and_red_in_the_screenshot(browser: Chromium,
                                                                      recorded: dict[str, Recorded]) -> None:
    result = recorded["detect_anomalies"]
    anomalies = result.structured["anomalies"]
    assert anomalies, "the demo data has a planted spike"
    page, marks = drawn(browser, result.page, "detect_anomalies")
    assert sorted(m for m in marks if "anomaly" in m) == sorted(f"mark anomaly {a['direction']}" for a in anomalies)
    assert marks.count("mark expected") == sum(1 for a in anomalies if a["expected"] is not None)
    times = json.loads(page.evaluate(
        "JSON.stringify([...document.querySelectorAll('.mark.anomaly')].map(m => m.dataset.time))", frame=True))
    assert times == [a["time"] for a in anomalies]
    red = count_near(page.screenshot(), "#d62728")
    assert red >= 40 * sum(1 for a in anomalies if a["direction"] == "up")  # a dot of radius 5 is ~78 pixels


def test_anomalies_are_drawn_on_their_series_when_the_host_proxies_tool_calls(
        browser: Chromium, recorded: dict[str, Recorded], tmp_path: Path) -> None:
    anomalies, series = recorded["detect_anomalies"], recorded["time_series"]
    from snowmcp.servers.analytics.app_page import page_html

    result = {"content": [{"type": "text", "text": json.dumps(anomalies.structured)}],
              "structuredContent": anomalies.structured}
    path = tmp_path / "with-series.html"
    path.write_text(app_page(page_html(), tool=anomalies.tool, arguments=anomalies.arguments, result=result,
                             title="anomalies", tool_calls=[{"name": "time_series", "result": {
                                 "content": [], "structuredContent": series.structured}}]))
    page = browser.open(path)
    page.wait_for("document.querySelectorAll('.mark.line').length === 1", frame=True)
    marks = json.loads(page.evaluate(MARKS, frame=True))
    assert sum("anomaly" in m for m in marks) == len(anomalies.structured["anomalies"])


def test_histogram_draws_a_bar_per_bin_as_tall_as_its_count(browser: Chromium, recorded: dict[str, Recorded]) -> None:
    result = recorded["histogram"]
    page, marks = drawn(browser, result.page, "histogram")
    bins = result.structured["bins"]
    assert marks.count("mark bar ") + marks.count("mark bar") == len(bins) == 12
    bars = json.loads(page.evaluate(
        "JSON.stringify([...document.querySelectorAll('.mark.bar')].map(b => [+b.dataset.count, +b.getAttribute('height')]))",
        frame=True))
    assert [count for count, _ in bars] == [b["count"] for b in bins]
    tallest = max(bars, key=lambda bar: bar[1])
    assert tallest[0] == max(b["count"] for b in bins)


def test_compare_periods_draws_both_periods_and_each_contributor(browser: Chromium,
                                                                 recorded: dict[str, Recorded]) -> None:
    result = recorded["compare_periods"]
    page, marks = drawn(browser, result.page, "compare_periods")
    contributors = result.structured["contributors"]
    assert contributors and len([m for m in marks if m.startswith("mark bar")]) == 2 + len(contributors)
    signs = json.loads(page.evaluate(
        "JSON.stringify([...document.querySelectorAll('.mark.bar.up, .mark.bar.down')].map(b => b.classList.contains('up')))",
        frame=True))
    assert signs == [(c["change"] or 0) >= 0 for c in contributors]


def test_profile_draws_a_panel_per_column(browser: Chromium, recorded: dict[str, Recorded]) -> None:
    result = recorded["profile_table"]
    page, marks = drawn(browser, result.page, "profile_table")
    titles = json.loads(page.evaluate("JSON.stringify([...document.querySelectorAll('.panel h2')].map(h => h.textContent))",
                                      frame=True))
    assert [t.split(" ")[0] for t in titles] == [c["name"] for c in result.structured["columns"]]
    country = next(c for c in result.structured["columns"] if c["name"] == "COUNTRY")
    assert marks.count("mark median") == 1  # LIFETIME_VALUE's quantiles
    assert marks.count("mark bar") == len(country["top_values"]) + 1  # COUNTRY's values, LIFETIME_VALUE's box


def test_the_host_resizes_the_view_to_its_content(browser: Chromium, recorded: dict[str, Recorded]) -> None:
    page, _ = drawn(browser, recorded["histogram"].page, "histogram")
    inner = page.evaluate("Math.ceil(document.body.getBoundingClientRect().height)", frame=True)
    page.wait_for(f"document.getElementById('snowmcp-app').style.height === '{inner}px'")


def test_an_error_result_is_shown_as_text(browser: Chromium, tmp_path: Path) -> None:
    from snowmcp.servers.analytics.app_page import page_html

    path = tmp_path / "error.html"
    failure = {"isError": True, "content": [{"type": "text", "text": "no table </script><b>X</b>"}]}
    path.write_text(app_page(page_html(), tool={"name": "histogram"}, arguments={}, result=failure, title="error"))
    page = browser.open(path)
    text = page.wait_for("document.querySelector('.error') && document.querySelector('.error').textContent", frame=True)
    assert text == "The tool failed: no table </script><b>X</b>"
