"""The server's one semantic layer: loaded on first use, loaded again when its files change.

Loading is lazy so that the server starts (and the host lists its tools) even when
the semantic models are missing or invalid; every call then answers the same
`ConfigError`, and once the files are fixed the next call loads them. A dbt
`semantic_manifest.json` rewritten by `dbt parse`, or an edited YAML file, is picked
up by its size and modification time, checked at most once a second.
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio

from snowmcp.common.errors import ConfigError
from snowmcp.common.runtime import ServerRuntime
from snowmcp.servers.semantic.layer import SemanticLayer
from snowmcp.servers.semantic.manifest import ManifestSource, load_manifest, manifest_source

_RECHECK_S = 1.0
_NO_SOURCE_HINT = ("Set SNOWMCP_SEMANTIC_MODELS to MetricFlow YAML, or SNOWMCP_DBT_TARGET_DIR to a dbt target/ "
                   "folder after `dbt parse`.")


class LayerLoader:
    def __init__(self, runtime: ServerRuntime) -> None:
        self._runtime = runtime
        self._lock = anyio.Lock()
        self._layer: SemanticLayer | None = None
        self._fingerprint: tuple[object, ...] | None = None
        self._checked = 0.0

    async def layer(self) -> SemanticLayer:
        async with self._lock:
            if self._layer is not None and time.monotonic() - self._checked < _RECHECK_S:
                return self._layer
            source = manifest_source(self._runtime.settings)
            fingerprint = await self._runtime.off_loop(lambda: _fingerprint(source))
            self._checked = time.monotonic()
            if self._layer is None or fingerprint != self._fingerprint:
                self._layer = await self._load(source)
                self._fingerprint = fingerprint
            return self._layer

    async def _load(self, source: ManifestSource | None) -> SemanticLayer:
        warehouse = await self._runtime.warehouse()
        if source is None:  # Snowflake semantic views are not read yet (see the README)
            raise ConfigError("no semantic models are configured", hint=_NO_SOURCE_HINT)
        from snowmcp.servers.semantic.metricflow_layer import MetricFlowLayer

        def build() -> SemanticLayer:
            return MetricFlowLayer(load_manifest(source), warehouse.dialect)

        return await self._runtime.off_loop(build)


def _fingerprint(source: ManifestSource | None) -> tuple[object, ...]:
    if source is None:
        return ()
    path = source.path
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
    return tuple((str(f), *_stat(f)) for f in files)


def _stat(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return (info.st_size, info.st_mtime_ns)
