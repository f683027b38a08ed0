"""The Claude Desktop bundles (`make mcpb`): manifests valid against the published schema and the
mcpb CLI, the files the manifest names, and a bundle run the way its manifest says, with uv."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from snowmcp.mcpb import SERVERS, build
from tests.helpers import call_ok
from tests.processes import REPO

pytestmark = pytest.mark.slow

MCPB = REPO / ".tools/node_modules/@anthropic-ai/mcpb"
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def _mcpb_tool(*parts: str) -> Path:
    path = MCPB.joinpath(*parts)
    if not path.exists():
        pytest.fail("@anthropic-ai/mcpb is not installed: run `make tools` (make test does it)")
    return path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    paths = build(tmp_path_factory.mktemp("dist"))
    return {path.name.split("-")[1]: path for path in paths}


def _manifest(bundle: Path) -> dict:
    return json.loads(zipfile.ZipFile(bundle).read("manifest.json"))


def _unpacked(bundle: Path, into: Path) -> Path:
    zipfile.ZipFile(bundle).extractall(into)
    return into


def test_one_bundle_per_server_holding_what_its_manifest_names(bundles: dict[str, Path]) -> None:
    assert sorted(bundles) == sorted(SERVERS)
    for server, bundle in bundles.items():
        assert bundle.name == f"snowmcp-{server}-{VERSION}.mcpb"
        names = set(zipfile.ZipFile(bundle).namelist())
        wheel = f"wheels/snowmcp-{VERSION}-py3-none-any.whl"
        assert names == {"manifest.json", "pyproject.toml", "server/main.py", wheel}
        manifest = _manifest(bundle)
        assert manifest["version"] == VERSION and manifest["server"]["entry_point"] in names
        assert manifest["server"]["mcp_config"]["args"][-1] == "${__dirname}/server/main.py"
        assert f'"serve", "{server}"' in zipfile.ZipFile(bundle).read("server/main.py").decode()
        used = set(re.findall(r"\$\{user_config\.(\w+)\}", json.dumps(manifest["server"])))
        assert used == set(manifest["user_config"])  # every setting asked for is passed, and declared
        project = tomllib.loads(zipfile.ZipFile(bundle).read("pyproject.toml").decode())
        assert project["project"]["dependencies"] == [f"snowmcp=={VERSION}"]
        assert project["tool"]["uv"]["sources"]["snowmcp"]["path"] == wheel


def test_the_manifests_pass_the_published_schema_and_the_mcpb_cli(bundles: dict[str, Path], tmp_path: Path) -> None:
    schema = json.loads(_mcpb_tool("dist", "mcpb-manifest-v0.4.schema.json").read_text())
    mcpb = str(REPO / ".tools/node_modules/.bin/mcpb")
    env = {**os.environ, "PATH": f"{REPO / '.tools/node_modules/.bin'}{os.pathsep}{os.environ['PATH']}"}
    for server, bundle in bundles.items():
        jsonschema.validate(_manifest(bundle), schema)
        unpacked = tmp_path / server
        result = subprocess.run([mcpb, "unpack", str(bundle), str(unpacked)], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        result = subprocess.run([mcpb, "validate", str(unpacked / "manifest.json")], env=env, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0 and "passes" in result.stdout, result.stdout + result.stderr


def test_each_manifest_lists_its_servers_tools(bundles: dict[str, Path]) -> None:
    surface = json.loads((REPO / "tests/contract/tool_surface.json").read_text())
    for server, bundle in bundles.items():
        tools = _manifest(bundle)["tools"]
        assert [t["name"] for t in tools] and {t["name"] for t in tools} == {t["name"] for t in surface[server]}
        assert all(t["description"].endswith(".") and len(t["description"]) <= 200 for t in tools)
        assert all("\n" not in t["description"] and "  " not in t["description"] for t in tools)


@pytest.mark.anyio
async def test_a_bundle_runs_as_its_manifest_says(bundles: dict[str, Path], demo_db: Path, tmp_path: Path) -> None:
    """What Claude Desktop does: unpack, fill in ${__dirname} and the user's settings, run mcp_config
    (uv makes the environment from the bundle's pyproject: the wheel inside, the rest from PyPI)."""
    uv = shutil.which("uv", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    if uv is None:
        pytest.fail("uv is not installed: pip install -e '.[test]' (make test does it)")
    folder = _unpacked(bundles["query"], tmp_path / "Claude Extensions" / "snowmcp-query")
    values = {"__dirname": str(folder), "user_config.warehouse": f"duckdb://{demo_db}",
              "user_config.snowflake_home": str(tmp_path / "snowflake")}
    config = json.loads(re.sub(r"\$\{([\w.]+)\}", lambda m: values[m.group(1)].replace("\\", "\\\\"),
                               json.dumps(_manifest(bundles["query"])["server"]["mcp_config"])))
    assert config["command"] == "uv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SNOWMCP_", "VIRTUAL_ENV", "PYTHON"))}
    env.update(config["env"], SNOWMCP_STATE_DIR=str(tmp_path / "state"), UV_CACHE_DIR=str(tmp_path / "uv-cache"),
               UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1")
    params = StdioServerParameters(command=uv, args=config["args"], env=env, cwd=str(tmp_path))
    async with Client(params, read_timeout_seconds=300) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        result = await call_ok(client, "run_query", {"sql": "SELECT 41 + 1 AS answer"})
    assert "run_query" in names and result["rows"] == [[42]]
