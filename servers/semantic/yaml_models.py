"""MetricFlow YAML for teams without dbt: files in, a validated semantic manifest out.

Two spellings are read, both MetricFlow's objects:

- dbt-style lists: a document with `semantic_models:`, `metrics:`, `saved_queries:`
  and `time_spines:` lists (the shape dbt users already write), where a semantic
  model names its table directly (`table: ANALYTICS.SALES.ORDERS`, or MetricFlow's
  `node_relation:`); ratio inputs and derived inputs may be plain names;
- MetricFlow's own: one `semantic_model:`, `metric:`, `saved_query:` or
  `project_configuration:` per `---` document.

Every file is held to a byte budget and read with anchors and aliases refused
(`common.safe_yaml`) before MetricFlow parses it; the lists are re-emitted as
MetricFlow's one-object documents. Parsing, transformation and validation are
MetricFlow's (`parse_yaml_files_to_validation_ready_semantic_manifest`,
`SemanticManifestValidator`); errors come back as one `ConfigError` naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from snowmcp.common.errors import ConfigError
from snowmcp.common.safe_yaml import check_events, load_all

MAX_FILE_BYTES = 1_000_000
MAX_FILES = 500
MAX_TOTAL_BYTES = 20_000_000
_LISTS = {"semantic_models": "semantic_model", "metrics": "metric", "saved_queries": "saved_query"}
_SINGLES = ("semantic_model", "metric", "saved_query", "project_configuration")
_HINT = ("Semantic model files are YAML with semantic_models:, metrics: and time_spines: lists "
         "(or MetricFlow's semantic_model:/metric:/project_configuration: documents).")
TIME_SPINE_EXAMPLE = ("time_spines:\n  - table: ANALYTICS.UTIL.ALL_DAYS\n    primary_column: "
                      "{name: DATE_DAY, time_granularity: day}")


def yaml_files(path: Path) -> list[Path]:
    """The .yml/.yaml files of `path` (a file, or a folder searched recursively, hidden ones skipped)."""
    path = path.expanduser()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ConfigError(f"SNOWMCP_SEMANTIC_MODELS names {path}, which does not exist",
                          hint="Point it at a YAML file or a folder of them.")
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not files:
        raise ConfigError(f"no .yml or .yaml files in {path}", hint=_HINT)
    if len(files) > MAX_FILES:
        raise ConfigError(f"{path} holds {len(files)} YAML files; the limit is {MAX_FILES}")
    return files


def read_documents(files: Sequence[Path], root: Path) -> list[tuple[str, str]]:
    """(name, text) of every MetricFlow object document in the files, budgets and YAML safety checked."""
    total = 0
    documents: list[tuple[str, str]] = []
    for file in files:
        name = str(file.relative_to(root)) if file != root and root.is_dir() else file.name
        size = file.stat().st_size
        total += size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"semantic model file {name} is {size:,} bytes; the limit is {MAX_FILE_BYTES:,}")
        if total > MAX_TOTAL_BYTES:
            raise ConfigError(f"the semantic model files pass {MAX_TOTAL_BYTES:,} bytes together")
        try:
            text = file.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"semantic model file {name} is not UTF-8 text") from None
        what = f"semantic model file {name}"
        check_events(text, what=what, hint=_HINT)
        for data in load_all(text, what=what, hint=_HINT):
            documents.extend((name, doc) for doc in _object_documents(data, name))
    return documents


def _object_documents(data: Any, name: str) -> list[str]:
    """One MetricFlow object document (YAML text) per object in one parsed document."""
    import yaml

    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigError(f"semantic model file {name}: a document must be a mapping", hint=_HINT)
    unknown = set(data) - set(_LISTS) - set(_SINGLES) - {"time_spines", "version"}
    if unknown:
        raise ConfigError(f"semantic model file {name}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}",
                          hint=_HINT)
    objects: list[dict[str, Any]] = []
    for plural, singular in _LISTS.items():
        items = data.get(plural) or []
        if not isinstance(items, list):
            raise ConfigError(f"semantic model file {name}: {plural} must be a list", hint=_HINT)
        objects.extend({singular: _shorthands(singular, item, name)} for item in items)
    objects.extend({key: _shorthands(key, data[key], name)} for key in _SINGLES if key in data)
    if "time_spines" in data:
        spines = data["time_spines"]
        if not isinstance(spines, list):
            raise ConfigError(f"semantic model file {name}: time_spines must be a list", hint=_HINT)
        objects.append({"project_configuration": {"time_spines": [_with_relation(s, name) for s in spines]}})
    return [yaml.safe_dump(obj, sort_keys=False) for obj in objects]


def _shorthands(kind: str, item: Any, name: str) -> Any:
    """dbt users' spellings MetricFlow's parser does not take: `table:` and plain input names."""
    if not isinstance(item, dict):
        raise ConfigError(f"semantic model file {name}: each {kind} must be a mapping", hint=_HINT)
    item = dict(item)
    if kind == "semantic_model":
        if "model" in item and "node_relation" not in item and "table" not in item:
            raise ConfigError(f"semantic model file {name}: semantic model {item.get('name')!s:.60} uses `model:`, "
                              "which only dbt can resolve", hint="Name the table: `table: DATABASE.SCHEMA.TABLE`.")
        return _with_relation(item, name)
    if kind == "metric" and isinstance(item.get("type_params"), dict):
        params = dict(item["type_params"])
        for side in ("numerator", "denominator"):
            if isinstance(params.get(side), str):
                params[side] = {"name": params[side]}
        if isinstance(params.get("metrics"), list):
            params["metrics"] = [{"name": m} if isinstance(m, str) else m for m in params["metrics"]]
        item["type_params"] = params
    if kind == "project_configuration" and isinstance(item.get("time_spines"), list):
        item["time_spines"] = [_with_relation(s, name) for s in item["time_spines"]]
    return item


def _with_relation(item: Any, name: str) -> Any:
    """`table: DB.SCHEMA.NAME` (or SCHEMA.NAME) as MetricFlow's `node_relation`."""
    if not isinstance(item, dict) or "table" not in item:
        return item
    item = dict(item)
    table = item.pop("table")
    parts = table.split(".") if isinstance(table, str) else []
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"semantic model file {name}: table {str(table)[:80]!r} must be SCHEMA.TABLE or "
                          "DATABASE.SCHEMA.TABLE")
    *database, schema, alias = parts
    item["node_relation"] = {"alias": alias, "schema_name": schema, **({"database": database[0]} if database else {})}
    return item
