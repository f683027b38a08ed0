"""Snowflake connection settings and a small, thread-safe pool of sessions.

Where a connection comes from (Snowflake's own conventions, nothing new):

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
role/warehouse/database/schema overrides and the timeouts from `Settings`.
Secret values are kept aside so that any text snowmcp builds can be scrubbed.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from snowmcp.common.errors import ConfigError, WarehouseUnavailable
from snowmcp.common.settings import Settings

log = logging.getLogger("snowmcp.snowflake")

# Generic variables (Snowflake CLI's names) -> connect() keyword.
_ENV_KEYS = (
    "account", "user", "password", "authenticator", "role", "warehouse", "database", "schema",
    "host", "port", "protocol", "region", "private_key_file", "private_key_file_pwd", "token",
    "token_file_path", "passcode", "oauth_client_id", "oauth_client_secret",
)
# connect() keywords whose values must never appear in text snowmcp writes.
_SECRET_KEYS = (
    "password", "private_key_file_pwd", "private_key_pwd", "private_key", "token", "passcode",
    "oauth_client_secret", "proxy_password", "oauth_refresh_token",
)
BASE_QUERY_TAG = {"app": "snowmcp"}
# The driver's HTTP errors worth retrying (5xx, 429...), by name: their classes vary between versions.
_HTTP_ERRORS = {"InternalServerError", "ServiceUnavailableError", "GatewayTimeoutError", "RequestTimeoutError",
                "BadGatewayError", "TooManyRequests", "OtherHTTPRetryableError", "RequestExceedMaxRetryError"}
_CODE_PREFIX = re.compile(r"^(\d{6}(?: \([0-9A-Za-z/]+\))?:\s*)+")  # "001003 (42000): " as the driver adds it


@dataclass
class ConnectionConfig:
    """Keyword arguments for `snowflake.connector.connect` plus what may be said about them."""

    kwargs: dict[str, Any] = field(repr=False)  # may hold credentials: never log or repr it
    label: str = ""
    """How to name this connection in messages (no secrets)."""
    secrets: tuple[str, ...] = field(default=(), repr=False)
    session_start: tuple[str, ...] = ()
    """Statements every new session runs before its first use (USE SECONDARY ROLES NONE)."""

    def scrub(self, text: str) -> str:
        """`text` with every known secret value replaced by ***."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def resolve_config(connection_name: str | None, settings: Settings) -> ConnectionConfig:
    """Build the connect() arguments for `snowflake://[connection_name]` (imports the connector)."""
    connections = _connector_connections()
    name = connection_name or _default_connection_name()
    entry = connections.get(name)
    kwargs: dict[str, Any] = {}
    generic = _env_params("SNOWFLAKE_")
    if entry is not None:
        kwargs["connection_name"] = name  # the connector merges the entry itself
        kwargs.update({k: v for k, v in generic.items() if k not in entry})
        kwargs.update(_env_params(f"SNOWFLAKE_CONNECTIONS_{name.upper()}_"))
        label = f"connection {name!r}"
    elif connection_name is not None:
        known = ", ".join(sorted(connections)) or "none"
        raise ConfigError(
            f"no Snowflake connection named {name!r} in {_connections_file()} (known: {known})",
            hint="Add it to connections.toml (or set SNOWFLAKE_HOME to its folder), "
            "or use snowflake:// for the default connection.",
        )
    elif "account" in generic:
        kwargs.update(generic)
        entry, label = {}, "SNOWFLAKE_* variables"
    else:
        raise ConfigError(
            f"no default Snowflake connection: {_connections_file()} has no [{name}] entry "
            "and SNOWFLAKE_ACCOUNT is not set",
            hint="Define the connection in connections.toml and use snowflake://<name>, "
            "set SNOWFLAKE_DEFAULT_CONNECTION_NAME, or set SNOWFLAKE_ACCOUNT/SNOWFLAKE_USER/...",
        )
    merged = {**entry, **kwargs}
    own = dict(merged.get("session_parameters") or {})
    timeout = math.ceil(settings.max_timeout_s)
    if isinstance(stricter := own.get("STATEMENT_TIMEOUT_IN_SECONDS"), int) and 0 < stricter < timeout:
        timeout = stricter
    kwargs["session_parameters"] = {
        **own,
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
    secrets = tuple(str(merged[k]) for k in _SECRET_KEYS if merged.get(k) and len(str(merged[k])) >= 6)
    return ConnectionConfig(kwargs=kwargs, label=label, secrets=secrets,
                            session_start=_SESSION_START[settings.snowflake_secondary_roles])


# Secondary roles widen a session past its primary role's grants (a user's default is often ALL):
# by default a session has only the role snowmcp was configured with.
_SESSION_START = {"none": ("USE SECONDARY ROLES NONE",), "all": ("USE SECONDARY ROLES ALL",), "default": ()}


def _whole_seconds(value: Any, key: str, label: str) -> int:
    try:
        seconds = math.ceil(float(value))
    except (TypeError, ValueError):
        raise ConfigError(f"{label}: {key} must be a number of seconds", hint=f"Write e.g. {key} = 30.") from None
    if seconds <= 0:
        raise ConfigError(f"{label}: {key} must be positive", hint=f"Write e.g. {key} = 30.")
    return seconds


def _connector_connections() -> dict[str, dict[str, Any]]:
    """The connector's own reading of connections.toml (and SNOWFLAKE_CONNECTIONS), by entry."""
    try:
        from snowflake.connector.config_manager import CONFIG_MANAGER

        connections = dict(CONFIG_MANAGER["connections"])
    except Exception as exc:  # an unreadable file: say so without echoing its content
        where = "".join(f" {name} {getattr(exc, name)}" for name in ("line", "col") if getattr(exc, name, None))
        raise ConfigError(
            f"cannot read Snowflake's {_connections_file()}: {type(exc).__name__}{where and ' at' + where}",
            hint="Check it is valid TOML and not writable by others (chmod 0600).",
        ) from None
    entries: dict[str, dict[str, Any]] = {}
    for key, value in connections.items():
        if not hasattr(value, "items"):  # every top-level key of connections.toml is a connection
            moved = " (default_connection_name belongs in config.toml, in the same folder)" \
                if key == "default_connection_name" else ""
            raise ConfigError(
                f"{_connections_file()}: top-level key {key!r} is not a [connection] table{moved}",
                hint="Each connection is a table: [name] followed by account = ..., user = ..., ...",
            )
        entries[str(key)] = dict(value)
    return entries


def _default_connection_name() -> str:
    try:
        from snowflake.connector.config_manager import CONFIG_MANAGER

        return str(CONFIG_MANAGER["default_connection_name"])
    except Exception:
        return os.environ.get("SNOWFLAKE_DEFAULT_CONNECTION_NAME", "default")


def _connections_file() -> str:
    try:
        from snowflake.connector import constants

        return str(constants.CONNECTIONS_FILE)
    except Exception:
        return "connections.toml"


def _env_params(prefix: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in _ENV_KEYS:
        value = os.environ.get(prefix + key.upper())
        if value:
            found[key] = int(value) if key == "port" and value.isdigit() else value
    return found


def connect(connector: Any, config: ConnectionConfig) -> Any:
    """Log in; map failures to snowmcp errors that name the connection, never its secrets."""
    errors = connector.errors
    try:
        raw = connector.connect(**config.kwargs)
    except errors.Error as exc:
        text, errno = config.scrub(summarize(exc)), errno_of(exc)
        if isinstance(exc, (errors.OperationalError, errors.InterfaceError)) or type(exc).__name__ in _HTTP_ERRORS:
            raise WarehouseUnavailable(f"cannot reach Snowflake ({config.label}): {text}", transient=True) from None
        if isinstance(exc, errors.DatabaseError):
            raise WarehouseUnavailable(
                f"Snowflake refused the login ({config.label}, {errno}): {text}", transient=False,
                hint="Check the user, role and credentials (password, key pair, token) of this connection.",
            ) from None
        raise ConfigError(f"cannot use Snowflake {config.label}: {text}") from None
    except Exception as exc:  # e.g. a private key that does not decrypt
        raise ConfigError(
            f"cannot use Snowflake {config.label}: {type(exc).__name__}: {config.scrub(summarize(exc))}",
            hint="Check the connection's settings in connections.toml (key file, passphrase, authenticator).",
        ) from None
    start_session(raw, config, errors)
    return raw


def start_session(raw: Any, config: ConnectionConfig, errors: Any) -> None:
    """Run the session-start statements; a session that cannot take them is closed and refused."""
    for statement in config.session_start:
        try:
            raw.cursor().execute(statement)
        except Exception as exc:
            _close_quietly(raw)
            text = config.scrub(summarize(exc))
            transient = isinstance(exc, (errors.OperationalError, errors.InterfaceError, OSError))
            raise WarehouseUnavailable(
                f"Snowflake session set-up failed ({config.label}): {statement}: {text}", transient=transient,
                hint="SNOWMCP_SNOWFLAKE_SECONDARY_ROLES=default keeps the user's own secondary roles instead.",
            ) from None


def errno_of(exc: BaseException) -> int:
    try:
        return int(getattr(exc, "errno", None) or -1)
    except (TypeError, ValueError):
        return -1


def summarize(exc: BaseException) -> str:
    """The message's first line (and the next one when the first only introduces it), without its code."""
    message = str(getattr(exc, "raw_msg", None) or getattr(exc, "msg", None) or exc)
    message = _CODE_PREFIX.sub("", message.strip())
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0] + (" " + lines[1] if lines[0].endswith(":") and len(lines) > 1 else "")
    return text[:500]


@dataclass(eq=False)
class PooledConnection:
    """One Snowflake session and what the pool knows about it."""

    raw: Any
    last_used: float = field(default_factory=time.monotonic)
    query_tag: str | None = None  # the session's QUERY_TAG when set by ALTER SESSION (fallback path)


class ConnectionPool:
    """At most `size` sessions, opened on demand, reused most-recent-first.

    Blocking: call it from worker threads only. A session idle for longer than
    `check_after_s` is heart-beaten before reuse; a closed or expired one is
    dropped. Dropped sessions are closed in a daemon thread without retries, so
    a dead network never stalls a caller.
    """

    def __init__(self, factory: Callable[[], Any], size: int, *, check_after_s: float = 300.0) -> None:
        self._factory = factory
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[PooledConnection] = []
        self._lock = threading.Lock()
        self._closed = False
        self.check_after_s = check_after_s

    def add_idle(self, raw: Any) -> None:
        with self._lock:
            self._idle.append(PooledConnection(raw))

    def acquire(self, cancelled: threading.Event) -> PooledConnection:
        """A healthy session (maybe new); gives up once `cancelled` is set."""
        while not self._slots.acquire(timeout=0.05):
            if cancelled.is_set() or self._closed:
                raise ConnectionAbandoned
        try:
            while True:
                with self._lock:
                    if self._closed:
                        raise ConnectionAbandoned
                    pooled = self._idle.pop() if self._idle else None
                if pooled is None:
                    return PooledConnection(self._factory())
                if self._healthy(pooled):
                    return pooled
                self.discard(pooled)
        except BaseException:
            self._slots.release()
            raise

    def release(self, pooled: PooledConnection, *, reusable: bool) -> None:
        """Give a session back after use; `reusable=False` drops it."""
        try:
            if reusable and not self._closed and not _is_closed(pooled.raw):
                pooled.last_used = time.monotonic()
                with self._lock:
                    self._idle.append(pooled)
            else:
                self.discard(pooled)
        finally:
            self._slots.release()

    def discard(self, pooled: PooledConnection) -> None:
        threading.Thread(target=_close_quietly, args=(pooled.raw,), name="snowmcp-close", daemon=True).start()

    def close(self) -> None:
        """Close idle sessions now; sessions in use are closed when released."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for pooled in idle:
            _close_quietly(pooled.raw)

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    def _healthy(self, pooled: PooledConnection) -> bool:
        raw = pooled.raw
        if _is_closed(raw) or getattr(raw, "expired", False):
            return False
        if time.monotonic() - pooled.last_used < self.check_after_s:
            return True
        try:
            if hasattr(raw, "is_valid"):
                return bool(raw.is_valid())  # a heartbeat on the session
            raw.cursor().execute("SELECT 1").fetchall()
            return True
        except Exception:
            return False


class ConnectionAbandoned(Exception):
    """The caller gave up (timeout or cancellation), or the pool closed: the worker stops."""


def _is_closed(raw: Any) -> bool:
    try:
        return bool(raw.is_closed())
    except Exception:
        return True


def _close_quietly(raw: Any) -> None:
    try:
        try:
            raw.close(retry=False)  # one attempt: the server may be the thing that is down
        except TypeError:
            raw.close()
    except Exception as exc:
        log.debug("closing a Snowflake session failed: %s", type(exc).__name__)
