"""The etl server: which pipelines ran, failed, are late or stale, and why - across sources."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.server_factory import new_server
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import Warehouse
from snowmcp.servers.etl.registry import Registry
from snowmcp.servers.etl.settings import EtlSettings
from snowmcp.servers.etl.tools import build_tools

INSTRUCTIONS = """\
Answers "what broke, why, and what is stale because of it" from pipeline run records: an audit table
in the warehouse, dbt artifacts and (on Snowflake) tasks, dynamic tables, loads and pipes, all mapped
onto one model (pipelines and runs with statuses success/failed/...). health_summary first for an
overview; failed_runs for what broke; diagnose_run on a run id for why and what it affects;
freshness and sla_breaches for what is stale or late; run_duration_trends for slow pipelines.
Times are UTC ISO-8601; `since` takes "24h", "7d" or a timestamp. Each result lists its sources
and any source that failed."""


def build_server(settings: Settings | None = None, *, warehouse: Warehouse | None = None,
                 etl_settings: EtlSettings | None = None) -> MCPServer:
    """The etl server on the configured warehouse (or on `warehouse`, for tests)."""
    runtime = ServerRuntime("etl", settings or Settings(), warehouse)
    registry = Registry(runtime, etl_settings or EtlSettings())
    server = new_server(runtime, instructions=INSTRUCTIONS)
    build_tools(registry).register(server, runtime.settings.tools)

    @server.prompt(name="daily_health_check", title="Daily pipeline health check")
    def daily_health_check(since: str = "24h") -> str:
        """The morning check: what broke, why, what is late or stale, and what to do first."""
        return (
            f"Run a data-pipeline health check for the last {since}.\n"
            "1. Call health_summary and read its headline.\n"
            f"2. Call failed_runs with since={since!r}; for each still-failing group call diagnose_run on its "
            "newest run id to find the cause, the upstream state and the downstream impact.\n"
            f"3. Call sla_breaches with since={since!r} and freshness to list late, missed, slow and stale items.\n"
            "4. For any pipeline flagged slow, call run_duration_trends.\n"
            "5. Report: what is broken (with cause and owner), what is stale or late because of it, and the "
            "order in which to fix things. Quote run ids and UTC times."
        )

    return server
