"""Small helpers the real providers share: lazy SDK imports, secret-free error text, JSON args."""

from __future__ import annotations

import importlib
import json
import os
import re
from types import ModuleType
from typing import Any

from snowmcp.clients.host.providers.base import ProviderError

MAX_MESSAGE = 300


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import an optional SDK, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ProviderError(
            f"the {extra} provider needs the {module!r} package: pip install 'snowmcp[{extra}]'"
        ) from None


def resolve_key(api_key: str | None, *env_vars: str) -> str | None:
    """The key the SDK will use: the argument, else the first of its environment variables that is set."""
    if api_key:
        return api_key
    for var in env_vars:
        if os.environ.get(var):
            return os.environ[var]
    return None


def one_line(text: object, secrets: tuple[str | None, ...] = ()) -> str:
    """`text` on one line, bounded, with every secret replaced by `***`."""
    line = " ".join(str(text).split())
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    if len(line) > MAX_MESSAGE:
        line = line[: MAX_MESSAGE - 3] + "..."
    return line


def status_hint(status: int | None) -> str:
    """What an HTTP status means for the user of the host."""
    if status in (401, 403):
        return "authentication failed (check the API key)"
    if status == 404:
        return "not found (check the model name and the base URL)"
    if status == 429:
        return "rate limited or out of quota (retry later)"
    if status is not None and status >= 500:
        return "the provider had a server error (retry later)"
    return "the request was refused"


def api_message(exc: Any) -> str:
    """The server's own words from an SDK status error (its JSON `error.message`), not the SDK's wrapping."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str):
            return inner
    message = str(getattr(exc, "message", exc))
    return re.sub(r"^Error code: \d+ - ", "", message)


def parse_arguments(raw: Any) -> dict[str, Any]:
    """A tool call's arguments from JSON text; ValueError says what is wrong with them."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"expected a JSON object, got {type(raw).__name__}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at position {exc.pos})") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"expected a JSON object, got a JSON {type(value).__name__}")
    return value
