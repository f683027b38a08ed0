"""The etl config files: the SLA file (per pipeline or glob, and per table) and the audit mapping.

SLA file (TOML or JSON; YAML is not supported because pyyaml is not a dependency):

    [pipelines.refresh_revenue_mart]          # a pipeline id or name ...
    expected_by = "05:00"                     # daily deadline, UTC
    max_duration = "30m"
    upstream = ["load_orders"]                # dependencies the source does not record
    owner = "finance-analytics@example.com"
    schedule = "daily 04:00 UTC"

    [pipelines."load_*"]                      # ... or a glob; exact entries win over globs
    max_lag = "26h"

    [tables."ANALYTICS.SALES.ORDERS"]         # freshness SLA of a table (globs work too)
    max_age = "2h"
    owner = "sales-data@example.com"
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowmcp.common.errors import ConfigError
from snowmcp.servers.etl.models import SLA
from snowmcp.servers.etl.timeutil import parse_clock_time, parse_duration

_PIPELINE_KEYS = {"expected_by", "max_lag", "max_duration", "upstream", "owner", "schedule", "description"}
_TABLE_KEYS = {"max_age", "owner"}


@dataclass(frozen=True)
class PipelineConfig:
    sla: SLA | None = None
    upstream: tuple[str, ...] = ()
    owner: str | None = None
    schedule: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class TableSla:
    max_age_s: float
    max_age: str
    owner: str | None = None


@dataclass
class EtlConfig:
    pipelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    origin: str = "no SLA file"

    def for_pipeline(self, pipeline_id: str, name: str) -> PipelineConfig:
        merged: dict[str, Any] = {}
        for key, entry in self.pipelines.items():  # globs first, in file order
            if _is_glob(key) and (fnmatch.fnmatchcase(pipeline_id, key) or fnmatch.fnmatchcase(name, key)):
                merged.update(entry)
        for key in (name, pipeline_id):  # then the exact entries
            merged.update(self.pipelines.get(key, {}))
        if not merged:
            return PipelineConfig()
        sla_fields = {k: merged[k] for k in ("expected_by", "max_lag", "max_duration") if merged.get(k)}
        return PipelineConfig(
            sla=SLA(**sla_fields) if sla_fields else None,
            upstream=tuple(merged.get("upstream", ())),
            owner=merged.get("owner"), schedule=merged.get("schedule"), description=merged.get("description"))

    def for_table(self, table: str) -> TableSla | None:
        folded = table.upper()
        exact = {k.upper(): v for k, v in self.tables.items() if not _is_glob(k)}
        entry = exact.get(folded)
        if entry is None:
            entry = next((v for k, v in self.tables.items()
                          if _is_glob(k) and fnmatch.fnmatchcase(folded, k.upper())), None)
        if entry is None:
            return None
        return TableSla(parse_duration(entry["max_age"]), str(entry["max_age"]), entry.get("owner"))


def _is_glob(key: str) -> bool:
    return any(ch in key for ch in "*?[")


def load_config(path: Path | None) -> EtlConfig:
    """Read and check the SLA file; every mistake names the file and the entry."""
    if path is None:
        return EtlConfig()
    path = path.expanduser()
    if not path.is_file():
        raise ConfigError(f"SLA file {path} does not exist", hint="Fix SNOWMCP_ETL_SLA_FILE or unset it.")
    return parse_config(path.read_text(), path)


def parse_config(text: str, path: Path | str) -> EtlConfig:
    """Check an SLA file's text; `path` names it in errors (its suffix picks TOML or JSON)."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix in (".toml", ""):
            data = tomllib.loads(text)
        else:
            raise ConfigError(f"SLA file {path}: use a .toml or .json file (YAML is not supported)")
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"SLA file {path} is not valid {suffix.lstrip('.').upper() or 'TOML'}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"SLA file {path} must hold a table/object with `pipelines` and/or `tables`")
    unknown = set(data) - {"pipelines", "tables"}
    if unknown:
        raise ConfigError(f"SLA file {path}: unknown section(s) {', '.join(sorted(unknown))}",
                          hint="Only [pipelines.<id or glob>] and [tables.<table or glob>] are read.")
    pipelines = _section(path, data, "pipelines", _PIPELINE_KEYS)
    tables = _section(path, data, "tables", _TABLE_KEYS)
    for key, entry in pipelines.items():
        where = f"SLA file {path}, pipelines.{key}"
        _check(where, lambda: entry.get("expected_by") and parse_clock_time(entry["expected_by"], "expected_by"))
        for name in ("max_lag", "max_duration"):
            _check(where, lambda name=name: entry.get(name) and parse_duration(entry[name], name))
        if not isinstance(entry.get("upstream", []), list):
            raise ConfigError(f"{where}: upstream must be a list of pipeline ids")
    for key, entry in tables.items():
        if "max_age" not in entry:
            raise ConfigError(f"SLA file {path}, tables.{key}: max_age is missing")
        _check(f"SLA file {path}, tables.{key}", lambda entry=entry: parse_duration(entry["max_age"], "max_age"))
    return EtlConfig(pipelines, tables, str(path))


def _section(path: Path | str, data: dict[str, Any], name: str, keys: set[str]) -> dict[str, dict[str, Any]]:
    section = data.get(name, {})
    if not isinstance(section, dict) or not all(isinstance(v, dict) for v in section.values()):
        raise ConfigError(f"SLA file {path}: [{name}] must map names to tables/objects")
    for key, entry in section.items():
        unknown = set(entry) - keys
        if unknown:
            raise ConfigError(f"SLA file {path}, {name}.{key}: unknown key(s) {', '.join(sorted(unknown))}",
                              hint=f"Known keys: {', '.join(sorted(keys))}.")
    return section


def _check(where: str, fn: Any) -> None:
    try:
        fn()
    except Exception as exc:  # InvalidArgument from the parsers, reworded as a config problem
        raise ConfigError(f"{where}: {getattr(exc, 'message', exc)}") from None


def load_json_setting(value: str | None, what: str) -> dict[str, Any]:
    """A JSON object given inline or as a path to a file."""
    if value is None:
        return {}
    text = value
    if not value.lstrip().startswith("{"):
        path = Path(value).expanduser()
        if not path.is_file():
            raise ConfigError(f"{what}: {value} is neither inline JSON nor an existing file")
        text = path.read_text()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} must be a JSON object")
    return data
