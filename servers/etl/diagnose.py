"""diagnose_run: one run, its error, its history, its upstream and its blast radius."""

from __future__ import annotations

import datetime as dt

from snowmcp.common.errors import InvalidArgument, NotFound
from snowmcp.servers.etl.errors_kb import categorize, signature
from snowmcp.servers.etl.models import FAILED, GOOD, AffectedPipeline, Diagnosis, PipelineRun, UpstreamState
from snowmcp.servers.etl.registry import Registry
from snowmcp.servers.etl.snapshot import Snapshot
from snowmcp.servers.etl.sources.base import RunQuery, started
from snowmcp.common.durations import shift
from snowmcp.servers.etl.timeutil import human, parse_duration, to_datetime

SIMILAR_LOOKBACK = dt.timedelta(days=90)


async def diagnose(registry: Registry, snap: Snapshot, run_id: str) -> Diagnosis:
    if not isinstance(run_id, str) or not run_id.strip():
        raise InvalidArgument("run_id is empty", hint="recent_runs and failed_runs show run ids.")
    found = await registry.runs(RunQuery(run_id=run_id.strip(), limit=2))
    if not found:
        names = ", ".join(s.name for s in registry.statuses if s.ok) or "none"
        raise NotFound(f"no run with id {run_id!r} in the sources ({names})",
                       hint="recent_runs and failed_runs show run ids.")
    run = found[0]
    pipeline = snap.by_id.get(run.pipeline_id) or snap.resolve(run.pipeline_id)
    at = started(run)
    mine = (pipeline.id,)
    last_good = next(iter(await registry.runs(RunQuery(pipelines=mine, statuses=tuple(GOOD), until=at, limit=1))), None)
    since_good = to_datetime(last_good.started_at) + dt.timedelta(microseconds=1) if last_good else None
    between = (await registry.all_runs(RunQuery(pipelines=mine, statuses=tuple(sorted(FAILED)), since=since_good,
                                                until=shift(at, 1)), "failures since the last good run")).runs
    latest = next(iter(await registry.runs(RunQuery(pipelines=mine, limit=1))), None)

    upstream = []
    for up_id in pipeline.upstream:
        up = snap.by_id.get(up_id)
        before = next(iter(await registry.runs(RunQuery(pipelines=(up_id,), until=at, limit=1))), None)
        upstream.append(UpstreamState(
            pipeline_id=up_id, pipeline=up.name if up else up_id, status_before_run=before.status if before else None,
            run=before, suspect=before is not None and before.status not in GOOD))

    sig = signature(run.error_message)
    similar: list[PipelineRun] = []
    if sig:
        earlier = (await registry.all_runs(RunQuery(statuses=tuple(sorted(FAILED)),
                                                    since=_before(at, SIMILAR_LOOKBACK), until=at),
                                           "earlier failures")).runs
        similar = [r for r in earlier if r.run_id != run.run_id and signature(r.error_message) == sig]

    affected = _downstream(snap, pipeline.id)
    tables = list(dict.fromkeys([*pipeline.targets, *(t for a in affected for t in a.targets)]))
    category, hint = categorize(run.error_message, run.status)
    diagnosis = Diagnosis(
        run=run, pipeline=pipeline, error_category=category if run.status not in GOOD else None,
        hint=hint if run.status not in GOOD else None, last_good_run=last_good,
        failures_since_last_good=len(between), latest_run=latest, upstream=upstream,
        similar_failures=len(similar), similar_first_seen=similar[-1].started_at if similar else None,
        similar_examples=similar[:5], downstream_affected=affected, tables_affected=tables,
        findings=[], **registry.sourced())
    diagnosis.findings = _findings(diagnosis)
    return diagnosis


def _before(at: dt.datetime, span: dt.timedelta) -> dt.datetime | None:
    """`span` before `at`; None (no lower bound) when that is before the calendar (a run with no times)."""
    try:
        return at - span
    except OverflowError:
        return None


def _downstream(snap: Snapshot, pipeline_id: str) -> list[AffectedPipeline]:
    seen: dict[str, int] = {}
    frontier, depth = [pipeline_id], 0
    while frontier:
        depth += 1
        nxt = []
        for pid in frontier:
            for child in snap.by_id[pid].downstream if pid in snap.by_id else []:
                if child not in seen and child != pipeline_id:
                    seen[child] = depth
                    nxt.append(child)
        frontier = nxt
    out = []
    for pid, level in seen.items():
        p = snap.by_id[pid]
        out.append(AffectedPipeline(pipeline_id=pid, pipeline=p.name, depth=level, targets=p.targets,
                                    last_status=p.last_run.status if p.last_run else None))
    return sorted(out, key=lambda a: (a.depth, a.pipeline))


def _findings(d: Diagnosis) -> list[str]:
    run, name = d.run, d.pipeline.name
    notes = []
    if run.status in GOOD:
        notes.append(f"Run {run.run_id} of {name} ended {run.status}; nothing to diagnose.")
    elif run.status == "running":
        notes.append(f"Run {run.run_id} of {name} is still running (started {run.started_at}).")
    else:
        message = (run.error_message or "").strip().rstrip(".")
        notes.append(f"Run {run.run_id} of {name} {run.status}" + (f": {message}" if message else "") + ".")
    suspects = [u for u in d.upstream if u.suspect]
    for u in suspects:
        notes.append(f"Upstream {u.pipeline}'s last run before this one {u.status_before_run}: "
                     + ("a likely cause." if run.status not in GOOD else "this run may have used stale input."))
    limit = d.pipeline.sla.max_duration if d.pipeline.sla else None
    if limit and run.duration_s is not None and run.duration_s > parse_duration(limit):
        notes.append(f"It took {human(run.duration_s)}, over its max_duration of {limit}"
                     + (f" (the last good run took {human(d.last_good_run.duration_s)})."
                        if d.last_good_run and d.last_good_run.duration_s is not None else "."))
    if d.error_category and d.hint:
        notes.append(f"Error category {d.error_category}: {d.hint}")
    if run.status in FAILED or run.status in ("cancelled", "partial"):
        if d.last_good_run:
            gap = (started(run) - started(d.last_good_run)).total_seconds()
            notes.append(f"Last good run {d.last_good_run.run_id} started {d.last_good_run.started_at} "
                         f"({human(gap)} earlier); {d.failures_since_last_good} failure(s) since, this one included.")
        else:
            notes.append("No earlier successful run is recorded.")
    if d.similar_failures:
        notes.append(f"The same error happened {d.similar_failures} time(s) before, first on {d.similar_first_seen}: "
                     "a recurring problem, not a one-off.")
    if d.latest_run and d.latest_run.run_id != run.run_id:
        fixed = d.latest_run.status in GOOD
        notes.append(f"Newest run {d.latest_run.run_id} is {d.latest_run.status}"
                     + (": fixed since." if fixed else ": still not fixed."))
    if d.downstream_affected:
        notes.append(f"Downstream affected: {_listed([a.pipeline for a in d.downstream_affected])}.")
    if d.tables_affected:
        notes.append(f"Tables that may be stale or incomplete: {_listed(d.tables_affected)}.")
    return notes


def _listed(names: list[str], most: int = 10) -> str:
    """Up to `most` names, and how many more there are (the full lists are in the result)."""
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
