"""What every source implements, and the helpers they share.

A source lists its pipelines (with the last run and last success of each) and
answers run queries with a `RunPage`: the runs, and how many matched in all. The
audit source answers in SQL; dbt and Snowflake load a bounded history and filter
it with `page_of`. Statements are fetched page by page (`fetch_all`) until they
are complete or a bound is reached; whatever a cap leaves out is noted
(`note_left_out`) and reaches the tool's answer, never silently dropped.
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from snowmcp.servers.etl.models import Pipeline, PipelineRun, PipelineSummary
from snowmcp.servers.etl.timeutil import to_datetime

if TYPE_CHECKING:
    from sqlglot import exp

    from snowmcp.common.runtime import ServerRuntime

PARTIAL: ContextVar[list[str] | None] = ContextVar("etl_partial_errors", default=None)
"""Where a source notes what it could not read while still answering (set per source call)."""


LEFT_OUT: ContextVar[list[str] | None] = ContextVar("etl_left_out", default=None)
"""Where a source notes what a cap left out of its answer (set per source call)."""

MAX_PAGES = 50  # statements fetched page by page stop here, and say so


def note_partial(message: str) -> None:
    errors = PARTIAL.get()
    if errors is not None and message not in errors:
        errors.append(message)


def note_left_out(message: str) -> None:
    notes = LEFT_OUT.get()
    if notes is not None and message not in notes:
        notes.append(message)


@dataclass
class RunPage:
    """Runs answering a RunQuery, newest first, and how many matched in all (>= len(runs))."""

    runs: list[PipelineRun]
    matched: int

    @property
    def left_out(self) -> int:
        return max(self.matched - len(self.runs), 0)


@dataclass
class Fetched:
    rows: list[list[Any]]
    columns: list[str]
    complete: bool  # False: more rows exist than `want`, or a page could not be read whole


async def fetch_all(runtime: ServerRuntime, query: exp.Select, *, want: int, tool: str) -> Fetched:
    """Up to `want` rows of an ORDERED `query`, fetched page by page (LIMIT/OFFSET) so that neither the
    row cap nor the byte cap of one result cuts it short. `complete` says whether every row the
    statement produces is in `rows`: one row past `want` is asked for to know."""
    rows: list[list[Any]] = []
    columns: list[str] = []
    for _ in range(MAX_PAGES):
        size = want + 1 - len(rows)
        page = query.limit(size).offset(len(rows)) if rows else query.limit(size)
        result = await runtime.query(page, tool=tool, max_rows=min(size, runtime.settings.max_rows_limit))
        columns = [c.name for c in result.columns] or columns
        rows += result.rows
        if not result.truncated:  # the page ended by itself: nothing more exists
            return Fetched(rows[:want], columns, complete=len(rows) <= want)
        if len(rows) > want:
            return Fetched(rows[:want], columns, complete=False)
        if not result.rows:  # one row larger than the byte cap: it cannot be read at all
            break
    return Fetched(rows[:want], columns, complete=False)


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

    async def runs(self, query: RunQuery) -> RunPage: ...


def started(run: PipelineRun) -> dt.datetime:
    return to_datetime(run.started_at or run.ended_at or run.scheduled_at) or dt.datetime.min.replace(
        tzinfo=dt.timezone.utc)


def page_of(runs: list[PipelineRun], query: RunQuery) -> RunPage:
    """`select_runs`, with the number of runs that matched before the limit."""
    matched = len(select_runs(runs, RunQuery(**{**query.__dict__, "limit": len(runs) + 1, "per_pipeline": False})))
    return RunPage(select_runs(runs, query), matched)


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
