"""Where a Snowflake connection comes from, and the connect() arguments snowmcp builds for it.

Snowflake's own conventions, nothing new:

1. `snowflake://<name>`: the `[<name>]` entry of Snowflake's `connections.toml`,
   found and parsed by the connector itself (`SNOWFLAKE_HOME`, or the platform
   config folder; the whole file may also come from `SNOWFLAKE_CONNECTIONS`).
2. `snowflake://`: the connector's default connection (`SNOWFLAKE_DEFAULT_CONNECTION_NAME`,
   `default_connection_name` in `config.toml`, else `default`), or, when there
   is none, the generic variables `SNOWFLAKE_ACCOUNT`, `SNOWFLAKE_USER`, ...
3. As in Snowflake CLI, `SNOWFLAKE_CONNECTIONS_<NAME>_<KEY>` overrides one key
   of an entry, and a generic `SNOWFLAKE_<KEY>` fills a key the entry lacks.

Every authenticator (password, key pair with an encrypted key, PAT, OAuth,
externalbrowser...) passes through to `snowflake.connector.connect` untouched.
snowmcp adds only session parameters, `paramstyle="qmark"`, the optional
role/warehouse/database/schema overrides and the timeouts from `Settings`, in the
names and types the installed connector takes (`connect_arguments`: whole seconds;
5.x's `query_timeout`/`request_timeout` for 4.x's `network_timeout`). Secret values
are kept aside so that any text snowmcp builds can be scrubbed; what `snowmcp doctor`
shows comes from an allow-list of keys that are never secrets.
"""

from __future__ import annotations

import json
import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snowmcp.common.errors import ConfigError
from snowmcp.common.settings import Settings

# Generic variables (Snowflake CLI's names) -> connect() keyword.
_ENV_KEYS = (
    "account", "user", "password", "authenticator", "role", "warehouse", "database", "schema",
    "host", "port", "protocol", "region", "private_key_file", "private_key_file_pwd", "token",
    "token_file_path", "passcode", "oauth_client_id", "oauth_client_secret",
)
# connect() keywords whose values must never appear in text snowmcp writes.
SECRET_KEYS = (
    "password", "private_key_file_pwd", "private_key_pwd", "private_key_password", "private_key", "token",
    "passcode", "oauth_client_secret", "proxy_password", "oauth_refresh_token", "master_token", "session_token",
)
# What may be shown about a connection (doctor, messages): an allow-list, never a secret.
SHOWN_KEYS = (
    "account", "user", "authenticator", "role", "warehouse", "database", "schema", "host", "port", "protocol",
    "region", "private_key_file", "token_file_path", "oauth_client_id", "login_timeout", "network_timeout",
)
BASE_QUERY_TAG = {"app": "snowmcp"}


@dataclass
class ConnectionConfig:
    """Keyword arguments for `snowflake.connector.connect` plus what may be said about them."""

    kwargs: dict[str, Any] = field(repr=False)  # may hold credentials: never log or repr it
    label: str = ""
    """How to name this connection in messages (no secrets)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    session_start: tuple[str, ...] = ()
    """Statements every new session runs before its first use (USE SECONDARY ROLES NONE)."""
    name: str | None = None
    """The connections.toml entry, None when the SNOWFLAKE_* variables define the connection."""
    sources: tuple[str, ...] = ()
    """Where the name, the entry and each override came from (file paths, variable names)."""
    shown: dict[str, Any] = field(default_factory=dict)
    """The values that will be used, for SHOWN_KEYS only (never a secret)."""
    key_check: Callable[[], str | None] | None = field(default=None, repr=False)
    """For a key-pair connection: says why its private key file cannot be used, or None."""
    entry: dict[str, Any] = field(default_factory=dict, repr=False)
    """The connections.toml entry as the connector read it (may hold credentials)."""

    def scrub(self, text: str) -> str:
        """`text` with every known secret value replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def resolve_config(connection_name: str | None, settings: Settings) -> ConnectionConfig:
    """Build the connect() arguments for `snowflake://[connection_name]` (imports the connector)."""
    connections = _connector_connections()
    name, name_source = (connection_name, "the warehouse URL") if connection_name else _default_connection_name()
    entry = connections.get(name)
    kwargs: dict[str, Any] = {}
    generic = _env_params("SNOWFLAKE_")
    sources = [f"connection name {name!r} from {name_source}"]
    if entry is not None:
        kwargs["connection_name"] = name  # the connector merges the entry itself
        kwargs.update({k: v for k, v in generic.items() if k not in entry})
        own = _env_params(f"SNOWFLAKE_CONNECTIONS_{name.upper()}_")
        kwargs.update(own)
        sources.append(f"entry [{name}] from {_entry_source(name)}")
        sources += [f"{k} from SNOWFLAKE_{k.upper()}" for k in generic if k not in entry]
        sources += [f"{k} from SNOWFLAKE_CONNECTIONS_{name.upper()}_{k.upper()}" for k in own]
        label = f"connection {name!r}"
    elif connection_name is not None:
        known = ", ".join(sorted(connections)) or "none"
        raise ConfigError(
            f"no Snowflake connection named {name!r} in {connections_file()} (known: {known})",
            hint="Add it to connections.toml (or set SNOWFLAKE_HOME to its folder), "
            "or use snowflake:// for the default connection.",
        )
    elif "account" in generic:
        kwargs.update(generic)
        entry, label, sources = {}, "SNOWFLAKE_* variables", [f"{k} from SNOWFLAKE_{k.upper()}" for k in generic]
        name = None
    else:
        raise ConfigError(
            f"no default Snowflake connection: {connections_file()} has no [{name}] entry "
            "and SNOWFLAKE_ACCOUNT is not set",
            hint="Define the connection in connections.toml and use snowflake://<name>, "
            "set SNOWFLAKE_DEFAULT_CONNECTION_NAME, or set SNOWFLAKE_ACCOUNT/SNOWFLAKE_USER/...",
        )
    merged = {**entry, **kwargs}
    own_params = dict(merged.get("session_parameters") or {})
    timeout = math.ceil(settings.max_timeout_s)
    if isinstance(stricter := own_params.get("STATEMENT_TIMEOUT_IN_SECONDS"), int) and 0 < stricter < timeout:
        timeout = stricter
    kwargs["session_parameters"] = {
        **own_params,
        # Defense in depth: one statement per call, nothing outlives the largest timeout,
        # and a DBA can find every snowmcp statement (refined per statement, see snowflake.py).
        "MULTI_STATEMENT_COUNT": 1,
        "STATEMENT_TIMEOUT_IN_SECONDS": timeout,
        "QUERY_TAG": json.dumps(BASE_QUERY_TAG),
        "ABORT_DETACHED_QUERY": True,  # no statement outlives a session that vanished
    }
    kwargs["paramstyle"] = "qmark"  # server-side binding with ? placeholders, like DuckDB
    for key in ("role", "warehouse", "database", "schema"):
        if (value := getattr(settings, f"snowflake_{key}")) is not None:
            kwargs[key] = value
            sources.append(f"{key} from SNOWMCP_SNOWFLAKE_{key.upper()}")
    for key in ("login_timeout", "network_timeout"):  # an explicit SNOWMCP_ setting, else the entry's, else ours
        setting = f"snowflake_{key}_s"
        if setting in settings.model_fields_set or key not in merged:
            kwargs[key] = getattr(settings, setting)
        else:
            kwargs[key] = merged[key]
        # whole seconds: the 5.x connector refuses a float ("Expected type Int ... got Double")
        kwargs[key] = _whole_seconds(kwargs[key], key, label)
    merged.update(kwargs)
    # (Values too short to be real secrets are left alone: scrubbing them would garble messages.)
    secrets = tuple(str(merged[k]) for k in SECRET_KEYS if merged.get(k) and len(str(merged[k])) >= 6)
    shown = {k: merged[k] for k in SHOWN_KEYS if merged.get(k) not in (None, "")}
    return ConnectionConfig(kwargs=kwargs, label=label, secrets=secrets,
                            session_start=_SESSION_START[settings.snowflake_secondary_roles], name=name,
                            sources=tuple(sources), shown=shown, key_check=_key_check(merged), entry=dict(entry))


# Secondary roles widen a session past its primary role's grants (a user's default is often ALL):
# by default a session has only the role snowmcp was configured with.
_SESSION_START = {"none": ("USE SECONDARY ROLES NONE",), "all": ("USE SECONDARY ROLES ALL",), "default": ()}


def connect_arguments(connector: Any, config: ConnectionConfig) -> dict[str, Any]:
    """The connect() arguments in the names the installed connector takes.

    5.x applies only some keys of a connections.toml entry it loads by name (it ignores the
    entry's timeouts and retry_max_attempts, say): the entry's keys are passed as arguments too.
    It splits 4.x's `network_timeout` into `request_timeout` and `query_timeout` (and warns on
    the old name); `query_timeout` bounds a whole statement, answered in one request
    (`snowflake.py`), so it is the statement timeout plus the network timeout for the answer
    (snowmcp enforces each call's own timeout itself, and cancels). It warns unless the logout behaviour is chosen: snowmcp logs out on close,
    as 4.x did, so that ABORT_DETACHED_QUERY ends whatever a closed session left running.
    """
    if _major(connector) < 5:
        return config.kwargs
    arguments = {**config.entry, **config.kwargs}
    for old_name, new_name in _RENAMED_IN_5.items():
        if old_name in arguments:
            value = arguments.pop(old_name)
            arguments.setdefault(new_name, value)
    if "network_timeout" in arguments:  # 4.x's budget for any request, retries included
        seconds = arguments.pop("network_timeout")
        statement_s = (arguments.get("session_parameters") or {}).get("STATEMENT_TIMEOUT_IN_SECONDS") or 0
        arguments.setdefault("query_timeout", int(statement_s) + seconds)
        arguments.setdefault("request_timeout", seconds)
    arguments.setdefault("enable_server_session_keep_alive_auto_detection", False)
    return arguments


# 4.x names that 5.x still takes, with a DeprecationWarning.
_RENAMED_IN_5 = {"private_key_file_pwd": "private_key_password", "private_key_passphrase": "private_key_password"}


def _major(connector: Any) -> int:
    match = re.match(r"\d+", str(getattr(connector, "__version__", "")))
    return int(match.group()) if match else 0


def _whole_seconds(value: Any, key: str, label: str) -> int:
    try:
        seconds = math.ceil(float(value))
    except (TypeError, ValueError):
        raise ConfigError(f"{label}: {key} must be a number of seconds", hint=f"Write e.g. {key} = 30.") from None
    if seconds <= 0:
        raise ConfigError(f"{label}: {key} must be positive", hint=f"Write e.g. {key} = 30.")
    return seconds


def _key_check(merged: dict[str, Any]) -> Callable[[], str | None] | None:
    """For a key-pair entry, a check that its key file opens (5.x says only "Authentication failed")."""
    path = merged.get("private_key_file")
    if not path or str(merged.get("authenticator", "")).upper() != "SNOWFLAKE_JWT":
        return None
    passphrase = next((merged[k] for k in ("private_key_file_pwd", "private_key_pwd", "private_key_password")
                       if merged.get(k)), None)

    def check() -> str | None:
        from cryptography.hazmat.primitives import serialization

        key_file = Path(str(path)).expanduser()
        try:
            data = key_file.read_bytes()
        except OSError as exc:
            return f"its private key file {key_file} cannot be read ({exc.strerror or type(exc).__name__})"
        password = str(passphrase).encode() if passphrase is not None else None
        try:
            serialization.load_pem_private_key(data, password=password)
        except TypeError:  # encrypted without a passphrase, or a passphrase for a plain key
            return (f"its private key file {key_file} is encrypted and no private_key_file_pwd is given"
                    if password is None else f"its private key file {key_file} is not encrypted: "
                    "remove private_key_file_pwd")
        except ValueError:
            return (f"its private key file {key_file} does not decrypt with the passphrase given "
                    "(private_key_file_pwd), or is not a PEM private key")
        return None

    return check


# -- the connector's files ---------------------------------------------------------------------


def _connector_connections() -> dict[str, dict[str, Any]]:
    """The connector's own reading of connections.toml (and SNOWFLAKE_CONNECTIONS), by entry."""
    try:
        from snowflake.connector.config_manager import CONFIG_MANAGER

        connections = dict(CONFIG_MANAGER["connections"])
    except Exception as exc:  # an unreadable file: say where and why, never its content
        raise _unreadable(exc) from None
    entries: dict[str, dict[str, Any]] = {}
    for key, value in connections.items():
        if not hasattr(value, "items"):  # every top-level key of connections.toml is a connection
            moved = " (default_connection_name belongs in config.toml, in the same folder)" \
                if key == "default_connection_name" else ""
            raise ConfigError(
                f"{connections_file()}: top-level key {key!r} is not a [connection] table{moved}",
                hint="Each connection is a table: [name] followed by account = ..., user = ..., ...",
            )
        entries[str(key)] = dict(value)
    return entries


def _unreadable(exc: Exception) -> ConfigError:
    """The connector could not read its files: name the file, the line and the key (no values)."""
    inline = os.environ.get("SNOWFLAKE_CONNECTIONS")
    problems = [toml_problem(Path(path)) for path in (connections_file(), config_file())]
    problems.append(toml_text_problem(inline, "SNOWFLAKE_CONNECTIONS") if inline else None)
    for problem in problems:
        if problem is not None:
            return ConfigError(f"cannot read Snowflake's {problem}",
                               hint="Fix the TOML at that line (quote strings; each key once per table).")
    message = str(getattr(exc, "msg", None) or exc)
    if "writable by group or others" in message or "Insecure file permissions" in message:
        path = next((p for p in (connections_file(), config_file()) if p in message), connections_file())
        return ConfigError(f"Snowflake's connector refuses {path}: it is writable by group or others",
                           hint=f"chmod 0600 {path}")
    return ConfigError(f"cannot read Snowflake's {connections_file()} or {config_file()}: {type(exc).__name__}",
                       hint="Check they are valid TOML and not writable by others (chmod 0600).")


_TOML_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_KEY_LINE = re.compile(r"""^\s*([A-Za-z0-9_\-."']+)\s*=""")
_TABLE_LINE = re.compile(r"^\s*\[+\s*([^\]\s]*)")


def toml_problem(path: Path) -> str | None:
    """`<path> line N, key 'k': <what is wrong>` when `path` is not valid TOML, else None.

    Only the key's name is quoted from the file, never a value (values may be secrets).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    return toml_text_problem(text, str(path))


def toml_text_problem(text: str, path: str) -> str | None:
    """`toml_problem` for TOML text from `path` (a file, or a variable's name)."""
    try:
        tomllib.loads(text)
        return None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
    where = _TOML_WHERE.search(message)
    reason = _TOML_WHERE.sub("", message)
    reason = "Illegal character" if reason.startswith("Illegal character") else reason
    if where is None:
        return f"{path}: {reason}"
    line_no = int(where.group(1))
    lines = text.splitlines()
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    if key := _KEY_LINE.match(line):
        what = f", key {key.group(1).strip(chr(34) + chr(39))!r}"
    elif table := _TABLE_LINE.match(line):
        what = f", table [{table.group(1)}"
        what += "]" if "]" in line else " (unclosed)"
    else:
        what = ""
    return f"{path} line {line_no}{what}: {reason}"


def _default_connection_name() -> tuple[str, str]:
    """The default connection's name and where it was set."""
    if os.environ.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME"):
        return os.environ["SNOWFLAKE_DEFAULT_CONNECTION_NAME"], "SNOWFLAKE_DEFAULT_CONNECTION_NAME"
    try:
        from snowflake.connector.config_manager import CONFIG_MANAGER

        name = str(CONFIG_MANAGER["default_connection_name"])
    except Exception:
        return "default", "the connector's default"
    return name, config_file() if _toml_has(Path(config_file()), "default_connection_name") else "the connector's default"


def _entry_source(name: str) -> str:
    if _toml_has(Path(connections_file()), name):
        return connections_file()
    if os.environ.get("SNOWFLAKE_CONNECTIONS"):
        return "SNOWFLAKE_CONNECTIONS"
    if _toml_has(Path(config_file()), "connections"):
        return f"{config_file()} [connections.{name}]"
    return connections_file()


def _toml_has(path: Path, key: str) -> bool:
    try:
        return key in tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def connections_file() -> str:
    try:
        from snowflake.connector import constants

        return str(constants.CONNECTIONS_FILE)
    except Exception:
        return "connections.toml"


def config_file() -> str:
    try:
        from snowflake.connector import config_manager

        return str(config_manager.CONFIG_MANAGER.file_path or "config.toml")
    except Exception:
        return "config.toml"


def _env_params(prefix: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in _ENV_KEYS:
        value = os.environ.get(prefix + key.upper())
        if value:
            found[key] = int(value) if key == "port" and value.isdigit() else value
    return found
