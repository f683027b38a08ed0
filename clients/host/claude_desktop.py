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
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from snowmcp.servers import SERVERS
from snowmcp.common.errors import ConfigError
from snowmcp.clients.host.launch import snowmcp_command
from snowmcp.common.warehouse.selection import parse_warehouse_url


def config_path(platform: str = sys.platform, environ: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """Where Claude Desktop keeps its config on this platform."""
    environ = dict(os.environ) if environ is None else environ
    home = home or Path.home()
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Claude" / "claude_desktop_config.json"
    if platform.startswith("win"):
        return Path(environ.get("APPDATA", home / "AppData" / "Roaming")) / "Claude" / "claude_desktop_config.json"
    return Path(environ.get("XDG_CONFIG_HOME", home / ".config")) / "Claude" / "claude_desktop_config.json"


_SECRET_KEY = re.compile(r"PASSWORD|PASSPHRASE|PASSCODE|TOKEN|SECRET|KEY|_PWD|CREDENTIAL", re.IGNORECASE)
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Where uvx, `uv run --with`, `pipx run` and temporary venvs keep the scripts they run (cleaned at will).
_CACHE_PARTS = ("/.cache/", "/caches/", "/archive-v0/", "/environments-v2/", "/builds-v0/")


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


def is_secret(key: str) -> bool:
    """Whether an environment variable's name says it holds a secret (its value is never printed)."""
    return bool(_SECRET_KEY.search(key))


def masked(entries: dict[str, Any]) -> dict[str, Any]:
    """`entries` with the values of secret-looking variables replaced, for printing."""
    return {name: {**entry, "env": {k: "***" if is_secret(k) else v for k, v in entry["env"].items()}}
            if "env" in entry else entry for name, entry in entries.items()}


def in_cache(path: str) -> bool:
    """Whether `path` lies in a cache or temporary folder that may be cleaned under Claude Desktop."""
    where = str(Path(path).resolve()).replace("\\", "/")
    temp = str(Path(tempfile.gettempdir()).resolve()).replace("\\", "/").rstrip("/") + "/"
    return any(part in where.lower() for part in _CACHE_PARTS) or where.startswith(temp)


def stable_command() -> tuple[list[str], str | None]:
    """This install's `snowmcp` command for Claude Desktop, and a warning when it is not stable.

    pipx and `uv tool install` put the script in a tool venv and a link to it on PATH
    (~/.local/bin/snowmcp): the link is what lasts across upgrades, so it is preferred when it
    leads to this install's script. uvx runs from uv's cache, which uv may clean: then the
    `snowmcp` on PATH (another install) is used if there is one, with a warning; else a warning."""
    command = snowmcp_command()
    on_path = shutil.which("snowmcp")
    if on_path and _same_file(on_path, command[0]):
        return [str(Path(on_path).absolute())], None
    if not in_cache(command[0]):
        return command, None
    if on_path and not in_cache(on_path):
        return [str(Path(on_path).absolute())], (
            f"this snowmcp runs from a cache that may be cleaned ({command[0]}): the entries use the "
            f"snowmcp on PATH instead, {on_path}, another installation (see `{on_path} --version`)")
    return command, (f"{command[0]} lives in a cache that may be cleaned: install snowmcp with "
                     "`uv tool install snowmcp` or `pipx install snowmcp` and run this again")


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def warehouse_for_config(warehouse: str) -> tuple[str, str | None]:
    """`warehouse` as Claude Desktop must get it (a DuckDB path made absolute: it starts servers in
    another folder), and a warning when that file does not exist. A malformed URL is refused."""
    spec = parse_warehouse_url(warehouse)
    if spec.kind != "duckdb":
        return warehouse.strip(), None
    assert spec.path is not None
    path = spec.path.resolve()
    warning = None if path.exists() else (f"{path} does not exist yet: the servers fail until it does "
                                          "(build it with dbt, or `snowmcp demo init --path` for the demo data)")
    return f"duckdb://{path}", warning


def server_entries(warehouse: str | None, env: dict[str, str] | None = None,
                   prefix: str = "snowmcp-", command: list[str] | None = None) -> dict[str, Any]:
    """Claude Desktop's entries for the four servers; `env` is added to each (with SNOWMCP_WAREHOUSE)."""
    executable, *launch = command or snowmcp_command()
    variables = {**({"SNOWMCP_WAREHOUSE": warehouse} if warehouse else {}), **(env or {})}
    entries = {}
    for name in SERVERS:
        entry: dict[str, Any] = {"command": executable, "args": [*launch, "serve", name]}
        if variables:
            entry["env"] = dict(variables)
        entries[f"{prefix}{name}"] = entry
    return entries


@dataclass(frozen=True)
class Change:
    """What one write did to one entry, by name only (values are never reported)."""

    added: bool
    changed: tuple[str, ...] = ()  # keys and env variables given a new value
    kept: tuple[str, ...] = ()  # keys and env variables of the old entry left as they were

    def describe(self) -> str:
        if self.added:
            return "added"
        parts = [f"changed {', '.join(self.changed)}" if self.changed else "unchanged"]
        return "; ".join(parts + ([f"kept {', '.join(self.kept)}"] if self.kept else []))


@dataclass(frozen=True)
class Written:
    backup: Path | None
    changes: dict[str, Change]


def merge_into(path: Path, entries: dict[str, Any]) -> Written:
    """Merge `entries` into the config at `path` (created if absent), keeping other servers, other
    settings, and each existing entry's keys and env (what `entries` sets wins). The old file is
    copied to a backup whose name no earlier backup has; the new one keeps its permissions."""
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
    changes: dict[str, Change] = {}
    for name, entry in entries.items():
        old = servers.get(name)
        if isinstance(old, dict):
            entry, changes[name] = _merge_entry(old, entry)
        else:
            changes[name] = Change(added=True)
        servers[name] = entry
    merged = {**current, "mcpServers": servers}
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(merged, indent=2) + "\n")
    if backup is not None:
        shutil.copymode(path, scratch)  # a config holding secrets stays private
    os.replace(scratch, path)
    return Written(backup, changes)


def _merge_entry(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], Change]:
    old_env = old.get("env") if isinstance(old.get("env"), dict) else {}
    new_env = new.get("env", {})
    merged = {**old, **new, "env": {**old_env, **new_env}}
    if not merged["env"]:
        del merged["env"]
    changed = [k for k in new if k != "env" and old.get(k) != new[k]]
    changed += [k for k in new_env if old_env.get(k) != new_env[k]]
    kept = [k for k in old if k not in new and k != "env"] + [k for k in old_env if k not in new_env]
    return merged, Change(added=False, changed=tuple(changed), kept=tuple(kept))


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
