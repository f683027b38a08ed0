"""Opening a DuckDB file as a locked engine.

Every DuckDB connection a server answers statements on is opened here:

- read-only, with external access off (no file readers, no `COPY ... TO`, no
  `ATTACH`), extension autoload/autoinstall and community extensions off, and
  Python replacement scans off (a Python variable is never scannable as a table);
- with a memory limit and a thread count from the settings, and without the
  two optimizers that evaluate constant expressions at plan time outside the
  memory limit (`EngineConfig.disabled_optimizers`);
- with temp files (spilled joins, sorts, aggregates) only in a folder under the
  state dir, bounded by `max_temp_directory_size`; by default DuckDB would put
  them in `<warehouse file>.tmp`, beside the user's file. Spilling still works
  with external access off (checked on DuckDB 2.0.1);
- and, once set up, with `lock_configuration` on: no later statement can change
  a setting (`SET`, `RESET`, `PRAGMA`, `enable_logging()`, `enable_profiling()`
  all fail with "the configuration has been locked").

The progress bar is a client setting DuckDB refuses in the connect config; it
is switched off (it would print on stdout, the MCP channel on stdio) before
the lock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowmcp.common.settings import Settings

TEMP_FOLDER = "duckdb_tmp"
log = logging.getLogger("snowmcp.duckdb")


@dataclass(frozen=True)
class EngineConfig:
    """Resource bounds of one DuckDB engine."""

    memory_limit: str = "1GB"
    threads: int = 2
    temp_directory: Path | None = None
    """Where DuckDB may spill; None means the default state dir's `duckdb_tmp`."""
    max_temp_directory_size: str = "2GB"
    disabled_optimizers: str = "expression_rewriter,statistics_propagation"
    """Constant folding and statistics propagation evaluate constant expressions at plan time
    through DuckDB's boxed values, outside `memory_limit`: `SELECT range(10000000)` took
    ~850 MB there and `SELECT repeat('x', 300000000)` ~1.4 GB; without them ~80 MB and ~290 MB.
    Costs 0-20 % on typical aggregates (measured on the demo warehouse)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        return cls(
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
            temp_directory=settings.state_path / TEMP_FOLDER,
            max_temp_directory_size=settings.duckdb_max_temp_directory_size,
            disabled_optimizers=settings.duckdb_disabled_optimizers,
        )

    def temp_path(self) -> Path:
        if self.temp_directory is not None:
            return self.temp_directory.expanduser()
        return Settings().state_path / TEMP_FOLDER


def connect_config(engine: EngineConfig, temp_dir: Path) -> dict[str, Any]:
    """The connect-time config of a locked engine (everything but the lock itself)."""
    return {
        "enable_external_access": False,
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "python_enable_replacements": False,
        "memory_limit": engine.memory_limit,
        "threads": engine.threads,
        "temp_directory": str(temp_dir),
        "max_temp_directory_size": engine.max_temp_directory_size,
        "disabled_optimizers": engine.disabled_optimizers,
    }


class SharedEngine:
    """One locked connection to a DuckDB file, shared by every warehouse of this process on that file.

    DuckDB keeps one database instance per file per process and refuses a second
    connection with another configuration (two servers' settings in one test
    process, say), and a connection joining a locked instance could not switch
    its progress bar off. So the first opener's engine config is kept for the file
    for the life of the process, and its connection serves every warehouse on the
    file; it closes when the last of them, and the last statement still running
    on it (`hold`), let go of it."""

    def __init__(self, con: Any) -> None:
        self.con = con

    @contextmanager
    def hold(self, cursor: Any) -> Iterator[Any]:
        """Use `cursor` (closed afterwards); a statement holding it keeps this engine open, so an
        interrupted statement still winding down never leaves an orphan database instance."""
        with cursor:
            yield cursor

    def __del__(self) -> None:
        try:
            self.con.close()
        except Exception:
            pass


_open: dict[str, weakref.ref[SharedEngine]] = {}
_configs: dict[str, EngineConfig] = {}  # the config each file was first opened with, in this process
_open_lock = threading.Lock()


def open_locked(duckdb: Any, path: Path, engine: EngineConfig) -> SharedEngine:
    """Open `path` read-only as a locked engine (or join the one open already); raises `duckdb.Error`."""
    key = str(path.resolve())
    with _open_lock:
        known = _open.get(key)
        shared = known() if known is not None else None
        if shared is None:
            first = _configs.setdefault(key, engine)
            if first != engine:
                log.debug("DuckDB file %s keeps the engine config it was first opened with", key)
            shared = SharedEngine(_connect(duckdb, path, first))
            _open[key] = weakref.ref(shared)
        return shared


def _connect(duckdb: Any, path: Path, engine: EngineConfig) -> Any:
    temp_dir = engine.temp_path()
    temp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    con = duckdb.connect(str(path), read_only=True, config=connect_config(engine, temp_dir))
    try:
        con.execute("SET enable_progress_bar = false")  # cursors inherit it
        con.execute("SET lock_configuration = true")  # last: nothing can change a setting after this
    except BaseException:
        con.close()
        raise
    return con
