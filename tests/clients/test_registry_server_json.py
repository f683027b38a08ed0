"""The MCP Registry entry (server.json at the repository root): the shape the registry's schema
(2025-12-11) requires, the release it names is pyproject's, and the command it describes is one
`snowmcp` accepts. The schema itself is not vendored: the rules below are the ones it states for
the fields this file uses."""

from __future__ import annotations

import json
import re
import tomllib

import jsonschema

from snowmcp.cli import SERVERS, _parser
from tests.processes import REPO

SERVER = json.loads((REPO / "server.json").read_text())
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

_INPUT = {
    "type": "object",
    "properties": {
        "description": {"type": "string"}, "isRequired": {"type": "boolean"}, "isSecret": {"type": "boolean"},
        "format": {"enum": ["string", "number", "boolean", "filepath"]}, "value": {"type": "string"},
        "default": {"type": "string"}, "placeholder": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "string"}},
    },
}
RULES = {
    "type": "object",
    "required": ["name", "description", "version"],
    "properties": {
        "$schema": {"const": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"},
        "name": {"type": "string", "pattern": r"^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$", "minLength": 3, "maxLength": 200},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "minLength": 1, "maxLength": 100},
        "version": {"type": "string", "maxLength": 255, "not": {"pattern": r"^[\^~<>=]|\*|\.x$"}},
        "packages": {"type": "array", "minItems": 1, "items": {
            "type": "object",
            "required": ["registryType", "identifier", "transport"],
            "properties": {
                "registryType": {"enum": ["npm", "pypi", "nuget", "oci", "mcpb"]},
                "registryBaseUrl": {"type": "string", "format": "uri"},
                "identifier": {"type": "string", "minLength": 1},
                "version": {"type": "string", "minLength": 1, "not": {"const": "latest"}},
                "runtimeHint": {"type": "string"},
                "transport": {"type": "object", "required": ["type"], "properties": {"type": {"const": "stdio"}}},
                "packageArguments": {"type": "array", "items": {"allOf": [_INPUT, {
                    "required": ["type"], "properties": {"type": {"const": "positional"}},
                    "anyOf": [{"required": ["valueHint"]}, {"required": ["value"]}]}]}},
                "environmentVariables": {"type": "array", "items": {"allOf": [_INPUT, {
                    "required": ["name"], "properties": {"name": {"type": "string"}}}]}},
            },
        }},
    },
}


def test_server_json_has_the_shape_the_registry_requires() -> None:
    jsonschema.validate(SERVER, RULES)


def test_it_names_this_release_on_pypi() -> None:
    (package,) = SERVER["packages"]
    assert SERVER["version"] == package["version"] == PROJECT["version"]
    assert package["registryType"] == "pypi" and package["identifier"] == PROJECT["name"]
    assert package["runtimeHint"] == "uvx"  # `uvx snowmcp serve query`: the package's own `snowmcp` script


def test_its_arguments_are_a_command_snowmcp_accepts() -> None:
    (package,) = SERVER["packages"]
    fixed, server = package["packageArguments"]
    assert fixed["value"] == "serve" and server["choices"] == list(SERVERS) and server["default"] in SERVERS
    for choice in server["choices"]:
        args = _parser().parse_args([fixed["value"], choice])
        assert (args.command, args.server, args.transport) == ("serve", choice, "stdio")


def test_its_variables_are_documented_settings() -> None:
    readme = (REPO / "README.md").read_text()
    names = [v["name"] for v in SERVER["packages"][0]["environmentVariables"]]
    assert names[0] == "SNOWMCP_WAREHOUSE" and len(set(names)) == len(names)
    for name in names:
        if name.startswith("SNOWMCP_"):
            assert f"| `{name}` |" in readme, f"{name} is not in the README's configuration table"
    assert not any(v.get("isSecret") for v in SERVER["packages"][0]["environmentVariables"])  # no secrets asked


def test_the_readme_carries_the_registry_name_for_pypi() -> None:
    """The registry checks a PyPI package's ownership by an `mcp-name:` line in its description (the README)."""
    readme = (REPO / "README.md").read_text()
    assert re.findall(r"mcp-name: (\S+)", readme) == [SERVER["name"]]
    owner = SERVER["name"].split("/")[0].removeprefix("io.github.")
    if owner == "OWNER":  # a placeholder until the project has a GitHub home: the README says what to put
        assert "`io.github.OWNER/snowmcp`" in readme
