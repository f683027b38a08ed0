"""The audit-table source: one warehouse row per run, queried in SQL built with sqlglot.

Default layout (the demo's ANALYTICS.OPS.ETL_RUNS): PIPELINE, RUN_ID, STATUS,
STARTED_AT, ENDED_AT, ROWS_LOADED, ERROR_MESSAGE, optionally TARGET_TABLE.
`SNOWMCP_ETL_AUDIT_MAPPING` renames columns and maps status values:

    {"columns": {"pipeline": "JOB_NAME", "run_id": "EXECUTION_ID", "started_at": "START_TS"},
     "statuses": {"OK": "success", "ERR": "failed", "RUNNING_LATE": "running"}}
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from snowmcp.common.errors import ConfigError, InvalidArgument
from snowmcp.common.identifiers import resolve_table, table_expression
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.sql.columns import Column, TableColumns, quoted
from snowmcp.servers.etl.models import STATUSES, Pipeline, PipelineRun, PipelineSummary
from snowmcp.servers.etl.sources.base import Catalog, RunPage, RunQuery, duration, fetch_all, note_left_out
from snowmcp.servers.etl.timeutil import iso, to_datetime

MAX_MESSAGE = 2_000  # characters of an error message kept; longer ones are cut in SQL, and say so
FIELDS = ("pipeline", "run_id", "status", "started_at", "ended_at", "rows_loaded", "error_message",
          "target_table", "scheduled_at", "error_code", "query_id")
REQUIRED = ("pipeline", "run_id", "status", "started_at")
DEFAULT_COLUMNS = {"pipeline": "PIPELINE", "run_id": "RUN_ID", "status": "STATUS", "started_at": "STARTED_AT",
                   "ended_at": "ENDED_AT", "rows_loaded": "ROWS_LOADED", "error_message": "ERROR_MESSAGE",
                   "target_table": "TARGET_TABLE"}
SYNONYMS = {
    "succeeded": "success", "successful": "success", "ok": "success", "done": "success", "complete": "success",
    "completed": "success", "passed": "success", "pass": "success", "finished": "success",
    "error": "failed", "errored": "failed", "failure": "failed", "fail": "failed", "aborted": "failed",
    "canceled": "cancelled", "killed": "cancelled", "in_progress": "running", "executing": "running",
    "started": "running", "pending": "queued", "scheduled": "queued", "waiting": "queued",
    "warning": "warn", "partially_loaded": "partial", "partial_success": "partial", "skip": "skipped",
}


class AuditSource:
    name = "audit"

    def __init__(self, runtime: ServerRuntime, table: str, mapping: dict[str, Any], max_runs: int) -> None:
        self.runtime, self.table, self.max_runs = runtime, table, max_runs
        columns = mapping.get("columns", {}) or {}
        statuses = mapping.get("statuses", {}) or {}
        unknown = set(mapping) - {"columns", "statuses"}
        if unknown or not isinstance(columns, dict) or not isinstance(statuses, dict):
            raise ConfigError("SNOWMCP_ETL_AUDIT_MAPPING must be {\"columns\": {...}, \"statuses\": {...}}"
                              + (f"; unknown key(s) {', '.join(sorted(unknown))}" if unknown else ""))
        bad = set(columns) - set(FIELDS)
        if bad:
            raise ConfigError(f"SNOWMCP_ETL_AUDIT_MAPPING maps unknown field(s) {', '.join(sorted(bad))}",
                              hint=f"Fields: {', '.join(FIELDS)}.")
        wrong = {raw: to for raw, to in statuses.items() if to not in STATUSES}
        if wrong:
            raw, to = next(iter(wrong.items()))
            raise ConfigError(f"SNOWMCP_ETL_AUDIT_MAPPING maps status {raw!r} to {to!r}, not a known status",
                              hint=f"Statuses: {', '.join(STATUSES)}.")
        self.explicit = {k: str(v) for k, v in columns.items()}
        self.statuses = {**SYNONYMS, **{str(k).strip().lower(): v for k, v in statuses.items()}}
        self._columns: dict[str, Column] | None = None
        self._ref: Any = None

    # -- table and columns ----------------------------------------------------

    async def _resolve(self) -> dict[str, Column]:
        if self._columns is not None:
            return self._columns
        description = await self.runtime.catalog(lambda w: resolve_table(w, self.table))
        warehouse = await self.runtime.warehouse()
        known = TableColumns(description, warehouse.dialect)
        resolved: dict[str, Column] = {}
        for name in FIELDS:
            wanted = self.explicit.get(name, DEFAULT_COLUMNS.get(name))
            if wanted is None:
                continue
            try:
                resolved[name] = known.get(wanted)
            except InvalidArgument:
                if name in self.explicit or name in REQUIRED:
                    how = "mapped in SNOWMCP_ETL_AUDIT_MAPPING" if name in self.explicit else "the default"
                    raise ConfigError(
                        f"audit table {description.ref} has no column {wanted} for `{name}` ({how})",
                        hint=f"Its columns: {', '.join(c.name for c in known.all)}. Map it with "
                             f'SNOWMCP_ETL_AUDIT_MAPPING={{"columns": {{"{name}": "<COLUMN>"}}}}.') from None
        self._ref, self._columns = description.ref, resolved
        return resolved

    def _status_sql(self, columns: dict[str, Column]) -> exp.Expression:
        return exp.Lower(this=exp.Trim(this=exp.cast(quoted(columns["status"]), "VARCHAR")))

    def _raw_values(self, statuses: tuple[str, ...]) -> list[str]:
        return sorted({s for s in statuses} | {raw for raw, to in self.statuses.items() if to in statuses})

    # -- queries --------------------------------------------------------------

    async def _rows(self, query: exp.Select, tool: str, want: int) -> tuple[list[list[Any]], int]:
        """Up to `want` rows of `query` (whose last column is COUNT(*) OVER (): the rows in all), paged;
        returns the rows without that column, and the count. A page that cannot be read is noted."""
        fetched = await fetch_all(self.runtime, query, want=want, tool=tool)
        matched = int(fetched.rows[0][-1]) if fetched.rows else 0
        if len(fetched.rows) < min(want, matched):
            note_left_out(f"audit: {len(fetched.rows):,} of {min(want, matched):,} {tool} rows could be read "
                          "(a row is larger than SNOWMCP_MAX_RESULT_TOKENS, or too many pages)")
        return [row[:-1] for row in fetched.rows], max(matched, len(fetched.rows))

    @staticmethod
    def _counted(select: exp.Select, order: list[exp.Ordered]) -> exp.Select:
        """`select` as a subquery, with the number of its rows as a last column, in `order`."""
        total = exp.Window(this=exp.Count(this=exp.Star())).as_("matched")
        return exp.select(exp.Star(), total).from_(select.subquery("q")).order_by(*order)

    async def catalog(self) -> Catalog:
        columns = await self._resolve()
        status = self._status_sql(columns)
        good = exp.In(this=status, expressions=[exp.convert(v) for v in self._raw_values(("success", "warn"))])
        done = exp.func("COALESCE", quoted(columns.get("ended_at", columns["started_at"])),
                        quoted(columns["started_at"]))
        target = (exp.Max(this=quoted(columns["target_table"])) if "target_table" in columns else exp.null())
        query = (exp.select(quoted(columns["pipeline"]).as_("pipeline"),
                            exp.Max(this=exp.If(this=good, true=done)).as_("last_success"),
                            target.as_("target"))
                 .from_(table_expression(self._ref)).group_by(quoted(columns["pipeline"])))
        rows, matched = await self._rows(self._counted(query, [exp.Ordered(this=exp.column("pipeline"))]),
                                         "catalog", self.max_runs)
        if matched > len(rows):
            note_left_out(f"audit: {matched:,} pipelines, the first {len(rows):,} by name were read "
                          "(SNOWMCP_ETL_MAX_RUNS)")
        last = {r.pipeline_id: r for r in (await self.runs(RunQuery(limit=1, per_pipeline=True))).runs}
        pipelines = []
        for name, last_success, target in rows:
            if name is None:
                continue
            pipeline = Pipeline(id=str(name), name=str(name), kind="audit_pipeline", source=self.name,
                                targets=[str(target)] if target else [])
            pipelines.append(PipelineSummary(**pipeline.model_dump(), last_run=last.get(str(name)),
                                             last_success_at=iso(to_datetime(last_success))))
        return Catalog(pipelines)

    async def runs(self, query: RunQuery) -> RunPage:
        columns = await self._resolve()
        names = [n for n in FIELDS if n in columns]
        select = exp.select(*(self._field(columns, n).as_(n) for n in names)).from_(table_expression(self._ref))
        started = quoted(columns["started_at"])
        conditions: list[exp.Expression] = []
        if query.run_id is not None:
            conditions.append(exp.EQ(this=exp.cast(quoted(columns["run_id"]), "VARCHAR"),
                                     expression=exp.convert(query.run_id)))
        if query.pipelines is not None:
            conditions.append(exp.In(this=quoted(columns["pipeline"]),
                                     expressions=[exp.convert(p) for p in query.pipelines] or [exp.null()]))
        if query.statuses is not None:
            conditions.append(exp.In(this=self._status_sql(columns),
                                     expressions=[exp.convert(v) for v in self._raw_values(query.statuses)]))
        if query.since is not None:
            conditions.append(exp.GTE(this=started, expression=self._instant(columns, query.since)))
        if query.until is not None:
            conditions.append(exp.LT(this=started, expression=self._instant(columns, query.until)))
        for condition in conditions:
            select = select.where(condition)
        order = [exp.Ordered(this=started, desc=True), exp.Ordered(this=quoted(columns["run_id"]), desc=True)]
        if query.per_pipeline:
            rank = exp.Window(this=exp.RowNumber(), partition_by=[quoted(columns["pipeline"])],
                              order=exp.Order(expressions=order))
            select = select.qualify(exp.LTE(this=rank, expression=exp.convert(query.limit)))
        want = self.max_runs if query.per_pipeline else min(query.limit, self.max_runs)
        newest_first = [exp.Ordered(this=exp.column(n), desc=True) for n in ("started_at", "run_id", "pipeline")]
        rows, matched = await self._rows(self._counted(select, newest_first), "runs", want)
        if matched > want and (query.per_pipeline or query.limit > self.max_runs):
            note_left_out(f"audit: {matched:,} runs matched; the newest {len(rows):,} were read "
                          f"(SNOWMCP_ETL_MAX_RUNS={self.max_runs})")
        return RunPage([self._to_run(dict(zip(names, row))) for row in rows], matched)

    @staticmethod
    def _field(columns: dict[str, Column], name: str) -> exp.Expression:
        """A field as selected; an error message longer than MAX_MESSAGE is cut in SQL and says so."""
        value = quoted(columns[name])
        if name != "error_message":
            return value
        text = exp.cast(value, "VARCHAR")
        length = exp.Length(this=text)
        cut = exp.DPipe(this=exp.Substring(this=text, start=exp.convert(1), length=exp.convert(MAX_MESSAGE)),
                        expression=exp.DPipe(this=exp.Literal.string(" [... cut: "), expression=exp.DPipe(
                            this=exp.cast(length, "VARCHAR"), expression=exp.Literal.string(" characters in all]"))))
        return exp.Case(ifs=[exp.If(this=length > MAX_MESSAGE, true=cut)], default=value)

    @staticmethod
    def _instant(columns: dict[str, Column], value: Any) -> exp.Expression:
        """A UTC instant as a literal: zoned for a zoned column, else naive UTC (how audit tables store time)."""
        kind = columns["started_at"].type.upper()
        zoned = "TZ" in kind or "TIME ZONE" in kind
        return exp.convert(value if zoned else value.replace(tzinfo=None))

    def _to_run(self, row: dict[str, Any]) -> PipelineRun:
        raw = None if row.get("status") is None else str(row["status"])
        start, end = to_datetime(row.get("started_at")), to_datetime(row.get("ended_at"))
        rows_loaded = row.get("rows_loaded")
        return PipelineRun(
            run_id=str(row["run_id"]), pipeline_id=str(row["pipeline"]), source=self.name,
            status=self.canonical(raw), raw_status=raw, scheduled_at=iso(to_datetime(row.get("scheduled_at"))),
            started_at=iso(start), ended_at=iso(end), duration_s=duration(start, end),
            rows_loaded=int(rows_loaded) if isinstance(rows_loaded, (int, float)) else None,
            error_code=None if row.get("error_code") is None else str(row["error_code"]),
            error_message=row.get("error_message"), query_id=row.get("query_id"))

    def canonical(self, raw: str | None) -> Any:
        if raw is None:
            return "queued"
        folded = raw.strip().lower()
        if folded in STATUSES:
            return folded
        if folded in self.statuses:
            return self.statuses[folded]
        return "failed" if ("fail" in folded or "error" in folded) else "queued"
