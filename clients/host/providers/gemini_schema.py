"""JSON Schema (as MCP servers publish it) -> the OpenAPI subset Gemini function declarations accept.

Gemini refuses `$ref`/`$defs`, `additionalProperties`, `title`, `default`,
`examples`, `const`, type lists and `{"anyOf": [X, {"type": "null"}]}`. This
inlines references, turns "X or null" into `X` with `nullable: true`, keeps
only the fields Gemini knows (type, description, enum, format, items,
properties, required, nullable, anyOf and the usual bounds), and moves what it
cannot express (non-string enums, a `default`) into the description so the
model still learns it. Gemini requires a type everywhere: an untyped "any
value" becomes a string.
"""

from __future__ import annotations

import json
from typing import Any

_BOUNDS = ("minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength")
# formats Gemini documents per type; others are dropped
_FORMATS = {"string": {"date-time", "enum"}, "integer": {"int32", "int64"}, "number": {"float", "double"}}
_TYPES = {"string", "number", "integer", "boolean", "array", "object"}


def to_gemini_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The Gemini form of one JSON Schema; `$ref`s resolve against its own `$defs`/`definitions`."""
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    return _convert(schema, defs, ())


def _convert(node: Any, defs: dict[str, Any], expanding: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if name in expanding or name not in defs:  # recursive or unknown: a free-form object
            target: dict[str, Any] = {"type": "object", "description": f"a {name} object"}
        else:
            target = _convert(defs[name], defs, (*expanding, name))
        if siblings:
            extra = _convert(siblings, defs, expanding)
            target = {**target, **{k: v for k, v in extra.items() if k != "type" or "type" not in target}}
        return target
    if "allOf" in node:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            resolved = _convert(part, defs, expanding)
            for key, value in resolved.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **value}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *value]
                else:
                    merged.setdefault(key, value)
        return _convert(merged, defs, expanding)

    out: dict[str, Any] = {}
    notes: list[str] = []
    nullable = False

    alternatives = node.get("anyOf") or node.get("oneOf")
    types = node.get("type")
    if isinstance(types, list):
        nullable = "null" in types
        kinds = [t for t in types if t != "null"]
        if len(kinds) == 1:
            types = kinds[0]
        else:
            alternatives = [{**{k: v for k, v in node.items() if k != "type"}, "type": t} for t in kinds]
            types = None
    if alternatives:
        non_null = [a for a in alternatives if not (isinstance(a, dict) and a.get("type") == "null")]
        nullable = nullable or len(non_null) < len(alternatives)
        converted = [_convert(a, defs, expanding) for a in non_null]
        if len(converted) == 1:
            out.update(converted[0])
        elif converted:
            out["anyOf"] = converted
    elif types in _TYPES:
        out["type"] = types
    elif "properties" in node or "additionalProperties" in node:
        out["type"] = "object"
    elif "items" in node:
        out["type"] = "array"

    if "description" in node:
        out["description"] = str(node["description"])

    values = node.get("enum")
    if "const" in node:
        values = [node["const"]]
    if values is not None:
        nullable = nullable or None in values
        values = [v for v in values if v is not None]
        if values and all(isinstance(v, str) for v in values) and out.get("type", "string") == "string":
            out["type"] = "string"
            out["enum"] = values
        elif values:
            notes.append("one of " + ", ".join(json.dumps(v) for v in values))

    kind = out.get("type")
    if kind == "object" and isinstance(node.get("properties"), dict):
        out["properties"] = {name: _convert(sub, defs, expanding) for name, sub in node["properties"].items()}
        required = [r for r in node.get("required", []) if r in out["properties"]]
        if required:
            out["required"] = required
    if kind == "array":
        out["items"] = _convert(node.get("items", {}), defs, expanding) or {"type": "string"}
    if node.get("format") in _FORMATS.get(str(kind), ()):
        out["format"] = node["format"]
    for bound in _BOUNDS:
        if isinstance(node.get(bound), (int, float)) and not isinstance(node[bound], bool):
            out[bound] = node[bound]

    if "type" not in out and "anyOf" not in out:  # Gemini requires a type: "any value" is sent as text
        out["type"] = "string"
    if node.get("default") is not None:
        notes.append(f"default {json.dumps(node['default'])}")
    if notes:
        text = "; ".join(notes)
        out["description"] = f"{out['description']} ({text})" if out.get("description") else text.capitalize()
    if nullable:
        out["nullable"] = True
    return out
