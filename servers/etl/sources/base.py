"""What every source implements, and the helpers they share.

A source lists its pipelines (with the last run and last success of each) and
answers run queries. The audit source answers in SQL; dbt and Snowflake load a
bounded history and filter it with `select_runs`.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from servers.etl.models import Pipeline, PipelineRun, PipelineSummary
from servers.etl.timeutil import to_datetime


PARTIAL: ContextVar[list[str] | None] = ContextVar("etl_partial_errors", default=None)
"""Where a source notes what it could not read while still answering (set per source call)."""


def note_partial(message: str) -> None:
    errors = PARTIAL.get()
    if errors is not None and message not in errors:
        errors.append(message)


@dataclass(frozen=True)
class RunQuery:
    """Which runs to return: newest first, at most `limit` (per pipeline when `per_pipeline`)."""

    pipelines: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    since: dt.datetime | None = None  # started at or after
    until: dt.datetime | None = None  # started before
    run_id: str | None = None
    limit: int = 50
    per_pipeline: bool = False


@dataclass
class Catalog:
    """The pipelines of one source, with their last run and last success."""

    pipelines: list[PipelineSummary] = field(default_factory=list)


class Source(Protocol):
    name: str

    async def catalog(self) -> Catalog: ...

    async def runs(self, query: RunQuery) -> list[PipelineRun]: ...


def started(run: PipelineRun) -> dt.datetime:
    return to_datetime(run.started_at or run.ended_at or run.scheduled_at) or dt.datetime.min.replace(
        tzinfo=dt.timezone.utc)


def select_runs(runs: list[PipelineRun], query: RunQuery) -> list[PipelineRun]:
    """Filter and order in-memory runs the way the audit source does it in SQL."""
    picked = []
    for run in runs:
        if query.run_id is not None and run.run_id != query.run_id:
            continue
        if query.pipelines is not None and run.pipeline_id not in query.pipelines:
            continue
        if query.statuses is not None and run.status not in query.statuses:
            continue
        at = started(run)
        if (query.since is not None and at < query.since) or (query.until is not None and at >= query.until):
            continue
        picked.append(run)
    picked.sort(key=lambda r: (started(r), r.run_id), reverse=True)
    if not query.per_pipeline:
        return picked[:query.limit]
    counts: dict[str, int] = {}
    kept = []
    for run in picked:
        counts[run.pipeline_id] = counts.get(run.pipeline_id, 0) + 1
        if counts[run.pipeline_id] <= query.limit:
            kept.append(run)
    return kept


def summarize(pipelines: list[Pipeline], runs: list[PipelineRun]) -> Catalog:
    """Attach each pipeline's last run and last success from an in-memory history."""
    newest = select_runs(runs, RunQuery(limit=1, per_pipeline=True))
    last = {r.pipeline_id: r for r in newest}
    good = select_runs(runs, RunQuery(statuses=("success", "warn"), limit=1, per_pipeline=True))
    last_good = {r.pipeline_id: (r.ended_at or r.started_at) for r in good}
    return Catalog([PipelineSummary(**p.model_dump(), last_run=last.get(p.id), last_success_at=last_good.get(p.id))
                    for p in pipelines])


def duration(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)
