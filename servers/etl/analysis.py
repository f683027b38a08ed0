"""Pure computations over runs: failure groups, SLA breaches, freshness and duration trends."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable

from snowmcp.servers.etl.config import EtlConfig, TableSla
from snowmcp.servers.etl.errors_kb import categorize, signature
from snowmcp.servers.etl.models import (
    FAILED, GOOD, Breach, FailureGroup, PipelineRun, PipelineSummary, TableFreshness, TrendRun,
)
from snowmcp.servers.etl.sources.base import started
from snowmcp.servers.etl.timeutil import human, iso, parse_clock_time, parse_duration, to_datetime


def failure_groups(failures: list[PipelineRun], pipelines: dict[str, PipelineSummary]) -> list[FailureGroup]:
    """Failures grouped by pipeline and error signature, the most recent group first."""
    groups: dict[tuple[str, str], list[PipelineRun]] = {}
    for run in failures:
        groups.setdefault((run.pipeline_id, signature(run.error_message)), []).append(run)
    result = []
    for (pipeline_id, _), runs in groups.items():
        runs.sort(key=started, reverse=True)
        pipeline = pipelines.get(pipeline_id)
        last_success = pipeline.last_success_at if pipeline else None
        latest_status = pipeline.last_run.status if pipeline and pipeline.last_run else None
        result.append(FailureGroup(
            pipeline_id=pipeline_id, pipeline=pipeline.name if pipeline else pipeline_id, source=runs[0].source,
            error=runs[0].error_message, error_category=categorize(runs[0].error_message, runs[0].status)[0],
            failures=len(runs), first_failed_at=runs[-1].started_at or runs[-1].scheduled_at,
            last_failed_at=runs[0].started_at or runs[0].scheduled_at, run_ids=[r.run_id for r in runs[:10]],
            last_success_at=last_success,
            still_failing=latest_status not in GOOD and (
                last_success is None or to_datetime(last_success) < started(runs[0]))))
    result.sort(key=lambda g: (not g.still_failing, -(to_datetime(g.last_failed_at) or dt.datetime.min.replace(
        tzinfo=dt.timezone.utc)).timestamp()))
    return result


def sla_breaches(pipelines: Iterable[PipelineSummary], runs: list[PipelineRun], since: dt.datetime,
                 now: dt.datetime) -> list[Breach]:
    """Late (succeeded after expected_by), missed (no success by expected_by), too slow (max_duration)
    and stale (no success within max_lag, as of now) for every pipeline with an SLA."""
    breaches: list[Breach] = []
    by_pipeline: dict[str, list[PipelineRun]] = {}
    for run in runs:
        by_pipeline.setdefault(run.pipeline_id, []).append(run)
    for pipeline in pipelines:
        sla = pipeline.sla
        if sla is None:
            continue
        mine = sorted(by_pipeline.get(pipeline.id, []), key=started)
        if sla.max_duration:
            breaches += _too_slow(pipeline, mine, parse_duration(sla.max_duration), sla.max_duration, since, now)
        if sla.expected_by:
            breaches += _deadlines(pipeline, mine, parse_clock_time(sla.expected_by, "expected_by"),
                                   sla.expected_by, since, now)
        if sla.max_lag:
            lag = parse_duration(sla.max_lag)
            last = to_datetime(pipeline.last_success_at)
            age = None if last is None else (now - last).total_seconds()
            if age is None or age > lag:
                breaches.append(Breach(
                    pipeline_id=pipeline.id, pipeline=pipeline.name, kind="stale", observed_at=iso(now),
                    due_at=iso(last + dt.timedelta(seconds=lag)) if last else None,
                    by_s=None if age is None else round(age - lag), sla=f"max_lag {sla.max_lag}",
                    message=f"{pipeline.name}: no success for {human(age) if age is not None else 'ever'} "
                            f"(max_lag {sla.max_lag}); last success {pipeline.last_success_at or 'never'}"))
    breaches.sort(key=lambda b: b.due_at or b.observed_at or "", reverse=True)
    return breaches


def _too_slow(pipeline: PipelineSummary, runs: list[PipelineRun], limit_s: float, text: str,
              since: dt.datetime, now: dt.datetime) -> list[Breach]:
    found = []
    for run in runs:
        start = started(run)
        if start < since:
            continue
        took = run.duration_s
        if took is None and run.status == "running" and run.started_at:
            took = (now - start).total_seconds()
        if took is not None and took > limit_s:
            found.append(Breach(
                pipeline_id=pipeline.id, pipeline=pipeline.name, kind="too_slow", run_id=run.run_id,
                observed_at=run.ended_at or iso(now), by_s=round(took - limit_s), sla=f"max_duration {text}",
                due_at=iso(start + dt.timedelta(seconds=limit_s)),
                message=f"{pipeline.name} run {run.run_id} took {human(took)}"
                        f"{' so far' if run.status == 'running' else ''} (max_duration {text})"))
    return found


def _deadlines(pipeline: PipelineSummary, runs: list[PipelineRun], deadline: dt.time, text: str,
               since: dt.datetime, now: dt.datetime) -> list[Breach]:
    found = []
    day = since.date()
    while day <= now.date():
        due = dt.datetime.combine(day, deadline, tzinfo=dt.timezone.utc)
        day_start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.timezone.utc)
        day += dt.timedelta(days=1)
        if due < since or due > now:
            continue
        successes = [(to_datetime(r.ended_at) or started(r), r) for r in runs
                     if r.status in GOOD and day_start <= (to_datetime(r.ended_at) or started(r)) < day_start
                     + dt.timedelta(days=1)]
        if any(done <= due for done, _ in successes):
            continue
        later = [(done, r) for done, r in successes if done > due]
        if later:
            done, run = min(later, key=lambda pair: pair[0])
            found.append(Breach(
                pipeline_id=pipeline.id, pipeline=pipeline.name, kind="late", run_id=run.run_id, due_at=iso(due),
                observed_at=iso(done), by_s=round((done - due).total_seconds()), sla=f"expected_by {text}",
                message=f"{pipeline.name} finished {human((done - due).total_seconds())} late on {due.date()} "
                        f"({iso(done)}, expected by {text} UTC)"))
        elif now >= due:
            tried = [r for r in runs if day_start <= started(r) < day_start + dt.timedelta(days=1)]
            statuses = ", ".join(sorted({r.status for r in tried}))
            what = f"; its runs that day: {statuses}" if tried else "; no run started"
            found.append(Breach(
                pipeline_id=pipeline.id, pipeline=pipeline.name, kind="missed", due_at=iso(due),
                run_id=tried[-1].run_id if tried else None, observed_at=iso(now),
                by_s=round((now - due).total_seconds()) if day_start + dt.timedelta(days=1) > now else None,
                sla=f"expected_by {text}",
                message=f"{pipeline.name} had no successful run by {text} UTC on {due.date()}{what}"))
    return found


def freshness(tables: dict[str, list[PipelineSummary]], slas: dict[str, TableSla | None],
              now: dt.datetime) -> list[TableFreshness]:
    result = []
    for table, loaders in sorted(tables.items()):
        sla = slas.get(table)
        successes = [to_datetime(p.last_success_at) for p in loaders if p.last_success_at]
        last = max((s for s in successes if s), default=None)
        age = None if last is None else (now - last).total_seconds()
        latest = max((p.last_run for p in loaders if p.last_run), key=started, default=None)
        if not loaders:
            status = "unknown_table"
        elif last is None:
            status = "never_loaded"
        elif sla is None:
            status = "no_sla"
        else:
            status = "stale" if age > sla.max_age_s else "fresh"
        result.append(TableFreshness(
            table=table, status=status, last_success_at=iso(last), age_s=None if age is None else round(age),
            age=human(age), max_age=sla.max_age if sla else None,
            overdue_by=human(age - sla.max_age_s) if status == "stale" and sla and age is not None else None,
            owner=(sla.owner if sla else None) or next((p.owner for p in loaders if p.owner), None),
            pipelines=[p.id for p in loaders], last_run_status=latest.status if latest else None))
    order = {"stale": 0, "never_loaded": 1, "unknown_table": 2, "fresh": 3, "no_sla": 4}
    result.sort(key=lambda t: (order[t.status], t.table))
    return result


def table_sla(config: EtlConfig, warehouse_slas: dict[str, TableSla], table: str) -> TableSla | None:
    return config.for_table(table) or warehouse_slas.get(table.upper())


def trends(runs: list[PipelineRun]) -> tuple[dict[str, float | None], list[TrendRun]]:
    """p50/p95 of duration and rows over the good runs; each run flagged against the median (MAD)."""
    good = [r for r in runs if r.status in GOOD]
    durations = sorted(r.duration_s for r in good if r.duration_s is not None)
    rows = sorted(float(r.rows_loaded) for r in good if r.rows_loaded is not None)
    stats = {"p50_duration_s": _quantile(durations, 0.5), "p95_duration_s": _quantile(durations, 0.95),
             "max_duration_s": durations[-1] if durations else None,
             "p50_rows": _quantile(rows, 0.5), "p95_rows": _quantile(rows, 0.95)}
    out = []
    for run in runs:
        flags = []
        if run.status not in FAILED:
            flags += _outlier(run.duration_s, durations, "slow", "fast")
            if run.status in GOOD:
                flags += _outlier(None if run.rows_loaded is None else float(run.rows_loaded), rows,
                                  "rows_high", "rows_low")
                if run.rows_loaded == 0 and (stats["p50_rows"] or 0) > 0:
                    flags.append("no_rows")
        out.append(TrendRun(run_id=run.run_id, started_at=run.started_at, status=run.status,
                            duration_s=run.duration_s, rows_loaded=run.rows_loaded, flags=flags))
    return stats, out


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return round(values[low] + (values[high] - values[low]) * (position - low), 3)


def _outlier(value: float | None, population: list[float], high: str, low: str) -> list[str]:
    """A robust z-score (median and MAD) beyond 3.5, and at least 50 % away from the median."""
    if value is None or len(population) < 5:
        return []
    median = statistics.median(population)
    mad = statistics.median(abs(v - median) for v in population) or (abs(median) * 0.05) or 1.0
    score = 0.6745 * (value - median) / mad
    if score > 3.5 and value > median * 1.5:
        return [high]
    if score < -3.5 and value < median * 0.5:
        return [low]
    return []
