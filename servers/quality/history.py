"""Where check results live between runs: a local DuckDB state file.

The servers open warehouses read-only, so history goes to
`$SNOWMCP_STATE_DIR/quality/history.duckdb` (one file per machine, shared by
every quality server process). DuckDB allows one process at a time on a file,
so a server opens it on demand, keeps it open while it is busy, and closes it
after `idle_close_s` without use; a process that finds it held retries for up
to `lock_wait_s`.
Rows are keyed by the warehouse's identity, so demo and Snowflake histories
never mix. Results of a run are written in one transaction after the run:
what was measured is kept even when some checks errored.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anyio

from snowmcp.common.errors import NotFound

log = logging.getLogger("snowmcp.quality.history")
T = TypeVar("T")

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY, warehouse VARCHAR, table_name VARCHAR, suite_name VARCHAR,
        started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, as_of TIMESTAMPTZ,
        passed INTEGER, warned INTEGER, failed INTEGER, errored INTEGER)""",
    """CREATE TABLE IF NOT EXISTS results (
        run_id VARCHAR, warehouse VARCHAR, table_name VARCHAR, check_id VARCHAR, check_name VARCHAR,
        check_type VARCHAR, column_name VARCHAR, status VARCHAR, observed DOUBLE, observed_text VARCHAR,
        unexpected_count BIGINT, unexpected_percent DOUBLE, rows_tested BIGINT, threshold VARCHAR,
        message VARCHAR, sql VARCHAR, failed_rows_sql VARCHAR, duration_ms DOUBLE, severity VARCHAR,
        checked_at TIMESTAMPTZ)""",
    # the check's own definition, from which get_failed_rows recompiles its statement (stored SQL is never run)
    "ALTER TABLE results ADD COLUMN IF NOT EXISTS definition VARCHAR",
    """CREATE TABLE IF NOT EXISTS snapshots (
        warehouse VARCHAR, table_name VARCHAR, taken_at TIMESTAMPTZ, columns VARCHAR)""",
]
_INSERT_BATCH = 100
RESULT_COLUMNS = ("run_id", "warehouse", "table_name", "check_id", "check_name", "check_type", "column_name",
                  "status", "observed", "observed_text", "unexpected_count", "unexpected_percent", "rows_tested",
                  "threshold", "message", "sql", "failed_rows_sql", "duration_ms", "severity", "checked_at",
                  "definition")


@dataclass
class RunRecord:
    run_id: str
    warehouse: str
    table_name: str
    suite_name: str | None
    started_at: dt.datetime
    finished_at: dt.datetime
    as_of: dt.datetime
    totals: dict[str, int]


class HistoryBackend(Protocol):
    """What the runner and the tools need from a history store (local file, warehouse, or both)."""

    kind: str
    location: str

    async def save_run(self, run: RunRecord, results: Sequence[dict[str, Any]],
                       snapshot: dict[str, str] | None) -> SavedAt: ...
    async def observed_history(self, warehouse: str, check_ids: Sequence[str], limit: int) -> dict[str, list[float]]: ...
    async def last_snapshot(self, warehouse: str, table_name: str) -> tuple[dt.datetime, dict[str, str]] | None: ...
    async def result(self, run_id: str, check: str) -> dict[str, Any]: ...
    async def results(self, warehouse: str, *, table_name: str | None, check: str | None, since: dt.datetime | None,
                      limit: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class SavedAt:
    """Where a run was stored, and anything the user should know about it."""

    store: str  # "local" or "warehouse"
    location: str
    note: str | None = None


LOCAL_NOTE = ("History is kept in the local state file (SNOWMCP_STATE_DIR/quality/history.duckdb): the warehouse "
              "is opened read-only; set SNOWMCP_QUALITY_HISTORY_SCHEMA to keep it in a writable Snowflake schema.")


class HistoryStore:
    """Check results, run summaries and schema snapshots in a local DuckDB file."""

    kind = "local"

    def __init__(self, path: Path, *, lock_wait_s: float = 10.0, idle_close_s: float = 2.0) -> None:
        self.path = path
        self.lock_wait_s = lock_wait_s
        self.idle_close_s = idle_close_s
        self._con: Any = None
        self._closer: threading.Timer | None = None
        self._local = threading.Lock()  # one user of the connection at a time within this process
        _OPEN_STORES.add(self)

    @property
    def location(self) -> str:
        return str(self.path)

    async def save_run(self, run: RunRecord, results: Sequence[dict[str, Any]],
                       snapshot: dict[str, str] | None) -> SavedAt:
        def work(con: Any) -> None:
            con.execute("BEGIN")
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
                run.run_id, run.warehouse, run.table_name, run.suite_name, run.started_at, run.finished_at,
                run.as_of, run.totals["pass"], run.totals["warn"], run.totals["fail"], run.totals["error"]])
            row_marks = "(" + ", ".join("?" for _ in RESULT_COLUMNS) + ")"
            for start in range(0, len(results), _INSERT_BATCH):  # multi-row INSERTs: executemany is 3x slower
                chunk = results[start:start + _INSERT_BATCH]
                con.execute(f"INSERT INTO results ({', '.join(RESULT_COLUMNS)}) VALUES {', '.join([row_marks] * len(chunk))}",
                            [row.get(c) for row in chunk for c in RESULT_COLUMNS])
            if snapshot is not None:
                con.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?)",
                            [run.warehouse, run.table_name, run.finished_at, json.dumps(snapshot)])
            con.execute("COMMIT")

        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._run(work)
        return SavedAt("local", self.location, LOCAL_NOTE)

    async def observed_history(self, warehouse: str, check_ids: Sequence[str], limit: int) -> dict[str, list[float]]:
        """Earlier observed values of each check (oldest first, at most `limit`), errors excluded."""
        if not check_ids:
            return {}

        def work(con: Any) -> dict[str, list[float]]:
            rows = con.execute(
                "SELECT check_id, observed FROM (SELECT check_id, observed, checked_at, row_number() OVER "
                "(PARTITION BY check_id ORDER BY checked_at DESC) AS n FROM results WHERE warehouse = ? "
                "AND check_id IN (SELECT unnest(?)) AND status <> 'error' AND observed IS NOT NULL) "
                "WHERE n <= ? ORDER BY check_id, checked_at", [warehouse, list(check_ids), limit]).fetchall()
            found: dict[str, list[float]] = {}
            for check_id, observed in rows:
                found.setdefault(check_id, []).append(observed)
            return found

        return await self._run(work, write=False)

    async def last_snapshot(self, warehouse: str, table_name: str) -> tuple[dt.datetime, dict[str, str]] | None:
        def work(con: Any) -> tuple[dt.datetime, dict[str, str]] | None:
            row = con.execute("SELECT taken_at, columns FROM snapshots WHERE warehouse = ? AND table_name = ? "
                              "ORDER BY taken_at DESC LIMIT 1", [warehouse, table_name]).fetchone()
            return (row[0], json.loads(row[1])) if row else None

        return await self._run(work, write=False)

    async def result(self, run_id: str, check: str) -> dict[str, Any]:
        """One stored result of a run, by check name (or type(column) name)."""
        def work(con: Any) -> list[tuple[Any, ...]]:
            return con.execute(f"SELECT {', '.join(RESULT_COLUMNS)} FROM results WHERE run_id = ? AND check_name = ?",
                               [run_id, check]).fetchall()

        rows = await self._run(work, write=False)
        if not rows:
            names = await self._run(lambda con: con.execute(
                "SELECT check_name FROM results WHERE run_id = ? ORDER BY check_name", [run_id]).fetchall(), write=False)
            if not names:
                raise NotFound(f"no stored run {run_id!r}", hint="run_checks returns a run_id; check_history lists runs.")
            raise NotFound(f"run {run_id} has no check named {check!r}",
                           hint="Checks of that run: " + ", ".join(n[0] for n in names[:50]))
        return dict(zip(RESULT_COLUMNS, rows[0]))

    async def results(self, warehouse: str, *, table_name: str | None, check: str | None, since: dt.datetime | None,
                      limit: int) -> list[dict[str, Any]]:
        def work(con: Any) -> list[tuple[Any, ...]]:
            conditions, params = ["warehouse = ?"], [warehouse]
            for clause, value in (("table_name = ?", table_name), ("check_name = ?", check), ("checked_at >= ?", since)):
                if value is not None:
                    conditions.append(clause)
                    params.append(value)
            return con.execute(f"SELECT {', '.join(RESULT_COLUMNS)} FROM results WHERE {' AND '.join(conditions)} "
                               "ORDER BY checked_at DESC, check_name LIMIT ?", [*params, limit]).fetchall()

        return [dict(zip(RESULT_COLUMNS, row)) for row in await self._run(work, write=False)]

    # -- connection handling ------------------------------------------------

    async def _run(self, work: Callable[[Any], T], *, write: bool = True) -> T:
        return await anyio.to_thread.run_sync(self._with_connection, work, write)

    def _with_connection(self, work: Callable[[Any], T], write: bool) -> T:
        if not write and self._con is None and not self.path.exists():
            return work(_EmptyStore())
        with self._local:
            if self._closer is not None:
                self._closer.cancel()
            if self._con is None:
                self._con = self._open()
            try:
                return work(self._con)
            finally:
                self._closer = threading.Timer(self.idle_close_s, self.close)
                self._closer.daemon = True
                self._closer.start()

    def _open(self) -> Any:
        import duckdb

        deadline = time.monotonic() + self.lock_wait_s
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except duckdb.IOException as exc:  # another process holds the file
                if time.monotonic() > deadline:
                    raise OSError(f"the history file {self.path} is locked by another process") from exc
                time.sleep(0.05)
        for statement in _SCHEMA:
            con.execute(statement)
        return con

    def close(self) -> None:
        """Close the file (after idling, or at shutdown) so other processes can open it."""
        with self._local:
            if self._closer is not None:
                self._closer.cancel()
            if self._con is not None:
                self._con.close()
                self._con = None


_OPEN_STORES: weakref.WeakSet[HistoryStore] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Close every store before the interpreter stops its threads (an idle timer must not do it then)."""
    for store in list(_OPEN_STORES):
        store.close()


class _EmptyStore:
    """Answers reads before the history file exists: nothing stored yet."""

    def execute(self, *_: Any) -> _EmptyStore:
        return self

    def fetchall(self) -> list[Any]:
        return []

    def fetchone(self) -> None:
        return None
