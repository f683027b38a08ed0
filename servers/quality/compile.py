"""Declared checks -> SQL, and the rule that turns what the SQL measured into a status.

A compiled check contributes either aggregates to its table's one batched
scan (`aggregates`), or one statement of its own (`query`, e.g. a foreign key
or a user query), or nothing (`schema`, `schema_change` read the catalog).
`failed_rows` selects the offending rows, for `get_failed_rows`.
`evaluate(measured)` judges what came back.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from snowmcp.common.durations import as_utc, parse_duration
from snowmcp.common.errors import InvalidArgument
from snowmcp.common.identifiers import table_expression
from snowmcp.common.sql.columns import Column, ColumnKind, TableColumns, column_kind, quoted
from snowmcp.common.sql.metrics import Metric, literal, metric_expression
from snowmcp.common.warehouse.base import TableDescription
from snowmcp.servers.quality import check_types as types
from snowmcp.servers.quality.suite import DeclaredCheck
from snowmcp.servers.quality.thresholds import Status

if TYPE_CHECKING:
    from sqlglot import exp


@dataclass
class Measured:
    """What the warehouse (and the stores) said, as a check's evaluator sees it."""

    values: dict[str, Any]
    rows: int | None  # rows of the table in the suite's scope
    as_of: dt.datetime
    description: TableDescription
    history: list[float] = field(default_factory=list)  # earlier observed values of this check, oldest first
    snapshot: dict[str, str] | None = None  # column -> type at the last stored snapshot


@dataclass
class Outcome:
    status: Status
    observed_value: Any = None
    unexpected_count: int | None = None
    rows_tested: int | None = None
    threshold: str | None = None
    message: str | None = None

    @property
    def unexpected_percent(self) -> float | None:
        if self.unexpected_count is None or not self.rows_tested:
            return None
        return round(100.0 * self.unexpected_count / self.rows_tested, 6)


@dataclass
class CompiledCheck:
    check: DeclaredCheck
    evaluate: Callable[[Measured], Outcome]
    aggregates: dict[str, exp.Expression] = field(default_factory=dict)
    query: exp.Select | None = None
    failed_rows: exp.Select | None = None


@dataclass
class Scope:
    """The table a suite checks, as compilation needs it."""

    description: TableDescription
    columns: TableColumns
    dialect: str
    condition: exp.Expression | None  # the suite's guarded filter
    guard_condition: Callable[[str], exp.Expression]
    guard_query: Callable[[str], exp.Expression]
    others: dict[str, tuple[TableDescription, TableColumns]]  # referenced tables, by the name the suite used

    def table(self) -> exp.Table:
        return table_expression(self.description.ref)

    def where(self, *conditions: exp.Expression | None) -> exp.Expression | None:
        from sqlglot import exp

        parts = [c for c in (self.condition, *conditions) if c is not None]
        return exp.and_(*parts) if parts else None

    def rows_where(self, *conditions: exp.Expression | None) -> exp.Select:
        from sqlglot import exp

        return exp.select(exp.Star()).from_(self.table()).where(self.where(*conditions))


def compile_check(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    compiler = _COMPILERS[check.type]
    return compiler(check, scope)


# -- helpers ---------------------------------------------------------------


def _column(check: DeclaredCheck, scope: Scope, *kinds: ColumnKind) -> Column:
    assert check.column is not None
    column = scope.columns.get(check.column, role=f"{check.name}: column")
    return scope.columns.require(column, kinds, check.name) if kinds else column


def _count_if(condition: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return exp.CountIf(this=condition)


def _not_null(value: exp.Expression) -> exp.Expression:
    from sqlglot import exp

    return exp.not_(value.is_(exp.null()))


def _number(value: Any) -> float | int | None:
    """A measured value as a number (an integer stays one); None when it is not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _rows_check(check: DeclaredCheck, unexpected: exp.Expression, tested: exp.Expression,
                failed_rows: exp.Select | None) -> CompiledCheck:
    """A check that counts unexpected rows among the rows it tests."""
    params = check.params
    assert isinstance(params, types.RowThresholds)

    def evaluate(measured: Measured) -> Outcome:
        count, rows = int(measured.values["unexpected"] or 0), int(measured.values["tested"] or 0)
        return Outcome(params.status(count, rows), observed_value=count, unexpected_count=count, rows_tested=rows,
                       threshold=params.describe())

    return CompiledCheck(check, evaluate, {"unexpected": unexpected, "tested": tested}, failed_rows=failed_rows)


def _bounded_value(check: DeclaredCheck, value: exp.Expression, *, query: exp.Select | None = None,
                   key: str = "value") -> CompiledCheck:
    params = check.params
    assert isinstance(params, types.Bounds)

    def evaluate(measured: Measured) -> Outcome:
        observed = _number(measured.values[key])
        outcome = Outcome(params.status(observed), observed_value=observed, rows_tested=measured.rows,
                          threshold=params.describe())
        if observed is None:
            outcome.message = "no value to compare (no rows, or only NULLs)"
        return outcome

    if query is not None:
        return CompiledCheck(check, evaluate, query=query)
    return CompiledCheck(check, evaluate, {"value": value})


# -- one compiler per check type ----------------------------------------------


def _row_count(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    return _bounded_value(check, exp.Count(this=exp.Star()))


def _missing(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    value = quoted(_column(check, scope))
    return _rows_check(check, exp.Count(this=exp.Star()) - exp.Count(this=value), exp.Count(this=exp.Star()),
                       scope.rows_where(value.is_(exp.null())))


def _duplicate(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.Duplicate)
    names = params.columns or [check.column]
    columns = scope.columns.get_many([n for n in names if n], role=f"{check.name}: column")
    values = [quoted(c) for c in columns]
    all_present = exp.and_(*[_not_null(v) for v in values])
    tested = exp.Count(this=values[0]) if len(values) == 1 else _count_if(all_present)
    # Exact and cheap: rows minus distinct keys, in the same scan (no hashing of concatenated text).
    if len(values) > 1 and scope.dialect == "duckdb":  # a row value, NULL when any part is NULL (one test)
        any_null = exp.or_(*[v.is_(exp.null()) for v in values])
        key_or_null = exp.Case(ifs=[exp.If(this=any_null, true=exp.null())], default=exp.Tuple(expressions=values))
        distinct: exp.Expression = exp.Count(this=exp.Distinct(expressions=[key_or_null]))
    else:  # Snowflake's COUNT(DISTINCT a, b) skips rows with a NULL part by itself
        distinct = exp.Count(this=exp.Distinct(expressions=values))
    repeated = (exp.select(*values).from_(scope.table()).where(scope.where(all_present))
                .group_by(*values).having(exp.Count(this=exp.Star()) > 1))
    key = values[0] if len(values) == 1 else exp.Tuple(expressions=values)
    return _rows_check(check, tested - distinct, tested, scope.rows_where(key.isin(query=repeated)))


def _accepted_values(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.AcceptedValues | types.InvalidValues)
    column = _column(check, scope)
    value = quoted(column)
    listed = value.isin(*[literal(v, column) for v in params.values])
    bad = exp.not_(listed) if check.type == "accepted_values" else listed  # NULL NOT IN (...) is NULL: not counted
    return _rows_check(check, _count_if(bad), exp.Count(this=value), scope.rows_where(bad))


def _regex(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.Regex)
    value = quoted(_column(check, scope, ColumnKind.TEXT))
    pattern = exp.Literal.string(params.pattern)
    if scope.dialect == "duckdb":
        matches: exp.Expression = exp.Anonymous(this="REGEXP_FULL_MATCH", expressions=[value, pattern])
    else:  # Snowflake's REGEXP_LIKE matches the whole value
        matches = exp.RegexpLike(this=value, expression=pattern)
    bad = exp.and_(_not_null(value), exp.not_(matches))
    return _rows_check(check, _count_if(bad), exp.Count(this=value), scope.rows_where(bad))


def _range(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.ValueRange | types.LengthRange)
    if params.min is None and params.max is None:
        raise InvalidArgument(f"{check.name}: give min, max or both")
    if check.type == "value_range":
        column = quoted(_column(check, scope, ColumnKind.NUMBER))
        value: exp.Expression = column
    else:
        column = quoted(_column(check, scope, ColumnKind.TEXT))
        value = exp.Length(this=column)
    outside = [value < _bound(params.min)] if params.min is not None else []
    outside += [value > _bound(params.max)] if params.max is not None else []
    bad = exp.or_(*outside)
    return _rows_check(check, _count_if(bad), exp.Count(this=column), scope.rows_where(bad))


def _bound(value: float) -> exp.Expression:
    """A bound as a literal; integral bounds stay integers, so a DECIMAL column is not cast per row."""
    from sqlglot import exp

    return exp.convert(int(value) if float(value).is_integer() else value)


def _relationships(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.Relationships)
    value = quoted(_column(check, scope))
    parent, parent_columns = scope.others[params.to]
    key = quoted(parent_columns.get(params.to_column, role=f"{check.name}: to_column"))
    keys = exp.select(exp.alias_(key, "k")).distinct().from_(table_expression(parent.ref))
    child = exp.alias_(scope.table(), "c", table=True)
    child_value = exp.column(value.name, "c", quoted=True)
    orphan = exp.and_(_not_null(child_value), exp.column("k", "p").is_(exp.null()))
    query = (
        exp.select(exp.alias_(exp.Count(this=child_value), "tested"), exp.alias_(_count_if(orphan), "unexpected"))
        .from_(child)
        .join(keys.subquery("p"), on=child_value.eq(exp.column("k", "p")), join_type="left")
        .where(_scoped(scope, "c"))
    )
    missing_parent = exp.not_(exp.Exists(this=exp.select(exp.Literal.number(1)).from_(
        exp.alias_(table_expression(parent.ref), "p", table=True)).where(
        exp.column(key.name, "p", quoted=True).eq(child_value))))
    failed = (exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("c"))).from_(child)
              .where(exp.and_(*[c for c in (_scoped(scope, "c"), _not_null(child_value), missing_parent) if c is not None])))
    compiled = _rows_check(check, exp.null(), exp.null(), failed)
    compiled.aggregates, compiled.query = {}, query
    return compiled


def _scoped(scope: Scope, alias: str) -> exp.Expression | None:
    """The suite's filter, with its columns qualified by `alias` (for joins)."""
    from sqlglot import exp

    if scope.condition is None:
        return None
    return scope.condition.copy().transform(
        lambda node: exp.column(node.this, alias) if isinstance(node, exp.Column) and not node.table else node)


def _freshness(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.Freshness)
    column = _column(check, scope, ColumnKind.DATE, ColumnKind.TIMESTAMP)
    max_age = parse_duration(params.max_age, f"{check.name}: max_age")
    warn_age = parse_duration(params.warn_age, f"{check.name}: warn_age") if params.warn_age else None
    zone = _zone(params.timezone, check.name)
    threshold = f"max age {params.max_age}" + (f", warn age {params.warn_age}" if params.warn_age else "")

    def evaluate(measured: Measured) -> Outcome:
        newest = measured.values["value"]
        if newest is None or measured.rows == 0:  # (fakesnow reports the epoch as MAX of no timestamps)
            return Outcome("fail", threshold=threshold, rows_tested=measured.rows, message="no values: the table is empty")
        instant = _instant(newest, zone)
        age = measured.as_of - instant
        status: Status = "fail" if age > max_age else "warn" if warn_age is not None and age > warn_age else "pass"
        hours = round(age.total_seconds() / 3600, 3)
        return Outcome(status, observed_value=hours, rows_tested=measured.rows, threshold=threshold,
                       message=f"newest {column.name} is {newest} ({hours} h before {measured.as_of.isoformat()})")

    return CompiledCheck(check, evaluate, {"value": exp.Max(this=quoted(column))})


def _zone(name: str, check_name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgument(f"{check_name}: unknown time zone {name!r}", hint="Use an IANA name such as UTC or Europe/Paris.") from None


def _instant(value: Any, zone: dt.tzinfo) -> dt.datetime:
    """A MAX() result (an ISO date or date-time, with or without zone) as an aware UTC instant."""
    text = str(value)
    parsed = dt.datetime.fromisoformat(text) if "T" in text or " " in text else dt.datetime.fromisoformat(text + "T00:00:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return as_utc(parsed)


def _schema(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    params = check.params
    assert isinstance(params, types.Schema)

    def evaluate(measured: Measured) -> Outcome:
        actual = {c.name.lower(): c for c in measured.description.columns}
        problems = [f"missing column {name}" for name in params.required if name.lower() not in actual]
        problems += [f"forbidden column {name} exists" for name in params.forbidden if name.lower() in actual]
        for name, expected in params.types.items():
            found = actual.get(name.lower())
            if found is None:
                problems.append(f"missing column {name} (expected {expected})")
            elif not _same_type(expected, found.type, scope.dialect):
                problems.append(f"{name} is {found.type}, expected {expected}")
        return Outcome("fail" if problems else "pass", observed_value=len(problems), unexpected_count=len(problems),
                       threshold="no violations", message="; ".join(problems) or None)

    return CompiledCheck(check, evaluate)


def _same_type(expected: str, actual: str, dialect: str) -> bool:
    kinds = {k.value for k in ColumnKind}
    if expected.lower() in kinds:
        return column_kind(actual, dialect).value == expected.lower()
    from sqlglot import exp

    try:
        return exp.DataType.build(expected, dialect=dialect) == exp.DataType.build(actual, dialect=dialect)
    except Exception:  # noqa: BLE001 - an unparsable type name compares as text
        return expected.strip().lower() == actual.strip().lower()


def _aggregate(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    params = check.params
    assert isinstance(params, types.Aggregate)
    metric = Metric(fn=params.fn, column=_column(check, scope).name)
    return _bounded_value(check, metric_expression(metric, scope.columns))


def _distinct_count(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    metric = Metric(fn="count_distinct", column=_column(check, scope).name)
    return _bounded_value(check, metric_expression(metric, scope.columns))


def _expression(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.Expression)
    condition = scope.guard_condition(params.sql)
    violated = exp.not_(exp.paren(condition))
    return _rows_check(check, _count_if(violated), exp.Count(this=exp.Star()), scope.rows_where(violated))


def _failed_rows(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.FailedRows)
    rows = scope.guard_query(params.sql)
    query = exp.select(exp.alias_(exp.Count(this=exp.Star()), "unexpected")).from_(exp.paren(rows).as_("bad"))
    compiled = _rows_check(check, exp.null(), exp.null(), rows)  # type: ignore[arg-type]
    evaluate_rows = compiled.evaluate

    def evaluate(measured: Measured) -> Outcome:  # tested: the table's rows in scope
        return evaluate_rows(Measured({**measured.values, "tested": measured.rows}, measured.rows, measured.as_of,
                                      measured.description))

    return CompiledCheck(check, evaluate, query=query, failed_rows=rows)  # type: ignore[arg-type]


def _custom_metric(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.CustomMetric)
    statement = scope.guard_query(params.sql)
    if not isinstance(statement, exp.Query):
        raise InvalidArgument(f"{check.name}: the sql must be a query returning one number")
    return _bounded_value(check, exp.null(), query=statement, key="first_column")  # runs as written


def _reconcile(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.Reconcile)
    other, other_columns = scope.others[params.to]
    if params.metric == "sum":
        if params.column is None:
            raise InvalidArgument(f"{check.name}: metric sum needs `column`")
        here = metric_expression(Metric(fn="sum", column=params.column), scope.columns)
        there = metric_expression(Metric(fn="sum", column=params.to_column or params.column), other_columns)
    else:
        here, there = exp.Count(this=exp.Star()), exp.Count(this=exp.Star())
    other_query = exp.select(exp.alias_(there, "other")).from_(table_expression(other.ref))
    threshold = f"difference at most {params.tolerance}" + (
        f", warn above {params.warn_tolerance}" if params.warn_tolerance is not None else "")

    def evaluate(measured: Measured) -> Outcome:
        mine, theirs = _number(measured.values["value"]) or 0.0, _number(measured.values["other"]) or 0.0
        difference = abs(mine - theirs)
        fail_at = _tolerance(params.tolerance, theirs, check.name)
        warn_at = _tolerance(params.warn_tolerance, theirs, check.name) if params.warn_tolerance is not None else None
        status: Status = "fail" if difference > fail_at else "warn" if warn_at is not None and difference > warn_at else "pass"
        return Outcome(status, observed_value=difference, rows_tested=measured.rows, threshold=threshold,
                       message=f"{params.metric} here {mine:g}, in {other.ref} {theirs:g}")

    return CompiledCheck(check, evaluate, {"value": here}, query=other_query)


def _tolerance(value: str | int | float, reference: float, name: str) -> float:
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                return float(text[:-1]) / 100 * abs(reference)
            except ValueError:
                pass
        raise InvalidArgument(f"{name}: tolerance {value!r} is not an amount or a percentage such as '0.5%'")
    return float(value)


def _anomaly(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    params = check.params
    assert isinstance(params, types.VolumeAnomaly)
    if isinstance(params, types.MetricAnomaly):
        value = quoted(_column(check, scope))
        fn = params.fn
        if fn == "count":
            expression: exp.Expression = exp.Count(this=value)
        elif fn == "missing":
            expression = exp.Count(this=exp.Star()) - exp.Count(this=value)
        elif fn == "distinct":
            expression = exp.Count(this=exp.Distinct(expressions=[value]))
        else:
            expression = metric_expression(Metric(fn=fn, column=check.column), scope.columns)
    else:
        expression = exp.Count(this=exp.Star())
    threshold = f"|z| below {params.sensitivity:g}" + (
        f", warn at {params.warn_sensitivity:g}" if params.warn_sensitivity else "")

    def evaluate(measured: Measured) -> Outcome:
        import statistics

        observed = _number(measured.values["value"])
        history = measured.history[-params.window:]
        if observed is None:
            return Outcome("fail", threshold=threshold, message="no value to compare")
        if len(history) < params.min_history:
            return Outcome("pass", observed_value=observed, rows_tested=measured.rows, threshold=threshold,
                           message=f"learning: {len(history)} of {params.min_history} earlier runs stored")
        mean, spread = statistics.mean(history), statistics.pstdev(history)
        score = (observed - mean) / spread if spread else (0.0 if observed == mean else math.copysign(math.inf, observed - mean))
        status: Status = "fail" if abs(score) >= params.sensitivity else (
            "warn" if params.warn_sensitivity and abs(score) >= params.warn_sensitivity else "pass")
        shown = round(score, 3) if math.isfinite(score) else str(score)
        return Outcome(status, observed_value=observed, rows_tested=measured.rows, threshold=threshold,
                       message=f"expected about {mean:g} (z = {shown}, {len(history)} earlier runs)")

    return CompiledCheck(check, evaluate, {"value": expression})


def _schema_change(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    params = check.params
    assert isinstance(params, types.SchemaChange)

    def evaluate(measured: Measured) -> Outcome:
        if measured.snapshot is None:
            return Outcome("pass", observed_value=0, threshold="no change",
                           message="no earlier snapshot: this run stores the first one")
        changes = schema_changes(measured.snapshot, {c.name: c.type for c in measured.description.columns})
        kinds = {kind for kind, _ in changes}
        status: Status = "fail" if kinds & set(params.fail_on) else "warn" if kinds & set(params.warn_on) else "pass"
        return Outcome(status, observed_value=len(changes), unexpected_count=len(changes), threshold="no change",
                       message="; ".join(text for _, text in changes) or None)

    return CompiledCheck(check, evaluate)


def schema_changes(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str]]:
    """(kind, description) for each column added, dropped or retyped between two snapshots."""
    changes = [("added", f"{name} added ({kind})") for name, kind in after.items() if name not in before]
    changes += [("dropped", f"{name} dropped (was {kind})") for name, kind in before.items() if name not in after]
    changes += [("type_changed", f"{name} changed from {before[name]} to {kind}")
                for name, kind in after.items() if name in before and before[name] != kind]
    return changes


def _completeness(check: DeclaredCheck, scope: Scope) -> CompiledCheck:
    from sqlglot import exp

    from snowmcp.common.sql.time_series import SeriesSpec, completeness_query

    params = check.params
    assert isinstance(params, types.CompletenessByPeriod)
    column = _column(check, scope, ColumnKind.DATE, ColumnKind.TIMESTAMP)
    conditions = (scope.condition,) if scope.condition is not None else ()
    spec = SeriesSpec(scope.description.ref, scope.columns, column.name, Metric(fn="count"), params.grain,
                      start=params.start, end=params.end, conditions=conditions)
    query = completeness_query(spec)  # every bucket of the range, counted in the warehouse: no cap
    compiled = _rows_check(check, exp.null(), exp.null(), None)
    evaluate_rows = compiled.evaluate

    def evaluate(measured: Measured) -> Outcome:
        outcome = evaluate_rows(measured)
        if outcome.unexpected_count:
            outcome.message = f"{outcome.unexpected_count} empty {params.grain}(s), the first {measured.values.get('first_empty')}"
        return outcome

    return CompiledCheck(check, evaluate, query=query)


_COMPILERS: dict[str, Callable[[DeclaredCheck, Scope], CompiledCheck]] = {
    "row_count": _row_count, "missing": _missing, "duplicate": _duplicate, "accepted_values": _accepted_values,
    "invalid_values": _accepted_values, "regex": _regex, "value_range": _range, "length_range": _range,
    "relationships": _relationships, "freshness": _freshness, "schema": _schema, "aggregate": _aggregate,
    "distinct_count": _distinct_count, "expression": _expression, "failed_rows": _failed_rows,
    "custom_metric": _custom_metric, "reconcile": _reconcile, "volume_anomaly": _anomaly,
    "metric_anomaly": _anomaly, "schema_change": _schema_change, "completeness_by_period": _completeness,
}
