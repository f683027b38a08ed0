"""The three measurements behind `make bench`; each returns figures, a verdict and a summary."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcp import Client
from mcp.client.stdio import StdioServerParameters

REPO = Path(__file__).resolve().parents[1]
INITIALIZE = json.dumps({
    "jsonrpc": "2.0", "id": 1, "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}},
}).encode() + b"\n"
ORDERS_SQL = "SELECT * FROM ANALYTICS.SALES.ORDERS"
CACHED_SQL = "SELECT count(*) AS n FROM ANALYTICS.SALES.CUSTOMERS"


def _env(warehouse: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWMCP_")}
    env.update({"SNOWMCP_WAREHOUSE": warehouse, **extra})
    return env


def _snowmcp(*args: str) -> list[str]:
    return [sys.executable, "-m", "common.cli", "serve", "query", *args]


def _bare() -> list[str]:
    return [sys.executable, str(REPO / "bench" / "bare_server.py")]


def _time_to_initialize(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    assert process.stdin and process.stdout
    process.stdin.write(INITIALIZE)
    process.stdin.flush()
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    if b'"result"' not in line:
        raise RuntimeError(f"no initialize result from {command}: {line[:200]!r}")
    return elapsed


def cold_start_ratio(warehouse: str, *, repeats: int) -> dict[str, Any]:
    ours: list[float] = []
    bare: list[float] = []
    env = _env(warehouse)
    _time_to_initialize(_snowmcp(), env)  # warm the OS file cache and bytecode
    _time_to_initialize(_bare(), env)
    for _ in range(repeats):  # interleaved, so both see the same machine
        bare.append(_time_to_initialize(_bare(), env))
        ours.append(_time_to_initialize(_snowmcp(), env))
    ratio = statistics.median(ours) / statistics.median(bare)
    return {
        "snowmcp_ms": round(statistics.median(ours) * 1000, 1),
        "bare_ms": round(statistics.median(bare) * 1000, 1),
        "ratio": round(ratio, 3),
        "target": 1.15,
        "pass": ratio <= 1.15,
        "summary": f"spawn->initialize {statistics.median(ours) * 1000:.0f} ms vs bare SDK "
                   f"{statistics.median(bare) * 1000:.0f} ms: {ratio:.2f}x (target <= 1.15x)",
    }


def _server_pid(command_fragment: str) -> int:
    """The pid of our child process whose command line holds `command_fragment`."""
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me and command_fragment in cmdline:
            return int(entry.name)
    raise RuntimeError("server process not found")


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing")


async def large_query_vs_duckdb(demo: Path, repeats: int) -> dict[str, Any]:
    import duckdb

    command = _snowmcp()
    params = StdioServerParameters(command=command[0], args=command[1:], cwd=str(REPO),
                                   env=_env(f"duckdb://{demo}", SNOWMCP_CACHE_TTL_S="0"))
    ours: list[float] = []
    direct: list[float] = []
    con = duckdb.connect(str(demo), read_only=True)
    con.execute("SET enable_progress_bar = false")
    async with Client(params) as client:
        await client.call_tool("run_query", {"sql": "SELECT 1"})  # warehouse opened, modules loaded
        pid = _server_pid("serve query")
        baseline_kb = _memory_kb(pid, "VmHWM")
        for _ in range(repeats):
            started = time.perf_counter()
            cursor = con.cursor()
            cursor.execute(ORDERS_SQL).fetchmany(201)
            cursor.close()
            direct.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = await client.call_tool("run_query", {"sql": ORDERS_SQL, "max_rows": 200})
            ours.append(time.perf_counter() - started)
        growth_mb = (_memory_kb(pid, "VmHWM") - baseline_kb) / 1024
    con.close()
    structured = result.structured_content or {}
    truncated = bool(structured.get("truncated")) and structured.get("row_count") == 200
    ratio = statistics.median(ours) / statistics.median(direct)
    ok = truncated and growth_mb < 50 and ratio <= 1.5
    return {
        "snowmcp_ms": round(statistics.median(ours) * 1000, 2),
        "duckdb_ms": round(statistics.median(direct) * 1000, 2),
        "ratio": round(ratio, 3),
        "rss_growth_mb": round(growth_mb, 1),
        "truncated": truncated,
        "pass": ok,
        "summary": f"1M-row SELECT *: 200 rows, truncated={truncated}, {statistics.median(ours) * 1000:.1f} ms vs "
                   f"DuckDB direct {statistics.median(direct) * 1000:.1f} ms: {ratio:.2f}x (target <= 1.5x); "
                   f"server peak RSS +{growth_mb:.1f} MB (target < 50 MB)",
    }


async def _round_trips(params: StdioServerParameters, tool: str, arguments: dict[str, Any], calls: int) -> list[float]:
    timings: list[float] = []
    async with Client(params) as client:
        for _ in range(20):  # warm-up (and fill the cache)
            await client.call_tool(tool, arguments)
        for _ in range(calls):
            started = time.perf_counter()
            result = await client.call_tool(tool, arguments)
            timings.append(time.perf_counter() - started)
            if result.is_error:
                raise RuntimeError(f"{tool} failed during the benchmark")
    return timings


async def cached_query_vs_echo(warehouse: str, calls: int) -> dict[str, Any]:
    ours_cmd, bare_cmd = _snowmcp(), _bare()
    env = _env(warehouse)
    ours_params = StdioServerParameters(command=ours_cmd[0], args=ours_cmd[1:], cwd=str(REPO), env=env)
    bare_params = StdioServerParameters(command=bare_cmd[0], args=bare_cmd[1:], cwd=str(REPO), env=env)
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(2):  # alternate the two, so drift on a shared machine hits both
        bare += await _round_trips(bare_params, "echo", {"text": "hello"}, calls // 2)
        ours += await _round_trips(ours_params, "run_query", {"sql": CACHED_SQL}, calls // 2)
    ratio = statistics.median(ours) / statistics.median(bare)
    return {
        "snowmcp_ms": round(statistics.median(ours) * 1000, 3),
        "bare_echo_ms": round(statistics.median(bare) * 1000, 3),
        "snowmcp_p99_ms": round(statistics.quantiles(ours, n=100)[98] * 1000, 3),
        "ratio": round(ratio, 3),
        "pass": ratio <= 1.5,
        "summary": f"cached run_query {statistics.median(ours) * 1000:.2f} ms vs bare echo "
                   f"{statistics.median(bare) * 1000:.2f} ms per round trip: {ratio:.2f}x (target <= 1.5x)",
    }
