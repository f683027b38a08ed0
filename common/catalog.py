"""The tool catalog as a model reads it, kept small: every host pays for it in tokens, every turn.

`compact_schema` rewrites the input schema pydantic builds from a tool's signature into the same
constraints in fewer bytes; `tool_description` folds a docstring into one line per paragraph;
`catalog_bytes` is how the catalog's size is measured (the bench and the contract test use it).
A tool's arguments are still validated by its pydantic model, never by the published schema, so
what the schema says must be what the model accepts (or stricter), never looser.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from typing import Any

from mcp.types import Tool

CATALOG_TARGET_BYTES = 16_000  # the four servers' catalogs together (issue 13)
BYTES_PER_TOKEN = 4  # a rough, stated approximation: no tokenizer is installed here

# Keywords that constrain only one JSON type, so branches of an anyOf that use them can share one
# schema with a list of types (`{"type": ["string", "array"], "items": ...}`) without changing meaning.
_ONLY_FOR = {
    "string": {"minLength", "maxLength", "pattern", "format"},
    "number": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "integer": {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"},
    "array": {"items", "minItems", "maxItems", "uniqueItems"},
    "object": {"properties", "required", "additionalProperties"},
    "boolean": set(),
    "null": set(),
}
_NULL = {"type": "null"}


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema without what repeats or says nothing: pydantic's generated titles (the
    property name again), the null branch of an optional argument whose default is null (leaving
    it out means null), anyOf branches that differ only in type (one `type` list), `"type":
    "string"` beside an enum of strings, `additionalProperties: true` (JSON Schema's default), an
    optional list's `default: []`, and `$defs` used once (inlined where they are used: a
    definition pays only where it is shared). Bounds, enums, patterns, `required` and
    `additionalProperties: false` are kept as they are."""
    return _inline_single_use(_node(schema))


def _inline_single_use(schema: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = schema.get("$defs", {})
    uses = json.dumps(schema)
    once = {name for name, body in defs.items()
            if uses.count(f'"#/$defs/{name}"') == 1 and f'"#/$defs/{name}"' not in json.dumps(body)}
    if not once:
        return schema

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        name = ref.removeprefix("#/$defs/")
        if name in once:
            rest = {k: v for k, v in node.items() if k != "$ref"}
            body = inline(defs[name])
            if not set(rest) & set(body):
                return {**body, **rest}
            once.discard(name)  # the use adds keywords the definition has: keep the reference
            return node
        return {key: inline(value) for key, value in node.items()}

    out = inline({k: v for k, v in schema.items() if k != "$defs"})
    kept = {name: inline(body) for name, body in defs.items() if name not in once}
    return {**out, "$defs": kept} if kept else out


def _node(node: Any) -> Any:
    if isinstance(node, list):
        return [_node(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "additionalProperties" and value is True:
            continue  # what JSON Schema assumes anyway
        if key == "default" and value == [] and node.get("type") == "array":
            continue  # an optional list: leaving it out means none
        if key == "type" and value == "string" and _all_strings(node.get("enum")):
            continue  # the enum says it
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: _node(sub) for name, sub in value.items()}  # names, not keywords
        elif key in ("default", "const", "enum", "examples", "required"):
            out[key] = value  # values, not schemas
        else:
            out[key] = _node(value)
    return _any_of(out)


def _any_of(node: dict[str, Any]) -> dict[str, Any]:
    branches = node.get("anyOf")
    if not isinstance(branches, list):
        return node
    if _NULL in branches and "default" in node and node["default"] is None:
        branches = [b for b in branches if b != _NULL]
        node = {k: v for k, v in node.items() if k != "default"}
    merged = _one_schema(branches)
    if merged is not None:
        rest = {k: v for k, v in node.items() if k != "anyOf"}
        if not set(rest) & set(merged):
            return {**merged, **rest}
    return {**node, "anyOf": branches}


def _one_schema(branches: list[Any]) -> dict[str, Any] | None:
    """One schema equal to `anyOf: branches`, when each branch is a plain type with keywords of
    its own type only; None otherwise."""
    if len(branches) == 1 and isinstance(branches[0], dict):
        return dict(branches[0])
    types: list[str] = []
    keywords: dict[str, Any] = {}
    for branch in branches:
        kind = branch.get("type") if isinstance(branch, dict) else None
        if not isinstance(kind, str) or kind not in _ONLY_FOR or kind in types:
            return None
        own = {k: v for k, v in branch.items() if k != "type"}
        if not set(own) <= _ONLY_FOR[kind] or set(own) & set(keywords):
            return None
        types.append(kind)
        keywords.update(own)
    if "integer" in types and "number" in types and not _numeric_keywords(branches):
        types.remove("integer")  # every integer is a number
    return {"type": types[0] if len(types) == 1 else types, **keywords}


def _all_strings(values: Any) -> bool:
    return isinstance(values, list) and bool(values) and all(isinstance(v, str) for v in values)


def _numeric_keywords(branches: list[Any]) -> bool:
    return any(b.get("type") in ("integer", "number") and len(b) > 1 for b in branches)


def tool_description(fn: Any) -> str:
    """A docstring as the model reads it: indentation and line wrapping gone, paragraphs kept."""
    text = inspect.cleandoc(fn.__doc__ or "")
    return "\n".join(" ".join(paragraph.split()) for paragraph in text.split("\n\n") if paragraph.strip())


def catalog_entry(tool: Tool) -> dict[str, Any]:
    """What of a tool a host puts in front of the model: its name, description and input schema."""
    return {"name": tool.name, "description": tool.description, "inputSchema": tool.input_schema}


def catalog_bytes(tools: Iterable[Tool]) -> int:
    """Bytes of the tools' catalog entries as compact JSON (UTF-8), the way hosts send them."""
    return sum(len(json.dumps(catalog_entry(t), separators=(",", ":"), ensure_ascii=False).encode())
               for t in tools)


def approximate_tokens(size: int) -> int:
    """Tokens of `size` bytes of JSON, approximated as bytes / 4."""
    return round(size / BYTES_PER_TOKEN)
