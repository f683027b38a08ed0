"""The quality server: declared data-quality checks, run in the warehouse, with history."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.server_factory import new_server
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import Warehouse
from snowmcp.servers.quality.history import HistoryBackend, HistoryStore
from snowmcp.servers.quality.settings import QualitySettings
from snowmcp.servers.quality.stores import PreferredStore
from snowmcp.servers.quality.suite_files import SuiteFolders
from snowmcp.servers.quality.warehouse_history import WarehouseHistoryStore
from snowmcp.servers.quality.tools import build_tools

INSTRUCTIONS = """\
Data-quality checks declared per table (YAML suites), run in the warehouse, with stored history.
list_check_types shows the check types and the suite format; suggest_checks proposes a suite from
the data; validate_suite compiles one without running; run_checks runs it (all aggregate checks in
one scan) and stores the results; get_failed_rows shows offending rows of a run's check;
check_history and schema_diff read what earlier runs stored. Tables are DATABASE.SCHEMA.TABLE;
`since` takes a duration ("24h", "7d") or an ISO timestamp."""


def build_server(settings: Settings | None = None, *, warehouse: Warehouse | None = None,
                 quality_settings: QualitySettings | None = None) -> MCPServer:
    """The quality server on the configured warehouse (or on `warehouse`, for tests)."""
    settings = settings or Settings()
    quality_settings = quality_settings or QualitySettings()
    runtime = ServerRuntime("quality", settings, warehouse)
    store: HistoryBackend = HistoryStore(settings.state_path / "quality" / "history.duckdb")
    if quality_settings.quality_history_schema:
        store = PreferredStore(WarehouseHistoryStore(runtime, quality_settings.quality_history_schema), store)
    server = new_server(runtime, instructions=INSTRUCTIONS)
    folders = SuiteFolders(quality_settings.suite_folders(settings.state_path))
    build_tools(runtime, store, folders).register(server, settings.tools)
    return server
