"""health_summary: the morning check."""

from __future__ import annotations

import datetime as dt

from snowmcp.servers.etl import analysis
from snowmcp.servers.etl.models import FAILED, FailingPipeline, HealthSummary, PipelineRun
from snowmcp.servers.etl.registry import Registry
from snowmcp.servers.etl.snapshot import Snapshot, table_freshness
from snowmcp.servers.etl.sources.base import RunQuery, started
from snowmcp.servers.etl.timeutil import human, iso, to_datetime

DAY = dt.timedelta(hours=24)


async def health(registry: Registry, snap: Snapshot) -> HealthSummary:
    now = snap.now
    week = (await registry.all_runs(RunQuery(since=now - dt.timedelta(days=7)), "runs in the last 7 days")).runs
    today = [r for r in week if started(r) >= now - DAY]
    by_status: dict[str, int] = {}
    for run in today:
        by_status[run.status] = by_status.get(run.status, 0) + 1

    failing = []
    for pipeline in snap.pipelines:
        last = pipeline.last_run  # exact, from the source; the week's history only when a run is in flight
        if last is None or last.status in ("running", "queued"):
            last = next((r for r in week if r.pipeline_id == pipeline.id and r.status not in ("running", "queued")),
                        None)
        if last is None or last.status not in FAILED:
            continue
        since = to_datetime(pipeline.last_success_at)
        streak = (await registry.all_runs(RunQuery(pipelines=(pipeline.id,), statuses=tuple(sorted(FAILED)),
                                                   since=since + dt.timedelta(microseconds=1) if since else None),
                                          f"failures of {pipeline.name} in a row")).runs
        streak = [r for r in streak if since is None or started(r) > since] or [last]
        failing.append(FailingPipeline(
            pipeline_id=pipeline.id, pipeline=pipeline.name,
            failing_since=streak[-1].started_at or streak[-1].scheduled_at,
            consecutive_failures=len(streak), last_error=last.error_message, last_success_at=pipeline.last_success_at))
    failing.sort(key=lambda f: -f.consecutive_failures)

    running = [p.last_run for p in snap.pipelines if p.last_run and p.last_run.status == "running"]
    with_sla = [p for p in snap.pipelines if p.sla]
    breaches = analysis.sla_breaches(with_sla, [r for r in week if r.pipeline_id in {p.id for p in with_sla}],
                                     now - DAY, now)
    tables = await table_freshness(registry, snap, None)
    stale = [t for t in tables if t.status == "stale"]
    slow = []
    for pipeline in snap.pipelines:
        history = [r for r in week if r.pipeline_id == pipeline.id]
        _, points = analysis.trends(history)
        slow += [p for p in points if "slow" in p.flags and (to_datetime(p.started_at) or now) >= now - DAY]
    headline = _headline(failing, breaches, stale, running, slow, now)
    return HealthSummary(now=iso(now), headline=headline, pipelines=len(snap.pipelines), runs_last_24h=by_status,
                         failing=failing, running=running, sla_breaches=breaches, stale_tables=stale, slow_runs=slow,
                         **registry.sourced())


def _headline(failing: list[FailingPipeline], breaches: list, stale: list, running: list[PipelineRun],
              slow: list, now: dt.datetime) -> list[str]:
    lines = []
    for f in failing:
        lines.append(f"FAILING: {f.pipeline} - {f.consecutive_failures} failure(s) in a row since {f.failing_since}"
                     + (f": {f.last_error[:160]}" if f.last_error else ""))
    for t in stale:
        lines.append(f"STALE: {t.table} last loaded {t.last_success_at or 'never'} ({t.age} ago, SLA {t.max_age})")
    for b in breaches:
        lines.append(f"SLA: {b.message}")
    for run in slow:
        lines.append(f"SLOW: {run.run_id} took {human(run.duration_s)}")
    for run in running:
        lines.append(f"RUNNING: {run.pipeline_id} since {run.started_at} "
                     f"({human((now - (to_datetime(run.started_at) or now)).total_seconds())})")
    return lines or ["All pipelines healthy: no failures, breaches or stale tables in the last 24 hours."]
