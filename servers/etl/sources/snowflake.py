"""The Snowflake source: tasks and task graphs, dynamic-table refreshes, COPY loads and Snowpipe.

Each history is read once per call for the lookback window (runtime cache applies) and mapped onto
PipelineRun; a history the role cannot read becomes a per-source error, the rest still answers.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from snowmcp.common.errors import SnowmcpError
from snowmcp.common.runtime import ServerRuntime
from snowmcp.servers.etl.models import Pipeline, PipelineRun
from snowmcp.servers.etl.sources import snowflake_sql as sql
from snowmcp.servers.etl.sources.base import (
    Catalog, RunPage, RunQuery, duration, fetch_all, note_left_out, note_partial, page_of, summarize,
)
from snowmcp.servers.etl.timeutil import UTC, iso, to_datetime

TASK_STATES = {"SCHEDULED": "queued", "EXECUTING": "running", "SUCCEEDED": "success", "FAILED": "failed",
               "FAILED_AND_AUTO_SUSPENDED": "failed", "CANCELLED": "cancelled", "SKIPPED": "skipped"}
DYNAMIC_STATES = {**TASK_STATES, "UPSTREAM_FAILED": "upstream_failed"}
MAX_PIPES = 50
LOAD_STATES = {"LOADED": "success", "LOAD_FAILED": "failed", "PARTIALLY_LOADED": "partial",
               "LOAD_SKIPPED": "skipped", "LOAD_IN_PROGRESS": "running"}


def _name(*parts: Any) -> str:
    return ".".join(str(p) for p in parts if p)


def _row(columns: tuple[str, ...], row: list[Any]) -> dict[str, Any]:
    return dict(zip(columns, row))


def _run(run_id: str, pipeline: str, states: dict[str, str], raw: Any, **values: Any) -> PipelineRun:
    raw_text = None if raw is None else str(raw)
    status = states.get((raw_text or "").upper().replace(" ", "_"), "failed")
    start, end = to_datetime(values.pop("started")), to_datetime(values.pop("ended"))
    scheduled = to_datetime(values.pop("scheduled", None))
    code = values.pop("error_code", None)
    return PipelineRun(run_id=run_id, pipeline_id=pipeline, source="snowflake", status=status,  # type: ignore[arg-type]
                       raw_status=raw_text, scheduled_at=iso(scheduled), started_at=iso(start), ended_at=iso(end),
                       duration_s=duration(start, end), error_code=None if code is None else str(code), **values)


def task_run(row: dict[str, Any]) -> PipelineRun:
    pipeline = _name(row.get("DATABASE_NAME"), row.get("SCHEMA_NAME"), row["NAME"])
    scheduled = to_datetime(row.get("SCHEDULED_TIME"))
    return _run(row.get("QUERY_ID") or f"{pipeline}@{iso(scheduled)}", pipeline, TASK_STATES, row.get("STATE"),
                scheduled=scheduled, started=row.get("QUERY_START_TIME"), ended=row.get("COMPLETED_TIME"),
                error_code=row.get("ERROR_CODE"), error_message=row.get("ERROR_MESSAGE"),
                query_id=row.get("QUERY_ID"))


def graph_run(row: dict[str, Any]) -> PipelineRun:
    root = _name(row.get("DATABASE_NAME"), row.get("SCHEMA_NAME"), row["ROOT_TASK_NAME"])
    message = row.get("FIRST_ERROR_MESSAGE")
    if message and row.get("FIRST_ERROR_TASK_NAME"):
        message = f"task {row['FIRST_ERROR_TASK_NAME']} failed first: {message}"
    return _run(f"graph:{root}:{row.get('RUN_ID')}", f"graph:{root}", TASK_STATES, row.get("STATE"),
                scheduled=row.get("SCHEDULED_TIME"), started=row.get("QUERY_START_TIME"),
                ended=row.get("COMPLETED_TIME"), error_code=row.get("FIRST_ERROR_CODE"), error_message=message)


def dynamic_run(row: dict[str, Any]) -> PipelineRun:
    stats = row.get("STATISTICS")
    if isinstance(stats, str):
        try:
            stats = json.loads(stats)
        except ValueError:
            stats = None
    inserted = stats.get("numInsertedRows") if isinstance(stats, dict) else None
    state = str(row.get("STATE") or "")
    return _run(row.get("QUERY_ID") or f"{row['QUALIFIED_NAME']}@{row.get('DATA_TIMESTAMP')}", row["QUALIFIED_NAME"],
                DYNAMIC_STATES, state, scheduled=row.get("DATA_TIMESTAMP"), started=row.get("REFRESH_START_TIME"),
                ended=row.get("REFRESH_END_TIME"), error_code=row.get("STATE_CODE") if state != "SUCCEEDED" else None,
                error_message=row.get("STATE_MESSAGE") if state != "SUCCEEDED" else None,
                query_id=row.get("QUERY_ID"), rows_loaded=int(inserted) if inserted is not None else None)


def load_run(row: dict[str, Any], database: str | None = None) -> PipelineRun:
    table = _name(row.get("TABLE_CATALOG_NAME", database), row.get("TABLE_SCHEMA_NAME", row.get("SCHEMA_NAME")),
                  row["TABLE_NAME"])
    loaded = to_datetime(row.get("LAST_LOAD_TIME"))
    pipe = row.get("PIPE_NAME")
    pipe_id = _name(row.get("PIPE_CATALOG_NAME"), row.get("PIPE_SCHEMA_NAME"), pipe)
    pipeline = f"pipe:{pipe_id}" if pipe else f"copy:{table}"
    count = row.get("ROW_COUNT")
    return _run(f"load:{table}:{row.get('FILE_NAME')}@{iso(loaded)}", pipeline, LOAD_STATES, row.get("STATUS"),
                started=row.get("PIPE_RECEIVED_TIME") or loaded, ended=loaded,
                error_message=row.get("FIRST_ERROR_MESSAGE"),
                rows_loaded=int(count) if count is not None else None)


def pipe_target(definition: str | None, database: str, schema: str) -> str | None:
    """The table a pipe's `COPY INTO <table> ...` definition loads, qualified."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        copy = sqlglot.parse_one(definition or "", read="snowflake")
    except SqlglotError:
        return None
    if not isinstance(copy, exp.Copy) or not isinstance(copy.this, exp.Table):
        return None
    table = copy.this
    parts = [table.catalog or database, table.db or schema, table.name]
    return ".".join(p if table.this.quoted and p == table.name else p.upper() for p in parts)


def pipe_pipeline(row: dict[str, Any]) -> tuple[Pipeline, str | None]:
    """A pipe and its error (from SYSTEM$PIPE_STATUS), if it reports one."""
    name = _name(row["PIPE_CATALOG"], row["PIPE_SCHEMA"], row["PIPE_NAME"])
    target = pipe_target(row.get("DEFINITION"), row["PIPE_CATALOG"], row["PIPE_SCHEMA"])
    raw = row.get("PIPE_STATUS")
    status = json.loads(raw) if isinstance(raw, str) and raw.strip().startswith("{") else (raw or {})
    state = status.get("executionState")
    error = status.get("error") or (None if state in (None, "RUNNING") else f"pipe is {state}")
    detail = (f"pending files: {status.get('pendingFileCount', 0)}; last ingested "
              f"{iso(to_datetime(status.get('lastIngestedTimestamp'))) or 'never'}")
    return Pipeline(id=f"pipe:{name}", name=row["PIPE_NAME"], kind="snowflake_pipe", source="snowflake",
                    state=state, description=detail, targets=[target] if target else []), error


class SnowflakeSource:
    name = "snowflake"

    def __init__(self, runtime: ServerRuntime, lookback_days: int, max_runs: int,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC)) -> None:
        self.runtime, self.lookback_days, self.max_runs, self.clock = runtime, lookback_days, max_runs, clock

    async def _rows(self, query: exp.Select, columns: tuple[str, ...], what: str,
                    errors: list[str], want: int | None = None) -> list[dict[str, Any]]:
        """Up to `want` rows (default: max_runs) of one history, paged; a cut history is noted."""
        want = self.max_runs if want is None else want
        try:
            fetched = await fetch_all(self.runtime, query, want=want, tool=f"etl_{what}")
        except SnowmcpError as exc:
            errors.append(f"{what}: {exc.message}")
            note_partial(f"{what}: {exc.message}")
            return []
        if not fetched.complete:
            note_left_out(f"snowflake {what}: only the newest {len(fetched.rows):,} rows were read "
                          f"(SNOWMCP_ETL_MAX_RUNS={self.max_runs}); older ones are left out")
        names = [c.upper() for c in fetched.columns] or list(columns)
        return [dict(zip(names, row)) for row in fetched.rows]

    async def history(self) -> tuple[list[Pipeline], list[PipelineRun]]:
        errors: list[str] = []
        # The next full hour after the lookback start: the SQL text (and so the cache key) is stable for
        # an hour, and the range stays inside the 7 days TASK_HISTORY accepts.
        since = (self.clock() - dt.timedelta(days=self.lookback_days)).replace(minute=0, second=0, microsecond=0)
        since += dt.timedelta(hours=1)
        limit = min(self.max_runs, sql.MAX_RESULT_LIMIT)
        runs: list[PipelineRun] = []
        kinds: dict[str, str] = {}
        for query, columns, what, mapper, kind in (
                (sql.task_history(since, limit), sql.TASK_COLUMNS, "task_history", task_run, "snowflake_task"),
                (sql.complete_task_graphs(since, limit), sql.GRAPH_COLUMNS, "complete_task_graphs", graph_run,
                 "snowflake_task_graph"),
                (sql.dynamic_table_refresh_history(since, limit), sql.DYNAMIC_COLUMNS,
                 "dynamic_table_refresh_history", dynamic_run, "snowflake_dynamic_table"),
                (sql.load_history(since, limit), sql.LOAD_COLUMNS, "load_history", load_run, "snowflake_copy")):
            history = await self._rows(query, columns, what, errors)
            if len(history) >= limit and what != "load_history":  # the table function stopped at RESULT_LIMIT
                note_left_out(f"snowflake {what}: {limit:,} rows, the most its RESULT_LIMIT returns; older "
                              "ones are left out")
            for row in history:
                run = mapper(row)
                runs.append(run)
                kinds.setdefault(run.pipeline_id, "snowflake_pipe" if run.pipeline_id.startswith("pipe:") else kind)
        pipelines = {pid: Pipeline(id=pid, name=pid.split(":", 1)[-1].rsplit(".", 1)[-1],
                                   kind=kind,  # type: ignore[arg-type]
                                   source="snowflake", targets=_targets(pid, kind))
                     for pid, kind in kinds.items()}
        pipes = await self._rows(sql.pipe_status(), sql.PIPE_COLUMNS, "pipe_status", errors, want=MAX_PIPES)
        if len(pipes) >= MAX_PIPES:
            note_left_out(f"snowflake pipe_status: the first {MAX_PIPES} pipes by name were read; others are "
                          "left out")
        for row in pipes:
            pipe, error = pipe_pipeline(row)
            if error:
                pipe.description = f"{error}; {pipe.description}"
            pipelines[pipe.id] = pipe
            for target in pipe.targets:  # Snowpipe loads are only in COPY_HISTORY, per table
                for load in await self._rows(sql.copy_history(target, since), sql.COPY_COLUMNS, "copy_history", errors):
                    run = load_run(load)
                    runs.append(run)
                    if run.pipeline_id not in pipelines:
                        pipelines[run.pipeline_id] = Pipeline(
                            id=run.pipeline_id, name=run.pipeline_id.rsplit(".", 1)[-1], source="snowflake",
                            kind="snowflake_pipe" if run.pipeline_id.startswith("pipe:") else "snowflake_copy",
                            targets=[target])
        if len(errors) >= 5 and not runs and not pipelines:
            raise SnowflakeHistoriesUnavailable("no Snowflake history could be read: " + "; ".join(errors))
        return list(pipelines.values()), runs

    async def catalog(self) -> Catalog:
        pipelines, runs = await self.history()
        return summarize(pipelines, runs)

    async def runs(self, query: RunQuery) -> RunPage:
        return page_of((await self.history())[1], query)


class SnowflakeHistoriesUnavailable(SnowmcpError):
    """Every Snowflake history failed."""


def _targets(pipeline_id: str, kind: str) -> list[str]:
    if kind == "snowflake_dynamic_table":
        return [pipeline_id]
    if pipeline_id.startswith("copy:"):
        return [pipeline_id[5:]]
    return []
