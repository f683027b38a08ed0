"""Certified metrics through MetricFlow: its parser, its join rules, its SQL, never a compiler of ours.

`MetricFlowLayer` wraps one `MetricFlowEngine` built over a validated manifest
(`manifest.load_manifest`) with a compile-only SQL client: MetricFlow plans and
renders the statement in the warehouse's dialect (DuckDB or Snowflake); snowmcp's
runtime runs it. MetricFlow refuses what it cannot answer correctly — a group-by
reachable only through a fan-out join, an ambiguous join path — and names the
closest valid inputs; those refusals become `InvalidArgument` here, shortened.

The engine is not thread-safe (it resets a global id counter per query), so every
call holds one lock; a compile takes milliseconds.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

from snowmcp.common.errors import ConfigError, InvalidArgument
from snowmcp.servers.semantic.layer import (
    GRAINS, Compiled, DimensionInfo, EntityInfo, GroupBy, MetricDefinition, MetricInfo, MetricRequest,
    SavedQueryInfo,
)
from snowmcp.servers.semantic.manifest import LoadedManifest
from snowmcp.servers.semantic.mf_errors import invalid_query

for _noisy in ("metricflow", "metricflow_semantics", "metricflow_semantic_interfaces"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)  # a dozen INFO lines per query otherwise

_RENDERERS = {"duckdb": "DuckDbSqlPlanRenderer", "snowflake": "SnowflakeSqlPlanRenderer"}
_RENDERER_MODULES = {"duckdb": "metricflow.sql.render.duckdb_renderer", "snowflake": "metricflow.sql.render.snowflake"}


class _CompileOnlyClient:
    """The part of MetricFlow's `SqlClient` that explaining a query uses: the dialect and its renderer."""

    def __init__(self, dialect: str) -> None:
        import importlib

        from metricflow.protocols.sql_client import SqlEngine

        if dialect not in _RENDERERS:
            raise ConfigError(f"the semantic layer does not support the {dialect} dialect")
        self.sql_engine_type = SqlEngine.DUCKDB if dialect == "duckdb" else SqlEngine.SNOWFLAKE
        renderer = getattr(importlib.import_module(_RENDERER_MODULES[dialect]), _RENDERERS[dialect])

        class Renderer(renderer):  # type: ignore[misc, valid-type]
            def _render_description_section(self, description: str) -> None:
                return None  # MetricFlow's plan comments: half the text of a statement, and nothing that runs

        self.sql_plan_renderer = Renderer()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


class MetricFlowLayer:
    def __init__(self, loaded: LoadedManifest, dialect: str) -> None:
        from metricflow.engine.metricflow_engine import MetricFlowEngine
        from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

        self.kind = loaded.source.kind
        self.origin = str(loaded.source.path)
        self.dialect = dialect
        self._manifest = loaded.manifest
        self._lock = threading.Lock()
        self._engine = MetricFlowEngine(SemanticManifestLookup(loaded.manifest), _CompileOnlyClient(dialect))
        # MetricFlow turns each measure into a private metric of the same name: an input, not certified
        self._metrics = {m.name: m for m in loaded.manifest.metrics if not m.type_params.is_private}

    # -- the catalog ------------------------------------------------------

    def metrics(self) -> list[MetricInfo]:
        return [MetricInfo(name=m.name, type=m.type.value, label=m.label, description=m.description)
                for m in sorted(self._metrics.values(), key=lambda m: m.name)]

    def dimensions(self, metrics: Sequence[str]) -> list[DimensionInfo]:
        self._known_metrics(metrics)
        with self._lock, invalid_query():
            found = self._engine.simple_dimensions_for_metrics(list(metrics))
        dimensions = []
        for dim in found:
            time = dim.type.value == "time"
            name = dim.granularity_free_dunder_name if time else dim.dunder_name
            grains = None
            if time:
                finest = getattr(getattr(dim.type_params, "time_granularity", None), "value", "day")
                grains = list(GRAINS[GRAINS.index(finest):]) if finest in GRAINS else list(GRAINS)
            dimensions.append(DimensionInfo(name=name, type="time" if time else "categorical", grains=grains,
                                            description=dim.description))
        return sorted({d.name: d for d in dimensions}.values(), key=lambda d: (d.name != "metric_time", d.name))

    def entities(self, metrics: Sequence[str]) -> list[EntityInfo]:
        self._known_metrics(metrics)
        with self._lock, invalid_query():
            found = self._engine.entities_for_metrics(list(metrics))
            names = self._entity_group_by_names(metrics)
        by_name = {e.name: e for e in found}
        # an entity reached through a join is grouped by its path (order__customer), as MetricFlow resolves it
        return sorted((EntityInfo(name=path, type=by_name[element].type.value, description=by_name[element].description)
                       for path, element in names.items() if element in by_name), key=lambda e: e.name)

    def _entity_group_by_names(self, metrics: Sequence[str]) -> dict[str, str]:
        """{group-by name: entity element name} of the entities all `metrics` can be grouped by."""
        from metricflow.engine.metricflow_engine import ENTITY_WITH_ANY_PROPERTIES
        from metricflow_semantics.model.semantics.element_filter import GroupByItemSetFilter

        items = self._engine._semantic_manifest_lookup.metric_lookup.get_common_group_by_items(
            metric_references=tuple(_metric_reference(m) for m in metrics),
            set_filter=GroupByItemSetFilter.create(any_properties_allowlist=ENTITY_WITH_ANY_PROPERTIES))
        return {spec.spec.dunder_name: spec.spec.element_name for spec in items.annotated_specs}

    def saved_queries(self) -> list[SavedQueryInfo]:
        return [SavedQueryInfo(name=q.name, description=q.description, metrics=list(q.query_params.metrics),
                               group_by=[_saved_group_by(g) for g in q.query_params.group_by],
                               where=[w.where_sql_template for w in (q.query_params.where.where_filters
                                                                     if q.query_params.where else [])])
                for q in sorted(self._manifest.saved_queries, key=lambda q: q.name)]

    # -- compiling --------------------------------------------------------

    def compile(self, request: MetricRequest) -> Compiled:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest
        from metricflow_semantics.specs.query_param_implementations import MetricParameter, OrderByParameter

        self._known_metrics(request.metrics, required=True)
        group_by = {item.name: _group_by_parameter(item) for item in request.group_by}
        order_by = []
        for item in request.order_by:
            if item.name in self._metrics:
                if item.name not in request.metrics:
                    raise InvalidArgument(f"order_by {item.name} is not one of the requested metrics")
                target: Any = MetricParameter(name=item.name)
            elif item.name in group_by:
                target = group_by[item.name]
            else:
                raise InvalidArgument(f"order_by {item.name!r} is neither a requested metric nor a group_by item",
                                      hint="Order by names from metrics or group_by.")
            order_by.append(OrderByParameter(order_by=target, descending=item.descending))
        time_axis = next((p for item, p in zip(request.group_by, group_by.values()) if item.type == "time_dimension"),
                         None)
        if not order_by and time_axis is not None:  # a series reads in time order unless asked otherwise
            order_by.append(OrderByParameter(order_by=time_axis))
        mf_request = MetricFlowQueryRequest.create(
            metrics=[MetricParameter(name=m) for m in request.metrics], group_by=list(group_by.values()),
            where_constraints=list(request.where) or None, order_by=order_by or None, limit=request.limit)
        return self._explain(mf_request, request.metrics)

    def compile_dimension_values(self, dimension: str, metrics: Sequence[str]) -> Compiled:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest, MetricFlowQueryType

        self._known_metrics(metrics)
        mf_request = MetricFlowQueryRequest.create(metric_names=list(metrics) or None, group_by_names=[dimension],
                                                   query_type=MetricFlowQueryType.DIMENSION_VALUES)
        compiled = self._explain(mf_request, tuple(metrics))
        return Compiled(compiled.sql, compiled.dialect, compiled.definitions, columns=(dimension,))

    def _explain(self, mf_request: Any, metrics: Sequence[str]) -> Compiled:
        with self._lock, invalid_query():
            statement = self._engine.explain(mf_request).sql_statement
        if statement.bind_parameter_set.param_items:
            raise InvalidArgument("this query needs bind parameters, which the semantic server does not send")
        return Compiled(statement.sql, self.dialect, tuple(self.definition(m) for m in metrics))

    # -- definitions ------------------------------------------------------

    def definition(self, name: str) -> MetricDefinition:
        metric = self._metrics[name]
        params = metric.type_params.dict(exclude_none=True, exclude_defaults=True)
        for internal in ("input_measures", "metric_aggregation_params", "is_private"):
            params.pop(internal, None)
        declared: dict[str, object] = {k: v for k, v in params.items() if v not in ({}, [], None)}
        if metric.filter is not None:
            declared["filter"] = [f.where_sql_template for f in metric.filter.where_filters]
        file_slice = getattr(getattr(metric, "metadata", None), "file_slice", None)
        return MetricDefinition(name=metric.name, type=metric.type.value, label=metric.label,
                                description=metric.description, definition=declared,
                                source=getattr(file_slice, "filename", None) or self.origin)

    def _known_metrics(self, names: Sequence[str], *, required: bool = False) -> None:
        if required and not names:
            raise InvalidArgument("name at least one metric", hint="list_metrics lists them.")
        for name in names:
            if name not in self._metrics:
                raise InvalidArgument(f"unknown metric {name!r}{_closest(name, self._metrics)}",
                                      hint="list_metrics lists the certified metrics.")


_SAVED_GROUP_BY = re.compile(r"""^\s*(Dimension|TimeDimension|Entity)\(\s*['"](\w+)['"]\s*(?:,\s*['"](\w+)['"]\s*)?\)"""
                             r"""(?:\.grain\(\s*['"](\w+)['"]\s*\))?\s*$""")
_KINDS = {"Dimension": "dimension", "TimeDimension": "time_dimension", "Entity": "entity"}


def _saved_group_by(text: str) -> GroupBy:
    """A saved query's group-by (`TimeDimension('metric_time', 'month')`) as query_metrics takes it."""
    match = _SAVED_GROUP_BY.match(text)
    if match is None:
        raise ConfigError(f"saved query group_by {text[:80]!r} is not a Dimension, TimeDimension or Entity")
    kind, name, grain, dotted = match.groups()
    grain = (grain or dotted or "").lower() or None
    kind = "time_dimension" if grain else _KINDS[kind]
    return GroupBy(name=name, type=kind, grain=grain if grain in GRAINS else None)


def _group_by_parameter(item: GroupBy) -> Any:
    from metricflow_semantics.specs.query_param_implementations import DimensionOrEntityParameter, TimeDimensionParameter

    if item.type == "time_dimension":
        return TimeDimensionParameter(name=item.name, grain=item.grain)
    if item.grain is not None:
        raise InvalidArgument(f"group_by {item.name}: a grain needs type time_dimension")
    return DimensionOrEntityParameter(name=item.name)


def _metric_reference(name: str) -> Any:
    from metricflow_semantic_interfaces.references import MetricReference

    return MetricReference(element_name=name)


def _closest(name: str, known: Any) -> str:
    matches = difflib.get_close_matches(name.lower(), [str(k) for k in known], n=5, cutoff=0.5)
    return f"; the closest: {', '.join(matches)}" if matches else ""
