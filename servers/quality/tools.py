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

SuiteText = Annotated[str | dict[str, Any] | None, Field(
    description="A suite in YAML (or the same structure as an object): table, optional filter, checks and columns "
                "(see list_check_types).")]
TableName = Annotated[str | None, Field(description="Table as DATABASE.SCHEMA.TABLE.")]


def build_tools(runtime: ServerRuntime, store: HistoryBackend, folders: SuiteFolders) -> Toolset:
    """The quality tools on `runtime`, keeping history in `store`; `suite_path` reads only inside `folders`."""
    tools = Toolset("quality", runtime.long_calls)
    runner = QualityRunner(runtime, store)
    sources = SuiteSources(folders, runtime.off_loop)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List check types", **read_only)
    async def list_check_types() -> CheckTypeList:
        """Every data-quality check type a suite can declare, with its parameters and a YAML example.
        Read this before writing a suite for validate_suite or run_checks."""
        import yaml

        types = [CheckTypeInfo(type=name, summary=t.summary, needs_column=t.needs_column,
                               parameters=t.model.model_json_schema(by_alias=False),
                               example=yaml.safe_dump([t.example], default_flow_style=True, sort_keys=False).strip())
                 for name, t in CHECK_TYPES.items()]
        return CheckTypeList(types=types, suite_schema=str(SCHEMA_PATH.name), thresholds=" ".join(THRESHOLDS_DOC.split()))

    @tools.tool(title="Validate suite", **read_only)
    async def validate_suite(
        suite: Annotated[str | dict[str, Any], Field(description="The suite, in YAML (or as an object).")],
    ) -> SuiteValidation:
        """Parse and compile a suite without running it: whether each check is valid, and the SQL
        run_checks would send (aggregate checks share one batched statement)."""
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
        suite: SuiteText = None,
        suite_path: Annotated[str | None, Field(
            description="A YAML suite file in the server's suite folders (SNOWMCP_QUALITY_SUITES_DIR); a relative "
                        "path is looked up in them.")] = None,
        table: TableName = None,
        checks: Annotated[list[dict[str, Any] | str] | None, Field(
            description='Inline checks for `table`, as in a suite\'s checks list, e.g. [{"missing": {"column": '
                        '"ORDER_ID", "max": 0}}, {"row_count": {"min": 1000}}].')] = None,
    ) -> RunResult:
        """Run data-quality checks in the warehouse and store the results (history for trends and
        anomaly checks). Pass a suite (YAML text), a suite_path, or a table with inline checks. All
        aggregate checks on the table run in one scan. Each result has status pass/warn/fail/error,
        the observed value, the threshold, unexpected rows and the SQL; get_failed_rows shows
        offending rows."""
        parsed = await sources.load(suite, suite_path, table, checks)

        async def progress(done: float, total: float, message: str) -> None:
            await ctx.report_progress(done, total, message)

        return await runner.run(parsed, suite_name=suite_path, progress=progress)

    @tools.tool(long=True, title="Get failed rows", **read_only)
    async def get_failed_rows(
        run_id: Annotated[str, Field(description="The run_id from run_checks.")],
        check: Annotated[str, Field(description="The check's name as the run reported it, e.g. missing(ORDER_ID).")],
        limit: Annotated[int, Field(ge=1, le=1_000, description="How many rows to show.")] = 20,
    ) -> FailedRows:
        """Sample the rows that failed a row-level check of a stored run, and the SQL that finds them all.
        The rows are read now, so they reflect the table's current contents."""
        return await failed_rows(runtime, runner, store, run_id, check, limit)

    @tools.tool(title="Check history", **read_only)
    async def check_history(
        table: TableName = None,
        check: Annotated[str | None, Field(description="Only this check (by name).")] = None,
        since: Annotated[str | None, Field(description='A duration ("7d", "24h") or an ISO date-time.')] = None,
        limit: Annotated[int, Field(ge=1, le=5_000, description="Most results, newest first.")] = 200,
    ) -> CheckHistory:
        """Stored check results over time (newest first), to see trends and when a check started failing."""
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
    async def schema_diff(table: Annotated[str, Field(description="Table as DATABASE.SCHEMA.TABLE.")]) -> SchemaDiff:
        """Columns added, dropped or retyped since the last stored snapshot (taken by each run_checks)."""
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
    async def suggest_checks(table: Annotated[str, Field(description="Table as DATABASE.SCHEMA.TABLE.")]) -> SuggestedSuite:
        """Propose a YAML suite for a table from a one-pass profile of its data: keys, nulls, allowed values,
        ranges, freshness. Review and edit it, then validate_suite / run_checks; nothing is run or saved here."""
        return await suggest_suite(runtime, table)

    add_handle_tools(tools, runtime)
    return tools
