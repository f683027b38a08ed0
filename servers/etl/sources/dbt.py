"""The dbt source: `manifest.json` gives the pipelines (models, tests, seeds, snapshots) and their
dependencies; `run_results.json` gives the runs of the last invocation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from snowmcp.common.errors import ConfigError
from snowmcp.servers.etl.models import Pipeline, PipelineRun
from snowmcp.servers.etl.sources.base import Catalog, RunPage, RunQuery, duration, page_of, summarize
from snowmcp.servers.etl.timeutil import iso, to_datetime

KINDS = {"model": "dbt_model", "test": "dbt_test", "seed": "dbt_seed", "snapshot": "dbt_snapshot"}
STATUS = {"success": "success", "pass": "success", "warn": "warn", "fail": "failed", "error": "failed",
          "runtime error": "failed", "skipped": "skipped", "no-op": "skipped", "partial success": "partial"}
HINT = "Point SNOWMCP_DBT_TARGET_DIR at a dbt target/ folder after `dbt build` (or run/test)."


class DbtSource:
    name = "dbt"

    def __init__(self, target_dir: Path) -> None:
        self.target_dir = target_dir.expanduser()
        self._loaded: tuple[tuple[float, float], list[Pipeline], list[PipelineRun]] | None = None

    def _read(self, name: str) -> dict[str, Any]:
        path = self.target_dir / name
        if not self.target_dir.is_dir():
            raise ConfigError(f"dbt target folder {self.target_dir} does not exist", hint=HINT)
        if not path.is_file():
            raise ConfigError(f"dbt artifact {path} is missing", hint=HINT)
        try:
            data = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"dbt artifact {path} is not valid JSON ({exc})", hint=HINT) from None
        if not isinstance(data, dict):
            raise ConfigError(f"dbt artifact {path} is not a JSON object", hint=HINT)
        return data

    def load(self) -> tuple[list[Pipeline], list[PipelineRun]]:
        """Parse both artifacts (again only when a file changed)."""
        stamp = tuple((self.target_dir / n).stat().st_mtime if (self.target_dir / n).exists() else 0.0
                      for n in ("manifest.json", "run_results.json"))
        if self._loaded is not None and self._loaded[0] == stamp:
            return self._loaded[1], self._loaded[2]
        manifest, results = self._read("manifest.json"), self._read("run_results.json")
        for what, data, key in (("manifest.json", manifest, "nodes"), ("run_results.json", results, "results")):
            if key not in data:
                raise ConfigError(f"dbt artifact {self.target_dir / what} has no `{key}`: not a dbt {what}", hint=HINT)
        pipelines = _pipelines(manifest)
        runs = _runs(results, {p.id: p for p in pipelines})
        self._loaded = (stamp, pipelines, runs)  # type: ignore[assignment]
        return pipelines, runs

    async def catalog(self) -> Catalog:
        pipelines, runs = self.load()
        return summarize(pipelines, runs)

    async def runs(self, query: RunQuery) -> RunPage:
        return page_of(self.load()[1], query)


def _relation(node: dict[str, Any]) -> str | None:
    relation = node.get("relation_name")
    if not relation:
        return None
    return ".".join(part.strip('"`') for part in relation.split("."))


def _pipelines(manifest: dict[str, Any]) -> list[Pipeline]:
    nodes = {k: v for k, v in manifest["nodes"].items() if v.get("resource_type") in KINDS}
    pipelines = []
    for unique_id, node in sorted(nodes.items()):
        config = node.get("config") or {}
        meta = {**(node.get("meta") or {}), **(config.get("meta") or {})}
        upstream = [d for d in (node.get("depends_on") or {}).get("nodes", []) if d in nodes]
        relation = _relation(node) if node["resource_type"] != "test" else None
        pipelines.append(Pipeline(
            id=unique_id, name=node.get("name", unique_id), kind=KINDS[node["resource_type"]],  # type: ignore[arg-type]
            source="dbt", targets=[relation] if relation else [], upstream=upstream,
            owner=meta.get("owner"), description=node.get("description") or None,
            schedule=None))
    return pipelines


def _runs(results: dict[str, Any], pipelines: dict[str, Pipeline]) -> list[PipelineRun]:
    metadata = results.get("metadata") or {}
    invocation = metadata.get("invocation_id") or "dbt"
    finished = to_datetime(metadata.get("generated_at"))
    invoked = iso(to_datetime(metadata.get("invocation_started_at") or metadata.get("generated_at")))
    status_of: dict[str, str] = {}
    runs = []
    for result in results["results"]:
        unique_id = result.get("unique_id")
        if not unique_id:
            continue
        raw = str(result.get("status") or "").lower()
        status = STATUS.get(raw, "failed" if "error" in raw else "skipped")
        pipeline = pipelines.get(unique_id)
        if status == "skipped" and pipeline is not None and any(
                status_of.get(up) in ("failed", "upstream_failed") for up in pipeline.upstream):
            status = "upstream_failed"
        status_of[unique_id] = status
        timing = result.get("timing") or []
        start = min((t for t in (to_datetime(x.get("started_at")) for x in timing) if t), default=None)
        end = max((t for t in (to_datetime(x.get("completed_at")) for x in timing) if t), default=None)
        if not timing:  # skipped: dbt recorded no time; it was decided by the end of the invocation
            end = finished
        adapter = result.get("adapter_response") or {}
        message = result.get("message")
        failed_upstream = [up for up in (pipeline.upstream if pipeline else []) if status_of.get(up) in
                           ("failed", "upstream_failed")]
        if status == "upstream_failed":
            message = f"skipped because upstream {', '.join(failed_upstream)} failed"
        runs.append(PipelineRun(
            run_id=f"{invocation}:{unique_id}", pipeline_id=unique_id, source="dbt",
            status=status,  # type: ignore[arg-type]
            raw_status=result.get("status"), scheduled_at=invoked, started_at=iso(start), ended_at=iso(end),
            duration_s=duration(start, end),
            rows_loaded=adapter.get("rows_affected") if isinstance(adapter.get("rows_affected"), int) else None,
            error_code=str(adapter["code"]) if status in ("failed",) and adapter.get("code") else None,
            error_message=message if status not in ("success",) else None,
            query_id=adapter.get("query_id")))
    return runs
