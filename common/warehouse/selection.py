"""Which warehouse a server talks to: `SNOWMCP_WAREHOUSE` / `--warehouse`.

    demo                         the embedded DuckDB demo warehouse (built on first use)
    duckdb:///path/NAME.duckdb   a local DuckDB file (its database is NAME)
    snowflake://                 Snowflake's default connection (connections.toml / SNOWFLAKE_*)
    snowflake://<connection>     a named connection from Snowflake's connections.toml
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio

from snowmcp.common.errors import ConfigError
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.base import Warehouse

_FORMS = "demo, duckdb:///path/NAME.duckdb, snowflake:// or snowflake://<connection_name>"


@dataclass(frozen=True)
class WarehouseSpec:
    kind: Literal["demo", "duckdb", "snowflake"]
    path: Path | None = None
    connection_name: str | None = None


def parse_warehouse_url(url: str) -> WarehouseSpec:
    text = url.strip()
    if text.lower() == "demo":
        return WarehouseSpec("demo")
    scheme, sep, rest = text.partition("://")
    scheme = scheme.lower()
    if sep and scheme == "duckdb":
        if not rest:
            raise ConfigError(f"warehouse {url!r} names no file", hint=f"Use one of: {_FORMS}.")
        return WarehouseSpec("duckdb", path=Path(rest).expanduser())
    if sep and scheme == "snowflake":
        name = rest.strip("/") or None
        if name is not None and ("/" in name or "?" in name):
            raise ConfigError(f"warehouse {url!r}: expected snowflake://<connection_name>", hint=f"Use one of: {_FORMS}.")
        return WarehouseSpec("snowflake", connection_name=name)
    raise ConfigError(f"unknown warehouse {url!r}", hint=f"Use one of: {_FORMS}.")


async def open_warehouse(settings: Settings) -> Warehouse:
    """Open the configured warehouse (blocking work runs in a worker thread)."""
    spec = parse_warehouse_url(settings.warehouse)
    if spec.kind == "snowflake":
        from snowmcp.common.warehouse.snowflake import SnowflakeWarehouse  # imports the connector only now

        return await SnowflakeWarehouse.open(spec.connection_name, settings)

    def open_duckdb() -> Warehouse:
        from snowmcp.common.concurrency import WorkerPools
        from snowmcp.common.warehouse.duckdb import DuckDBWarehouse
        from snowmcp.common.warehouse.duckdb_engine import EngineConfig

        engine, pools = EngineConfig.from_settings(settings), WorkerPools.from_settings(settings)
        if spec.kind == "demo":
            from snowmcp.common.demo_warehouse import ensure_demo_warehouse

            return DuckDBWarehouse(ensure_demo_warehouse(settings.state_path), engine, pools)
        assert spec.path is not None
        return DuckDBWarehouse(spec.path, engine, pools)

    return await anyio.to_thread.run_sync(open_duckdb)
