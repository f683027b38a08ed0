"""What `snowmcp host call` and `chat` keep besides text: images and app pages, and the progress bar."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest

from snowmcp.clients.host.artifacts import Artifacts
from snowmcp.clients.host.config import ServerSpec
from snowmcp.clients.host.host import Host
from snowmcp.clients.host.progress_bar import ProgressBar
from snowmcp.common.settings import Settings
from tests.clients.test_cli import snowmcp
from tests.processes import server_env
from tests.servers.analytics.test_charts import CALLS

pytestmark = pytest.mark.anyio
SPEC = ServerSpec(name="analytics", transport="stdio", command="(in memory)")


async def test_a_chart_call_leaves_its_png_and_its_page(settings: Settings, tmp_path: Path) -> None:
    from snowmcp.servers.analytics.server import build_server

    async with Host([SPEC], targets={"analytics": build_server(settings)}) as host:
        artifacts = Artifacts(tmp_path / "out")
        arguments = {**CALLS["histogram"], "chart": True}
        outcome = await host.call("analytics__histogram", arguments)
        png, page = await artifacts.save(host, "analytics__histogram", arguments, outcome)
        assert png.name.endswith("-01-analytics__histogram.png") and page.suffix == ".html"
        assert struct.unpack(">II", png.read_bytes()[16:24])[0] >= 800
        html = page.read_text()
        assert 'sandbox="allow-scripts"' in html and "ui/notifications/tool-result" in html
        session = json.loads(html.split('id="snowmcp-session">')[1].split("</script>")[0])
        assert session["arguments"] == arguments and session["tool"]["name"] == "histogram"
        assert session["result"]["structuredContent"] == outcome.structured
        assert [b["type"] for b in session["result"]["content"]] == ["text"]  # the image is in its own file

        plain = await host.call("analytics__aggregate", {"table": "ANALYTICS.SALES.ORDERS", "metrics": [{"fn": "count"}]})
        assert await artifacts.save(host, "analytics__aggregate", {}, plain) == []  # no view, no image
        failed = await host.call("analytics__histogram", {"table": "NOPE", "column": "X"})
        assert failed.is_error and await artifacts.save(host, "analytics__histogram", {}, failed) == []
        second = await host.call("analytics__histogram", CALLS["histogram"])
        [only_page] = await artifacts.save(host, "analytics__histogram", CALLS["histogram"], second)
        assert only_page.name.endswith("-02-analytics__histogram.html")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_the_progress_bar_draws_on_a_terminal_only() -> None:
    piped = io.StringIO()
    await ProgressBar(piped, "t")(1, 2, "half")
    assert piped.getvalue() == ""
    terminal = Terminal()
    bar = ProgressBar(terminal, "analytics__profile_table")
    await bar(1, 4, "table described")
    await bar(3, None, None)
    bar.finish()
    drawn = terminal.getvalue()
    assert "\ranalytics__profile_table [######..................]  25% table described" in drawn
    assert "[3]" in drawn and drawn.endswith("\r\x1b[K")


def test_host_call_prints_the_saved_paths_on_stderr_and_only_the_result_on_stdout(demo_db: Path,
                                                                                 tmp_path: Path) -> None:
    env = server_env(f"duckdb://{demo_db}", SNOWMCP_STATE_DIR=str(tmp_path / "state"))
    out = tmp_path / "out"
    called = snowmcp("host", "call", "analytics__histogram", json.dumps({**CALLS["histogram"], "chart": True}),
                     "--out", str(out), env=env)
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["column"] == "AMOUNT"
    saved = [line.removeprefix("saved ") for line in called.stderr.splitlines() if line.startswith("saved ")]
    assert sorted(Path(p).suffix for p in saved) == [".html", ".png"] and all(Path(p).parent == out for p in saved)
    assert "\r" not in called.stderr  # not a terminal: no progress bar


def test_chat_saves_its_transcript_and_what_the_calls_left_and_names_them(demo_db: Path, tmp_path: Path) -> None:
    env = server_env(f"duckdb://{demo_db}", SNOWMCP_STATE_DIR=str(tmp_path / "state"))
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"steps": [
        {"say": "Drawing it.", "call": "analytics__histogram", "arguments": {**CALLS["histogram"], "chart": True}},
        {"say": "Most orders are small."}]}))
    out = tmp_path / "out"
    result = snowmcp("host", "chat", "--provider", "scripted", "--script", str(script), "--prompt", "amounts?",
                     "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    saved = [line.strip().removeprefix("saved ") for line in result.stdout.splitlines() if "saved " in line]
    assert sorted(Path(p).suffix for p in saved) == [".html", ".png"] and all(Path(p).exists() for p in saved)
    transcript = (out / "transcript.txt").read_text()
    assert "you> amounts?" in transcript and "-> analytics__histogram" in transcript and saved[0] in transcript
