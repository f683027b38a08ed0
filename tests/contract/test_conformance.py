"""The official MCP conformance suite (`@modelcontextprotocol/conformance`, npm, Node 22) against
each server over streamable HTTP, with a committed baseline of the scenarios that don't apply.

`make test` installs the suite into .tools/ (version pinned in the Makefile) and puts it on PATH.
The baseline, tests/contract/conformance/baseline.yml, may only shrink: the tool exits 1 both on a
failure that is not in it and on an entry whose scenario now passes ("stale baseline").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.processes import REPO, http_server

SERVERS = ["query", "analytics", "etl", "quality", "semantic"]
BASELINE = Path(__file__).parent / "conformance" / "baseline.yml"
NODE_BIN = REPO / ".tools/node_modules/.bin"


def _conformance() -> str:
    local = NODE_BIN / "conformance"  # the pinned version first
    found = str(local) if local.exists() else shutil.which("conformance")
    if not found:
        pytest.fail("the MCP conformance suite is not installed: run `make tools` (make test does it)")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"  # its `#!/usr/bin/env node` needs Node 22
    return env


@contextmanager
def _serve(server: str, demo_db: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`snowmcp serve <server> --transport streamable-http` on a free loopback port, no token;
    yields the MCP endpoint URL and the server's log file (a file, not a pipe, so the tracebacks
    the suite provokes can never fill a pipe and stall the server)."""
    log = tmp_path / f"{server}-server.log"
    try:
        with http_server(f"duckdb://{demo_db}", "streamable-http", server=server, log=log,
                         env={"SNOWMCP_STATE_DIR": str(tmp_path / "state")}) as url:
            yield f"{url}/mcp", log
    except (RuntimeError, TimeoutError) as exc:
        raise AssertionError(f"{exc}\n{_tail(log)}") from exc


def _run(url: str, baseline: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """One invocation of the suite (scenarios run one after another; about 1 s per server)."""
    return subprocess.run([_conformance(), "server", "--url", url, "--expected-failures", str(baseline),
                           "--output-dir", str(out), *extra],
                          cwd=out.parent, env=_env(), capture_output=True, text=True, timeout=120)


def _summary(result: subprocess.CompletedProcess[str]) -> str:
    """The tool's verdict: its output from the summary on (or the tail), without colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    start = text.rfind("=== SUMMARY ===")
    return (text[start:] if start >= 0 else text[-3000:]) + result.stderr[-2000:]


def _tail(path: Path, chars: int = 2000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def _failed_checks(out: Path) -> dict[str, list[str]]:
    """Scenario -> messages of its FAILURE/WARNING checks (the tool counts a WARNING as a failure)."""
    failed: dict[str, list[str]] = {}
    for checks in sorted(out.glob("server-*/checks.json")):
        scenario = re.sub(r"^server-|-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", checks.parent.name)
        for check in json.loads(checks.read_text()):
            if check.get("status") in ("FAILURE", "WARNING"):
                failed.setdefault(scenario, []).append(
                    f"{check['status']} {check.get('id')}: {check.get('errorMessage') or check.get('description')}")
    return failed


def _baseline() -> list[str]:
    return [str(name) for name in yaml.safe_load(BASELINE.read_text())["server"]]


@pytest.mark.parametrize("server", SERVERS)
def test_conformance_suite_passes_with_the_baseline(server: str, demo_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    with _serve(server, demo_db, tmp_path) as (url, log):
        result = _run(url, BASELINE, out)
    ran = re.findall(r"^=== Running scenario: (\S+) ===$", result.stdout, re.MULTILINE)
    failed = _failed_checks(out)
    baseline = set(_baseline())
    unexpected = "".join(f"  {s}: {m}\n" for s, ms in failed.items() if s not in baseline for m in ms)
    stale = sorted(s for s in baseline & set(ran) if s not in failed)
    report = (f"conformance exited {result.returncode} against `snowmcp serve {server}`\n"
              f"unexpected failures (not in {BASELINE.name}):\n{unexpected}"
              f"stale baseline entries (now passing, remove them): {stale}\n"
              f"--- tool output (summary on) ---\n{_summary(result)}\n"
              f"--- server log (tail) ---\n{_tail(log, 1500)}")
    assert result.returncode == 0, report
    assert "Baseline check passed" in result.stdout, report
    # An entry naming a scenario the suite no longer runs is silently ignored by the tool: keep the
    # baseline honest across upgrades of the pinned version.
    assert baseline <= set(ran), f"baseline entries the suite does not run: {sorted(baseline - set(ran))}"
    assert set(failed) == baseline, report


def test_a_stale_baseline_entry_fails_the_run(demo_db: Path, tmp_path: Path) -> None:
    """The guarantee the baseline relies on: an entry whose scenario passes makes the tool exit 1."""
    stale = tmp_path / "stale.yml"
    stale.write_text("server:\n  - ping\n")
    out = tmp_path / "results"
    with _serve("query", demo_db, tmp_path) as (url, _log):
        result = _run(url, stale, out, "--scenario", "ping")
    assert result.returncode == 1, _summary(result)
    assert re.search(r"Stale baseline entries.*\n\s+✓ ping", _summary(result)), _summary(result)
