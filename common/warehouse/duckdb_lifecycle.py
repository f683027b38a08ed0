"""When a DuckDB warehouse has its file open: for its calls, and then for a short idle time.

A read-only DuckDB connection still locks the file: while a server keeps it
open, `dbt build` on the same file fails with "Conflicting lock is held". So a
warehouse opens the file when a call needs it and lets go of it once no call of
its own has run for `idle_close_s` seconds (`SNOWMCP_DUCKDB_IDLE_CLOSE_S`; 0
keeps it open). The next call opens it again with the same locked engine
(`duckdb_engine.open_locked`).

- A call holds a `Lease` from before its statement starts until the work in
  the worker thread really ends (a statement winding down after an interrupt
  included), so neither a running statement nor its fetch is ever closed under
  it; the idle time starts when the last lease ends.
- If a writer holds the file's lock when a call needs it, the call retries for
  at most `lock_wait_s` (never past its own timeout), then fails with
  `DuckDBFileLocked`, which names the lock and what to do. It never hangs.
- The file's signature (inode, size, mtime of the file and its WAL) is taken at
  each open. While the file is open nobody can write it (our read lock), so the
  signature changes only while it is closed: `version()` gives the signature of
  the open file, or of the file on disk while closed, and the result cache keys
  on it (`ServerRuntime.query`), so a result read before a write is never
  served after it. `on_change` runs when a reopen finds the file changed.

`Clock` is the one source of time (the retry pauses and the idle timer), so
tests drive both without waiting.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio

from snowmcp.common.errors import WarehouseUnavailable
from snowmcp.common.warehouse.duckdb_engine import SharedEngine

log = logging.getLogger("snowmcp.duckdb")
RETRY_INTERVAL_S = 0.25
Signature = tuple[Any, ...]


class Clock:
    """Real time: `monotonic`, an async `sleep`, and `call_later` on a timer thread."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` in a thread after `delay_s`; returns a function that cancels it."""
        timer = threading.Timer(delay_s, fn)
        timer.name, timer.daemon = "snowmcp-duckdb-idle", True
        timer.start()
        return timer.cancel


class DuckDBFileLocked(WarehouseUnavailable):
    """Another process holds the DuckDB file's write lock (dbt, a notebook) for longer than a call waits."""

    hint = ("The file is being written by another process (a dbt build?); try again when it has finished. "
            "The server only reads the file and lets go of it when idle.")


def is_lock_conflict(exc: BaseException) -> bool:
    """DuckDB's error for a file another process holds locked."""
    return "Conflicting lock is held" in str(exc) or "Could not set lock on file" in str(exc)


def file_signature(path: Path) -> Signature:
    """What changes when any process writes `path` (and its WAL): inode, size and mtime of each."""
    parts: list[Any] = []
    for each in (path, path.with_name(path.name + ".wal")):
        try:
            st = os.stat(each)
        except FileNotFoundError:
            parts.append(None)
        else:
            parts.append((st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(parts)


class Lease:
    """One call's use of the open engine: taken on the event loop, ended by the worker thread.

    `start()` (in the thread) claims it; `abandon()` (on the loop, after the call returned or
    gave up) ends it only if the work never started, since work that started ends it itself."""

    def __init__(self, handle: FileHandle, engine: SharedEngine) -> None:
        self.engine = engine
        self._handle = handle
        self._state = "pending"
        self._lock = threading.Lock()

    def start(self) -> bool:
        with self._lock:
            if self._state != "pending":
                return False
            self._state = "running"
            return True

    def end(self) -> None:
        with self._lock:
            if self._state == "done":
                return
            self._state = "done"
        self._handle._ended(self.engine)

    def abandon(self) -> bool:
        """End the lease if its work never started; True if it did so."""
        with self._lock:
            if self._state != "pending":
                return False
            self._state = "done"
        self._handle._ended(self.engine)
        return True


class FileHandle:
    """The DuckDB file of one warehouse: opened for calls, let go of after `idle_close_s` idle."""

    def __init__(self, path: Path, open_engine: Callable[[], SharedEngine], *, idle_close_s: float,
                 lock_wait_s: float, clock: Clock | None = None,
                 on_change: Callable[[], None] = lambda: None) -> None:
        self.path = path
        self.idle_close_s = idle_close_s
        self.lock_wait_s = lock_wait_s
        self.clock = clock or Clock()
        self.opens = 0  # connections this handle opened (or joined): for logs and tests
        self._open_engine = open_engine
        self._on_change = on_change
        self._lock = threading.Lock()  # the state below
        self._open_mutex = threading.Lock()  # one open attempt at a time
        self._warm: SharedEngine | None = None  # the use that keeps the file open between calls
        self._signature: Signature | None = None  # of the file when it was last opened
        self._running = 0
        self._idle_due = 0.0  # when the file may be let go of, if no call runs by then
        self._cancel_idle: Callable[[], None] | None = None  # the one armed timer, if any
        self._closed = False

    @property
    def engine(self) -> SharedEngine | None:
        """The open engine, or None while the file is let go of."""
        return self._warm

    @property
    def running(self) -> int:
        return self._running

    def version(self) -> Signature:
        """The file's signature: as opened while open, as on disk while let go of."""
        with self._lock:
            if self._warm is not None and self._signature is not None:
                return self._signature
        return file_signature(self.path)

    # -- leases ------------------------------------------------------------

    async def lease(self, wait_s: float, run_blocking: Callable[[Callable[[], Any]], Awaitable[Any]]) -> Lease:
        """A lease on the open engine, opening the file if needed (off the loop, by `run_blocking`).

        A writer's lock is waited out for at most `min(lock_wait_s, wait_s)`, then `DuckDBFileLocked`.
        Other open failures come back as the driver's exception."""
        deadline = self.clock.monotonic() + min(self.lock_wait_s, wait_s)
        waited = False
        while True:
            with self._lock:
                if self._closed:
                    raise WarehouseUnavailable("the DuckDB warehouse is closed", transient=False)
                if self._warm is not None:
                    self._warm.acquire()
                    self._running += 1  # an armed timer finds a call running and lets it be
                    if waited:
                        log.info("DuckDB file %s: the writer's lock is gone, answering", self.path)
                    return Lease(self, self._warm)
            try:
                await run_blocking(self.open_now)
            except Exception as exc:
                if not is_lock_conflict(exc):
                    raise
                now = self.clock.monotonic()
                if now >= deadline:
                    raise self._locked_error(exc, waited_s=min(self.lock_wait_s, wait_s)) from None
                if not waited:
                    log.info("DuckDB file %s is locked by a writer; waiting up to %.1f s",
                             self.path, deadline - now)
                    waited = True
                await self.clock.sleep(min(RETRY_INTERVAL_S, deadline - now))

    def open_now(self) -> None:
        """Open the file unless it is open (blocking; raises the driver's error)."""
        with self._open_mutex:
            with self._lock:
                if self._closed:
                    raise WarehouseUnavailable("the DuckDB warehouse is closed", transient=False)
                if self._warm is not None:
                    return
            engine = self._open_engine()
            signature = file_signature(self.path)  # stable from here: our read lock keeps writers out
            with self._lock:
                if self._closed:
                    engine.release()
                    raise WarehouseUnavailable("the DuckDB warehouse is closed", transient=False)
                changed = self._signature is not None and signature != self._signature
                self._warm, self._signature = engine, signature
                self.opens += 1
                self._start_idle_timer()
        if changed:
            log.info("DuckDB file %s changed while it was closed: reading it afresh", self.path)
            self._on_change()

    def _ended(self, engine: SharedEngine) -> None:
        engine.release()
        with self._lock:
            self._running -= 1
            self._start_idle_timer()

    # -- idle --------------------------------------------------------------

    def _start_idle_timer(self) -> None:
        """(Under `_lock`.) With no call running, let go of the file `idle_close_s` from now.

        One timer at a time: a busy server moves the deadline on, and the timer, when it fires
        early, waits again for the rest (no timer thread per call)."""
        if self._running or self._warm is None or self.idle_close_s <= 0 or self._closed:
            return
        self._idle_due = self.clock.monotonic() + self.idle_close_s
        if self._cancel_idle is None:
            self._cancel_idle = self.clock.call_later(self.idle_close_s, self._idle)

    def _stop_idle_timer(self) -> None:
        """(Under `_lock`.)"""
        if self._cancel_idle is not None:
            self._cancel_idle()
            self._cancel_idle = None

    def _idle(self) -> None:
        with self._lock:
            self._cancel_idle = None
            if self._running or self._warm is None or self._closed:
                return  # the call running re-arms the timer when it ends
            left = self._idle_due - self.clock.monotonic()
            if left > 0:
                self._cancel_idle = self.clock.call_later(left, self._idle)
                return
            engine, self._warm = self._warm, None
        engine.release()  # closes the connection unless another warehouse of this process uses it
        log.debug("DuckDB file %s let go of after %.1f s idle", self.path, self.idle_close_s)

    def close(self) -> None:
        """Let go of the file for good (running calls finish first: they hold uses of their own)."""
        with self._lock:
            self._closed = True
            self._stop_idle_timer()
            engine, self._warm = self._warm, None
        if engine is not None:
            engine.release()

    def _locked_error(self, exc: BaseException, *, waited_s: float) -> DuckDBFileLocked:
        holder = re.search(r"\(PID (\d+)\)", str(exc))
        who = f"another process (PID {holder.group(1)})" if holder else "another process"
        return DuckDBFileLocked(
            f"the DuckDB file {self.path} is being written by {who}: its lock (\"Conflicting lock is held\") "
            f"was still held after waiting {waited_s:g} s",
            transient=False,
        )
