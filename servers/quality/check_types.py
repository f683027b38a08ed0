"""Every check type a suite can declare: its parameters, what it means, and an example.

The parameter models are the contract (the published JSON Schema is generated
from them). Column checks may sit under `columns: {COL: [...]}` or carry a
`column` parameter in `checks:`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from snowmcp.servers.quality.thresholds import Bounds, RangeThresholds, RowThresholds

Severity = Literal["low", "medium", "high", "critical"]
Scalar = str | int | float | bool
AggregateFn = Literal["avg", "min", "max", "sum", "stddev", "median"]


class CheckBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200, description="A name for reports; default type(column).")
    severity: Severity = Field("medium", description="How much a failure matters: low, medium, high, critical.")


class ColumnCheck(CheckBase):
    column: str | None = Field(None, description="The column (implied under `columns:`).")


class RowCount(CheckBase, Bounds):
    @model_validator(mode="after")
    def _default_min(self) -> RowCount:
        if not self.has_bounds():
            self.min = 1  # an empty table fails unless bounds say otherwise
        return self


class Missing(ColumnCheck, RowThresholds):
    pass


class Duplicate(ColumnCheck, RowThresholds):
    columns: list[str] | None = Field(None, min_length=1, max_length=20,
                                      description="Several columns that together must be unique.")


class AcceptedValues(ColumnCheck, RowThresholds):
    values: list[Scalar] = Field(min_length=1, max_length=1_000, description="The only values allowed (NULL is not tested).")


class InvalidValues(ColumnCheck, RowThresholds):
    values: list[Scalar] = Field(min_length=1, max_length=1_000, description="Values that must not appear.")


class Regex(ColumnCheck, RowThresholds):
    pattern: str = Field(min_length=1, max_length=1_000, description="Every non-null value must match it entirely.")


class ValueRange(ColumnCheck, RangeThresholds):
    min: float | None = Field(None, description="Smallest allowed value.")
    max: float | None = Field(None, description="Largest allowed value.")


class LengthRange(ColumnCheck, RangeThresholds):
    min: int | None = Field(None, ge=0, description="Shortest allowed length.")
    max: int | None = Field(None, ge=0, description="Longest allowed length.")


class Relationships(ColumnCheck, RowThresholds):
    to: str = Field(description="The referenced table, DATABASE.SCHEMA.TABLE.")
    to_column: str = Field(description="The referenced key column.")


class Freshness(ColumnCheck):
    max_age: str = Field(description='Fail when the newest value is older than this, e.g. "24h", "2d".')
    warn_age: str | None = Field(None, description="Warn when older than this.")
    timezone: str = Field("UTC", description="Zone of a timestamp column without one (IANA name).")


class Schema(CheckBase):
    required: list[str] = Field([], description="Columns that must exist.")
    forbidden: list[str] = Field([], description="Columns that must not exist.")
    types: dict[str, str] = Field({}, description="Column -> type (e.g. NUMBER(38,0), VARCHAR) or kind "
                                                  "(number, text, date, timestamp, boolean).")


class Aggregate(ColumnCheck, Bounds):
    fn: AggregateFn = Field(description="avg, min, max, sum, stddev or median.")


class DistinctCount(ColumnCheck, Bounds):
    pass


class Expression(CheckBase, RowThresholds):
    sql: str = Field(min_length=1, max_length=10_000,
                     description="A row condition that must hold, e.g. \"SHIPPED_AT >= ORDERED_AT\" (rows where it is "
                                 "false are unexpected; NULL passes, as in a CHECK constraint).")


class FailedRows(CheckBase, RowThresholds):
    sql: str = Field(min_length=1, max_length=100_000, description="A read-only query returning the bad rows.")


class CustomMetric(CheckBase, Bounds):
    sql: str = Field(min_length=1, max_length=100_000, description="A read-only query returning one number.")


class Reconcile(CheckBase):
    to: str = Field(description="The table to reconcile with.")
    metric: Literal["count", "sum"] = Field("count", description="count rows, or sum a column.")
    column: str | None = Field(None, description="For sum: the column here.")
    to_column: str | None = Field(None, description="For sum: the column there (default: same name).")
    tolerance: str | int | float = Field(0, description="Allowed difference: an amount, or a percentage of the other side ('0.5%').")
    warn_tolerance: str | int | float | None = Field(None, description="Warn beyond this difference.")


class VolumeAnomaly(CheckBase):
    window: int = Field(14, ge=3, le=1_000, description="Past runs forming the baseline.")
    min_history: int = Field(5, ge=2, le=1_000, description="Runs needed before it can judge.")
    sensitivity: float = Field(3.0, gt=0, description="Fail when |z-score| >= this.")
    warn_sensitivity: float | None = Field(2.0, gt=0, description="Warn when |z-score| >= this.")


class MetricAnomaly(ColumnCheck, VolumeAnomaly):
    fn: AggregateFn | Literal["count", "missing", "distinct"] = Field(description="The metric tracked run after run.")


class SchemaChange(CheckBase):
    fail_on: list[Literal["added", "dropped", "type_changed"]] = Field(["dropped", "type_changed"])
    warn_on: list[Literal["added", "dropped", "type_changed"]] = Field(["added"])


class CompletenessByPeriod(ColumnCheck, RowThresholds):
    grain: Literal["hour", "day", "week", "month"] = Field("day", description="Every bucket must hold rows.")
    start: str | None = Field(None, description="First instant checked (default: the oldest row).")
    end: str | None = Field(None, description="First instant not checked (default: after the newest row).")


@dataclass(frozen=True)
class CheckType:
    model: type[CheckBase]
    summary: str
    example: dict[str, Any]
    needs_column: bool = False


CHECK_TYPES: dict[str, CheckType] = {
    "row_count": CheckType(RowCount, "The number of rows is within bounds (default: at least 1).",
                           {"row_count": {"min": 100_000}}),
    "missing": CheckType(Missing, "NULL values in a column.", {"missing": {"max": 0}}, True),
    "duplicate": CheckType(Duplicate, "Repeated values of a column, or of several columns together "
                                      "(unexpected = rows minus distinct values).",
                           {"duplicate": {"columns": ["CUSTOMER_ID", "ORDER_DATE"], "max": 0}}, True),
    "accepted_values": CheckType(AcceptedValues, "Values outside an allowed list.",
                                 {"accepted_values": {"values": ["pending", "shipped", "delivered"]}}, True),
    "invalid_values": CheckType(InvalidValues, "Values from a forbidden list.",
                                {"invalid_values": {"values": ["N/A", "unknown"]}}, True),
    "regex": CheckType(Regex, "Values that don't match a pattern entirely.",
                       {"regex": {"pattern": "^[A-Z]{2}$"}}, True),
    "value_range": CheckType(ValueRange, "Values outside [min, max].",
                             {"value_range": {"min": 0, "max": 100_000, "warn_above": 0, "fail_above": "1%"}}, True),
    "length_range": CheckType(LengthRange, "Text lengths outside [min, max].",
                              {"length_range": {"min": 2, "max": 2}}, True),
    "relationships": CheckType(Relationships, "Values with no matching key in another table (a foreign key).",
                               {"relationships": {"to": "ANALYTICS.SALES.CUSTOMERS", "to_column": "CUSTOMER_ID"}}, True),
    "freshness": CheckType(Freshness, "How old the newest value of a date/timestamp column is.",
                           {"freshness": {"column": "UPDATED_AT", "max_age": "24h", "warn_age": "6h"}}, True),
    "schema": CheckType(Schema, "Required and forbidden columns, and column types.",
                        {"schema": {"required": ["ORDER_ID", "AMOUNT"], "types": {"AMOUNT": "number"}}}),
    "aggregate": CheckType(Aggregate, "An aggregate of a column (avg, min, max, sum, stddev, median) within bounds.",
                           {"aggregate": {"column": "AMOUNT", "fn": "avg", "min": 20, "max": 200}}, True),
    "distinct_count": CheckType(DistinctCount, "The number of distinct values within bounds.",
                                {"distinct_count": {"column": "STATUS", "min": 3, "max": 6}}, True),
    "expression": CheckType(Expression, "Rows where a condition is false.",
                            {"expression": {"sql": "DISCOUNT <= AMOUNT", "name": "discount_not_above_amount"}}),
    "failed_rows": CheckType(FailedRows, "Rows returned by a query of bad rows.",
                             {"failed_rows": {"sql": "SELECT * FROM ANALYTICS.SALES.ORDERS WHERE AMOUNT > 1000000"}}),
    "custom_metric": CheckType(CustomMetric, "A number computed by a query, within bounds.",
                               {"custom_metric": {"sql": "SELECT AVG(AMOUNT) FROM ANALYTICS.SALES.ORDERS", "min": 10}}),
    "reconcile": CheckType(Reconcile, "A count or sum that must match another table's, within a tolerance.",
                           {"reconcile": {"to": "ANALYTICS.SALES.ORDER_ITEMS", "metric": "count", "tolerance": "50%"}}),
    "volume_anomaly": CheckType(VolumeAnomaly, "The row count compared with the stored history of earlier runs.",
                                {"volume_anomaly": {"window": 14, "sensitivity": 3}}),
    "metric_anomaly": CheckType(MetricAnomaly, "A column metric compared with the stored history of earlier runs.",
                                {"metric_anomaly": {"column": "AMOUNT", "fn": "avg"}}, True),
    "schema_change": CheckType(SchemaChange, "Columns added, dropped or retyped since the last stored snapshot.",
                               {"schema_change": {"fail_on": ["dropped", "type_changed"], "warn_on": ["added"]}}),
    "completeness_by_period": CheckType(CompletenessByPeriod, "Hours/days (etc.) with no rows at all.",
                                        {"completeness_by_period": {"column": "ORDER_DATE", "grain": "day"}}, True),
}
