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

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from snowmcp.clients.host.launch import snowmcp_command

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
    return [*snowmcp_command(), "serve", "query", *args]


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


DIRECT_FETCH = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    cursor = con.cursor()
    cursor.execute(sys.argv[3]).fetchmany(201)
    cursor.close()
    print(time.perf_counter() - started)
"""


def _direct_fetch_times(demo: Path, repeats: int) -> list[float]:
    """DuckDB fetching the capped rows itself, in a process of its own (as the server is)."""
    out = subprocess.run([sys.executable, "-c", DIRECT_FETCH, str(demo), str(repeats + 1), ORDERS_SQL],
                         capture_output=True, text=True, check=True).stdout
    return [float(line) for line in out.split()][1:]  # the first run opens files: drop it


async def large_query_vs_duckdb(demo: Path, repeats: int) -> dict[str, Any]:
    """run_query of a 1M-row SELECT * against DuckDB fetching the same capped rows itself.

    Three figures, because they answer different questions: the server's own time
    (`elapsed_ms`: execution, fetch, conversion, caps) is what the target is about;
    the end-to-end round trip adds the MCP SDK's stdio transport of the result, which
    is measured on its own by serving the same result again from the cache.
    """
    command = _snowmcp()
    params = StdioServerParameters(command=command[0], args=command[1:], cwd=str(REPO),
                                   env=_env(f"duckdb://{demo}", SNOWMCP_CACHE_TTL_S="0"))
    cached_params = StdioServerParameters(command=command[0], args=command[1:], cwd=str(REPO),
                                          env=_env(f"duckdb://{demo}"))
    ours: list[float] = []
    server: list[float] = []
    direct: list[float] = []
    async with Client(params) as client:
        await client.call_tool("run_query", {"sql": "SELECT 1"})  # warehouse opened, modules loaded
        pid = _server_pid("serve query")
        baseline_kb = _memory_kb(pid, "VmHWM")
        for _ in range(3):  # alternate blocks, so drift on a shared machine hits both
            direct += await anyio.to_thread.run_sync(_direct_fetch_times, demo, repeats)
            for _ in range(repeats):
                started = time.perf_counter()
                result = await client.call_tool("run_query", {"sql": ORDERS_SQL, "max_rows": 200})
                ours.append(time.perf_counter() - started)
                server.append((result.structured_content or {}).get("elapsed_ms", 0) / 1000)
        growth_mb = (_memory_kb(pid, "VmHWM") - baseline_kb) / 1024
    transport = await _round_trips(cached_params, "run_query", {"sql": ORDERS_SQL, "max_rows": 200}, repeats * 3)
    structured = result.structured_content or {}
    truncated = bool(structured.get("truncated")) and structured.get("row_count") == 200
    m = {name: statistics.median(values) * 1000 for name, values in
         (("ours", ours), ("server", server), ("direct", direct), ("transport", transport))}
    ratio = m["server"] / m["direct"]
    end_to_end = m["ours"] / m["direct"]
    ok = truncated and growth_mb < 50 and ratio <= 1.5
    return {
        "round_trip_ms": round(m["ours"], 2),
        "server_ms": round(m["server"], 2),
        "duckdb_ms": round(m["direct"], 2),
        "sdk_transport_ms": round(m["transport"], 2),
        "ratio": round(ratio, 3),
        "end_to_end_ratio": round(end_to_end, 3),
        "rss_growth_mb": round(growth_mb, 1),
        "truncated": truncated,
        "pass": ok,
        "summary": f"1M-row SELECT *: 200 rows, truncated={truncated}; server {m['server']:.1f} ms vs DuckDB direct "
                   f"{m['direct']:.1f} ms: {ratio:.2f}x (target <= 1.5x); peak RSS +{growth_mb:.1f} MB (target < 50 MB). "
                   f"End to end over stdio {m['ours']:.1f} ms ({end_to_end:.2f}x), of which the SDK's transport of the "
                   f"result alone is {m['transport']:.1f} ms (the same result from the cache)",
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
