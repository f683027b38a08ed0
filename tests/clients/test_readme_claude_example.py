"""The README's Claude Desktop examples, used as written: each JSON config is what `snowmcp config
claude` prints for the same options (the command path aside, which is the reader's own), and the
commands it tells a reader to run work."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from snowmcp.clients.host.cli import main
from tests.processes import REPO

README = (REPO / "README.md").read_text()


def _section(start: str, end: str) -> str:
    return README[README.index(start):README.index(end, README.index(start))]


def _json_blocks(section: str) -> list[dict[str, Any]]:
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.DOTALL)]


def _printed(capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    assert main(["config", "claude", *options]) == 0
    return json.loads(capsys.readouterr().out)


def _with_command(config: dict[str, Any], command: str) -> dict[str, Any]:
    return {"mcpServers": {name: {**entry, "command": command} for name, entry in config["mcpServers"].items()}}


def test_the_claude_desktop_config_is_what_config_claude_prints(capsys: pytest.CaptureFixture[str]) -> None:
    section = _section("\n## Claude Desktop\n", "\n### ")
    (example,) = _json_blocks(section)
    commands = {entry["command"] for entry in example["mcpServers"].values()}
    (command,) = commands
    assert Path(command).is_absolute() and Path(command).name == "snowmcp"
    assert "`snowmcp config claude --warehouse demo` prints" in " ".join(section.split())
    assert example == _with_command(_printed(capsys, "--warehouse", "demo"), command)


def test_the_snowflake_example_is_what_its_command_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    section = _section("\n### Claude Desktop on Snowflake", "\n## ")
    (example,) = _json_blocks(section)
    told = " ".join(re.search(r"`(snowmcp config claude --write[^`]*)`", section, re.DOTALL).group(1).split())
    options = shlex.split(told)[3:]
    assert options[0] == "--write"
    (name, entry), = example["mcpServers"].items()
    printed = _with_command(_printed(capsys, *options[1:]), entry["command"])["mcpServers"]
    assert printed[name] == entry and len(printed) == 5
    # the example written by hand, then `config claude --write` with no options: the Snowflake setup stays
    config = tmp_path / "claude_desktop_config.json"
    config.write_text(json.dumps(example))
    assert main(["config", "claude", "--write", "--path", str(config)]) == 0
    assert json.loads(config.read_text())["mcpServers"][name]["env"] == entry["env"]
    assert f"{name}: changed command; kept SNOWMCP_WAREHOUSE, SNOWFLAKE_HOME" in capsys.readouterr().out


def test_the_install_commands_run_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    section = _section("\n## Claude Desktop\n", "\n### ")
    (block,) = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    lines = [line.split("#")[0].strip() for line in block.splitlines()]
    assert lines[0] == "uv tool install snowmcp" and lines[1] == "snowmcp config claude --write"
    assert "# or: pipx install snowmcp" in block
    config = tmp_path / "claude_desktop_config.json"  # --path: not this machine's Claude Desktop config
    assert main([*shlex.split(lines[1])[1:], "--path", str(config)]) == 0
    assert "wrote 5 servers" in capsys.readouterr().out
    assert set(json.loads(config.read_text())["mcpServers"]) == {f"snowmcp-{s}" for s in
                                                                ("query", "analytics", "etl", "quality", "semantic")}
