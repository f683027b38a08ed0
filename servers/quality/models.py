"""Results of the quality tools."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from snowmcp.common.results import inlined

Status = Literal["pass", "warn", "fail", "error"]


class CheckResult(BaseModel):
    check: str = Field(description="The check's name (given, or type(column)).")
    type: str
    column: str | None = None
    status: Status
    severity: str
    observed_value: Any = Field(None, description="What was measured (a count, a value, an age in hours...).")
    threshold: str | None = Field(None, description="What the check allows.")
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    rows_tested: int | None = None
    message: str | None = None
    sql: str | None = Field(None, description="A statement that measures this check alone (to rerun by hand).")
    duration_ms: float | None = Field(None, description="Time of the statement that measured it (shared when batched).")


class HistoryInfo(BaseModel):
    store: Literal["local", "warehouse"] = Field(description="Where the run was stored.")
    location: str
    saved: bool
    note: str | None = None
    error: str | None = None


class Statement(BaseModel):
    sql: str
    checks: list[str] = Field(description="The checks it measured.")
    duration_ms: float


class RunResult(BaseModel):
    run_id: str
    table: str
    status: Status = Field(description="The worst status of any check.")
    totals: dict[str, int] = Field(description="Checks per status: pass, warn, fail, error.")
    # Inlined item schemas: clients validate every result, and resolving a $ref per item is slow.
    results: Annotated[list[CheckResult], inlined(CheckResult)]
    statements: Annotated[list[Statement], inlined(Statement)] = Field(
        description="Every statement sent; aggregate checks share one scan.")
    as_of: str
    started_at: str
    elapsed_ms: float
    history: HistoryInfo


class CheckTypeInfo(BaseModel):
    type: str
    summary: str
    needs_column: bool = Field(description="True when the check tests one column (under `columns:` or with `column`).")
    parameters: dict[str, Any] = Field(description="JSON Schema of the parameters.")
    example: str = Field(description="A YAML line to put under `checks:` or under a column.")


class CheckTypeList(BaseModel):
    types: list[CheckTypeInfo]
    suite_schema: str = Field(description="Where the suite's JSON Schema is published (path in the package).")
    thresholds: str


class CompiledCheckInfo(BaseModel):
    check: str
    type: str
    column: str | None
    line: int | None = Field(None, description="The check's line in the suite.")
    batched: bool = Field(description="Measured in the table's single batched scan.")
    sql: str | None = None
    error: str | None = None


class SuiteValidation(BaseModel):
    table: str
    valid: bool
    checks: list[CompiledCheckInfo]
    statements: list[str] = Field(description="The statements run_checks would send.")


class FailedRows(BaseModel):
    run_id: str
    check: str
    sql: str = Field(description="A statement that returns all the offending rows.")
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool


class CheckHistory(BaseModel):
    results: list[dict[str, Any]]
    location: str


class SchemaDiff(BaseModel):
    table: str
    snapshot_taken_at: str | None
    added: list[str]
    dropped: list[str]
    changed: list[str]
    message: str


class SuggestedSuite(BaseModel):
    table: str
    suite: str = Field(description="A YAML suite to review and edit; nothing has been run or saved.")
    reasons: list[str] = Field(description="Why each check was proposed.")
