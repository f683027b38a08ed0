"""What every source of certified metrics offers the semantic server's tools.

A *layer* is loaded once per server (MetricFlow from a dbt `semantic_manifest.json`
or MetricFlow YAML; Snowflake semantic views are the next source) and then answers catalog
questions and compiles metric requests into one SQL statement in the warehouse's
dialect. It never runs SQL: the tools hand what it compiled to the runtime, which
guards, caps, caches and runs it like any other statement.

Names are the layer's own: MetricFlow's dunder names (`customer__segment`,
`metric_time`), or a semantic view's `table.name`. An unknown name raises
`InvalidArgument` naming the closest known ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pydantic import BaseModel, Field

GroupByType = Literal["dimension", "time_dimension", "entity"]
Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")


class GroupBy(BaseModel):
    name: str = Field(description="A dimension, entity or metric_time (get_dimensions).")
    type: GroupByType = "dimension"
    grain: Grain | None = None

    model_config = {"extra": "forbid", "frozen": True}


class OrderBy(BaseModel):
    name: str = Field(description="A requested metric or group_by name.")
    descending: bool = False

    model_config = {"extra": "forbid", "frozen": True}


@dataclass(frozen=True)
class MetricRequest:
    """One metric query, as the tools received it (already type-checked, not yet resolved)."""

    metrics: tuple[str, ...]
    group_by: tuple[GroupBy, ...] = ()
    where: tuple[str, ...] = ()
    order_by: tuple[OrderBy, ...] = ()
    limit: int | None = None


class MetricInfo(BaseModel):
    name: str
    type: str = Field(description="simple, ratio, derived, cumulative or conversion (or the source's own kind).")
    label: str | None = None
    description: str | None = None

    model_config = {"extra": "forbid"}


class MetricDefinition(MetricInfo):
    """A metric as certified: what the result was computed from."""

    definition: dict[str, object] = Field(
        default_factory=dict, description="The metric's parameters as declared (measure/expr/inputs/window/filter).")
    source: str | None = Field(None, description="Where it is declared (a file, a dbt node, a semantic view).")


class DimensionInfo(BaseModel):
    name: str = Field(description="The name to group or filter by, e.g. customer__segment or metric_time.")
    type: Literal["categorical", "time"]
    grains: list[str] | None = Field(None, description="Grains a time dimension can be grouped by.")
    description: str | None = None


class EntityInfo(BaseModel):
    name: str
    type: str = Field(description="primary, unique, foreign or natural.")
    description: str | None = None


class SavedQueryInfo(BaseModel):
    name: str
    description: str | None = None
    metrics: list[str]
    group_by: list[GroupBy] = Field(default_factory=list)
    where: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Compiled:
    """A request compiled to one statement in `dialect`, and the definitions it used."""

    sql: str
    dialect: str
    definitions: tuple[MetricDefinition, ...] = ()
    columns: tuple[str, ...] = field(default=())
    """Output column names in order, when the layer knows them (dimension values: the one value column)."""


class SemanticLayer(Protocol):
    """A loaded source of certified metrics; every method is synchronous and CPU-only."""

    kind: str
    """'dbt' or 'yaml' (a future Snowflake semantic-view layer: 'snowflake')."""
    origin: str
    """What it was loaded from, for the model and the logs (a path or a list of views)."""

    def metrics(self) -> list[MetricInfo]: ...

    def definition(self, metric: str) -> MetricDefinition:
        """One metric as certified (for results and the metric catalog resource)."""
        ...

    def dimensions(self, metrics: Sequence[str]) -> list[DimensionInfo]: ...

    def entities(self, metrics: Sequence[str]) -> list[EntityInfo]: ...

    def saved_queries(self) -> list[SavedQueryInfo]: ...

    def compile(self, request: MetricRequest) -> Compiled: ...

    def compile_dimension_values(self, dimension: str, metrics: Sequence[str]) -> Compiled:
        """The distinct values of one dimension (for `metrics`, or for all when empty), one column."""
        ...
