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

A read-only connection still locks the file against writers (dbt gets
"Conflicting lock is held"), so a connection is open only while it is used:
each user takes a use (`open_locked`, `SharedEngine.acquire`) and gives it back
(`release`); the last one given back closes the connection. When the
warehouses let go of the file while idle is `duckdb_lifecycle.py`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
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
    # How a warehouse uses the file, not how the engine is set up: not compared (an engine opened
    # with another idle time is the same engine).
    idle_close_s: float = field(default=2.0, compare=False)
    """Seconds without a running statement after which a warehouse lets go of the file (0: never)."""
    lock_wait_s: float = field(default=10.0, compare=False)
    """Longest a call waits for another process's write lock on the file (never more than its timeout)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineConfig:
        return cls(
            memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
            temp_directory=settings.state_path / TEMP_FOLDER,
            max_temp_directory_size=settings.duckdb_max_temp_directory_size,
            disabled_optimizers=settings.duckdb_disabled_optimizers,
            idle_close_s=settings.duckdb_idle_close_s,
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
    for the life of the process, and one connection serves every warehouse on the
    file. It is counted: each warehouse that keeps the file open, and each call
    running on it (a statement still winding down after an interrupt included),
    holds one use; the connection closes (and the file's lock goes) when the last
    use is given back. Closing the connection would close its cursors under
    running statements, so nothing closes it otherwise."""

    def __init__(self, key: str, con: Any) -> None:
        self.key = key
        self.con = con
        self._uses = 1  # the opener's; guarded by _open_lock

    @property
    def closed(self) -> bool:
        with _open_lock:
            return self._uses == 0

    def acquire(self) -> None:
        """One more use; only while the engine is open (a caller holds a use already)."""
        with _open_lock:
            if self._uses == 0:
                raise RuntimeError("the DuckDB engine is closed")
            self._uses += 1

    def release(self) -> None:
        """Give back one use; the last one closes the connection."""
        with _open_lock:
            if self._uses == 0:
                return
            self._uses -= 1
            if self._uses:
                return
            if _open.get(self.key) is self:
                del _open[self.key]
            try:
                self.con.close()
            except Exception:  # already gone with the process' teardown
                pass
            log.debug("DuckDB file %s closed", self.key)


_open: dict[str, SharedEngine] = {}  # the open engine of each file, while it has uses
_configs: dict[str, EngineConfig] = {}  # the config each file was first opened with, in this process
_open_lock = threading.Lock()


def open_locked(duckdb: Any, path: Path, engine: EngineConfig) -> SharedEngine:
    """Open `path` read-only as a locked engine, or join the one open already, taking one use of it
    (give it back with `release()`); raises `duckdb.Error` (a writer's lock: `IOException`)."""
    key = str(path.resolve())
    with _open_lock:
        shared = _open.get(key)
        if shared is not None:
            shared._uses += 1
            return shared
        first = _configs.setdefault(key, engine)
        if first != engine:
            log.debug("DuckDB file %s keeps the engine config it was first opened with", key)
        shared = _open[key] = SharedEngine(key, _connect(duckdb, path, first))
        log.debug("DuckDB file %s opened", key)
        return shared


def is_open(path: Path) -> bool:
    """Whether this process has `path` open (for tests and logs)."""
    with _open_lock:
        return str(path.resolve()) in _open


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
