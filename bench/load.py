"""The load benchmark: many concurrent sessions against one streamable-HTTP query server.

One `snowmcp serve query --transport streamable-http` and one bare `MCPServer`
with an `echo` tool (bench/bare_http_server.py, same transport options) run as
subprocesses on loopback. Each is driven by `sessions` concurrent `mcp.Client`
sessions making `calls` sequential tool calls each, in phases:

  echo    the bare server's echo tool                       (the yardstick)
  cached  run_query of a few statements warmed into the result cache
  mixed   the same, with 1 call in 5 a distinct (uncached) small aggregate

All sessions connect first; the clock runs from the moment they all start
calling until the last call of the phase is answered (connecting and closing
are timed apart). The phases alternate over `rounds` (echo/cached adjacent,
their order flipping each round) so both servers see the same machine; the
cached/echo ratio is taken per round, then its median.

Targets: zero failed calls (an exception, a timeout, `isError`, or a wrong
result all count), cached-query throughput >= 0.8x the bare echo throughput,
and the query server's RSS flat across rounds (last round within
max(20 MB, 10 %) of the first, after a warm-up round). The same client code
drives both servers, so the SDK client's own cost is on both sides of the ratio.
Server CPU per call (utime+stime from /proc) and this process's (the clients')
CPU per call are reported too: they show where the time goes when the client,
not the server, limits throughput. The whole run is done stateful (the default)
and, unless `stateless=False`, again with `--stateless`; every mode must pass.
"""

from __future__ import annotations

import gc
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import anyio
from mcp import Client
from snowmcp.clients.host.launch import snowmcp_command

REPO = Path(__file__).resolve().parents[1]
RATIO_TARGET = 0.8
RSS_SLACK_MB = 20.0
RSS_SLACK_FRACTION = 0.10
CALL_TIMEOUT_S = 30.0
PHASE_TIMEOUT_S = 300.0
UNCACHED_EVERY = 5  # 1 call in 5 of the mixed phase misses the cache
CACHED_SQL = (
    "SELECT count(*) AS n FROM ANALYTICS.SALES.CUSTOMERS",
    "SELECT count(*) AS n FROM ANALYTICS.SALES.PRODUCTS",
    "SELECT SEGMENT, count(*) AS n FROM ANALYTICS.SALES.CUSTOMERS GROUP BY SEGMENT ORDER BY SEGMENT",
    "SELECT COUNTRY, count(*) AS n FROM ANALYTICS.SALES.CUSTOMERS GROUP BY COUNTRY ORDER BY n DESC, COUNTRY LIMIT 5",
)
# A distinct statement every time (the nonce), small but real work in the warehouse.
UNCACHED_SQL = ("SELECT {nonce} AS tag, count(*) AS n FROM ANALYTICS.SALES.CUSTOMERS "
                "WHERE CUSTOMER_ID % 100 = {bucket}")

Check = Callable[[Any], bool]
CallSpec = tuple[str, str, dict[str, Any], Check]  # (kind, tool, arguments, is the result right?)


# -- servers ------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Server:
    """A server subprocess on a free loopback port, with its stderr kept in a temp file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen([*command, "--port", str(self.port)], cwd=REPO, env=env,
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._stderr)

    def wait_listening(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.stderr_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"{self.name} did not listen on port {self.port} within {timeout_s} s")

    def stderr_tail(self, chars: int = 2000) -> str:
        if self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-chars:]

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("VmRSS missing")

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server process (all its threads); 0 once it is gone."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._stderr.close()


def _env(warehouse: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWMCP_")}
    env.update({"SNOWMCP_WAREHOUSE": warehouse})
    return env


def _start_servers(demo: Path, stateless: bool) -> tuple[_Server, _Server]:
    mode = ["--stateless"] if stateless else []
    env = _env(f"duckdb://{demo}")
    ours = _Server("snowmcp serve query",
                   [*snowmcp_command(), "serve", "query", "--transport", "streamable-http", *mode], env)
    try:
        bare = _Server("bare MCPServer", [sys.executable, str(REPO / "bench" / "bare_http_server.py"), *mode], env)
    except BaseException:
        ours.stop()
        raise
    return ours, bare


# -- load ---------------------------------------------------------------------


@dataclass
class Phase:
    """What one phase measured, from the client's side and the server's."""

    name: str
    calls: int = 0
    failures: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # failure kind -> count (first words only)
    latency_s: dict[str, list[float]] = field(default_factory=dict)  # call kind -> latencies
    first_s: list[float] = field(default_factory=list)  # each session's first call (the client lists tools then)
    wall_s: float = 0.0
    connect_s: float = 0.0
    close_s: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0  # this process (the SDK clients of every session)
    not_cached: int = 0  # calls meant as cached that the server did not serve from its cache

    @property
    def throughput(self) -> float:
        return self.calls / self.wall_s if self.wall_s else 0.0

    def fail(self, what: str) -> None:
        self.failures += 1
        self.errors[what] = self.errors.get(what, 0) + 1


def _error_name(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {str(exc)[:80]}"


async def _run_phase(name: str, server: _Server, sessions: int, calls: int,
                     plan: Callable[[int, int], CallSpec]) -> Phase:
    """`sessions` concurrent sessions, each making `calls` sequential calls given by `plan(session, i)`."""
    phase = Phase(name)
    gc.collect()  # start every phase with the client's heap in the same state
    arrived = finished = closed = 0
    go = anyio.Event()
    marks: dict[str, float] = {"begin": time.perf_counter()}

    def arrive() -> None:
        nonlocal arrived
        arrived += 1
        if arrived == sessions:
            marks["go"] = time.perf_counter()
            marks["cpu_go"] = server.cpu_s()
            marks["client_cpu_go"] = time.process_time()
            go.set()

    def finish() -> None:
        nonlocal finished
        finished += 1
        if finished == sessions:
            marks["done"] = time.perf_counter()
            marks["cpu_done"] = server.cpu_s()
            marks["client_cpu_done"] = time.process_time()

    def close() -> None:
        nonlocal closed
        closed += 1
        if closed == sessions:
            marks["closed"] = time.perf_counter()

    async def one_session(s: int) -> None:
        state = {"arrived": False, "finished": False, "made": 0}
        try:
            async with Client(server.url) as client:
                state["arrived"] = True
                arrive()
                await go.wait()
                for i in range(calls):
                    kind, tool, arguments, check = plan(s, i)
                    started = time.perf_counter()
                    try:
                        with anyio.fail_after(CALL_TIMEOUT_S):
                            result = await client.call_tool(tool, arguments)
                    except Exception as exc:  # the call failed: count it, keep the session going
                        phase.fail(_error_name(exc))
                        continue
                    finally:
                        state["made"] += 1
                        phase.calls += 1
                        elapsed = time.perf_counter() - started
                        phase.latency_s.setdefault(kind, []).append(elapsed)
                        if i == 0:
                            phase.first_s.append(elapsed)
                    if result.is_error:
                        phase.fail(f"isError: {(_text(result) or '')[:80]}")
                    elif not check(result):
                        phase.fail(f"wrong result for {kind}")
                    elif kind == "cached" and not (result.structured_content or {}).get("cached"):
                        phase.not_cached += 1
                state["finished"] = True
                finish()
        except Exception as exc:  # the session failed (connecting or closing): counted, and so are its missing calls
            phase.fail(f"session: {_error_name(exc)}")
            for _ in range(calls - state["made"]):
                phase.calls += 1
                phase.fail("not made (session failed)")
        finally:
            if not state["arrived"]:
                arrive()
            if not state["finished"]:
                finish()
            close()

    try:
        with anyio.fail_after(PHASE_TIMEOUT_S):
            async with anyio.create_task_group() as tg:
                for s in range(sessions):
                    tg.start_soon(one_session, s)
    except TimeoutError:  # something hung: every call not made counts as failed
        missing = sessions * calls - phase.calls
        phase.calls += missing
        for _ in range(missing):
            phase.fail(f"phase timed out after {PHASE_TIMEOUT_S:g} s")
    now = time.perf_counter()
    go_at, done_at = marks.get("go", marks["begin"]), marks.get("done", now)
    phase.connect_s = go_at - marks["begin"]
    phase.wall_s = done_at - go_at
    phase.close_s = marks.get("closed", now) - done_at
    phase.server_cpu_s = marks.get("cpu_done", 0.0) - marks.get("cpu_go", 0.0)
    phase.client_cpu_s = marks.get("client_cpu_done", 0.0) - marks.get("client_cpu_go", 0.0)
    if not server.alive():
        phase.fail(f"server died: {server.stderr_tail(300)}")
    return phase


class _Plans:
    """What each call of each phase sends, and how its result is checked."""

    def __init__(self, expected: dict[str, Any]) -> None:
        self.expected = expected  # cached SQL -> its rows, learnt in the warm-up
        self.nonce = 0  # each server starts with an empty cache: distinct within one server is enough

    @staticmethod
    def echo(s: int, i: int) -> CallSpec:
        text = f"hello {s}.{i}"
        return "echo", "echo", {"text": text}, lambda r: _text(r) == text

    def _cached(self, s: int, i: int) -> CallSpec:
        sql = CACHED_SQL[(s + i) % len(CACHED_SQL)]
        rows = self.expected[sql]
        return "cached", "run_query", {"sql": sql}, lambda r: _rows(r) == rows

    def cached(self, s: int, i: int) -> CallSpec:
        return self._cached(s, i)

    def mixed(self, s: int, i: int) -> CallSpec:
        if (s + i) % UNCACHED_EVERY:
            return self._cached(s, i)
        self.nonce += 1
        nonce = self.nonce
        sql = UNCACHED_SQL.format(nonce=nonce, bucket=nonce % 100)
        return "uncached", "run_query", {"sql": sql}, lambda r: (_rows(r) or [[None]])[0][0] == nonce


def _text(result: Any) -> str | None:
    return result.content[0].text if result.content and hasattr(result.content[0], "text") else None


def _rows(result: Any) -> Any:
    return (result.structured_content or {}).get("rows")


async def _warm_up(ours: _Server, bare: _Server, sessions: int) -> tuple[_Plans, list[Phase]]:
    """Learn the cached statements' rows (filling the cache), then one small round on each server."""
    expected: dict[str, Any] = {}
    async with Client(ours.url) as client:
        for sql in CACHED_SQL:
            result = await client.call_tool("run_query", {"sql": sql})
            if result.is_error:
                raise RuntimeError(f"warm-up run_query failed: {_text(result)}")
            expected[sql] = _rows(result)
    plans = _Plans(expected)
    warm = [await _run_phase("echo", bare, sessions, 5, plans.echo),
            await _run_phase("mixed", ours, sessions, 5, plans.mixed)]
    return plans, warm


# -- figures ------------------------------------------------------------------


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50_ms": round(values[0] * 1000, 2) if values else 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50_ms": round(statistics.median(values) * 1000, 2), "p95_ms": round(q[94] * 1000, 2),
            "p99_ms": round(q[98] * 1000, 2)}


def _pooled(phases: list[Phase]) -> dict[str, Any]:
    """One phase kind over all rounds: throughput, latencies, server CPU, failures."""
    calls = sum(p.calls for p in phases)
    wall = sum(p.wall_s for p in phases)
    cpu = sum(p.server_cpu_s for p in phases)
    client_cpu = sum(p.client_cpu_s for p in phases)
    kinds = sorted({k for p in phases for k in p.latency_s})
    latency = {k: _percentiles([v for p in phases for v in p.latency_s.get(k, [])]) for k in kinds}
    if len(kinds) > 1:
        latency["all"] = _percentiles([v for p in phases for k in kinds for v in p.latency_s.get(k, [])])
    errors: dict[str, int] = {}
    for p in phases:
        for what, n in p.errors.items():
            errors[what] = errors.get(what, 0) + n
    figures: dict[str, Any] = {
        "calls": calls,
        "failures": sum(p.failures for p in phases),
        "calls_per_s": round(calls / wall, 1) if wall else 0.0,
        "calls_per_s_by_round": [round(p.throughput, 1) for p in phases],
        "latency": latency[kinds[0]] if len(kinds) == 1 else latency,
        "first_call_latency": _percentiles([v for p in phases for v in p.first_s]),
        "server_cpu_ms_per_call": round(cpu / calls * 1000, 3) if calls else 0.0,
        "client_cpu_ms_per_call": round(client_cpu / calls * 1000, 3) if calls else 0.0,
        "connect_s_median": round(statistics.median(p.connect_s for p in phases), 3),
        "close_s_median": round(statistics.median(p.close_s for p in phases), 3),
    }
    if "cached" in kinds:
        figures["cached_calls_not_served_from_cache"] = sum(p.not_cached for p in phases)
    if errors:
        figures["errors"] = errors
    return figures


async def _one_mode(demo: Path, *, stateless: bool, sessions: int, calls: int, rounds: int) -> dict[str, Any]:
    if rounds < 1 or sessions < 1 or calls < 1:
        raise ValueError("sessions, calls and rounds must be at least 1")
    ours, bare = _start_servers(demo, stateless)
    try:
        ours.wait_listening()
        bare.wait_listening()
        plans, warm = await _warm_up(ours, bare, sessions)
        rss_ours = [round(ours.rss_mb(), 1)]  # after the warm-up
        rss_bare = [round(bare.rss_mb(), 1)]
        phases: dict[str, list[Phase]] = {"echo": [], "cached": [], "mixed": []}
        ratios: list[float] = []
        for r in range(rounds):
            # echo and cached side by side, their order flipping each round; mixed at either end
            order = ("echo", "cached", "mixed") if r % 2 == 0 else ("mixed", "cached", "echo")
            for name in order:
                server, plan = (bare, plans.echo) if name == "echo" else (ours, getattr(plans, name))
                phases[name].append(await _run_phase(name, server, sessions, calls, plan))
            ratios.append(phases["cached"][-1].throughput / max(phases["echo"][-1].throughput, 1e-9))
            rss_ours.append(round(ours.rss_mb(), 1))
            rss_bare.append(round(bare.rss_mb(), 1))
    finally:
        ours.stop()
        bare.stop()

    figures = {name: _pooled(ps) for name, ps in phases.items()}
    ratio = statistics.median(ratios)
    first, last = rss_ours[1], rss_ours[-1]
    slack = max(RSS_SLACK_MB, first * RSS_SLACK_FRACTION)
    flat = last - first <= slack
    failures = sum(f["failures"] for f in figures.values()) + sum(p.failures for p in warm)
    return {
        "mode": "stateless" if stateless else "stateful",
        "sessions": sessions, "calls_per_session": calls, "rounds": rounds,
        "bare_echo": figures["echo"],
        "snowmcp_cached": figures["cached"],
        "snowmcp_mixed": figures["mixed"],
        "cached_vs_echo_ratio": round(ratio, 3),
        "cached_vs_echo_ratio_by_round": [round(x, 3) for x in ratios],
        "failures": failures,
        "warm_up_failures": sum(p.failures for p in warm),
        "rss_mb_snowmcp": rss_ours,
        "rss_mb_bare": rss_bare,
        "rss_growth_mb": round(last - first, 1),
        "rss_slack_mb": round(slack, 1),
        "memory_flat": flat,
        "pass": failures == 0 and ratio >= RATIO_TARGET and flat,
    }


def _mode_summary(m: dict[str, Any]) -> str:
    echo, cached, mixed = m["bare_echo"], m["snowmcp_cached"], m["snowmcp_mixed"]
    mixed_lat = mixed["latency"].get("cached", {}) if "cached" in mixed["latency"] else mixed["latency"]
    unc = mixed["latency"].get("uncached", {}) if "uncached" in mixed["latency"] else {}
    return (
        f"{m['mode']}: cached {cached['calls_per_s']:.0f} calls/s vs bare echo {echo['calls_per_s']:.0f}: "
        f"{m['cached_vs_echo_ratio']:.2f}x (target >= {RATIO_TARGET}x); "
        f"p50/p95/p99 cached {cached['latency']['p50_ms']:.0f}/{cached['latency']['p95_ms']:.0f}/"
        f"{cached['latency']['p99_ms']:.0f} ms, echo {echo['latency']['p50_ms']:.0f}/{echo['latency']['p95_ms']:.0f}/"
        f"{echo['latency']['p99_ms']:.0f} ms; mixed {mixed['calls_per_s']:.0f} calls/s "
        f"(cached p99 {mixed_lat.get('p99_ms', 0):.0f} ms, uncached p99 {unc.get('p99_ms', 0):.0f} ms); "
        f"server CPU/call cached {cached['server_cpu_ms_per_call']:.2f} ms vs echo "
        f"{echo['server_cpu_ms_per_call']:.2f}, client CPU/call {cached['client_cpu_ms_per_call']:.2f} vs "
        f"{echo['client_cpu_ms_per_call']:.2f} ms; "
        f"{m['failures']} failed calls; RSS {' -> '.join(f'{x:.0f}' for x in m['rss_mb_snowmcp'])} MB "
        f"({'flat' if m['memory_flat'] else 'GROWING'}, {m['rss_growth_mb']:+.1f} MB)"
    )


async def load_vs_bare(demo: Path, *, sessions: int = 50, calls: int = 40, rounds: int = 3,
                       stateless: bool = True) -> dict[str, Any]:
    """`sessions` x `calls` against snowmcp's query server and a bare echo server over streamable HTTP,
    stateful (the default) and, when `stateless`, again with `--stateless`; every mode must pass."""
    modes = [await _one_mode(demo, stateless=False, sessions=sessions, calls=calls, rounds=rounds)]
    if stateless:
        modes.append(await _one_mode(demo, stateless=True, sessions=sessions, calls=calls, rounds=rounds))
    result: dict[str, Any] = {m["mode"]: m for m in modes}
    result["pass"] = all(m["pass"] for m in modes)
    result["summary"] = (f"{sessions} sessions x {calls} calls, {rounds} rounds over streamable HTTP. "
                         + " | ".join(_mode_summary(m) for m in modes))
    return result


if __name__ == "__main__":
    import json

    from snowmcp.common.demo_warehouse import ensure_demo_warehouse
    from snowmcp.common.settings import Settings

    figures = anyio.run(load_vs_bare, ensure_demo_warehouse(Settings().state_path))
    print(json.dumps(figures, indent=2))
    print(("PASS  " if figures["pass"] else "FAIL  ") + figures["summary"])
