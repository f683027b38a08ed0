"""The quality server's tools: declare checks, run them in the warehouse, keep and read their history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from snowmcp.common.durations import parse_since
from snowmcp.common.identifiers import resolve_table
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.handle_tools import add_handle_tools
from snowmcp.common.toolkit import Toolset
from snowmcp.common.vocabulary import OptionalSince, OptionalTable, Table
from snowmcp.servers.quality.check_types import CHECK_TYPES
from snowmcp.servers.quality.failed_rows import failed_rows
from snowmcp.servers.quality.history import HistoryBackend
from snowmcp.servers.quality.models import (
    CheckHistory, CheckTypeInfo, CheckTypeList, CompiledCheckInfo, FailedRows, RunResult, SchemaDiff, SuggestedSuite,
    SuiteValidation,
)
from snowmcp.servers.quality.runner import QualityRunner
from snowmcp.servers.quality.suggest import suggest_suite
from snowmcp.servers.quality.suite import SCHEMA_PATH
from snowmcp.servers.quality.suite_files import SuiteFolders
from snowmcp.servers.quality.suite_sources import SuiteSources
from snowmcp.servers.quality.thresholds import __doc__ as THRESHOLDS_DOC

Suite = Annotated[str | dict[str, Any], Field(
    description="YAML or an object (see list_check_types).")]


def build_tools(runtime: ServerRuntime, store: HistoryBackend, folders: SuiteFolders) -> Toolset:
    """The quality tools on `runtime`, keeping history in `store`; `suite_path` reads only inside `folders`."""
    tools = Toolset("quality", runtime.long_calls)
    runner = QualityRunner(runtime, store)
    sources = SuiteSources(folders, runtime.off_loop)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List check types", **read_only)
    async def list_check_types() -> CheckTypeList:
        """Every check type a suite can declare, with its parameters and a YAML example."""
        import yaml

        types = [CheckTypeInfo(type=name, summary=t.summary, needs_column=t.needs_column,
                               parameters=t.model.model_json_schema(by_alias=False),
                               example=yaml.safe_dump([t.example], default_flow_style=True, sort_keys=False).strip())
                 for name, t in CHECK_TYPES.items()]
        return CheckTypeList(types=types, suite_schema=str(SCHEMA_PATH.name), thresholds=" ".join(THRESHOLDS_DOC.split()))

    @tools.tool(title="Validate suite", **read_only)
    async def validate_suite(
        suite: Suite,
    ) -> SuiteValidation:
        """Compile a suite without running it: each check's validity and the SQL run_checks would
        send."""
        parsed = await sources.suite(suite)
        plan = await runner.plan(parsed)
        by_index = {c.check.index: c for c in plan.compiled}
        infos = [
            CompiledCheckInfo(check=check.name, type=check.type, column=check.column, line=check.line,
                              batched=bool(by_index.get(check.index) and by_index[check.index].aggregates),
                              sql=plan.check_sql.get(check.index),
                              error=plan.errors.get(check.index))
            for check in parsed.checks
        ]
        return SuiteValidation(table=str(plan.scope.description.ref), valid=not plan.errors, checks=infos,
                               statements=plan.statements)

    @tools.tool(long=True, title="Run checks", read_only=False, destructive=False, idempotent=False, open_world=False)
    async def run_checks(
        ctx: Context,
        suite: Suite | None = None,
        suite_path: Annotated[str | None, Field(
            description="A YAML file in the suite folders (SNOWMCP_QUALITY_SUITES_DIR).")] = None,
        table: OptionalTable = None,
        checks: Annotated[list[dict[str, Any] | str] | None, Field(
            description='For `table`, e.g. [{"missing":{"column":"ID","max":0}},"row_count"].')] = None,
    ) -> RunResult:
        """Run checks in the warehouse (aggregates in one scan) and store the results: a suite, a
        suite_path, or table + checks."""
        parsed = await sources.load(suite, suite_path, table, checks)

        async def progress(done: float, total: float, message: str) -> None:
            await ctx.report_progress(done, total, message)

        return await runner.run(parsed, suite_name=suite_path, progress=progress)

    @tools.tool(long=True, title="Get failed rows", **read_only)
    async def get_failed_rows(
        run_id: Annotated[str, Field(description="From run_checks.")],
        check: Annotated[str, Field(description="Its name in the run, e.g. missing(ORDER_ID).")],
        limit: Annotated[int, Field(ge=1, le=1_000)] = 20,
    ) -> FailedRows:
        """Rows failing a row-level check of a stored run (read now), and the SQL that finds them
        all."""
        return await failed_rows(runtime, runner, store, run_id, check, limit)

    @tools.tool(title="Check history", **read_only)
    async def check_history(
        table: OptionalTable = None,
        check: str | None = None,
        since: OptionalSince = None,
        limit: Annotated[int, Field(ge=1, le=5_000)] = 200,
    ) -> CheckHistory:
        """Stored check results, newest first: trends, and when a check started failing."""
        warehouse = await runtime.warehouse()
        name = str((await runtime.catalog(lambda w: resolve_table(w, table))).ref) if table else None
        start = parse_since(since, dt.datetime.now(dt.timezone.utc))
        rows = await store.results(warehouse.identity, table_name=name, check=check, since=start, limit=limit)
        for row in rows:
            row["checked_at"] = row["checked_at"].astimezone(dt.timezone.utc).isoformat() if row["checked_at"] else None
            row.pop("warehouse", None)
            row.pop("failed_rows_sql", None)
            row.pop("definition", None)
        return CheckHistory(results=rows, location=store.location)

    @tools.tool(long=True, title="Schema diff", **read_only)
    async def schema_diff(table: Table) -> SchemaDiff:
        """Columns added, dropped or retyped since the snapshot of the last run_checks."""
        from snowmcp.servers.quality.compile import schema_changes

        warehouse = await runtime.warehouse()
        description = await runtime.catalog(lambda w: resolve_table(w, table))
        snapshot = await store.last_snapshot(warehouse.identity, str(description.ref))
        if snapshot is None:
            return SchemaDiff(table=str(description.ref), snapshot_taken_at=None, added=[], dropped=[], changed=[],
                              message="no snapshot stored yet: run_checks on this table stores one")
        taken_at, before = snapshot
        changes = schema_changes(before, {c.name: c.type for c in description.columns})
        grouped: dict[str, list[str]] = {"added": [], "dropped": [], "type_changed": []}
        for kind, text in changes:
            grouped[kind].append(text)
        return SchemaDiff(table=str(description.ref), snapshot_taken_at=taken_at.astimezone(dt.timezone.utc).isoformat(),
                          added=grouped["added"], dropped=grouped["dropped"], changed=grouped["type_changed"],
                          message=f"{len(changes)} change(s)" if changes else "no change")

    @tools.tool(long=True, title="Suggest checks", **read_only)
    async def suggest_checks(table: Table) -> SuggestedSuite:
        """Propose a YAML suite from a one-pass profile of a table; review it, then validate_suite /
        run_checks."""
        return await suggest_suite(runtime, table)

    add_handle_tools(tools, runtime)
    return tools
