"""The etl server's tools: pipelines, runs, failures, diagnoses, freshness and SLAs across sources."""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import Annotated

from pydantic import Field

from snowmcp.common.handle_tools import add_handle_tools
from snowmcp.common.toolkit import Toolset
from snowmcp.servers.etl import analysis
from snowmcp.servers.etl.diagnose import diagnose
from snowmcp.servers.etl.health import health
from snowmcp.servers.etl.models import (
    FINISHED, PROBLEMS, Diagnosis, DurationTrends, FailedRuns, Freshness, HealthSummary, PipelineDetail,
    PipelineList, PipelineSummary,
    RunList, SlaBreaches, Status,
)
from snowmcp.servers.etl.registry import Registry
from snowmcp.servers.etl.settings import SourceName
from snowmcp.servers.etl.snapshot import Snapshot, table_freshness
from snowmcp.servers.etl.sources.base import RunQuery
from snowmcp.common.durations import shift
from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.etl.timeutil import iso, parse_since

MAX_SLA_DAYS = 366  # every day checked can be a breach: a longer look-back is an unbounded answer
PipelineArg = Annotated[str, Field(description="Pipeline id or name, as list_pipelines shows it "
                                               "(e.g. load_orders, model.shop.orders).")]
Since = Annotated[str, Field(description='How far back: a duration ("24h", "7d", "30m") or an ISO timestamp '
                                         '("2026-11-19T06:00:00Z"). Relative to now (UTC).')]


def build_tools(registry: Registry) -> Toolset:
    tools = Toolset("etl", registry.runtime.long_calls)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List pipelines", **read_only)
    async def list_pipelines(
        source: Annotated[SourceName | None, Field(description="Only this source: audit, dbt or snowflake.")] = None,
        name_like: Annotated[str | None, Field(
            description="Only names/ids containing this text (case-insensitive); * and ? are wildcards.")] = None,
    ) -> PipelineList:
        """Every pipeline the sources know (audit-table jobs, dbt models/tests/seeds/snapshots, Snowflake
        tasks, dynamic tables, loads and pipes) with kind, targets, dependencies, SLA, owner, last run and
        last success. Start here to learn the pipeline ids other tools take."""
        snap = await Snapshot.take(registry)
        picked = [p for p in snap.pipelines if (source is None or p.source == source) and _like(p, name_like)]
        return PipelineList(pipelines=picked, count=len(picked), **registry.sourced())

    @tools.tool(title="Get pipeline", **read_only)
    async def get_pipeline(
        pipeline: PipelineArg,
        runs: Annotated[int, Field(ge=1, le=200, description="How many recent runs to include.")] = 10,
    ) -> PipelineDetail:
        """One pipeline in full: definition, SLA, owner, upstream and downstream pipelines (with their last
        runs) and its most recent runs."""
        snap = await Snapshot.take(registry)
        found = snap.resolve(pipeline)
        recent = await registry.runs(RunQuery(pipelines=(found.id,), limit=runs))
        return PipelineDetail(pipeline=found, recent_runs=recent, upstream=snap.many(found.upstream),
                              downstream=snap.many(found.downstream), **registry.sourced())

    @tools.tool(long=True, title="Recent runs", **read_only)
    async def recent_runs(
        pipeline: Annotated[str | None, Field(description="Only this pipeline (id or name).")] = None,
        status: Annotated[Status | None, Field(description="Only runs with this status.")] = None,
        since: Annotated[str | None, Field(description='Only runs started since: "24h", "7d" or an ISO timestamp.')]
        = None,
        limit: Annotated[int, Field(ge=1, le=1_000, description="Most runs to return.")] = 50,
    ) -> RunList:
        """Runs across all sources, newest first, optionally for one pipeline, one status and a period.
        Statuses: queued, running, success, warn, partial, failed, cancelled, skipped, upstream_failed."""
        snap = await Snapshot.take(registry)
        start = parse_since(since, snap.now)
        ids = (snap.resolve(pipeline).id,) if pipeline is not None else None
        found = await registry.page(RunQuery(pipelines=ids, statuses=(status,) if status else None, since=start,
                                             limit=limit))
        honest = registry.sourced()
        honest["truncated"] = bool(honest["truncated"]) or found.matched > len(found.runs)
        return RunList(runs=found.runs, count=len(found.runs), matched=found.matched, since=iso(start), **honest)

    @tools.tool(long=True, title="Failed runs", **read_only)
    async def failed_runs(since: Since = "24h") -> FailedRuns:
        """What broke: failed, upstream-failed and partial runs since `since`, grouped by pipeline and error, each
        group with its count, first/last failure, run ids, the pipeline's last success and whether it is
        still failing. Still-failing groups come first. Follow up with diagnose_run on a run id."""
        snap = await Snapshot.take(registry)
        start = parse_since(since, snap.now)
        found = await registry.all_runs(RunQuery(statuses=tuple(sorted(PROBLEMS)), since=start), "failures")
        groups = analysis.failure_groups(found.runs, snap.by_id)
        return FailedRuns(now=iso(snap.now), since=iso(start), total_failures=found.matched,
                          pipelines_failing=len({g.pipeline_id for g in groups if g.still_failing}),
                          groups=groups, **registry.sourced())

    @tools.tool(long=True, title="Diagnose run", **read_only)
    async def diagnose_run(
        run_id: Annotated[str, Field(description="A run id from recent_runs or failed_runs.")],
    ) -> Diagnosis:
        """Everything about one run in one call: the run and its error (categorized, with the usual fix),
        the last good run and failures since, the newest run (fixed yet?), the state of each upstream
        pipeline when it started, similar past failures, and the downstream pipelines and tables affected."""
        snap = await Snapshot.take(registry)
        return await diagnose(registry, snap, run_id)

    @tools.tool(long=True, title="Freshness", **read_only)
    async def freshness(
        tables: Annotated[list[str] | None, Field(
            max_length=200, description="Tables as DATABASE.SCHEMA.TABLE; default: every table a pipeline loads "
                                        "or an SLA names.")] = None,
    ) -> Freshness:
        """Last successful load of each table against its freshness SLA (max age): fresh, stale (with how
        overdue), no_sla, never_loaded or unknown_table. Stale tables come first."""
        snap = await Snapshot.take(registry)
        entries = await table_freshness(registry, snap, tables)
        return Freshness(now=iso(snap.now), tables=entries, stale=sum(t.status == "stale" for t in entries),
                         **registry.sourced())

    @tools.tool(long=True, title="SLA breaches", **read_only)
    async def sla_breaches(since: Since = "24h") -> SlaBreaches:
        """Pipelines that broke their SLA since `since`: late (succeeded after expected_by), missed (no
        success by expected_by), too_slow (ran longer than max_duration) and stale (no success within
        max_lag, now). SLAs come from the SLA file (SNOWMCP_ETL_SLA_FILE)."""
        snap = await Snapshot.take(registry)
        start = parse_since(since, snap.now)
        if start is not None and snap.now - start > dt.timedelta(days=MAX_SLA_DAYS):
            raise InvalidArgument(f"sla_breaches looks back at most {MAX_SLA_DAYS} days; since is {since!r}",
                                  hint='Use since="30d" or a timestamp within the last year.')
        with_sla = [p for p in snap.pipelines if p.sla]
        since_day_before = shift(start, -86_400, "since")
        runs = (await registry.all_runs(RunQuery(pipelines=tuple(p.id for p in with_sla), since=since_day_before))).runs \
            if with_sla else []
        breaches = analysis.sla_breaches(with_sla, runs, start, snap.now)
        return SlaBreaches(now=iso(snap.now), since=iso(start), pipelines_with_sla=len(with_sla), breaches=breaches,
                           **registry.sourced())

    @tools.tool(long=True, title="Run duration trends", **read_only)
    async def run_duration_trends(
        pipeline: PipelineArg,
        window: Annotated[int, Field(ge=5, le=1_000, description="How many recent finished runs to look at.")] = 30,
    ) -> DurationTrends:
        """Duration and rows per run for one pipeline over its last `window` finished runs: p50/p95/max
        duration, p50/p95 rows, and runs flagged as anomalous (slow, fast, rows_high, rows_low, no_rows)
        against the median."""
        snap = await Snapshot.take(registry)
        found = snap.resolve(pipeline)
        page = await registry.page(RunQuery(pipelines=(found.id,), statuses=tuple(sorted(FINISHED)), limit=window))
        runs = page.runs
        if len(runs) < min(window, page.matched):
            registry.note_left_out(f"{len(runs)} of the {window} runs asked for were read (SNOWMCP_ETL_MAX_RUNS)")
        stats, points = analysis.trends(runs)
        return DurationTrends(pipeline_id=found.id, pipeline=found.name, window=window, runs_considered=len(runs),
                              anomalous_runs=[p for p in points if p.flags], runs=points, **registry.sourced(),
                              **stats)

    @tools.tool(long=True, title="Health summary", **read_only)
    async def health_summary() -> HealthSummary:
        """The morning check in one call: what is failing now (and since when), what is running, SLA
        breaches and stale tables in the last 24 hours, unusually slow runs, and the runs of the last
        24 hours by status, with a short headline of what to look at first."""
        snap = await Snapshot.take(registry)
        return await health(registry, snap)

    add_handle_tools(tools, registry.runtime)
    return tools


def _like(pipeline: PipelineSummary, pattern: str | None) -> bool:
    if not pattern:
        return True
    folded = pattern.lower()
    names = (pipeline.name.lower(), pipeline.id.lower())
    if any(ch in folded for ch in "*?"):
        return any(fnmatch.fnmatchcase(n, folded) for n in names)
    return any(folded in n for n in names)
