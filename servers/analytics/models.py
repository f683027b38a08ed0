"""Results of the analytics tools. Each says which SQL produced it, so a user can rerun it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from snowmcp.common.sql.profile_result import ColumnProfile, ValueCount


class Provenance(BaseModel):
    """Where a result came from (listed last in every result)."""

    sql: list[str] = Field(description="The statements that computed this result, in the warehouse's dialect.")
    elapsed_ms: float = Field(description="Milliseconds spent in the warehouse, fetching included.")
    cached: bool = Field(False, description="True when every statement was served from the result cache.")


class Alert(BaseModel):
    column: str
    kind: Literal["all_null", "mostly_null", "constant", "unique", "near_unique", "high_cardinality", "skewed", "dominant_value",
                  "empty_strings", "negative_values"]
    message: str


class TableProfile(Provenance):
    table: str
    row_count: int = Field(description="Rows profiled (of the sample, when sampled).")
    sample_percent: float | None = Field(None, description="Percent of rows sampled; null means all rows.")
    columns: list[ColumnProfile]
    alerts: list[Alert] = Field(description="Findings a data engineer would look at first.")


class AggregateResult(Provenance):
    table: str
    columns: list[str] = Field(description="Group-by columns, then metrics, in order.")
    rows: list[dict[str, Any]]
    truncated: bool = Field(description="True when more groups existed than are listed (`limit` or the size cap).")
    groups_total: int | None = Field(None, description="Groups in all (with group_by).")


class LeftOut(BaseModel):
    """The oldest buckets a cap left out of this answer."""

    count: int
    first: Any = Field(description="The oldest bucket left out.")
    until: Any = Field(description="They run up to, not including, this bucket (the oldest one returned).")


class Point(BaseModel):
    time: Any = Field(description="Start of the bucket (ISO 8601).")
    value: Any = Field(description="The metric for the bucket; 0 for empty buckets of count/sum, else null.")


class TimeSeries(Provenance):
    table: str
    time_column: str
    metric: str
    grain: str
    points: list[Point]
    buckets_total: int = Field(description="Buckets in the whole range.")
    truncated: bool = Field(description="True when the oldest buckets were left out (see left_out).")
    left_out: LeftOut | None = None


class Anomaly(BaseModel):
    time: Any
    value: float
    expected: float | None
    score: float | None = Field(description="(value - expected) / spread; null when the baseline was flat.")
    direction: Literal["up", "down"]


class Anomalies(Provenance):
    table: str
    metric: str
    grain: str
    method: str
    sensitivity: float
    seasonality: str | None
    window: int
    points_scored: int = Field(description="Buckets that had enough history to be scored.")
    buckets_total: int = Field(description="Buckets in the whole series.")
    non_finite: int = Field(0, description="Buckets whose value was NaN or infinite: not scored.")
    anomalies_total: int = Field(description="Anomalies found (anomalies lists the newest when truncated).")
    truncated: bool = Field(description="True when older buckets were not scored (left_out) or not every "
                                        "anomaly is listed.")
    left_out: LeftOut | None = Field(None, description="The oldest buckets, not scored: the newest are scored first.")
    anomalies: list[Anomaly] = Field(description="Oldest first.")


class PeriodValue(BaseModel):
    start: str
    end: str
    value: Any


class Contributor(BaseModel):
    dimensions: dict[str, Any]
    current: Any
    previous: Any
    change: float | None
    share_of_change: float | None = Field(description="This group's change / the total change.")


class PeriodComparison(Provenance):
    table: str
    metric: str
    current: PeriodValue
    previous: PeriodValue
    change: float | None
    change_percent: float | None
    contributors: list[Contributor] = Field(description="With dimensions: the groups whose change was largest.")
    groups_total: int | None = Field(None, description="With dimensions: groups in all.")


class Bin(BaseModel):
    low: float
    high: float
    count: int


class Histogram(Provenance):
    table: str
    column: str
    count: int = Field(description="Non-null finite values binned.")
    nulls: int
    non_finite: int = Field(0, description="NaN and infinite values (not binned).")
    min: float | None
    max: float | None
    bins: list[Bin]


class ValueCounts(Provenance):
    table: str
    column: str
    total_rows: int
    nulls: int
    distinct: int = Field(description="Distinct non-null values (exact).")
    values: list[ValueCount]
    other_count: int = Field(description="Non-null rows whose value is not listed.")
    truncated: bool = Field(description="True when distinct values exist beyond those listed.")


class Correlation(BaseModel):
    a: str
    b: str
    correlation: float | None = Field(description="Pearson correlation; null when a column is constant.")
    n: int = Field(description="Rows where both are non-null.")


class Correlations(Provenance):
    table: str
    columns: list[str]
    pairs: list[Correlation]
