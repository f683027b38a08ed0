"""The quality server: declared data-quality checks, run in the warehouse, with history."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from common.runtime import ServerRuntime
from common.server_factory import new_server
from common.settings import Settings
from common.warehouse.base import Warehouse
from servers.quality.history import HistoryStore
from servers.quality.tools import build_tools

INSTRUCTIONS = """\
Data-quality checks declared per table (YAML suites), run in the warehouse, with stored history.
list_check_types shows the check types and the suite format; suggest_checks proposes a suite from
the data; validate_suite compiles one without running; run_checks runs it (all aggregate checks in
one scan) and stores the results; get_failed_rows shows offending rows of a run's check;
check_history and schema_diff read what earlier runs stored."""


def build_server(settings: Settings | None = None, *, warehouse: Warehouse | None = None) -> MCPServer:
    """The quality server on the configured warehouse (or on `warehouse`, for tests)."""
    settings = settings or Settings()
    runtime = ServerRuntime("quality", settings, warehouse)
    store = HistoryStore(settings.state_path / "quality" / "history.duckdb")
    server = new_server(runtime, instructions=INSTRUCTIONS)
    build_tools(runtime, store).register(server)
    return server
