"""Which MCP servers the host connects to: Claude Desktop's `mcpServers` format, or a built-in default.

```json
{"mcpServers": {
   "query": {"command": "snowmcp", "args": ["serve", "query"], "env": {"SNOWMCP_WAREHOUSE": "${WH:-demo}"}},
   "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
   "legacy": {"url": "http://127.0.0.1:8001/sse"}
}}
```

A stdio entry has `command` (and optional `args`, `env`, `cwd`); an HTTP entry has
`url` (and optional `headers`), speaking streamable HTTP unless its `transport`
(or `type`) says `sse` or the URL ends in `/sse`. Every string may use `${VAR}`
and `${VAR:-default}`; a missing variable without a default is an error naming
it. Like Claude Desktop, a stdio server's environment is a small safe set of
the host's variables plus its `env`. Optional per entry: `timeout_s` (per call).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from snowmcp.common.errors import ConfigError
from snowmcp.clients.host.launch import snowmcp_command
from snowmcp.servers import SERVERS

DEFAULT_CALL_TIMEOUT_S = 120.0
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_PASSED_TO_OUR_SERVERS = ("SNOWMCP_", "SNOWFLAKE_", "OTEL_")

Transport = Literal["stdio", "streamable-http", "sse"]


@dataclass(frozen=True)
class ServerSpec:
    name: str
    transport: Transport
    command: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_CALL_TIMEOUT_S

    def describe(self) -> str:
        """Where the server is, without secrets (header values and env values are not shown)."""
        if self.transport == "stdio":
            return " ".join([self.command or "", *self.args])
        return f"{self.url} ({self.transport})"


def expand(value: str, where: str, environ: Mapping[str, str]) -> str:
    """`${VAR}` and `${VAR:-default}` in `value`, from `environ`."""

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set",
                          hint=f"Set {name}, or write ${{{name}:-default}} in the config.")

    return _VARIABLE.sub(substitute, value)


def parse_config(data: Any, environ: Mapping[str, str] | None = None, source: str = "config") -> list[ServerSpec]:
    """Server specs from a parsed Claude Desktop style config."""
    environ = os.environ if environ is None else environ
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers"), dict):
        raise ConfigError(f"{source}: expected an object with \"mcpServers\": {{name: {{...}}}}")
    specs = [_spec(name, entry, environ, f"{source}: mcpServers.{name}") for name, entry in data["mcpServers"].items()]
    if not specs:
        raise ConfigError(f"{source}: mcpServers is empty")
    return specs


def _spec(name: str, entry: Any, environ: Mapping[str, str], where: str) -> ServerSpec:
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name):
        raise ConfigError(f"{where}: a server name is 1-40 letters, digits, '_', '.' or '-'")
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected an object with \"command\" or \"url\"")
    unknown = set(entry) - {"command", "args", "env", "cwd", "url", "headers", "transport", "type", "timeout_s",
                            "disabled"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")

    def text(key: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: expected a string")
        return expand(value, f"{where}.{key}", environ)

    def mapping(key: str) -> dict[str, str]:
        value = entry.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{where}.{key}: expected an object of strings")
        return {str(k): text(f"{key}.{k}", v) for k, v in value.items()}

    timeout = entry.get("timeout_s", DEFAULT_CALL_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ConfigError(f"{where}.timeout_s: expected a positive number of seconds")
    if ("command" in entry) == ("url" in entry):
        raise ConfigError(f"{where}: give either \"command\" (stdio) or \"url\" (HTTP)")
    if "command" in entry:
        args = entry.get("args", [])
        if not isinstance(args, list):
            raise ConfigError(f"{where}.args: expected a list of strings")
        return ServerSpec(name=name, transport="stdio", command=text("command", entry["command"]),
                          args=tuple(text(f"args.{i}", a) for i, a in enumerate(args)), env=mapping("env"),
                          cwd=text("cwd", entry["cwd"]) if entry.get("cwd") else None, timeout_s=float(timeout))
    url = text("url", entry["url"])
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}.url: expected an http:// or https:// URL")
    kind = str(entry.get("transport") or entry.get("type") or "").lower()
    transport: Transport = "sse" if kind == "sse" or (not kind and url.rstrip("/").endswith("/sse")) else "streamable-http"
    if kind and kind not in ("sse", "http", "streamable-http", "streamable_http"):
        raise ConfigError(f"{where}.transport: expected sse or streamable-http, got {kind!r}")
    return ServerSpec(name=name, transport=transport, url=url, headers=mapping("headers"), timeout_s=float(timeout))


def load_config(path: str | Path | None, environ: Mapping[str, str] | None = None,
                warehouse: str | None = None) -> list[ServerSpec]:
    """The servers of a config file, or the built-in default (the four snowmcp servers)."""
    if path is None:
        return default_servers(environ, warehouse)
    file = Path(path).expanduser()
    try:
        data = json.loads(file.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the host config {file}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{file}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return [s for s in parse_config(data, environ, str(file)) if not data["mcpServers"][s.name].get("disabled")]


def default_servers(environ: Mapping[str, str] | None = None, warehouse: str | None = None) -> list[ServerSpec]:
    """The four snowmcp servers as subprocesses of this Python, on the configured warehouse.

    They get the host's SNOWMCP_*, SNOWFLAKE_* and OTEL_* variables (so the same
    warehouse, state folder and credentials apply), plus `warehouse` if given."""
    environ = os.environ if environ is None else environ
    env = {k: v for k, v in environ.items() if k.startswith(_PASSED_TO_OUR_SERVERS)}
    if warehouse:
        env["SNOWMCP_WAREHOUSE"] = warehouse
    command, *prefix = snowmcp_command()
    return [ServerSpec(name=name, transport="stdio", command=command,
                       args=(*prefix, "serve", name), env=dict(env)) for name in SERVERS]
