"""`snowmcp config claude`: the `mcpServers` entries for the four snowmcp servers in Claude Desktop's config.

Prints them, or with `--write` merges them into Claude Desktop's config file
for this platform: other servers and settings are kept, and so are the keys and
env of snowmcp entries already there (a hand-added Snowflake setup survives);
the old file is saved as `claude_desktop_config.json.bak-<time>` first. The
command is this installation's `snowmcp` script, by absolute path, as Claude
Desktop needs; never one inside a cache that may be cleaned.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowmcp.clients.host.config import SNOWMCP_SERVERS
from snowmcp.common.errors import ConfigError
from snowmcp.clients.host.launch import snowmcp_command


def config_path(platform: str = sys.platform, environ: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """Where Claude Desktop keeps its config on this platform."""
    environ = dict(os.environ) if environ is None else environ
    home = home or Path.home()
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if platform.startswith("win"):
        return Path(environ.get("APPDATA", home / "AppData" / "Roaming")) / "Claude" / "claude_desktop_config.json"
    return Path(environ.get("XDG_CONFIG_HOME", home / ".config")) / "Claude" / "claude_desktop_config.json"


_SECRET_KEY = re.compile(r"PASSWORD|PASSPHRASE|TOKEN|SECRET|PRIVATE_KEY|_PWD|API_KEY", re.IGNORECASE)
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CACHE_PARTS = ("/.cache/", "/archive-v0/", "/Caches/", "\\cache\\")


def parse_env(pairs: list[str]) -> dict[str, str]:
    """`--env KEY=VALUE` options as a dict; a malformed one is refused (its value never echoed)."""
    env: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not _ENV_KEY.fullmatch(key):
            shown = key if _ENV_KEY.fullmatch(key) else "an option"
            raise ConfigError(f"--env expects KEY=VALUE, got {shown} without one", hint="e.g. --env SNOWMCP_ETL_NOW=latest")
        env[key] = value
    return env


def masked(entries: dict[str, Any]) -> dict[str, Any]:
    """`entries` with the values of secret-looking variables replaced, for printing."""
    return {name: {**entry, "env": {k: "***" if _SECRET_KEY.search(k) else v for k, v in entry["env"].items()}}
            if "env" in entry else entry for name, entry in entries.items()}


def stable_command() -> tuple[list[str], str | None]:
    """This install's `snowmcp` command for Claude Desktop, and a warning when it is not stable.

    pipx and `uv tool install` put the script in a tool venv and a link to it on PATH: both last.
    `uvx` runs from a cache that uv may clean: then the `snowmcp` on PATH is used if there is one."""
    command = snowmcp_command()
    if not any(part in command[0] for part in _CACHE_PARTS):
        return command, None
    on_path = shutil.which("snowmcp")
    if on_path and not any(part in str(Path(on_path).resolve()) for part in _CACHE_PARTS):
        return [on_path], None
    return command, (f"{command[0]} lives in a cache that may be cleaned: install snowmcp with "
                     "`uv tool install snowmcp` or `pipx install snowmcp` and run this again")


def warehouse_for_config(warehouse: str) -> tuple[str, str | None]:
    """`warehouse` as Claude Desktop must get it (a DuckDB path made absolute: it starts servers in
    another folder), and a warning when that file does not exist."""
    scheme, sep, rest = warehouse.partition("://")
    if not sep or scheme != "duckdb":
        return warehouse, None
    path = Path(rest).expanduser().resolve()
    warning = None if path.exists() else (f"{path} does not exist yet: the servers fail until it does "
                                          "(build it with dbt, or `snowmcp demo init --path` for the demo data)")
    return f"duckdb://{path}", warning


def server_entries(warehouse: str | None, env: dict[str, str] | None = None,
                   prefix: str = "snowmcp-", command: list[str] | None = None) -> dict[str, Any]:
    """Claude Desktop's entries for the four servers; `env` is added to each (with SNOWMCP_WAREHOUSE)."""
    executable, *launch = command or snowmcp_command()
    variables = {**({"SNOWMCP_WAREHOUSE": warehouse} if warehouse else {}), **(env or {})}
    entries = {}
    for name in SNOWMCP_SERVERS:
        entry: dict[str, Any] = {"command": executable, "args": [*launch, "serve", name]}
        if variables:
            entry["env"] = dict(variables)
        entries[f"{prefix}{name}"] = entry
    return entries


@dataclass(frozen=True)
class Written:
    backup: Path | None
    kept: dict[str, list[str]]
    """For each entry that was there before: the env keys it had that this write kept."""


def merge_into(path: Path, entries: dict[str, Any]) -> Written:
    """Merge `entries` into the config at `path` (created if absent), keeping other servers, other
    settings, and each existing entry's keys and env (what `entries` sets wins). The old file is
    copied to a backup whose name no earlier backup has."""
    current: dict[str, Any] = {}
    backup = None
    if path.exists():
        try:
            current = json.loads(path.read_text() or "{}")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}): fix or move it, then run again") from None
        if not isinstance(current, dict) or not isinstance(current.get("mcpServers", {}), dict):
            raise ConfigError(f"{path}: expected an object whose mcpServers is an object")
        backup = _backup(path)
    servers = dict(current.get("mcpServers", {}))
    kept: dict[str, list[str]] = {}
    for name, entry in entries.items():
        old = servers.get(name)
        if isinstance(old, dict):
            old_env = old.get("env") if isinstance(old.get("env"), dict) else {}
            kept[name] = sorted(k for k in old_env if k not in entry.get("env", {}))
            entry = {**old, **entry, "env": {**old_env, **entry.get("env", {})}}
            if not entry["env"]:
                del entry["env"]
        servers[name] = entry
    merged = {**current, "mcpServers": servers}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(merged, indent=2) + "\n")
    os.replace(scratch, path)
    return Written(backup, {name: keys for name, keys in kept.items() if keys})


def _backup(path: Path) -> Path:
    """Copy `path` to `<name>.bak-<time>[-n]`, never over an existing backup."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    for n in range(1000):
        candidate = path.with_name(f"{path.name}.bak-{stamp}" + (f"-{n}" if n else ""))
        try:
            with open(candidate, "xb") as target:
                target.write(path.read_bytes())
        except FileExistsError:
            continue
        shutil.copystat(path, candidate)
        return candidate
    raise ConfigError(f"cannot find a free backup name beside {path}")
