"""Running a suite: one batched scan for every aggregate check, a few statements for the rest.

Order of work: resolve the table (and any table a check refers to), guard the
suite's filter and SQL fragments, compile every check, send the batch
statement and each standalone statement (reporting progress per statement),
judge each check, then store the run. A check that cannot compile or whose
statement fails becomes an `error` result; the others still run and are
stored. If the batch itself fails, its checks are measured one by one so a
single bad check cannot take the rest down with it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache

from snowmcp.common.errors import SnowmcpError
from snowmcp.common.identifiers import resolve_table
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.sql.columns import TableColumns
from snowmcp.common.statement import Rendered
from snowmcp.servers.quality.compile import CompiledCheck, Measured, Outcome, Scope, compile_check
from snowmcp.servers.quality.history import HistoryBackend, RunRecord
from snowmcp.servers.quality.models import CheckResult, HistoryInfo, RunResult, Statement
from snowmcp.servers.quality.suite import DeclaredCheck, Suite, check_definition

if TYPE_CHECKING:
    from sqlglot import exp

log = logging.getLogger("snowmcp.quality")
Progress = Callable[[float, float, str], Awaitable[None]]
PLAN_CACHE_SIZE = 64
_SEVERITY_ORDER = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


@dataclass
class Plan:
    """A suite compiled against its table: what will be sent (rendered once), and what could not compile."""

    scope: Scope
    compiled: list[CompiledCheck]
    errors: dict[int, str]  # check index -> why it cannot run
    batch: Rendered | None = None  # one scan measuring every aggregate check
    standalone: dict[int, Rendered] = field(default_factory=dict)  # check index -> its own statement
    check_sql: dict[int, str | None] = field(default_factory=dict)  # check index -> a statement measuring it alone
    failed_rows_sql: dict[int, str] = field(default_factory=dict)

    @classmethod
    def build(cls, scope: Scope, compiled: list[CompiledCheck], errors: dict[int, str]) -> Plan:
        plan = cls(scope, compiled, errors)
        batch = _batch(scope, compiled)
        plan.batch = plan.rendered(batch) if batch is not None else None
        for check in compiled:
            index = check.check.index
            if check.query is not None:
                plan.standalone[index] = plan.rendered(check.query)
            if check.failed_rows is not None:
                plan.failed_rows_sql[index] = plan.render(check.failed_rows)
            plan.check_sql[index] = plan._alone(check)
        return plan

    def render(self, query: exp.Expression) -> str:
        return query.sql(dialect=self.scope.dialect)

    def rendered(self, query: exp.Expression) -> Rendered:
        return Rendered.of(query, self.scope.dialect)

    @property
    def statements(self) -> list[str]:
        """What a run sends, in order (when nothing fails)."""
        return ([self.batch.sql] if self.batch is not None else []) + [r.sql for r in self.standalone.values()]

    def _alone(self, compiled: CompiledCheck) -> str | None:
        from sqlglot import exp

        if compiled.query is not None and not compiled.aggregates:
            return self.standalone[compiled.check.index].sql
        if compiled.aggregates:
            selections = [exp.alias_(e, k) for k, e in compiled.aggregates.items()]
            return self.render(exp.select(*selections).from_(self.scope.table()).where(self.scope.where()))
        return None


def check_id(table: str, check: DeclaredCheck) -> str:
    """A stable key for a check across runs (history of anomalies is looked up by it)."""
    columns = getattr(check.params, "columns", None)
    target = ",".join(columns) if columns else (check.column or "")
    return f"{table}|{check.type}|{target}|{check.params.name or ''}"


class QualityRunner:
    def __init__(self, runtime: ServerRuntime, store: HistoryBackend) -> None:
        self.runtime = runtime
        self.store = store
        # Compiled plans by suite text and the shape of the tables it reads: a suite that runs
        # again (the usual case) skips compiling and rendering.
        self._plans: LRUCache[tuple[Any, ...], Plan] = LRUCache(maxsize=PLAN_CACHE_SIZE)

    async def plan(self, suite: Suite) -> Plan:
        warehouse = await self.runtime.warehouse()
        guard = await self.runtime.sql_guard()
        dialect, allow = warehouse.dialect, self.runtime.settings.allow_functions
        description = await self.runtime.catalog(lambda w: resolve_table(w, suite.table))
        condition = await self.runtime.off_loop(lambda: guard.condition(suite.filter)) if suite.filter else None
        errors: dict[int, str] = {}
        others: dict[str, tuple[Any, TableColumns]] = {}
        for check in suite.checks:
            other = getattr(check.params, "to", None)
            if other is None or other in others:
                continue
            try:
                found = await self.runtime.catalog(lambda w, name=other: resolve_table(w, name))
                others[other] = (found, TableColumns(found, dialect))
            except SnowmcpError as exc:
                errors[check.index] = str(exc)
        key = (suite.source, dialect, allow, _shape(description), tuple((n, _shape(d)) for n, (d, _) in others.items()),
               tuple(sorted(errors.items())))
        cached = self._plans.get(key)
        if cached is not None:
            return cached
        scope = Scope(
            description=description, columns=TableColumns(description, dialect), dialect=dialect, condition=condition,
            guard_condition=guard.condition,
            guard_query=lambda sql: _checked(guard.statement(sql).expression),
            others=others,
        )

        def compile_all() -> Plan:  # CPU work (guarding fragments, rendering): off the event loop
            compiled: list[CompiledCheck] = []
            for check in suite.checks:
                if check.index in errors:
                    continue
                try:
                    compiled.append(compile_check(check, scope))
                except SnowmcpError as exc:
                    errors[check.index] = str(exc)
            return Plan.build(scope, compiled, errors)

        plan = await self.runtime.off_loop(compile_all)
        self._plans[key] = plan
        return plan

    async def run(self, suite: Suite, *, suite_name: str | None, progress: Progress) -> RunResult:
        started = dt.datetime.now(dt.timezone.utc)
        clock = time.perf_counter()
        plan = await self.plan(suite)
        table = str(plan.scope.description.ref)
        warehouse = await self.runtime.warehouse()
        as_of = suite.as_of or started
        standalone = [c for c in plan.compiled if c.check.index in plan.standalone]
        total_steps = float((1 if plan.batch is not None else 0) + len(standalone) + 1)
        step = 0
        statements: list[Statement] = []
        measured: dict[int, dict[str, Any]] = {c.check.index: {} for c in plan.compiled}
        durations: dict[int, float] = {}
        errors = dict(plan.errors)
        rows_in_scope: int | None = None

        if plan.batch is not None:
            rows_in_scope = await self._run_batch(plan, measured, durations, errors, statements)
            step += 1
            await progress(step, total_steps, "aggregate checks measured in one scan")
        for compiled in standalone:
            index = compiled.check.index
            if index in errors:
                continue
            statement = plan.standalone[index]
            try:
                row, duration = await self._first_row(statement)
                statements.append(Statement(sql=statement.sql, checks=[compiled.check.name], duration_ms=duration))
                measured[index].update(row)
                durations[index] = durations.get(index, 0.0) + duration
            except SnowmcpError as exc:
                errors[index] = str(exc)
            step += 1
            await progress(step, total_steps, f"{compiled.check.name} measured")

        history = await self._history(warehouse.identity, table, plan.compiled)
        results: list[CheckResult] = []
        by_index = {c.check.index: c for c in plan.compiled}
        for check in suite.checks:
            compiled = by_index.get(check.index)
            if check.index in errors or compiled is None:
                outcome = Outcome("error", message=errors.get(check.index, "could not compile"))
            else:
                outcome = self._judge(compiled, measured[check.index], rows_in_scope, as_of, plan, history)
            results.append(CheckResult(
                check=check.name, type=check.type, column=check.column, status=outcome.status,
                severity=check.params.severity, observed_value=outcome.observed_value, threshold=outcome.threshold,
                unexpected_count=outcome.unexpected_count, unexpected_percent=outcome.unexpected_percent,
                rows_tested=outcome.rows_tested, message=outcome.message,
                sql=plan.check_sql.get(check.index), duration_ms=durations.get(check.index)))
        totals = {status: sum(1 for r in results if r.status == status) for status in ("pass", "warn", "fail", "error")}
        run = RunRecord(run_id=uuid.uuid4().hex, warehouse=warehouse.identity, table_name=table, suite_name=suite_name,
                        started_at=started, finished_at=dt.datetime.now(dt.timezone.utc), as_of=as_of, totals=totals)
        saved = await self._save(run, suite, results, plan)
        await progress(total_steps, total_steps, "results stored" if saved.saved else "results not stored")
        worst = max((r.status for r in results), key=_SEVERITY_ORDER.__getitem__, default="pass")
        return RunResult(run_id=run.run_id, table=table, status=worst, totals=totals, results=results,
                         statements=statements, as_of=as_of.isoformat(), started_at=started.isoformat(),
                         elapsed_ms=round((time.perf_counter() - clock) * 1000, 3), history=saved)

    # -- measuring ----------------------------------------------------------

    async def _first_row(self, statement: Rendered) -> tuple[dict[str, Any], float]:
        result = await self.runtime.query(statement, tool="run_checks", max_rows=1, use_cache=False)
        row = result.rows[0] if result.rows else [None] * len(result.columns)
        values = {c.name.lower(): v for c, v in zip(result.columns, row)}
        values["first_column"] = row[0] if row else None  # a custom metric's value
        return values, result.elapsed_ms

    async def _run_batch(self, plan: Plan, measured: dict[int, dict[str, Any]], durations: dict[int, float],
                         errors: dict[int, str], statements: list[Statement]) -> int | None:
        batched = [c for c in plan.compiled if c.aggregates and c.check.index not in errors]
        assert plan.batch is not None
        try:
            row, duration = await self._first_row(plan.batch)
        except SnowmcpError as exc:
            log.info("batch failed (%s); measuring its checks one by one", type(exc).__name__)
            return await self._run_one_by_one(plan, batched, measured, durations, errors, statements)
        statements.append(Statement(sql=plan.batch.sql, checks=[c.check.name for c in batched], duration_ms=duration))
        for compiled in batched:
            index = compiled.check.index
            measured[index].update({key: row.get(f"c{index}_{key}") for key in compiled.aggregates})
            durations[index] = duration
        return _int(row.get("rows_in_scope"))

    async def _run_one_by_one(self, plan: Plan, batched: list[CompiledCheck], measured: dict[int, dict[str, Any]],
                              durations: dict[int, float], errors: dict[int, str],
                              statements: list[Statement]) -> int | None:
        rows: int | None = None
        for compiled in batched:
            index = compiled.check.index
            alone = plan.rendered(_batch(plan.scope, [compiled]))  # type: ignore[arg-type]
            try:
                row, duration = await self._first_row(alone)
            except SnowmcpError as exc:
                errors[index] = str(exc)
                continue
            statements.append(Statement(sql=alone.sql, checks=[compiled.check.name], duration_ms=duration))
            measured[index].update({key: row.get(f"c{index}_{key}") for key in compiled.aggregates})
            durations[index] = duration
            rows = _int(row.get("rows_in_scope"))
        return rows

    def _judge(self, compiled: CompiledCheck, values: dict[str, Any], rows: int | None, as_of: dt.datetime,
               plan: Plan, history: dict[str, Any]) -> Outcome:
        table = str(plan.scope.description.ref)
        measured = Measured(values=values, rows=rows, as_of=as_of, description=plan.scope.description,
                            history=history["observed"].get(check_id(table, compiled.check), []),
                            snapshot=history["snapshot"])
        try:
            return compiled.evaluate(measured)
        except SnowmcpError as exc:
            return Outcome("error", message=str(exc))
        except (KeyError, TypeError, ValueError) as exc:
            log.exception("judging %s failed", compiled.check.name)
            return Outcome("error", message=f"could not judge the measurement: {type(exc).__name__}")

    # -- history ------------------------------------------------------------

    async def _history(self, warehouse: str, table: str, compiled: list[CompiledCheck]) -> dict[str, Any]:
        anomaly = [c for c in compiled if c.check.type in ("volume_anomaly", "metric_anomaly")]
        wants_snapshot = any(c.check.type == "schema_change" for c in compiled)
        try:
            windows = [getattr(c.check.params, "window", 0) for c in anomaly]
            observed = await self.store.observed_history(
                warehouse, [check_id(table, c.check) for c in anomaly], max(windows, default=0))
            snapshot = await self.store.last_snapshot(warehouse, table) if wants_snapshot else None
        except (OSError, SnowmcpError) as exc:
            log.warning("could not read the quality history: %s", exc)
            observed, snapshot = {}, None
        return {"observed": observed, "snapshot": snapshot[1] if snapshot else None}

    async def _save(self, run: RunRecord, suite: Suite, results: list[CheckResult], plan: Plan) -> HistoryInfo:
        rows = []
        for check, result in zip(suite.checks, results):
            observed = result.observed_value
            numeric = isinstance(observed, (int, float)) and not isinstance(observed, bool)
            rows.append({
                "run_id": run.run_id, "warehouse": run.warehouse, "table_name": run.table_name,
                "check_id": check_id(run.table_name, check), "check_name": result.check, "check_type": result.type,
                "column_name": result.column, "status": result.status, "observed": float(observed) if numeric else None,
                "observed_text": None if numeric or observed is None else str(observed),
                "unexpected_count": result.unexpected_count, "unexpected_percent": result.unexpected_percent,
                "rows_tested": result.rows_tested, "threshold": result.threshold, "message": result.message,
                "sql": result.sql, "duration_ms": result.duration_ms, "severity": result.severity,
                "failed_rows_sql": plan.failed_rows_sql.get(check.index),  # for readers; get_failed_rows recompiles
                "definition": check_definition(suite, check),
                "checked_at": run.finished_at,
            })
        snapshot = {c.name: c.type for c in plan.scope.description.columns}
        try:
            saved = await self.store.save_run(run, rows, snapshot)
        except (OSError, SnowmcpError) as exc:
            log.warning("could not store the quality run: %s", exc)
            return HistoryInfo(store=self.store.kind, location=self.store.location, saved=False, error=str(exc))
        return HistoryInfo(store=saved.store, location=saved.location, saved=True, note=saved.note)


def _batch(scope: Scope, compiled: list[CompiledCheck]) -> exp.Select | None:
    """One SELECT over the table measuring every aggregate of every check given (`c{index}_{key}`)."""
    from sqlglot import exp

    selections = [exp.alias_(expression, f"c{c.check.index}_{key}")
                  for c in compiled for key, expression in c.aggregates.items()]
    if not selections:
        return None
    return exp.select(exp.alias_(exp.Count(this=exp.Star()), "rows_in_scope"), *selections).from_(
        scope.table()).where(scope.where())


def _shape(description: Any) -> tuple[Any, ...]:
    return (str(description.ref), tuple((c.name, c.type) for c in description.columns))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _checked(statement: Any) -> Any:
    """A private copy of a guarded statement, for a plan to build on."""
    assert statement is not None
    return statement.copy()
