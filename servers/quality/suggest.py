"""A proposed suite for a table, from one profile of its data (see `common.sql.profile`).

The proposal encodes what the data already satisfies, so that a run tomorrow
catches a change: no NULLs stays no NULLs, a key stays unique, a small set of
values stays that set, a non-negative column stays non-negative, the newest
timestamp stays recent, the volume and the schema stay steady.
"""

from __future__ import annotations

from typing import Any

from snowmcp.common.identifiers import resolve_table
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.sql.columns import TableColumns
from snowmcp.common.sql.profile import profile_statements
from snowmcp.common.sql.profile_result import ColumnProfile, read_profile
from snowmcp.servers.quality.models import SuggestedSuite

ACCEPTED_VALUES_MAX = 20
KEY_RATIO = 0.98


async def suggest_suite(runtime: ServerRuntime, table: str) -> SuggestedSuite:
    import yaml

    description = await runtime.catalog(lambda w: resolve_table(w, table))
    warehouse = await runtime.warehouse()
    columns = TableColumns(description, warehouse.dialect).all
    profiles: list[ColumnProfile] = []
    rows = 0
    for statement in profile_statements(description.ref, columns, dialect=warehouse.dialect, top_k=ACCEPTED_VALUES_MAX + 1):
        result = await runtime.query(statement.sql, tool="suggest_checks", max_rows=10_000)
        rows, found = read_profile(statement, result)
        profiles += found
    reasons: list[str] = []
    checks: list[dict[str, Any]] = [{"row_count": {"min": max(1, rows // 2)}}]
    reasons.append(f"row_count: the table has {rows} rows; fail below half of that")
    checks += [{"volume_anomaly": {"window": 14}}, {"schema_change": {}}]
    reasons.append("volume_anomaly, schema_change: watch the row count and the columns from run to run")
    per_column: dict[str, list[dict[str, Any]]] = {}
    for profile in profiles:
        entries = _column_checks(profile, reasons)
        if entries:
            per_column[profile.name] = entries
    newest = _freshness_column(profiles)
    if newest is not None:
        checks.append({"freshness": {"column": newest.name, "max_age": "24h", "warn_age": "12h"}})
        reasons.append(f"freshness: {newest.name} is the newest timestamp (latest {newest.max}); adjust max_age to the load schedule")
    suite = {"table": str(description.ref), "checks": checks, "columns": per_column}
    text = yaml.safe_dump(suite, sort_keys=False, default_flow_style=None, width=120)
    return SuggestedSuite(table=str(description.ref), suite=text, reasons=reasons)


def _column_checks(profile: ColumnProfile, reasons: list[str]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    if profile.count == 0:
        return entries
    if profile.nulls == 0:
        entries.append({"missing": {"max": 0}})
        reasons.append(f"{profile.name}: missing max 0 (no NULLs today)")
    else:
        limit = min(100.0, round(profile.null_percent * 2, 2))
        entries.append({"missing": {"fail_above": f"{limit}%"}})
        reasons.append(f"{profile.name}: {profile.null_percent}% NULL today; fail above twice that")
    if profile.distinct and profile.kind in ("number", "text") and profile.distinct >= KEY_RATIO * profile.count:
        entries.append({"duplicate": {"max": 0}})
        reasons.append(f"{profile.name}: looks like a key ({profile.distinct} distinct of {profile.count})")
    top = profile.top_values or []
    if profile.kind == "text" and top and len(top) <= ACCEPTED_VALUES_MAX and sum(v.count for v in top) == profile.count:
        entries.append({"accepted_values": {"values": sorted(str(v.value) for v in top)}})
        reasons.append(f"{profile.name}: only {len(top)} values occur")
    if profile.kind == "text" and profile.min_length is not None and profile.min_length == profile.max_length:
        entries.append({"length_range": {"min": profile.min_length, "max": profile.max_length}})
        reasons.append(f"{profile.name}: every value has length {profile.min_length}")
    if profile.kind == "number" and profile.negatives == 0 and profile.min is not None:
        entries.append({"value_range": {"min": 0}})
        reasons.append(f"{profile.name}: never negative today")
    return entries


def _freshness_column(profiles: list[ColumnProfile]) -> ColumnProfile | None:
    stamps = [p for p in profiles if p.kind == "timestamp" and p.max is not None]
    return max(stamps, key=lambda p: str(p.max), default=None)
