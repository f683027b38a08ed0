"""One tool call's view of the world: every pipeline (from every source), the clock, source statuses;
and table freshness, which also reads the SLA table in the warehouse."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlglot import exp

from snowmcp.common.errors import InvalidArgument, NotFound, SnowmcpError
from snowmcp.common.identifiers import parse_table_name, resolve_table, table_expression
from snowmcp.common.sql.columns import TableColumns, quoted
from snowmcp.servers.etl import analysis
from snowmcp.servers.etl.config import TableSla
from snowmcp.servers.etl.models import PipelineSummary, SourceStatus, TableFreshness
from snowmcp.servers.etl.registry import Registry
from snowmcp.servers.etl.sources.base import fetch_all

DEFAULT_TABLE_SLAS = "ANALYTICS.OPS.TABLE_SLAS"
MAX_TABLE_SLAS = 50_000  # rows of the SLA table read (paged); more are noted as left out


@dataclass
class Snapshot:
    pipelines: list[PipelineSummary]
    by_id: dict[str, PipelineSummary]
    now: dt.datetime
    registry: Registry

    @classmethod
    async def take(cls, registry: Registry) -> Snapshot:
        registry.begin_call()
        registry.config()  # a broken SLA file is reported before anything else
        pipelines = await registry.pipelines()
        now = await registry.now(pipelines)
        return cls(pipelines, {p.id: p for p in pipelines}, now, registry)

    @property
    def statuses(self) -> list[SourceStatus]:
        """Every source consulted so far in this call, with its error if any."""
        return self.registry.statuses

    def resolve(self, text: str) -> PipelineSummary:
        return Registry.resolve(self.pipelines, text)

    def many(self, ids: list[str]) -> list[PipelineSummary]:
        return [self.by_id[i] for i in ids if i in self.by_id]


def normalize_table(text: str) -> str:
    """Dotted name, quotes removed, upper case: how tables are matched across sources."""
    return ".".join(part.strip('"`') for part in text.split(".")).upper()


async def warehouse_slas(registry: Registry) -> tuple[dict[str, TableSla], SourceStatus | None]:
    """TABLE_NAME, MAX_AGE_HOURS[, OWNER] rows of the SLA table; absent default table -> nothing."""
    name = registry.settings.etl_table_slas
    if not name:
        return {}, None
    runtime = registry.runtime
    try:
        description = await runtime.catalog(lambda w: resolve_table(w, name))
    except NotFound:
        if name == DEFAULT_TABLE_SLAS:
            return {}, None
        return {}, SourceStatus(name="table_slas", ok=False, error=f"SLA table {name} does not exist")
    except SnowmcpError as exc:
        return {}, SourceStatus(name="table_slas", ok=False, error=str(exc))
    warehouse = await runtime.warehouse()
    known = TableColumns(description, warehouse.dialect)
    try:
        picked = [known.get(c) for c in ("TABLE_NAME", "MAX_AGE_HOURS")]
        owner = next((c for c in known.all if c.name.upper() == "OWNER"), None)
        query = exp.select(*(quoted(c) for c in picked + ([owner] if owner else []))).from_(
            table_expression(description.ref)).order_by(quoted(picked[0]))
        fetched = await fetch_all(runtime, query, want=MAX_TABLE_SLAS, tool="table_slas")
    except SnowmcpError as exc:
        return {}, SourceStatus(name="table_slas", ok=False, error=f"SLA table {name}: {exc}")
    slas = {}
    for row in fetched.rows:
        if row[0] is None or row[1] is None:
            continue
        hours = float(row[1])
        slas[normalize_table(str(row[0]))] = TableSla(hours * 3600, f"{hours:g}h", row[2] if owner else None)
    left_out = None if fetched.complete else (
        f"the first {len(fetched.rows):,} rows of {name} (by TABLE_NAME) were read; the rest are left out")
    return slas, SourceStatus(name="table_slas", ok=True, left_out=left_out)


async def table_freshness(registry: Registry, snap: Snapshot, tables: list[str] | None) -> list[TableFreshness]:
    loaders: dict[str, list[PipelineSummary]] = {}
    for pipeline in snap.pipelines:
        for target in pipeline.targets:
            loaders.setdefault(normalize_table(target), []).append(pipeline)
    from_warehouse, status = await warehouse_slas(registry)
    if status is not None:
        registry.record(status)
    config = registry.config()
    if tables is not None:
        wanted = []
        for text in tables:
            parse_table_name(text, "snowflake")  # a malformed name is refused with its position
            wanted.append(normalize_table(text))
        if not wanted:
            raise InvalidArgument("tables is empty", hint="Omit it to check every known table.")
    else:
        wanted = sorted(set(loaders) | set(from_warehouse) | {normalize_table(k) for k in config.tables
                                                              if not any(ch in k for ch in "*?[")})
    picked = {t: loaders.get(t, []) for t in wanted}
    slas = {t: analysis.table_sla(config, from_warehouse, t) for t in wanted}
    return analysis.freshness(picked, slas, snap.now)
