"""The vendor-neutral model every source maps onto (Pipeline, PipelineRun), and the tools' results.

Times are UTC ISO-8601 strings ("2026-11-20T09:05:08Z"); durations are seconds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["queued", "running", "success", "warn", "partial", "failed", "cancelled", "skipped", "upstream_failed"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
FAILED: frozenset[str] = frozenset({"failed", "upstream_failed"})
PROBLEMS: frozenset[str] = FAILED | {"partial"}  # what failed_runs reports
GOOD: frozenset[str] = frozenset({"success", "warn"})
FINISHED: frozenset[str] = frozenset(STATUSES) - {"queued", "running"}
Kind = Literal["audit_pipeline", "dbt_model", "dbt_test", "dbt_seed", "dbt_snapshot", "snowflake_task",
               "snowflake_task_graph", "snowflake_dynamic_table", "snowflake_copy", "snowflake_pipe"]


class SLA(BaseModel):
    expected_by: str | None = Field(None, description='Daily deadline (UTC "HH:MM") for a successful run.')
    max_lag: str | None = Field(None, description="Most time allowed since the last success, e.g. 26h.")
    max_duration: str | None = Field(None, description="Longest a run may take, e.g. 30m.")


class Pipeline(BaseModel):
    id: str = Field(description="Id within its source (pass it, or the name, as `pipeline`).")
    name: str
    kind: Kind
    source: str = Field(description="audit, dbt or snowflake.")
    targets: list[str] = Field(default_factory=list, description="Tables the pipeline writes.")
    upstream: list[str] = Field(default_factory=list, description="Ids of pipelines this one depends on.")
    downstream: list[str] = Field(default_factory=list, description="Ids of pipelines that depend on this one.")
    schedule: str | None = None
    sla: SLA | None = None
    owner: str | None = None
    state: str | None = Field(None, description="Current state where the source reports one (Snowpipe).")
    description: str | None = None


class PipelineRun(BaseModel):
    run_id: str
    pipeline_id: str
    source: str
    status: Status
    raw_status: str | None = Field(None, description="The status as the source recorded it.")
    scheduled_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_s: float | None = None
    rows_loaded: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    query_id: str | None = None


class SourceStatus(BaseModel):
    name: str
    ok: bool
    error: str | None = Field(None, description="Why this source could not answer; the others still did.")
    left_out: str | None = Field(None, description="What a cap left out of this source's answer.")


class Sourced(BaseModel):
    sources: list[SourceStatus] = Field(description="Each source consulted, and its error if it failed.")
    truncated: bool = Field(False, description="True when a cap left matching runs out of what this answer "
                                               "was computed from (left_out says what).")
    left_out: list[str] = Field(default_factory=list)


class PipelineSummary(Pipeline):
    last_run: PipelineRun | None = None
    last_success_at: str | None = None


class PipelineList(Sourced):
    pipelines: list[PipelineSummary]
    count: int


class PipelineDetail(Sourced):
    pipeline: PipelineSummary
    recent_runs: list[PipelineRun] = Field(description="Newest first.")
    upstream: list[PipelineSummary]
    downstream: list[PipelineSummary]


class RunList(Sourced):
    runs: list[PipelineRun] = Field(description="Newest first.")
    count: int
    matched: int = Field(description="Runs that matched in all (more than count when truncated).")
    since: str | None = None


class FailureGroup(BaseModel):
    pipeline_id: str
    pipeline: str
    source: str
    error: str | None = Field(description="A representative error message of the group.")
    error_category: str | None = None
    failures: int
    first_failed_at: str | None
    last_failed_at: str | None
    run_ids: list[str] = Field(description="Newest first (at most 10).")
    last_success_at: str | None = Field(description="The pipeline's last success, at any time.")
    still_failing: bool = Field(description="True when the pipeline has not succeeded since.")


class FailedRuns(Sourced):
    now: str
    since: str
    total_failures: int = Field(description="Failures that matched, in all (groups count the ones read).")
    pipelines_failing: int
    groups: list[FailureGroup]


class UpstreamState(BaseModel):
    pipeline_id: str
    pipeline: str
    status_before_run: str | None = Field(description="Status of its latest run before this run started.")
    run: PipelineRun | None = None
    suspect: bool = Field(description="True when it had not succeeded before this run: a likely cause.")


class AffectedPipeline(BaseModel):
    pipeline_id: str
    pipeline: str
    depth: int = Field(description="1 = direct dependant.")
    last_status: str | None = None
    targets: list[str] = Field(default_factory=list)


class Diagnosis(Sourced):
    run: PipelineRun
    pipeline: PipelineSummary
    error_category: str | None = Field(description="missing_object, permission, timeout, duplicate, bad_value, "
                                                   "connection, test_failure, upstream or other.")
    hint: str | None = Field(description="What usually fixes this kind of error.")
    last_good_run: PipelineRun | None
    failures_since_last_good: int
    latest_run: PipelineRun | None = Field(description="The pipeline's newest run (is it fixed since?).")
    upstream: list[UpstreamState]
    similar_failures: int = Field(description="Earlier failed runs with the same error signature.")
    similar_first_seen: str | None = None
    similar_examples: list[PipelineRun]
    downstream_affected: list[AffectedPipeline]
    tables_affected: list[str]
    findings: list[str] = Field(description="The diagnosis in plain sentences, most important first.")


class TableFreshness(BaseModel):
    table: str
    status: Literal["fresh", "stale", "no_sla", "never_loaded", "unknown_table"]
    last_success_at: str | None
    age_s: float | None
    age: str | None = Field(description="Age in words, e.g. 20d 6h.")
    max_age: str | None = Field(description="The SLA, e.g. 26h.")
    overdue_by: str | None = None
    owner: str | None = None
    pipelines: list[str] = Field(description="Pipelines that load the table.")
    last_run_status: str | None = None


class Freshness(Sourced):
    now: str
    tables: list[TableFreshness]
    stale: int


class Breach(BaseModel):
    pipeline_id: str
    pipeline: str
    kind: Literal["late", "missed", "too_slow", "stale"]
    run_id: str | None = None
    due_at: str | None = None
    observed_at: str | None = None
    by_s: float | None = Field(None, description="How far past the SLA, seconds.")
    sla: str = Field(description="The SLA that was broken, e.g. expected_by 05:00.")
    message: str


class SlaBreaches(Sourced):
    now: str
    since: str
    pipelines_with_sla: int
    breaches: list[Breach]


class TrendRun(BaseModel):
    run_id: str
    started_at: str | None
    status: str
    duration_s: float | None
    rows_loaded: int | None
    flags: list[str] = Field(default_factory=list, description="slow, fast, rows_high, rows_low, no_rows.")


class DurationTrends(Sourced):
    pipeline_id: str
    pipeline: str
    window: int
    runs_considered: int
    p50_duration_s: float | None
    p95_duration_s: float | None
    max_duration_s: float | None
    p50_rows: float | None
    p95_rows: float | None
    anomalous_runs: list[TrendRun]
    runs: list[TrendRun] = Field(description="Newest first.")


class FailingPipeline(BaseModel):
    pipeline_id: str
    pipeline: str
    failing_since: str | None
    consecutive_failures: int
    last_error: str | None
    last_success_at: str | None


class HealthSummary(Sourced):
    now: str
    headline: list[str] = Field(description="What to look at first, in order.")
    pipelines: int
    runs_last_24h: dict[str, int] = Field(description="Runs started in the last 24 hours, by status.")
    failing: list[FailingPipeline]
    running: list[PipelineRun]
    sla_breaches: list[Breach]
    stale_tables: list[TableFreshness]
    slow_runs: list[TrendRun]
