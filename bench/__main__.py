"""`make bench`: snowmcp against the bare MCP SDK and raw DuckDB, on this machine, in one run.

Machines here are shared and noisy, so every figure is a ratio of two things
measured side by side, interleaved, with medians over repeats.

  (a) cold start over stdio: spawn `snowmcp serve query` until `initialize` is
      answered, against a bare MCPServer hello-world          target <= 1.15x
  (b) run_query `SELECT * FROM ANALYTICS.SALES.ORDERS` (1M rows): capped and
      truncated, server RSS growth < 50 MB, time against DuckDB fetching the
      same capped rows directly                               target <= 1.5x
  (c) a cached run_query round trip over stdio against a trivial echo tool on
      the bare SDK                                            target <= 1.5x
  (d) analytics profile_table of ORDERS (all columns): one statement, against
      DuckDB's own SUMMARIZE of the same table                target <= 0.5x
  (e) quality run_checks of a 20-check suite on ORDERS: one statement, against
      one hand-written single-pass SELECT of the same metrics target <= 1.25x
  (f) load over streamable HTTP: 50 sessions x 40 calls against `serve query` (cached run_query,
      and mixed with 1 in 5 uncached) and against a bare MCPServer echo, stateful and stateless:
      zero failed calls, server RSS flat across rounds, cached throughput against echo
                                                              target >= 0.8x
  (g) the SQL guard's p50 on the benign statements an analyst writes, against sqlglot alone
      parsing and rendering them                              target <= 4x
  (h) requests per uncached run_query on Snowflake, counted at a fakesnow server over 12
      different statements (needs `make fakesnow`)           target <= 1.3
  (i) the tool catalog (name, description, input schema of every tool, compact JSON) per server:
      bytes and approximate tokens (bytes / 4)                target <= 16 KB in all
  (j) semantic query_metrics (3 metrics by month and segment) against its compiled SQL run directly
      on DuckDB, and the compile time of get_metrics_compiled_sql target <= 1.2x
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import anyio

from bench.analytics import profile_vs_summarize
from bench.catalog import catalog_sizes
from bench.guard import guard_vs_sqlglot
from bench.load import load_vs_bare
from bench.quality import suite_vs_hand_written
from bench.round_trips import requests_per_query
from bench.semantic import metric_query_vs_compiled_sql
from bench.measure import (
    cached_query_vs_echo,
    cold_start_ratio,
    large_query_vs_duckdb,
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    from snowmcp.common.demo_warehouse import ensure_demo_warehouse
    from snowmcp.common.settings import Settings

    demo = ensure_demo_warehouse(Settings().state_path)
    warehouse = f"duckdb://{demo}"
    repeats = 3 if args.quick else 9
    calls = 100 if args.quick else 500

    results = {
        "cold_start": cold_start_ratio(warehouse, repeats=repeats),
        "large_query": anyio.run(large_query_vs_duckdb, demo, repeats),
        "cached_round_trip": anyio.run(cached_query_vs_echo, warehouse, calls),
        "profile_table": anyio.run(profile_vs_summarize, demo, repeats),
        "quality_suite": anyio.run(suite_vs_hand_written, demo, repeats),
        "load": anyio.run(functools.partial(load_vs_bare, demo, rounds=1 if args.quick else 3,
                                            stateless=not args.quick)),
        "guard": guard_vs_sqlglot(repeats),
        "round_trips": anyio.run(requests_per_query),
        "catalog": anyio.run(catalog_sizes, demo),
        "semantic": anyio.run(metric_query_vs_compiled_sql, demo, repeats),
    }
    failed = [name for name, r in results.items() if not r["pass"]]
    for name, r in results.items():
        print(f"{'PASS' if r['pass'] else 'FAIL'}  {name:18} {r['summary']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
