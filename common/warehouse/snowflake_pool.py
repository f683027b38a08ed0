"""A small, thread-safe pool of Snowflake sessions, and logging in with snowmcp's error mapping.

Where a connection comes from and the connect() arguments: `snowflake_config.py`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from snowmcp.common.errors import ConfigError, WarehouseUnavailable
from snowmcp.common.warehouse.snowflake_config import (  # noqa: F401  (re-exported for snowflake.py and tests)
    BASE_QUERY_TAG, ConnectionConfig, connect_arguments, resolve_config,
)

log = logging.getLogger("snowmcp.snowflake")

# The driver's HTTP errors worth retrying (5xx, 429...), by name: their classes vary between versions.
_HTTP_ERRORS = {"InternalServerError", "ServiceUnavailableError", "GatewayTimeoutError", "RequestTimeoutError",
                "BadGatewayError", "TooManyRequests", "OtherHTTPRetryableError", "RequestExceedMaxRetryError"}
_CODE_PREFIX = re.compile(r"^(\d{6}(?: \([0-9A-Za-z/]+\))?:\s*)+")  # "001003 (42000): " as the driver adds it


def connect(connector: Any, config: ConnectionConfig) -> Any:
    """Log in; map failures to snowmcp errors that name the connection, never its secrets."""
    errors = connector.errors
    try:
        raw = connector.connect(**connect_arguments(connector, config))
    except errors.Error as exc:
        text, errno = config.scrub(summarize(exc)), errno_of(exc)
        if isinstance(exc, (errors.OperationalError, errors.InterfaceError)) or type(exc).__name__ in _HTTP_ERRORS \
                or _NETWORK_FAULT.search(text):  # 5.x reports a network fault at login as a DatabaseError
            raise WarehouseUnavailable(f"cannot reach Snowflake ({config.label}): {text}", transient=True) from None
        if _refused(text) and config.key_check is not None and (problem := config.key_check()) is not None:
            raise ConfigError(f"cannot use Snowflake {config.label}: {problem}",  # 5.x says only "failed"
                              hint="Check private_key_file and private_key_file_pwd in connections.toml.") from None
        if (problem := _CONFIG_PROBLEM.search(text)) and not _TYPE_ERROR.search(text):  # 5.x checks before login
            raise ConfigError(f"cannot use Snowflake {config.label}: {problem.group(1)}",
                              hint="Check the connection's keys in connections.toml (and SNOWFLAKE_* variables).") from None
        if type_error := _TYPE_ERROR.search(text):
            raise ConfigError(f"cannot use Snowflake {config.label}: {type_error.group(0)} "
                              f"(set in {_source_of(config, type_error.group(1))})",
                              hint="Write that key with the type the connector names, e.g. login_timeout = 30.") from None
        if isinstance(exc, errors.DatabaseError):
            raise WarehouseUnavailable(
                f"Snowflake refused the login ({config.label}, {errno}): {text}", transient=False,
                hint="Check the user, role and credentials (password, key pair, token) of this connection.",
            ) from None
        raise ConfigError(f"cannot use Snowflake {config.label}: {text}") from None
    except Exception as exc:  # e.g. a private key that does not decrypt (4.x)
        if config.key_check is not None and (problem := config.key_check()) is not None:
            raise ConfigError(f"cannot use Snowflake {config.label}: {problem}",
                              hint="Check private_key_file and private_key_file_pwd in connections.toml.") from None
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


_NETWORK_FAULT = re.compile(r"HTTP request failed|Connection refused|Connection reset|os error \d+|timed out|"
                            r"dns error|Name or service not known|failed to lookup address", re.IGNORECASE)


def _refused(text: str) -> bool:
    return "authentication failed" in text.lower() or "incorrect username or password" in text.lower()


# 5.x validates every argument and names the one it refuses (a connections.toml value, say).
_TYPE_ERROR = re.compile(r"Expected type \w+ for parameter '([\w.]+)', got \w+")


_CONFIG_PROBLEM = re.compile(r"(?:Configuration error|Invalid argument):\s*(.+)$")


def _source_of(config: ConnectionConfig, key: str) -> str:
    """Where the connection's `key` was set: a variable, else its connections.toml entry."""
    for source in config.sources:
        name, _, origin = source.partition(" from ")
        if name.lower() == key.lower():
            return origin
    return next((s.partition(" from ")[2] for s in config.sources if s.startswith("entry [")), "its settings")


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE, also when the driver kept it only in its message (5.x, for async statements)."""
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate and sqlstate != "n/a":
        return str(sqlstate)
    found = _SQLSTATE_IN_TEXT.search(str(getattr(exc, "raw_msg", None) or getattr(exc, "msg", None) or exc))
    return found.group(1) if found else None


_SQLSTATE_IN_TEXT = re.compile(r"^(?:\d{6}:\s*)*\d{6} \(([0-9A-Z]{5})\):")


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
