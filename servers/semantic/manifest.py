"""Where the certified metrics come from, and MetricFlow's validated manifest built from them.

In order of precedence:
1. `SNOWMCP_SEMANTIC_MODELS` — MetricFlow YAML (a file or a folder), see `yaml_models`;
2. `SNOWMCP_DBT_TARGET_DIR` — `semantic_manifest.json` as `dbt parse` writes it (the folder
   itself or its `target/`);
3. the demo warehouse — the demo's semantic models (`servers/semantic/demo_models`);
4. otherwise none: every tool answers a `ConfigError` saying what to set.

A manifest is validated by MetricFlow's own validator; its errors are a `ConfigError`
the tools report on every call (the server still starts, so the host shows why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowmcp.common.errors import ConfigError, InvalidArgument
from snowmcp.common.settings import Settings

log = logging.getLogger("snowmcp.semantic")

MAX_MANIFEST_BYTES = 100_000_000
_SHOWN_ISSUES = 5


@dataclass(frozen=True)
class ManifestSource:
    kind: str  # "yaml" or "dbt"
    path: Path


@dataclass(frozen=True)
class LoadedManifest:
    manifest: Any  # metricflow_semantic_interfaces PydanticSemanticManifest
    source: ManifestSource


def manifest_source(settings: Settings) -> ManifestSource | None:
    """The configured MetricFlow source, or None."""
    if settings.semantic_models is not None:
        return ManifestSource("yaml", settings.semantic_models.expanduser())
    if settings.dbt_target_dir is not None:
        folder = settings.dbt_target_dir.expanduser()
        for candidate in (folder / "semantic_manifest.json", folder / "target" / "semantic_manifest.json"):
            if candidate.is_file():
                return ManifestSource("dbt", candidate)
        raise ConfigError(f"no semantic_manifest.json in {folder}",
                          hint="Run `dbt parse` in the dbt project (it writes target/semantic_manifest.json), "
                               "or point SNOWMCP_DBT_TARGET_DIR at that target/ folder.")
    if settings.warehouse == "demo":
        from snowmcp.servers.semantic.demo import install_demo_models, models_folder

        folder = models_folder(settings.state_path)
        install_demo_models(folder)
        return ManifestSource("yaml", folder)
    return None


def load_manifest(source: ManifestSource) -> LoadedManifest:
    """Parse, transform and validate the source with MetricFlow (CPU work: run it off the event loop)."""
    try:
        manifest = _dbt_manifest(source.path) if source.kind == "dbt" else _yaml_manifest(source.path)
    except InvalidArgument as exc:  # a YAML problem of an operator's file: configuration, not an argument
        raise ConfigError(str(exc), hint=exc.hint) from None
    from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator

    _alias_self_ratios(manifest)

    results = SemanticManifestValidator().validate_semantic_manifest(manifest)
    for warning in results.warnings[:_SHOWN_ISSUES]:  # mostly about MetricFlow's own transformations
        log.debug("semantic manifest %s: %s", source.path, warning.message)
    if results.has_blocking_issues:
        raise _invalid_manifest(source, [issue.message for issue in results.errors])
    return LoadedManifest(manifest, source)


def _alias_self_ratios(manifest: Any) -> None:
    """Give a ratio of one metric over itself (`orders` filtered to cancelled / all `orders`) distinct input
    aliases. Without them MetricFlow 0.213 renders both sides from the same subquery and answers 1.0 —
    a wrong figure, not an error (tests/servers/semantic/test_known_answers.py shows it)."""
    for metric in manifest.metrics:
        params = metric.type_params
        numerator, denominator = params.numerator, params.denominator
        if numerator is None or denominator is None or numerator.name != denominator.name:
            continue
        if (numerator.alias or numerator.name) == (denominator.alias or denominator.name):
            numerator.alias = f"{numerator.name}_numerator"
            if denominator.alias is None:
                denominator.alias = f"{denominator.name}_denominator"


def _dbt_manifest(path: Path) -> Any:
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest

    size = path.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise ConfigError(f"{path} is {size:,} bytes; the limit is {MAX_MANIFEST_BYTES:,}")
    try:
        return parse_manifest_from_dbt_generated_manifest(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as exc:  # pydantic's ValidationError is a ValueError
        raise ConfigError(f"{path} is not a semantic manifest MetricFlow can read: {_first_line(exc)}",
                          hint="Regenerate it with `dbt parse` (dbt-core 1.10 or newer).") from None


def _yaml_manifest(path: Path) -> Any:
    from metricflow_semantic_interfaces.errors import ParsingException
    from metricflow_semantic_interfaces.parsing.dir_to_model import parse_yaml_files_to_validation_ready_semantic_manifest
    from metricflow_semantic_interfaces.parsing.objects import YamlConfigFile

    from snowmcp.servers.semantic.yaml_models import TIME_SPINE_EXAMPLE, read_documents, yaml_files

    documents = read_documents(yaml_files(path), path)
    spines = sum("project_configuration:" in text.split("\n", 1)[0] for _, text in documents)
    if spines != 1:
        raise ConfigError(f"the semantic models in {path} declare {spines} time spine configurations; "
                          "MetricFlow needs exactly one", hint=f"Declare the time spine once, e.g.\n{TIME_SPINE_EXAMPLE}")
    files = [YamlConfigFile(filepath=name, contents=text) for name, text in documents]
    try:
        result = parse_yaml_files_to_validation_ready_semantic_manifest(files, raise_issues_as_exceptions=False)
    except ParsingException as exc:
        raise ConfigError(f"MetricFlow cannot parse the semantic models in {path}: {_first_line(exc)}") from None
    if result.issues.has_blocking_issues:
        raise _invalid_manifest(ManifestSource("yaml", path),
                                [_located(issue) for issue in result.issues.errors])
    return result.semantic_manifest


def _located(issue: Any) -> str:
    context = getattr(issue, "context", None)
    file_context = getattr(context, "file_context", context)
    name = getattr(file_context, "file_name", None)
    lines = [line.strip() for line in str(issue.message).splitlines() if line.strip()][:2]
    message = " ".join(lines)[:400]
    return f"{name}: {message}" if name else message


def _invalid_manifest(source: ManifestSource, messages: list[str]) -> ConfigError:
    shown = "; ".join(m[:400] for m in messages[:_SHOWN_ISSUES])
    more = f" (and {len(messages) - _SHOWN_ISSUES} more)" if len(messages) > _SHOWN_ISSUES else ""
    return ConfigError(f"the semantic models in {source.path} are not valid: {shown}{more}",
                       hint="Fix the definitions; MetricFlow's validator names each problem.")


def _first_line(value: object) -> str:
    text = str(value).strip()
    return (text.splitlines() or [""])[0][:300]
