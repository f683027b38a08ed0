"""The etl server's tools: pipelines, runs, failures, diagnoses, freshness and SLAs across sources."""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import Annotated

from pydantic import Field

from snowmcp.common.handle_tools import add_handle_tools
from snowmcp.common.toolkit import Toolset
from snowmcp.common.vocabulary import OptionalPipeline, OptionalSince, Pipeline, Since, Tables
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


def build_tools(registry: Registry) -> Toolset:
    tools = Toolset("etl", registry.runtime.long_calls)
    read_only = dict(read_only=True, idempotent=True, open_world=False)

    @tools.tool(title="List pipelines", **read_only)
    async def list_pipelines(
        source: SourceName | None = None,
        name_like: Annotated[str | None, Field(
            description="Text in the name or id, any case; * ? wildcards.")] = None,
    ) -> PipelineList:
        """Every pipeline (audit jobs, dbt nodes, tasks, dynamic tables, loads, pipes): SLA, owner,
        last run. Start here."""
        snap = await Snapshot.take(registry)
        picked = [p for p in snap.pipelines if (source is None or p.source == source) and _like(p, name_like)]
        return PipelineList(pipelines=picked, count=len(picked), **registry.sourced())

    @tools.tool(title="Get pipeline", **read_only)
    async def get_pipeline(
        pipeline: Pipeline,
        runs: Annotated[int, Field(ge=1, le=200)] = 10,
    ) -> PipelineDetail:
        """One pipeline in full: definition, SLA, owner, upstream, downstream, recent runs."""
        snap = await Snapshot.take(registry)
        found = snap.resolve(pipeline)
        recent = await registry.runs(RunQuery(pipelines=(found.id,), limit=runs))
        return PipelineDetail(pipeline=found, recent_runs=recent, upstream=snap.many(found.upstream),
                              downstream=snap.many(found.downstream), **registry.sourced())

    @tools.tool(long=True, title="Recent runs", **read_only)
    async def recent_runs(
        pipeline: OptionalPipeline = None,
        status: Status | None = None,
        since: OptionalSince = None,
        limit: Annotated[int, Field(ge=1, le=1_000)] = 50,
    ) -> RunList:
        """Runs across sources, newest first; optionally of one pipeline, status or period."""
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
        """Failed, upstream_failed and partial runs grouped by pipeline and error, still failing
        first; next, diagnose_run."""
        snap = await Snapshot.take(registry)
        start = parse_since(since, snap.now)
        found = await registry.all_runs(RunQuery(statuses=tuple(sorted(PROBLEMS)), since=start), "failures")
        groups = analysis.failure_groups(found.runs, snap.by_id)
        return FailedRuns(now=iso(snap.now), since=iso(start), total_failures=found.matched,
                          pipelines_failing=len({g.pipeline_id for g in groups if g.still_failing}),
                          groups=groups, **registry.sourced())

    @tools.tool(long=True, title="Diagnose run", **read_only)
    async def diagnose_run(
        run_id: Annotated[str, Field(description="From recent_runs or failed_runs.")],
    ) -> Diagnosis:
        """Why a run failed: error category and usual fix, last good run, upstream state, similar
        failures, downstream impact."""
        snap = await Snapshot.take(registry)
        return await diagnose(registry, snap, run_id)

    @tools.tool(long=True, title="Freshness", **read_only)
    async def freshness(
        tables: Tables = None,
    ) -> Freshness:
        """Each table's last successful load against its max-age SLA (fresh, stale, no_sla...);
        default: every known table."""
        snap = await Snapshot.take(registry)
        entries = await table_freshness(registry, snap, tables)
        return Freshness(now=iso(snap.now), tables=entries, stale=sum(t.status == "stale" for t in entries),
                         **registry.sourced())

    @tools.tool(long=True, title="SLA breaches", **read_only)
    async def sla_breaches(since: Since = "24h") -> SlaBreaches:
        """Late, missed, too slow and stale pipelines against their SLAs (SNOWMCP_ETL_SLA_FILE)."""
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
        pipeline: Pipeline,
        window: Annotated[int, Field(ge=5, le=1_000, description="Finished runs to look at.")] = 30,
    ) -> DurationTrends:
        """A pipeline's duration and rows over its last `window` finished runs (p50/p95), unusual ones
        flagged."""
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
        """The morning check: failing, running, late, stale and slow, and what to fix first."""
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
