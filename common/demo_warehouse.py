"""The embedded demo warehouse: a DuckDB file whose database is ANALYTICS, generated in SQL.

Deterministic (pseudo-randomness is `hash()` of row keys, the session time zone
is UTC, and "today" is fixed at 2026-11-20, never the clock), built in a few
seconds, and built once: racing builders (four servers started together) take
a file lock, the winner builds in a temporary subdirectory and renames the
finished file into place, so nobody ever opens a half-built warehouse.

What the data holds, for the authors of the analytics, quality and etl servers
(exact counts of the built file; `tests/common/test_demo_warehouse.py` pins most of them):

- SALES.ORDERS (1,395,277 rows, ORDER_DATE 2024-11-20 .. 2026-11-19, UPDATED_AT up to
  2026-11-19 23:55, i.e. fresh). Daily revenue (sum of AMOUNT per ORDER_DATE, see
  SALES.DAILY_REVENUE; median 144,417) has weekly seasonality (Saturday ~+30 %,
  Sunday ~+25 %, Monday ~-7 % against other weekdays; weekend days ~+29 % over
  weekdays) and a gentle upward trend (~+40 % over the two years).
  ONE clear anomaly on `DEMO_ANOMALY_DATE` (2026-09-14, a Monday): 30 bulk partner
  orders of 12,000-18,000 lift that day to 577,741, 4.0x the median day (z-score 15.0
  over all days; no other day has |z| > 4 or reaches 1.5x the median).
  Defects: 306 orders (179 distinct CUSTOMER_IDs, all >= 900000) with no customer;
  52 negative AMOUNTs (32 small ones, -246.75 .. -2.37, and 20 reversals below
  -1,000,000); 20 absurd AMOUNTs above 1,000,000 (1.03 M .. 4.79 M), each cancelled
  by a same-day reversal of the same customer (both STATUS 'cancelled', CHANNEL
  'partner'), so they do not move daily revenue; 1,388 NULL CHANNELs (~0.1 %, a
  required column); 10 ORDER_IDs duplicated (whole rows repeated).
- SALES.CUSTOMERS (50,025 rows): 277 NULL EMAILs (~0.55 %, a required column) and
  25 duplicated CUSTOMER_IDs.
- SALES.PRODUCTS (2,000 rows, 10 categories): the ONE stale table, max(UPDATED_AT)
  2026-10-31 02:34 (~20 days old), because its loader load_products has failed
  every day since 2026-11-01.
- SALES.ORDER_ITEMS (2,790,826 rows, 1-3 lines per order): 98 lines whose PRODUCT_ID
  has no product (ids >= 990000).
- SALES.DAILY_REVENUE: a view, ORDER_DATE, ORDERS, REVENUE (all statuses).
- OPS.ETL_RUNS (3,078 runs of 8 pipelines, 2026-08-22 00:05 .. 2026-11-20 09:05;
  3,023 success, 43 failed, 11 cancelled, 1 running; 26 triggered manually):
  load_products failed on all 20 runs since 2026-11-01 ("SQL compilation error:
  Object 'RAW.PRODUCTS_FEED' does not exist or not authorized."); 23 failures
  scattered elsewhere (timeout, duplicate row, insufficient privileges, connection
  reset, bad numeric value); LATE runs: refresh_revenue_mart started at 07:40
  instead of ~04:00 on 2026-11-17 and 2026-11-19; SLOW runs: build_order_items took
  66-91 minutes on its last three runs (2026-11-18 .. 2026-11-20) against a usual
  ~12; one run still 'running' (load_orders-20261120T0905, ENDED_AT and ROWS_LOADED
  NULL). ERROR_MESSAGE is set exactly on failed runs.
- OPS.TABLE_SLAS: the freshness each table owes (MAX_AGE_HOURS) and its OWNER.
- SALES.ALL_DAYS: one row per day 2018-01-01 .. 2027-12-31 (DATE_DAY), the time spine of the
  demo's semantic models (servers/semantic/demo_models).

Every table, view and column has a COMMENT.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from snowmcp.common import demo_tables, progress

log = logging.getLogger("snowmcp.demo")

DEMO_DATABASE = "ANALYTICS"
DEMO_TODAY = dt.date(2026, 11, 20)
DEMO_ANOMALY_DATE = dt.date(2026, 9, 14)
DEMO_STALE_TABLE = "ANALYTICS.SALES.PRODUCTS"
_SCRATCH_PREFIX = ".building-"


def demo_path(state_dir: Path) -> Path:
    """Where the demo warehouse lives under a state directory (DuckDB names it after the stem: ANALYTICS)."""
    return Path(state_dir).expanduser() / "demo" / f"{DEMO_DATABASE}.duckdb"


def ensure_demo_warehouse(state_dir: Path) -> Path:
    """The demo warehouse under `state_dir`, built on first use; no lock is taken when it is there."""
    path = demo_path(state_dir)
    return path if path.exists() else build_demo_warehouse(path)


def build_demo_warehouse(path: Path, *, force: bool = False) -> Path:
    """Build the demo warehouse at `path` atomically and return `path`.

    Holds an exclusive lock on `<stem>.lock` beside it; a builder that waited on
    the lock finds the file built and returns it (unless `force`). The file is
    built under its final name in a temporary subdirectory (the catalog name
    comes from the file stem), checkpointed, closed, synced and then renamed
    into place, so `path` is either absent, the old file, or the complete new one.
    """
    path = Path(path).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if path.exists() and not force:
                log.debug("demo warehouse already built at %s", path)
                return path
            _remove_abandoned_scratch(path.parent)
            scratch = Path(tempfile.mkdtemp(prefix=_SCRATCH_PREFIX, dir=path.parent))
            try:
                staged = scratch / path.name
                started = time.perf_counter()
                log.info("building the demo warehouse at %s", path)
                _populate(staged)
                _fsync(staged)
                os.replace(staged, path)
                _fsync(path.parent)
                log.info("demo warehouse built in %.1f s", time.perf_counter() - started)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return path


def _populate(path: Path) -> None:
    """Create every table, view and comment in a new DuckDB file at `path`."""
    import duckdb  # lazy: a server that finds the file built never pays for the import here

    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(demo_tables.setup())
        steps = len(demo_tables.TABLES) + 1
        for done, (table, sql) in enumerate(demo_tables.TABLES.items()):
            progress.report(done, steps, f"building the demo warehouse: {table}")
            step = time.perf_counter()
            con.execute(sql())
            for statement in demo_tables.comments(table):
                con.execute(statement)
            log.info("  %-20s %.2f s", table, time.perf_counter() - step)
        progress.report(steps - 1, steps, "building the demo warehouse: writing the file")
        con.execute("CHECKPOINT")
        progress.report(steps, steps, "demo warehouse built")
    finally:
        con.close()
    wal = path.with_name(path.name + ".wal")
    if wal.exists():  # everything must be in the one file that gets renamed
        raise RuntimeError(f"demo warehouse build left a write-ahead log behind: {wal}")


def _remove_abandoned_scratch(folder: Path) -> None:
    """Scratch directories of builders that died mid-build (only called while holding the lock)."""
    for leftover in folder.glob(f"{_SCRATCH_PREFIX}*"):
        log.info("removing an abandoned demo build: %s", leftover)
        shutil.rmtree(leftover, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
