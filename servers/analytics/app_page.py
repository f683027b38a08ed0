"""The analytics charts as an MCP Apps page: one self-contained `ui://` HTML document.

The page (app/charts.html, with app/charts.css and app/charts.js inlined) is hand-written SVG in
plain JavaScript: no library and no request to the network, as the hosts' sandboxes require. It
receives the tool result from the host over postMessage and draws whichever of the charted results
it is (see `servers.analytics.charts`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from mcp.server.apps import Apps

from snowmcp.servers.analytics.charts import APP_URI

_APP = resources.files("snowmcp.servers.analytics") / "app"


@cache
def page_html() -> str:
    """The page, its style sheet and script inlined."""
    page = (_APP / "charts.html").read_text(encoding="utf-8")
    css = (_APP / "charts.css").read_text(encoding="utf-8")
    script = (_APP / "charts.js").read_text(encoding="utf-8")
    if "</script" in script.lower() or "</style" in css.lower():
        raise ValueError("the app's script or style sheet would end its own element")
    return page.replace("/*CSS*/", css, 1).replace("/*JS*/", script, 1)


def charts_app() -> Apps:
    """The MCP Apps extension of the analytics server, serving the charts page."""
    apps = Apps()
    apps.add_html_resource(APP_URI, page_html(), name="charts", title="snowmcp charts",
                           description="Draws the results of time_series, detect_anomalies, histogram, "
                                       "compare_periods and profile_table.", prefers_border=True)
    return apps
