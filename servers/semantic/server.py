"""The semantic server: certified metrics by name, compiled by MetricFlow."""

from __future__ import annotations

import json

from mcp.server.mcpserver import MCPServer

from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.server_factory import new_server
from snowmcp.common.settings import Settings
from snowmcp.common.toolkit import resource_errors
from snowmcp.common.warehouse.base import Warehouse
from snowmcp.servers.semantic.loader import LayerLoader
from snowmcp.servers.semantic.tools import build_tools

INSTRUCTIONS = """\
Certified metrics, defined once by the data team (dbt/MetricFlow semantic models) and computed
in the warehouse. Prefer them to hand-written SQL for any figure
they cover: list_metrics -> get_dimensions(metrics) -> query_metrics. group_by items are
{name, type: dimension|time_dimension|entity, grain}: e.g. {"name": "customer__segment"} or
{"name": "metric_time", "type": "time_dimension", "grain": "month"}. where filters use MetricFlow
syntax: {{ Dimension('customer__country') }} = 'DE', {{ TimeDimension('metric_time', 'day') }} >= '2026-01-01'.
Results carry the SQL and the metric definitions that produced them."""


def build_server(settings: Settings | None = None, *, warehouse: Warehouse | None = None) -> MCPServer:
    """The semantic server on the configured warehouse (or on `warehouse`, for tests)."""
    runtime = ServerRuntime("semantic", settings or Settings(), warehouse)
    loader = LayerLoader(runtime)
    server = new_server(runtime, instructions=INSTRUCTIONS)
    build_tools(runtime, loader).register(server, runtime.settings.tools)

    @server.resource("snowmcp://semantic/metrics", name="metrics", title="Certified metrics",
                     description="Every certified metric with its type, label, description and definition.",
                     mime_type="application/json")
    async def metrics_resource() -> str:
        with resource_errors():
            layer = await loader.layer()
            definitions = [layer.definition(m.name).model_dump(mode="json", exclude_none=True)
                           for m in layer.metrics()]
        return json.dumps({"source": layer.kind, "origin": layer.origin, "metrics": definitions})

    return server
