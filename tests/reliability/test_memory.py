"""Memory stays bounded while a result is fetched: a real `snowmcp serve query` over stdio, default
settings, peak RSS read from /proc/<pid>/status (VmHWM) after statements built to blow it up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.helpers import call_ok
from tests.processes import REPO, serve_command, server_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PEAK_LIMIT_KB = 1_000_000  # "under 1 GB"

HUGE = [
    ("SELECT repeat('x', 300000000)", 1, 300_000_000),  # one 300 MB cell
    ("SELECT repeat('x', 1000000) FROM range(1000)", 5, 1_000_000),  # 1,000 rows of 1 MB cells
    ("SELECT range(10000000)", 1, 20_000_001),  # a 10-million-element list
]


def server_pid() -> int:
    """The `snowmcp serve` child of this test process (the stdio client started it)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"serve" in cmdline:
            found.append(int(entry))
    assert len(found) == 1, f"expected one server process, found {found}"
    return found[0]


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


@pytest.mark.parametrize(("sql", "rows", "original_bytes"), HUGE)
async def test_a_huge_result_leaves_the_server_under_1_gb_and_answering(
    sql: str, rows: int, original_bytes: int, demo_db: Path, tmp_path: Path
) -> None:
    command, *args = serve_command("query")
    env = server_env(f"duckdb://{demo_db}", SNOWMCP_STATE_DIR=str(tmp_path / "state"))
    async with Client(StdioServerParameters(command=command, args=args, env=env, cwd=str(REPO))) as client:
        await call_ok(client, "list_databases")
        pid = server_pid()
        before = peak_rss_kb(pid)
        result = await call_ok(client, "run_query", {"sql": sql})
        peak = peak_rss_kb(pid)
        assert peak < PEAK_LIMIT_KB, f"peak RSS {peak} kB (before: {before} kB)"
        # Honest: cut cells are listed with their original size, and the result says it is truncated.
        assert result["truncated"] is True and result["row_count"] == rows
        assert result["cut_cells"] and result["cut_cells"][0]["bytes"] == original_bytes
        assert len(result["cut_cells"]) == rows
        databases = await call_ok(client, "list_databases")
        assert databases["databases"]
