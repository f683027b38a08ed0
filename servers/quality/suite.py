"""Quality suites: YAML text -> validated checks, with errors that name the line and key.

```yaml
table: ANALYTICS.SALES.ORDERS
filter: "ORDER_DATE >= '2024-01-01'"   # optional: a row condition every check applies
as_of: 2026-11-20T09:00:00Z            # optional: "now" for freshness (default: the current time)
checks:
  - row_count: {min: 100000}
columns:
  ORDER_ID: [missing: {max: 0}, duplicate: {max: 0}]
```

Each check entry is a mapping with exactly one key, the check type, whose
value holds its parameters (see `check_types`). YAML's "Norway problem" is
avoided: only `true`/`false` are booleans, so `NO` and `yes` stay text.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.quality.check_types import CHECK_TYPES, CheckBase
from snowmcp.servers.quality.suite_limits import MAX_CHECKS, check_object, check_text, key_path
from snowmcp.common.safe_yaml import compose
from snowmcp.servers.quality.thresholds import RangeThresholds, RowThresholds

SCHEMA_PATH = Path(__file__).with_name("suite.schema.json")


@dataclass(frozen=True)
class DeclaredCheck:
    """One check of a suite, validated; `column` comes from the `columns:` key or the `column` parameter."""

    type: str
    params: CheckBase
    column: str | None
    index: int
    line: int | None

    @property
    def name(self) -> str:
        if self.params.name:
            return self.params.name
        columns = getattr(self.params, "columns", None)
        target = ",".join(columns) if columns else self.column
        return f"{self.type}({target})" if target else self.type


@dataclass(frozen=True)
class Suite:
    table: str
    filter: str | None
    as_of: dt.datetime | None
    checks: list[DeclaredCheck]
    source: str = ""  # the text it was parsed from: identifies the suite (compiled plans are cached by it)


def _lines(node: Any, path: tuple[Any, ...] = (), found: dict[tuple[Any, ...], int] | None = None) -> dict[tuple[Any, ...], int]:
    """Map each path (keys and list indexes) to its 1-based line."""
    import yaml

    found = {} if found is None else found
    if node is None:
        return found
    found.setdefault(path, node.start_mark.line + 1)  # a key's own line wins over its value's
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found[(*path, key.value)] = key.start_mark.line + 1
            _lines(value, (*path, key.value), found)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), found)
    return found


def _where(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> str:
    """Where in the suite: `line N, key.path` (keys cut short and made printable; never a value)."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return f"line {lines[path[:end]]}, {key_path(path)}"
    return key_path(path)


@functools.lru_cache(maxsize=64)  # suites are run again and again; a Suite is never modified
def parse_suite(text: str) -> Suite:
    """Parse and validate a YAML (or JSON) suite; every error names its line and key."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("the suite is empty", hint="Pass YAML with `table:` and `checks:` or `columns:`.")
    check_text(text)
    node, data = compose(text, what="the suite",
                         hint="A suite is YAML (or JSON) text with `table:` and `checks:` or `columns:`.")
    return suite_from_data(data, _lines(node), source=text)


def suite_from_data(data: Any, lines: dict[tuple[Any, ...], int] | None = None, *, source: str | None = None) -> Suite:
    """Validate a suite's structure (parsed YAML, or an object given as is); errors name places, never values.

    Without `source` the data is an object-form suite: it meets the same budgets as text first."""
    lines = lines or {}
    if source is None:
        source = check_object(data)
    errors: list[str] = []
    if not isinstance(data, dict):
        raise InvalidArgument("a suite is a mapping with `table:` and `checks:` and/or `columns:`")
    unknown = set(data) - {"table", "filter", "as_of", "checks", "columns", "name"}
    for key in sorted(map(str, unknown)):
        errors.append(f"{_where(lines, (key,))}: unknown key (expected table, filter, as_of, checks, columns, name)")
    table = data.get("table")
    if not isinstance(table, str) or not table.strip():
        errors.append(f"{_where(lines, ('table',))}: `table` is required, e.g. table: ANALYTICS.SALES.ORDERS")
    filter_sql = data.get("filter")
    if filter_sql is not None and not isinstance(filter_sql, str):
        errors.append(f"{_where(lines, ('filter',))}: `filter` must be a SQL condition in quotes")
    as_of = _as_of(data.get("as_of"), lines, errors)
    checks: list[DeclaredCheck] = []
    entries: list[tuple[tuple[Any, ...], Any, str | None]] = []
    raw_checks = data.get("checks", []) or []
    if not isinstance(raw_checks, list):
        errors.append(f"{_where(lines, ('checks',))}: `checks` must be a list")
        raw_checks = []
    entries += [(("checks", i), entry, None) for i, entry in enumerate(raw_checks)]
    raw_columns = data.get("columns", {}) or {}
    if not isinstance(raw_columns, dict):
        errors.append(f"{_where(lines, ('columns',))}: `columns` must map column names to lists of checks")
        raw_columns = {}
    for column, column_checks in raw_columns.items():
        if not isinstance(column_checks, list):
            errors.append(f"{_where(lines, ('columns', column))}: the checks of a column must be a list")
            continue
        entries += [(("columns", column, i), entry, str(column)) for i, entry in enumerate(column_checks)]
    if not entries and not errors:
        errors.append(f"{_where(lines, ())}: the suite declares no checks")
    if len(entries) > MAX_CHECKS:
        errors.append(f"the suite declares {len(entries)} checks; at most {MAX_CHECKS}")
    for index, (path, entry, column) in enumerate(entries):
        check = _check(path, entry, column, index, lines, errors)
        if check is not None:
            checks.append(check)
    if errors:
        raise InvalidArgument("the suite is invalid:\n" + "\n".join(f"- {e}" for e in errors[:50]),
                              hint="list_check_types shows every check type with its parameters and an example.")
    return Suite(table=str(table), filter=filter_sql, as_of=as_of, checks=checks, source=source)


def _as_of(value: Any, lines: dict[tuple[Any, ...], int], errors: list[str]) -> dt.datetime | None:
    if value is None:
        return None
    from snowmcp.common.durations import as_utc, parse_timestamp

    if isinstance(value, dt.datetime):
        return as_utc(value)
    try:
        return parse_timestamp(str(value), "as_of")
    except InvalidArgument:
        errors.append(f"{_where(lines, ('as_of',))}: `as_of` must be an ISO date-time")
        return None


def _check(path: tuple[Any, ...], entry: Any, column: str | None, index: int,
           lines: dict[tuple[Any, ...], int], errors: list[str]) -> DeclaredCheck | None:
    if isinstance(entry, str):
        entry = {entry: {}}
    if not isinstance(entry, dict) or len(entry) != 1:
        errors.append(f"{_where(lines, path)}: each check is one mapping `type: {{parameters}}`, e.g. - missing: {{max: 0}}")
        return None
    (kind, params), = entry.items()
    kind = str(kind)
    if kind not in CHECK_TYPES:
        known = ", ".join(CHECK_TYPES)
        errors.append(f"{_where(lines, (*path, kind))}: unknown check type (known: {known})")
        return None
    params = {} if params is None else params
    if not isinstance(params, dict):
        errors.append(f"{_where(lines, (*path, kind))}: the parameters of {kind} must be a mapping")
        return None
    check_type = CHECK_TYPES[kind]
    if column is not None and "column" in params:
        errors.append(f"{_where(lines, (*path, kind, 'column'))}: `column` is implied under `columns:`")
        return None
    try:
        model = check_type.model.model_validate(params)
    except ValidationError as exc:
        for error in exc.errors():
            where = _where(lines, (*path, kind, *error["loc"]))
            errors.append(f"{where}: {error['msg']}")
        return None
    target = column or getattr(model, "column", None)
    if check_type.needs_column and target is None and not getattr(model, "columns", None):
        errors.append(f"{_where(lines, (*path, kind))}: {kind} needs a column (put it under `columns:` or add `column:`)")
        return None
    return DeclaredCheck(type=kind, params=model, column=target, index=index, line=lines.get(path))


def inline_suite(table: str, checks: list[dict[str, Any] | str], filter_sql: str | None = None) -> Suite:
    """A suite from a tool call's `table` and `checks` (the same entries as a suite's `checks:`)."""
    return suite_from_data({"table": table, "checks": checks, **({"filter": filter_sql} if filter_sql else {})})


def check_definition(suite: Suite, check: DeclaredCheck) -> str:
    """One check of a suite as a one-check suite (JSON) that compiles to the same statements."""
    params = check.params.model_dump(mode="json", exclude_unset=True, by_alias=False)
    entry = {check.type: params}
    data: dict[str, Any] = {"table": suite.table}
    if suite.filter is not None:
        data["filter"] = suite.filter
    if check.column is not None and "column" not in params:  # declared under `columns:`
        data["columns"] = {check.column: [entry]}
    else:
        data["checks"] = [entry]
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def suite_json_schema() -> dict[str, Any]:
    """The published JSON Schema of a suite, generated from the parameter models."""
    definitions: dict[str, Any] = {}
    entries = []
    for kind, check_type in CHECK_TYPES.items():
        schema = check_type.model.model_json_schema(by_alias=False)
        definitions.update(schema.pop("$defs", {}))
        if issubclass(check_type.model, RowThresholds) and not issubclass(check_type.model, RangeThresholds):
            schema["properties"]["max"] = {**schema["properties"]["fail_above"], "description": "Same as fail_above."}
        schema["description"] = check_type.summary
        definitions[kind] = schema
        entries.append({"type": "object", "properties": {kind: {"$ref": f"#/$defs/{kind}"}},
                        "required": [kind], "additionalProperties": False})
    entry = {"oneOf": entries}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://snowmcp.dev/schemas/quality-suite.json",
        "title": "snowmcp quality suite",
        "type": "object",
        "required": ["table"],
        "additionalProperties": False,
        "properties": {
            "table": {"type": "string", "description": "DATABASE.SCHEMA.TABLE"},
            "name": {"type": "string"},
            "filter": {"type": "string", "description": "A SQL row condition every check applies."},
            "as_of": {"type": "string", "format": "date-time", "description": "'now' for freshness checks."},
            "checks": {"type": "array", "items": {"$ref": "#/$defs/check"}},
            "columns": {"type": "object", "additionalProperties": {"type": "array", "items": {"$ref": "#/$defs/check"}}},
        },
        "$defs": {"check": entry, **definitions},
    }


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(suite_json_schema(), indent=2) + "\n")
