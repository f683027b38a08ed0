"""The analytics server: profiles, aggregates, time series and anomalies, computed in the warehouse."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.server_factory import new_server
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import Warehouse
from snowmcp.servers.analytics.app_page import charts_app
from snowmcp.servers.analytics.tools import build_tools

INSTRUCTIONS = """\
Answers "what does this data look like and what changed" without writing SQL; every number is
computed by the warehouse. profile_table first for an unfamiliar table; aggregate for metrics by
group; time_series for a metric over time; detect_anomalies for unusual days/hours;
compare_periods for "what changed and who drove it"; histogram, value_counts and correlations for
distributions. Tables are DATABASE.SCHEMA.TABLE; time_column is a DATE or TIMESTAMP column. A
metric is {fn, column, p for percentile}; count without a column counts rows. Periods, start and
end are ISO dates or date-times, [start, end). chart: true adds a PNG of the result. filters all hold:
{column, op, value}, value a list for in/not_in and [low, high] for between. Each result carries
the SQL that produced it."""


def build_server(settings: Settings | None = None, *, warehouse: Warehouse | None = None) -> MCPServer:
    """The analytics server on the configured warehouse (or on `warehouse`, for tests)."""
    runtime = ServerRuntime("analytics", settings or Settings(), warehouse)
    server = new_server(runtime, instructions=INSTRUCTIONS, extensions=[charts_app()])
    build_tools(runtime).register(server, runtime.settings.tools)
    return server
