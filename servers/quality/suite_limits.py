"""The budgets every suite meets before any heavy work, whatever form it came in.

A suite arrives as YAML/JSON text, as a file (`suite_path`), as an object (a
JSON object argument) or as inline `checks`. Each is held to the same byte
budget (an object is measured as the JSON it would be), the same nesting depth
and the same number of checks. Errors here say where (a line and column, or a
key path) and never quote what the suite holds.
"""

from __future__ import annotations

import json
from typing import Any

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.safe_yaml import MAX_DEPTH

MAX_SUITE_BYTES = 1_000_000
MAX_NODES = 200_000
"""Values (scalars, lists, mappings) in an object-form suite; 1 MB of JSON holds fewer in practice."""
MAX_CHECKS = 500
_KEY_CHARS = 40


def key_path(path: tuple[Any, ...]) -> str:
    """A key path for an error message (`columns.ORDER_ID.0.missing`), each key cut short and made printable."""
    return ".".join(_key(p) for p in path) or "suite"


def _key(part: Any) -> str:
    text = str(part)
    text = "".join(c if c.isprintable() and not _is_surrogate(c) else "?" for c in text[:_KEY_CHARS])
    return text + ("…" if len(str(part)) > _KEY_CHARS else "")


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_text(text: str) -> None:
    """A text suite: valid Unicode (no lone surrogate, as a JSON "\\ud800" escape gives), within the byte budget."""
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        line, column = line_and_column(text, exc.start)
        raise InvalidArgument(f"the suite holds invalid Unicode (a lone surrogate) at line {line}, column {column}",
                              hint="Send the suite as UTF-8 text.") from None
    if size > MAX_SUITE_BYTES:
        raise InvalidArgument(f"the suite is larger than {MAX_SUITE_BYTES} bytes ({size} bytes)",
                              hint="Split it into one suite per table.")


def check_object(data: Any) -> str:
    """An object-form suite within the depth, value and byte budgets; returns its canonical JSON text.

    The walk is iterative and stops at the first budget it exceeds, so a deep or huge object
    costs no more than the budget to refuse."""
    stack: list[tuple[Any, tuple[Any, ...], int]] = [(data, (), 1)]
    nodes = 0
    while stack:
        value, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise InvalidArgument(f"the suite holds more than {MAX_NODES} values", hint="Split it into one suite per table.")
        if isinstance(value, str):
            if any(_is_surrogate(c) for c in value):
                raise InvalidArgument(f"the suite holds invalid Unicode (a lone surrogate) at {key_path(path)}",
                                      hint="Send the suite as UTF-8 text.")
            continue
        if not isinstance(value, (dict, list, tuple)):
            continue
        if depth > MAX_DEPTH:
            raise InvalidArgument(f"the suite nests deeper than {MAX_DEPTH} levels at {key_path(path)}")
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise InvalidArgument(f"the suite has a key that is not text at {key_path(path)}")
                if any(_is_surrogate(c) for c in key):
                    raise InvalidArgument(f"the suite holds invalid Unicode (a lone surrogate) in a key at "
                                          f"{key_path(path)}", hint="Send the suite as UTF-8 text.")
                stack.append((item, (*path, key), depth + 1))
        else:
            stack.extend((item, (*path, i), depth + 1) for i, item in enumerate(value))
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    size = len(text.encode("utf-8"))
    if size > MAX_SUITE_BYTES:
        raise InvalidArgument(f"the suite is larger than {MAX_SUITE_BYTES} bytes as JSON ({size} bytes)",
                              hint="Split it into one suite per table.")
    return text
