"""`common.catalog.compact_schema`: fewer bytes, the same constraints.

Unit cases on hand-made models, and a differential check on every tool of every server: the
published (compact) schema and the one pydantic built accept and refuse the same arguments, except
an explicit null for an optional argument, which only the compact one refuses (the call leaves it
out instead): the published schema may be stricter than the tool, never looser.
"""

from __future__ import annotations

import importlib
import json
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, ConfigDict, Field

from snowmcp.common.catalog import compact_schema, tool_description
from snowmcp.common.settings import Settings
from tests.reliability.test_fuzz_tools import GOOD

SERVERS = ("query", "analytics", "etl", "quality")


class Inner(BaseModel):
    """An inner object."""

    model_config = ConfigDict(extra="forbid")
    title: str  # a property named like the keyword
    kind: Literal["a", "b"] = "a"


class Args(BaseModel):
    one: Inner
    many: list[Inner] = []
    two: Inner | None = None
    maybe: Annotated[int | None, Field(ge=1, le=5, description="Optional, bounded.")] = None
    needed_nullable: int | None
    scalar_or_list: str | int | float | list[str] | None = None


class Tree(BaseModel):
    children: list[Tree] = []


def test_titles_go_but_a_property_called_title_stays() -> None:
    schema = compact_schema(Args.model_json_schema())
    assert '"title":"' not in json.dumps(schema, separators=(",", ":"))
    assert schema["$defs"]["Inner"]["properties"]["title"] == {"type": "string"}


def test_an_optional_argument_loses_its_null_branch_and_keeps_its_bounds() -> None:
    props = compact_schema(Args.model_json_schema())["properties"]
    assert props["maybe"] == {"type": "integer", "minimum": 1, "maximum": 5, "description": "Optional, bounded."}
    # required, so null is a real value: it stays, as one more type
    assert props["needed_nullable"] == {"type": ["integer", "null"]}


def test_plain_type_branches_become_one_type_list() -> None:
    props = compact_schema(Args.model_json_schema())["properties"]
    assert props["scalar_or_list"] == {"type": ["string", "number", "array"], "items": {"type": "string"}}


def test_shared_definitions_stay_and_single_use_ones_are_inlined() -> None:
    class Once(BaseModel):
        only: Inner

    shared = compact_schema(Args.model_json_schema())
    assert set(shared["$defs"]) == {"Inner"}
    assert shared["$defs"]["Inner"]["properties"]["kind"] == {"default": "a", "enum": ["a", "b"]}
    once = compact_schema(Once.model_json_schema())
    assert "$defs" not in once and once["properties"]["only"]["properties"]["title"] == {"type": "string"}
    recursive = compact_schema(Tree.model_json_schema())
    assert "Tree" in recursive["$defs"]  # a definition that refers to itself is never inlined


def test_a_docstring_becomes_one_line_per_paragraph() -> None:
    def tool() -> None:
        """First line
        continues here.

        Second paragraph."""

    assert tool_description(tool) == "First line continues here.\nSecond paragraph."


def _mutations(schema: dict[str, Any], good: dict[str, Any]) -> list[dict[str, Any]]:
    """Argument sets around a valid call: each property left out, nulled, or given a wrong or extreme
    value (the bounds, the enums and the nested objects are what the compact schema rewrites)."""
    odd: list[Any] = [None, "", "x", 0, -1, 1, 2.5, 10**9, True, [], ["x"], [1, 2], {}, {"a": 1},
                      [{"column": "A", "op": "in", "value": ["x"]}], [{"column": "A", "op": "nope"}],
                      {"fn": "sum", "column": "A"}, {"fn": "sum", "extra": 1}, [{"fn": "percentile", "p": 2}],
                      {"start": "2026-01-01", "end": "2026-02-01"}, [{"column": "A", "direction": "up"}]]
    cases = [dict(good)]
    for key in schema.get("properties", {}):
        cases.append({k: v for k, v in good.items() if k != key})
        cases += [{**good, key: value} for value in odd]
    return cases


@pytest.mark.anyio
@pytest.mark.parametrize("server_name", SERVERS)
async def test_the_published_schema_accepts_what_the_tool_schema_accepts(server_name: str, settings: Settings) -> None:
    server = importlib.import_module(f"snowmcp.servers.{server_name}.server").build_server(settings)
    original = {t.name: t.input_schema for t in await MCPServer.list_tools(server)}
    async with Client(server) as client:
        published = {t.name: t.input_schema for t in (await client.list_tools()).tools}
    assert published.keys() == original.keys()
    for name, schema in published.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        full, compact = jsonschema.Draft202012Validator(original[name]), jsonschema.Draft202012Validator(schema)
        for arguments in _mutations(schema, GOOD.get(name, {})):
            nulls = any(value is None for value in arguments.values())
            if compact.is_valid(arguments):
                assert full.is_valid(arguments), (name, arguments)  # never looser
            elif not nulls:
                assert not full.is_valid(arguments), (name, arguments)  # stricter only about explicit nulls
