"""Charts of tool results: an MCP Apps page for hosts that render one, a PNG when the caller asks.

A tool declared with `chart=Chart(...)` (see `common.toolkit`) is linked to the app page in its
`_meta.ui.resourceUri` and takes a `chart: bool = False` argument; with `chart=true` its result
carries an ImageContent block besides the JSON: a PNG of the Vega-Lite spec that `vega_lite`
builds from the result, rendered in the server by vl-convert (no browser, nothing fetched).
A result the builder has no chart for (`None`: nothing to draw, or a result of another shape,
such as a handle to a query still running) gets no image; an image is never sent unasked.
"""

from __future__ import annotations

import base64
import logging

import anyio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcp.types import ImageContent
from pydantic import BaseModel

log = logging.getLogger("snowmcp.charts")

VegaLite = dict[str, Any]
PNG_WIDTH, PNG_HEIGHT = 800, 400  # the plot area; axes, title and legend come on top
PNG_SCALE = 1.0


@dataclass(frozen=True)
class Chart:
    """How one tool's results are drawn."""

    app_uri: str  # the ui:// page that draws the result in a host (MCP Apps)
    vega_lite: Callable[[Any], VegaLite | None]  # the PNG's spec, from a result of `model`
    model: type[BaseModel]

    def spec_for(self, result: BaseModel) -> VegaLite | None:
        return self.vega_lite(result) if isinstance(result, self.model) else None


def render_png(spec: VegaLite) -> bytes:
    """The PNG of a Vega-Lite spec (blocking: run it in a worker thread)."""
    import vl_convert  # lazily: the renderer is loaded only by the first call that asks for a chart

    composite = any(key in spec for key in ("concat", "vconcat", "hconcat"))  # their views are sized
    sized = spec if composite else {"width": PNG_WIDTH, "height": PNG_HEIGHT, **spec}
    return vl_convert.vegalite_to_png(sized, scale=PNG_SCALE)


async def chart_image(chart: Chart, result: BaseModel, tool: str) -> ImageContent | None:
    """The PNG block of `result`, or None when there is nothing to draw. A chart that cannot be
    rendered is logged and left out: the result itself is still the answer."""
    spec = chart.spec_for(result)
    if spec is None:
        return None
    try:
        png = await anyio.to_thread.run_sync(render_png, spec)
    except ImportError:
        log.warning("chart for %s not drawn: vl-convert-python is not installed", tool)
        return None
    except Exception:
        log.exception("chart for %s not drawn", tool)
        return None
    return image_block(png)


def image_block(png: bytes) -> ImageContent:
    return ImageContent(type="image", data=base64.b64encode(png).decode(), mime_type="image/png")


def base_spec(title: str, values: list[dict[str, Any]]) -> VegaLite:
    """What every spec starts with: the schema, a title, inline data and a white background."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",  # an identifier: never fetched
        "title": title,
        "background": "white",
        "data": {"values": values},
        "config": {"view": {"stroke": None}},
    }
