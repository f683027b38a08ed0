"""All configured sources behind one interface: pipelines merged with the SLA file, the dependency
graph, name resolution, the clock, and per-source errors that never hide the other sources."""

from __future__ import annotations

import asyncio
import datetime as dt
from contextvars import ContextVar
import difflib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from snowmcp.common.errors import ConfigError, InvalidArgument, NotFound, SnowmcpError
from snowmcp.common.runtime import ServerRuntime
from snowmcp.servers.etl.config import EtlConfig, load_config, load_json_setting, parse_config
from snowmcp.servers.etl.demo_slas import DEMO_SLAS
from snowmcp.servers.etl.models import PipelineRun, PipelineSummary, SourceStatus
from snowmcp.servers.etl.settings import EtlSettings
from snowmcp.servers.etl.sources.audit import AuditSource
from snowmcp.servers.etl.sources.base import LEFT_OUT, PARTIAL, RunPage, RunQuery, Source, select_runs
from snowmcp.servers.etl.sources.dbt import DbtSource
from snowmcp.servers.etl.sources.snowflake import SnowflakeSource
from snowmcp.servers.etl.timeutil import UTC, parse_timestamp, to_datetime

T = TypeVar("T")
log = logging.getLogger("snowmcp.etl")
_STATUSES: ContextVar[dict[str, SourceStatus] | None] = ContextVar("etl_source_statuses", default=None)
_LEFT_OUT: ContextVar[list[str] | None] = ContextVar("etl_call_left_out", default=None)


class SourceFailure(SnowmcpError):
    """Every configured source failed."""


class Registry:
    def __init__(self, runtime: ServerRuntime, settings: EtlSettings) -> None:
        self.runtime, self.settings = runtime, settings
        self._sources: list[Source] | None = None
        self._setup_errors: list[SourceStatus] = []
        self._config: tuple[float, EtlConfig] | None = None

    # -- per-call source statuses (a context variable: concurrent tool calls don't mix) --------

    @staticmethod
    def begin_call() -> None:
        _STATUSES.set({})
        _LEFT_OUT.set([])

    @property
    def statuses(self) -> list[SourceStatus]:
        return list((_STATUSES.get() or {}).values())

    def sourced(self) -> dict[str, object]:
        """The fields every etl result ends with: the sources consulted, and whether (and what) a
        cap left out of the runs this answer was computed from."""
        notes = list(_LEFT_OUT.get() or [])
        notes += [s.left_out for s in self.statuses if s.left_out and s.left_out not in notes]
        return {"sources": self.statuses, "truncated": bool(notes), "left_out": notes}

    def note_left_out(self, message: str) -> None:
        """A call-level note: runs this answer needed were left out (e.g. beyond SNOWMCP_ETL_MAX_RUNS)."""
        notes = _LEFT_OUT.get()
        if notes is None:
            notes = []
            _LEFT_OUT.set(notes)
        if message not in notes:
            notes.append(message)

    def record(self, status: SourceStatus) -> None:
        """Merge one status into this call's: a failure or a partial error is never overwritten by success."""
        statuses = _STATUSES.get()
        if statuses is None:
            statuses = {}
            _STATUSES.set(statuses)
        known = statuses.get(status.name)
        if known is None or (known.ok and not status.ok) or (known.ok and known.error is None):
            if known is not None and known.left_out and not status.left_out:
                status = status.model_copy(update={"left_out": known.left_out})
            statuses[status.name] = status
        elif status.left_out and not known.left_out:
            statuses[status.name] = known.model_copy(update={"left_out": status.left_out})

    # -- set-up -------------------------------------------------------------

    @property
    def is_demo(self) -> bool:
        return self.runtime.settings.warehouse == "demo"

    def config(self) -> EtlConfig:
        """The SLA file, read again when it changes."""
        path = self.settings.etl_sla_file
        stamp = path.expanduser().stat().st_mtime if path is not None and path.expanduser().is_file() else 0.0
        if self._config is None or self._config[0] != stamp:
            if path is None and self.is_demo:
                config = parse_config(DEMO_SLAS, "demo_slas.toml")
            else:
                config = load_config(path)
            self._config = (stamp, config)
        return self._config[1]

    async def sources(self) -> list[Source]:
        if self._sources is not None:
            return self._sources
        warehouse = await self.runtime.warehouse()
        wanted = self.settings.etl_sources
        if wanted is None:
            wanted = ("audit",) + (("dbt",) if self.settings.dbt_target_dir else ()) + (
                ("snowflake",) if warehouse.dialect == "snowflake" else ())
        sources: list[Source] = []
        for name in dict.fromkeys(wanted):
            try:
                sources.append(self._build(name, warehouse.dialect))
            except SnowmcpError as exc:
                self._setup_errors.append(SourceStatus(name=name, ok=False, error=str(exc)))
        self._sources = sources
        return sources

    def _build(self, name: str, dialect: str) -> Source:
        if name == "audit":
            mapping = load_json_setting(self.settings.etl_audit_mapping, "SNOWMCP_ETL_AUDIT_MAPPING")
            return AuditSource(self.runtime, self.settings.etl_audit_table, mapping, self.settings.etl_max_runs)
        if name == "dbt":
            if self.settings.dbt_target_dir is None:
                raise ConfigError("the dbt source needs SNOWMCP_DBT_TARGET_DIR")
            return DbtSource(self.settings.dbt_target_dir)
        if name == "snowflake":
            if dialect != "snowflake":
                raise ConfigError("the snowflake source needs a Snowflake warehouse "
                                  "(SNOWMCP_WAREHOUSE=snowflake://...)")
            return SnowflakeSource(self.runtime, self.settings.etl_snowflake_lookback_days, self.settings.etl_max_runs)
        raise ConfigError(f"unknown etl source {name!r}", hint="SNOWMCP_ETL_SOURCES takes audit, dbt, snowflake.")

    # -- fan-out --------------------------------------------------------------

    async def gather(self, fn: Callable[[Source], Awaitable[T]]) -> list[tuple[Source, T]]:
        """Run `fn` on every source; failures become statuses. Raise only when all failed."""
        sources = await self.sources()

        async def one(source: Source) -> tuple[T, list[str], list[str]]:
            PARTIAL.set([])  # in this source's own task
            LEFT_OUT.set([])
            answer = await fn(source)
            return answer, PARTIAL.get() or [], LEFT_OUT.get() or []

        outcomes = await asyncio.gather(*(one(s) for s in sources), return_exceptions=True)
        for status in self._setup_errors:
            self.record(status)
        answers = []
        for source, outcome in zip(sources, outcomes):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, SnowmcpError):
                    log.error("etl source %s failed", source.name, exc_info=outcome)
                message = str(outcome) if isinstance(outcome, SnowmcpError) else (
                    f"internal error ({type(outcome).__name__}); see the server log")
                self.record(SourceStatus(name=source.name, ok=False, error=message))
            else:
                answer, partial, left_out = outcome
                self.record(SourceStatus(name=source.name, ok=True,
                                         error=("partly unavailable: " + "; ".join(partial)) if partial else None,
                                         left_out="; ".join(left_out) if left_out else None))
                answers.append((source, answer))
        if not answers:
            raise SourceFailure("no etl source could answer: " + " | ".join(
                f"{s.name}: {s.error}" for s in self.statuses if not s.ok),
                hint="Check SNOWMCP_ETL_AUDIT_TABLE / SNOWMCP_ETL_AUDIT_MAPPING, "
                     "SNOWMCP_DBT_TARGET_DIR and SNOWMCP_ETL_SOURCES.")
        return answers

    async def pipelines(self) -> list[PipelineSummary]:
        """Every pipeline of every source, with SLA/owner/upstream from the SLA file and downstream links."""
        config = self.config()
        merged: list[PipelineSummary] = []
        for _, catalog in await self.gather(lambda s: s.catalog()):
            for pipeline in catalog.pipelines:
                extra = config.for_pipeline(pipeline.id, pipeline.name)
                pipeline.sla = extra.sla or pipeline.sla
                pipeline.owner = extra.owner or pipeline.owner
                pipeline.schedule = extra.schedule or pipeline.schedule
                pipeline.description = extra.description or pipeline.description
                pipeline.upstream = list(dict.fromkeys([*pipeline.upstream, *extra.upstream]))
                merged.append(pipeline)
        by_id = {p.id: p for p in merged}
        by_name = {p.name: p for p in merged}
        for pipeline in merged:  # upstreams from the SLA file may be names
            pipeline.upstream = [by_id.get(u, by_name.get(u)).id if (u in by_id or u in by_name) else u
                                 for u in pipeline.upstream]
            for up in pipeline.upstream:
                if up in by_id and pipeline.id not in by_id[up].downstream:
                    by_id[up].downstream.append(pipeline.id)
        return merged

    async def page(self, query: RunQuery) -> RunPage:
        """Runs from every source, merged newest first (limit applied again after merging), and how many
        matched in all the sources."""
        pages = [page for _, page in await self.gather(lambda s: s.runs(query))]
        kept = select_runs([run for page in pages for run in page.runs], query)
        return RunPage(kept, max(sum(page.matched for page in pages), len(kept)))

    async def runs(self, query: RunQuery) -> list[PipelineRun]:
        """The runs of `page` (use it when `limit` is what the caller asked for)."""
        return (await self.page(query)).runs

    async def all_runs(self, query: RunQuery, what: str = "runs") -> RunPage:
        """Every run matching `query`, up to SNOWMCP_ETL_MAX_RUNS; beyond it, the answer says so."""
        cap = self.settings.etl_max_runs
        page = await self.page(RunQuery(**{**query.__dict__, "limit": cap}))
        if page.left_out:
            self.note_left_out(f"{page.matched:,} {what} matched; the newest {len(page.runs):,} were used "
                               f"(SNOWMCP_ETL_MAX_RUNS={cap})")
        return page

    # -- names and time -------------------------------------------------------

    @staticmethod
    def resolve(pipelines: list[PipelineSummary], text: str) -> PipelineSummary:
        if not isinstance(text, str) or not text.strip():
            raise InvalidArgument("pipeline is empty", hint="list_pipelines shows the ids and names.")
        text = text.strip()
        source, _, rest = text.partition(":")
        for candidates in ([p for p in pipelines if p.id == text],
                           [p for p in pipelines if p.source == source and p.id == rest],
                           [p for p in pipelines if p.name == text],
                           [p for p in pipelines if p.name.lower() == text.lower() or p.id.lower() == text.lower()]):
            if len(candidates) == 1:
                return candidates[0]
            if len(candidates) > 1:
                ids = ", ".join(f"{p.source}:{p.id}" for p in candidates)
                raise InvalidArgument(f"pipeline {text!r} is ambiguous: {ids}", hint="Pass one of these ids.")
        close = difflib.get_close_matches(text, sorted({p.name for p in pipelines} | {p.id for p in pipelines}), n=5)
        names = ", ".join(sorted({p.source for p in pipelines})) or "none"
        raise NotFound(f"no pipeline {text!r} in the sources ({names})",
                       hint=(f"Did you mean {', '.join(close)}? " if close else "") + "list_pipelines shows them all.")

    async def now(self, pipelines: list[PipelineSummary] | None = None) -> dt.datetime:
        """The clock: SNOWMCP_ETL_NOW (a timestamp or "latest"), else the wall clock (demo: "latest")."""
        setting = self.settings.etl_now
        if setting is None and not self.is_demo:
            return dt.datetime.now(UTC)
        if setting is not None and setting.strip().lower() != "latest":
            return parse_timestamp(setting, "SNOWMCP_ETL_NOW")
        if pipelines is None:
            pipelines = await self.pipelines()
        seen = [to_datetime(t) for p in pipelines if p.last_run
                for t in (p.last_run.started_at, p.last_run.ended_at, p.last_run.scheduled_at)]
        return max((t for t in seen if t), default=dt.datetime.now(UTC))

