"""Results and arguments of the semantic server's tools (structured output the model reads)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from snowmcp.common.results import QueryResult
from snowmcp.servers.semantic.layer import DimensionInfo, EntityInfo, MetricDefinition, MetricInfo, SavedQueryInfo


class MetricList(BaseModel):
    source: str = Field(description="dbt (a semantic manifest) or yaml (MetricFlow files).")
    metrics: list[MetricInfo]
    truncated: bool = False


class DimensionList(BaseModel):
    metrics: list[str]
    dimensions: list[DimensionInfo]


class EntityList(BaseModel):
    metrics: list[str]
    entities: list[EntityInfo]


class DimensionValues(BaseModel):
    dimension: str
    values: list[object]
    truncated: bool = Field(description="True when more values exist than returned.")


class SavedQueryList(BaseModel):
    saved_queries: list[SavedQueryInfo]


class CompiledSql(BaseModel):
    sql: str = Field(description="The guarded statement query_metrics would run.")
    dialect: Literal["duckdb", "snowflake"]
    metrics: list[MetricDefinition]


class MetricQueryResult(QueryResult):
    sql: str = Field(description="The guarded statement that produced the rows.")
    metrics: list[MetricDefinition] = Field(description="The certified definitions used.")
