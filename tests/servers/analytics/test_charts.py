"""Charts of the analytics results: the MCP Apps link and page, and PNGs only when asked."""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import AsyncIterator
from typing import Any

import pytest
from mcp import Client
from mcp.types import ImageContent, TextContent

from snowmcp.common.settings import Settings
from snowmcp.servers.analytics.charts import APP_URI

pytestmark = pytest.mark.anyio
ORDERS = "ANALYTICS.SALES.ORDERS"
AMOUNT = {"fn": "sum", "column": "AMOUNT"}
CALLS: dict[str, dict[str, Any]] = {
    "time_series": {"table": ORDERS, "time_column": "ORDER_DATE", "metric": AMOUNT, "grain": "month"},
    "detect_anomalies": {"table": ORDERS, "time_column": "ORDER_DATE", "metric": AMOUNT},
    "histogram": {"table": ORDERS, "column": "AMOUNT", "bins": 12},
    "compare_periods": {"table": ORDERS, "time_column": "ORDER_DATE", "metric": AMOUNT, "dimensions": ["CHANNEL"],
                        "current": {"start": "2026-09-14", "end": "2026-09-15"},
                        "previous": {"start": "2026-09-07", "end": "2026-09-08"}},
    "profile_table": {"table": "ANALYTICS.SALES.CUSTOMERS", "columns": ["COUNTRY", "LIFETIME_VALUE"]},
}


@pytest.fixture
async def analytics(settings: Settings) -> AsyncIterator[Client]:
    from snowmcp.servers.analytics.server import build_server

    async with Client(build_server(settings)) as client:
        yield client


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_the_charted_tools_link_the_app_and_take_chart_the_others_neither(analytics: Client) -> None:
    tools = {t.name: t for t in (await analytics.list_tools()).tools}
    for name, tool in tools.items():
        charted = name in CALLS
        assert (tool.meta or {}).get("ui") == ({"resourceUri": APP_URI} if charted else None), name
        chart = tool.input_schema["properties"].get("chart")
        assert (chart is not None) == charted, name
        if charted:
            assert chart["type"] == "boolean" and chart["default"] is False and "chart" not in tool.input_schema.get(
                "required", [])


async def test_the_app_is_one_self_contained_mcp_app_page(analytics: Client) -> None:
    listed = {str(r.uri): r for r in (await analytics.list_resources()).resources}
    assert listed[APP_URI].mime_type == "text/html;profile=mcp-app"
    content = (await analytics.read_resource(APP_URI)).contents[0]
    assert content.mime_type == "text/html;profile=mcp-app"
    page = content.text
    assert page.startswith("<!DOCTYPE html>") and "/*JS*/" not in page and "/*CSS*/" not in page
    assert "ui/initialize" in page and "ui/notifications/tool-result" in page
    # nothing the sandbox would have to load: no external script, style, image, font or request
    assert not re.search(r"""(src|href)\s*=|@import|url\(|fetch\(|XMLHttpRequest|WebSocket|<link""", page)
    assert len(re.findall(r"<script\b", page)) == 1 and (content.meta or {}).get("ui") == {"prefersBorder": True}


@pytest.mark.parametrize("tool", list(CALLS))
async def test_chart_true_adds_one_png_of_at_least_800_by_400_after_the_same_json(analytics: Client,
                                                                                   tool: str) -> None:
    plain = await analytics.call_tool(tool, CALLS[tool])
    assert not plain.is_error and [type(b) for b in plain.content] == [TextContent]  # never an image unasked
    charted = await analytics.call_tool(tool, {**CALLS[tool], "chart": True})
    assert not charted.is_error
    text, image = charted.content
    assert isinstance(text, TextContent) and isinstance(image, ImageContent) and image.mime_type == "image/png"
    assert json.loads(text.text) == charted.structured_content
    assert _without_provenance(charted.structured_content) == _without_provenance(plain.structured_content)
    width, height = png_size(base64.b64decode(image.data))
    assert width >= 800 and height >= 400


async def test_chart_false_is_the_plain_result(analytics: Client) -> None:
    result = await analytics.call_tool("histogram", {**CALLS["histogram"], "chart": False})
    assert [b.type for b in result.content] == ["text"]


async def test_a_result_with_nothing_to_draw_has_no_image_and_no_error(analytics: Client) -> None:
    empty = {**CALLS["time_series"], "start": "2001-01-01", "end": "2001-03-01", "fill_gaps": False, "chart": True}
    result = await analytics.call_tool("time_series", empty)
    assert not result.is_error and result.structured_content["points"] == []
    assert [b.type for b in result.content] == ["text"]


async def test_a_chart_that_cannot_be_rendered_leaves_the_answer_whole(
        analytics: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from snowmcp.common import charts

    def broken(spec: dict[str, Any]) -> bytes:
        raise ValueError("renderer broke")

    monkeypatch.setattr(charts, "render_png", broken)
    result = await analytics.call_tool("histogram", {**CALLS["histogram"], "chart": True})
    assert not result.is_error and [b.type for b in result.content] == ["text"]
    assert result.structured_content["bins"]
    assert "chart for histogram not drawn" in caplog.text


def test_the_specs_carry_the_marks_of_the_result() -> None:
    from snowmcp.servers.analytics import charts
    from snowmcp.servers.analytics.models import Anomalies, Anomaly, Bin, Histogram

    found = Anomalies(table="T", metric="m", grain="day", method="zscore", sensitivity=3, seasonality=None,
                      window=28, points_scored=60, buckets_total=70, anomalies_total=2, truncated=False,
                      anomalies=[Anomaly(time="2026-01-05", value=9.0, expected=1.0, score=4.0, direction="up"),
                                 Anomaly(time="2026-02-05", value=-3.0, expected=1.0, score=-3.5, direction="down")],
                      sql=[], elapsed_ms=1.0)
    spec = charts.ANOMALIES.spec_for(found)
    assert spec is not None and [v["direction"] for v in spec["data"]["values"]] == ["up", "down"]
    point = spec["layer"][-1]
    assert point["mark"]["type"] == "point" and point["encoding"]["color"]["scale"]["range"] == [charts.UP, charts.DOWN]
    bins = Histogram(table="T", column="c", count=3, nulls=0, min=0, max=2, sql=[], elapsed_ms=1.0,
                     bins=[Bin(low=0, high=1, count=1), Bin(low=1, high=2, count=2)])
    assert charts.HISTOGRAM.spec_for(bins)["data"]["values"][1] == {"low": 1, "high": 2, "count": 2}
    assert charts.HISTOGRAM.spec_for(found) is None  # a result of another shape (a handle, say): no chart


def _without_provenance(data: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (data or {}).items() if k not in ("elapsed_ms", "cached")}
