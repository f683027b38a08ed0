"""The JSON Schema -> Gemini schema converter."""

from __future__ import annotations

from snowmcp.clients.host.providers.gemini_schema import to_gemini_schema
from tests.clients.providers.fake_http import PREVIEW_SCHEMA


def test_optional_becomes_nullable_and_unsupported_keys_go() -> None:
    assert to_gemini_schema(PREVIEW_SCHEMA) == {
        "type": "object", "required": ["table"], "properties": {
            "table": {"type": "string", "description": "a table name, DB.SCHEMA.TABLE"},
            "limit": {"type": "integer", "nullable": True}}}


def test_refs_are_inlined_with_their_sibling_description() -> None:
    schema = {
        "type": "object",
        "properties": {"window": {"$ref": "#/$defs/Window", "description": "the time window"},
                       "old": {"$ref": "#/definitions/Grain"}},
        "$defs": {"Window": {"type": "object", "title": "Window", "properties": {
            "start": {"type": "string", "format": "date-time"}, "days": {"type": "integer", "minimum": 1}}}},
        "definitions": {"Grain": {"enum": ["day", "week"], "type": "string"}},
    }
    assert to_gemini_schema(schema) == {"type": "object", "properties": {
        "window": {"type": "object", "description": "the time window", "properties": {
            "start": {"type": "string", "format": "date-time"}, "days": {"type": "integer", "minimum": 1}}},
        "old": {"type": "string", "enum": ["day", "week"]}}}


def test_recursive_and_unknown_refs_become_free_objects() -> None:
    schema = {"type": "object", "properties": {"node": {"$ref": "#/$defs/Node"}, "x": {"$ref": "#/$defs/Nope"}},
              "$defs": {"Node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/Node"}}}}}
    out = to_gemini_schema(schema)
    assert out["properties"]["node"]["properties"]["child"] == {"type": "object", "description": "a Node object"}
    assert out["properties"]["x"] == {"type": "object", "description": "a Nope object"}


def test_type_lists_any_of_and_all_of() -> None:
    schema = {"type": "object", "properties": {
        "a": {"type": ["string", "null"]},
        "b": {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
        "c": {"allOf": [{"$ref": "#/$defs/C"}], "description": "wrapped"},
        "d": {"type": ["number", "boolean"]},
    }, "$defs": {"C": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]}}}
    props = to_gemini_schema(schema)["properties"]
    assert props["a"] == {"type": "string", "nullable": True}
    assert props["b"] == {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True}
    assert props["c"] == {"type": "object", "description": "wrapped", "properties": {"k": {"type": "string"}},
                          "required": ["k"]}
    assert props["d"] == {"anyOf": [{"type": "number"}, {"type": "boolean"}]}


def test_what_gemini_cannot_express_moves_to_the_description() -> None:
    schema = {"type": "object", "properties": {
        "n": {"type": "integer", "enum": [1, 2, 3], "description": "rows"},
        "mode": {"const": "fast"},
        "sep": {"type": "string", "default": ",", "examples": [";"], "format": "char", "pattern": "^.$"},
        "maybe": {"enum": ["x", None]},
    }, "required": ["n", "ghost"]}
    out = to_gemini_schema(schema)
    assert out["required"] == ["n"]  # a required name with no property is dropped
    assert out["properties"] == {
        "n": {"type": "integer", "description": "rows (one of 1, 2, 3)"},
        "mode": {"type": "string", "enum": ["fast"]},
        "sep": {"type": "string", "description": 'Default ","'},
        "maybe": {"type": "string", "enum": ["x"], "nullable": True},
    }


def test_arrays_without_items_and_objects_without_type() -> None:
    out = to_gemini_schema({"properties": {"tags": {"type": "array"}, "m": {"additionalProperties": True},
                                           "any": {"description": "a value"}}})
    assert out == {"type": "object", "properties": {"tags": {"type": "array", "items": {"type": "string"}},
                                                    "m": {"type": "object"},
                                                    "any": {"type": "string", "description": "a value"}}}


def test_every_published_tool_schema_converts_for_gemini() -> None:
    """The servers' compact schemas (type lists, enums without a type, inlined or shared `$defs`)
    as Gemini reads them: typed everywhere, enums kept, accepted by google-genai's own model."""
    import json
    from pathlib import Path

    from google.genai import types

    surface = json.loads((Path(__file__).parents[2] / "contract/tool_surface.json").read_text())
    for tools in surface.values():
        for tool in tools:
            converted = to_gemini_schema(tool["input_schema"])
            types.Schema.model_validate(converted)
            text = json.dumps(converted)
            assert "$ref" not in text and "additionalProperties" not in text, tool["name"]
    metric = to_gemini_schema(next(t for t in surface["analytics"] if t["name"] == "time_series")["input_schema"])
    assert metric["properties"]["metric"]["properties"]["fn"]["type"] == "string"
    assert "percentile" in metric["properties"]["metric"]["properties"]["fn"]["enum"]
