"""The embedded demo warehouse: a DuckDB file with database ANALYTICS, built in SQL.

Deterministic (pseudo-randomness is `hash()` of row keys, and "today" is
fixed at 2026-11-20), built in a few seconds, and built once: four servers
racing to build it take a file lock, and the file appears by an atomic rename,
so nobody ever opens a half-built warehouse.

What the data holds, for the authors of the analytics, quality and etl servers:

- SALES.ORDERS (~1.4 M rows, 2024-11-20 .. 2026-11-19): daily revenue has weekly
  seasonality (Saturday and Sunday ~+30 %, Monday ~-10 %) and a gentle upward
  trend; ONE clear anomaly on `DEMO_ANOMALY_DATE` (2026-09-14): a bulk of partner
  orders makes that day's revenue about 4x the median day. Defects: ~300 orders whose
  CUSTOMER_ID has no customer (orphans), ~55 negative AMOUNTs, 3 AMOUNTs above
  100,000 (all on the anomaly day), ~0.1 % NULL CHANNEL, 10 duplicated ORDER_IDs.
- SALES.CUSTOMERS (50,025 rows): ~0.5 % NULL EMAIL (a required column) and 25
  duplicated CUSTOMER_IDs.
- SALES.PRODUCTS (2,000 rows): the stale table, last UPDATED_AT 2026-10-31,
  because its loader (load_products) has failed every day since 2026-11-01.
- SALES.ORDER_ITEMS (1-3 lines per order): ~100 lines whose PRODUCT_ID has no product.
- SALES.DAILY_REVENUE: a view of orders and revenue per day.
- OPS.ETL_RUNS: 90 days (2026-08-22 .. 2026-11-20 09:xx) of runs of eight pipelines;
  load_products failing since 2026-11-01, ~2 % scattered failures with realistic
  errors, refresh_revenue_mart started late (07:40 instead of 04:00) on 2026-11-17 and
  2026-11-19, build_order_items 5-10x slower than usual on its last three runs, and
  the latest load_orders run still running.
- OPS.TABLE_SLAS: the freshness each table owes (max age in hours) and its owner.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path

from common import demo_tables

log = logging.getLogger("snowmcp.demo")

DEMO_DATABASE = "ANALYTICS"
DEMO_TODAY = dt.date(2026, 11, 20)
DEMO_ANOMALY_DATE = dt.date(2026, 9, 14)
DEMO_STALE_TABLE = "ANALYTICS.SALES.PRODUCTS"


def demo_path(state_dir: Path) -> Path:
    return state_dir.expanduser() / "demo" / f"{DEMO_DATABASE}.duckdb"


def ensure_demo_warehouse(state_dir: Path) -> Path:
    """The demo warehouse under `state_dir`, built on first use (cheap when present)."""
    path = demo_path(state_dir)
    return path if path.exists() else build_demo_warehouse(path)


def build_demo_warehouse(path: Path, *, force: bool = False) -> Path:
    """Build the demo warehouse at `path` atomically; a concurrent builder waits, then reuses it."""
    path = path.expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and not force:
            return path  # someone built it while we waited
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=path.parent))
        try:
            # DuckDB names the database after the file stem, so build under the final name.
            staged = scratch / path.name
            log.info("building the demo warehouse at %s", path)
            _build(staged)
            os.replace(staged, path)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return path


def _build(path: Path) -> None:
    import duckdb  # lazy: servers that never build it don't pay for it

    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE SCHEMA SALES; CREATE SCHEMA OPS;")
        # u(a, b): a deterministic pseudo-random number in [0, 1) from two keys.
        con.execute("CREATE TEMP MACRO u(a, b) AS (hash(a, b) % 1000003) / 1000003.0")
        for statement in demo_tables.STATEMENTS:
            con.execute(statement)
        con.execute("CHECKPOINT")
    finally:
        con.close()
