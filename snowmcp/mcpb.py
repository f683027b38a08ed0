"""`make mcpb`: MCP Bundles (.mcpb) of the five servers for Claude Desktop, one bundle per server.

    python -m snowmcp.mcpb [--out dist] [--wheel dist/snowmcp-X-py3-none-any.whl]

A bundle is a zip with `manifest.json` at its root (MCP Bundle manifest 0.4). Its server type is
`uv`: the host makes the bundle's environment with uv from the bundle's own `pyproject.toml`,
which asks for exactly this release of snowmcp, from the wheel inside the bundle, and its
dependencies from PyPI (duckdb, pydantic and the Snowflake connector are compiled, so a
`python` bundle with vendored packages would work on one platform only). The manifest's
`mcp_config` runs the same thing with the `uv` on PATH, for hosts that use it as written.

Each bundle asks the user for the warehouse URL (default `demo`) and Snowflake's config folder.
A manifest has one server, so there are four bundles; install the ones you want.
Run from a checkout (it reads the repository's pyproject.toml); it is not used at run time.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SERVERS = {
    "query": "Read-only SQL and the catalog of a Snowflake or DuckDB warehouse, behind an allow-list guard",
    "analytics": "Profiles, aggregates, time series and anomalies of warehouse tables, computed in SQL",
    "etl": "Pipeline runs, failures, freshness and SLAs from audit tables, dbt and Snowflake tasks",
    "quality": "Declared data-quality checks run in the warehouse, with history and failed rows",
    "semantic": "Certified metrics by name (dbt/MetricFlow semantic models), compiled to guarded SQL",
}
USER_CONFIG: dict[str, dict[str, Any]] = {
    "warehouse": {
        "type": "string", "title": "Warehouse",
        "description": "demo (the embedded demo data), duckdb:///absolute/path/NAME.duckdb, snowflake:// "
                       "(the default connection of Snowflake's connections.toml) or snowflake://CONNECTION_NAME",
        "default": "demo", "required": True,
    },
    "snowflake_home": {
        "type": "directory", "title": "Snowflake config folder",
        "description": "The folder holding connections.toml and config.toml (SNOWFLAKE_HOME); "
                       "only read for a snowflake:// warehouse",
        "default": "${HOME}/.snowflake", "required": False,
    },
}
ENTRY_POINT = "server/main.py"


def project() -> dict[str, Any]:
    path = REPO / "pyproject.toml"
    if not path.exists():
        raise SystemExit("snowmcp.mcpb builds from a checkout of snowmcp (no pyproject.toml beside it)")
    return tomllib.loads(path.read_text())["project"]


def manifest(server: str, version: str, tools: list[dict[str, str]]) -> dict[str, Any]:
    """The bundle's manifest.json for one server."""
    return {
        "manifest_version": "0.4",
        "name": f"snowmcp-{server}",
        "display_name": f"snowmcp {server}",
        "version": version,
        "description": SERVERS[server],
        "long_description": (
            f"The **{server}** server of snowmcp: MCP tool servers for safe, fast, observable work on a "
            "Snowflake warehouse, or on a local DuckDB file. Every statement passes an allow-list SQL guard; "
            "results are capped in rows and bytes. With the warehouse left at `demo` it answers from an "
            "embedded demo warehouse, built on first use. The other snowmcp servers come as bundles of their "
            "own. Claude Desktop installs its Python dependencies from PyPI with uv on first start."),
        "author": {"name": "snowmcp contributors"},
        "license": project().get("license", "Apache-2.0"),
        "keywords": ["snowflake", "duckdb", "sql", "data-warehouse", server],
        "server": {
            "type": "uv",
            "entry_point": ENTRY_POINT,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", "python", f"${{__dirname}}/{ENTRY_POINT}"],
                "env": {"SNOWMCP_WAREHOUSE": "${user_config.warehouse}",
                        "SNOWFLAKE_HOME": "${user_config.snowflake_home}"},
            },
        },
        "tools": tools,
        "tools_generated": False,
        "user_config": USER_CONFIG,
        "compatibility": {"platforms": ["darwin", "linux", "win32"],
                          "runtimes": {"python": project()["requires-python"]}},
    }


def bundle_pyproject(server: str, version: str, wheel: str) -> str:
    """The bundle's pyproject.toml: a project that is not installed itself, only its dependencies."""
    return (
        "# The environment uv makes for this bundle: snowmcp from the wheel inside it, the rest from PyPI.\n"
        "[project]\n"
        f'name = "snowmcp-{server}-bundle"\n'
        f'version = "{version}"\n'
        f'requires-python = "{project()["requires-python"]}"\n'
        f'dependencies = ["snowmcp=={version}"]\n\n'
        "[tool.uv]\npackage = false\n\n"
        "[tool.uv.sources]\n"
        f'snowmcp = {{ path = "wheels/{wheel}" }}\n')


def entry_point(server: str) -> str:
    return (f'"""The snowmcp-{server} bundle\'s entry point: `snowmcp serve {server}` over stdio."""\n\n'
            "import sys\n\nfrom snowmcp.cli import main\n\n"
            f'sys.exit(main(["serve", "{server}", *sys.argv[1:]]))\n')


async def _tools(server: str) -> list[dict[str, str]]:
    """The server's tools as the manifest lists them: name and first sentence."""
    from mcp import Client

    from snowmcp.common.settings import Settings

    with tempfile.TemporaryDirectory() as state:
        built = importlib.import_module(f"snowmcp.servers.{server}.server").build_server(
            Settings(warehouse="demo", state_dir=Path(state)))
        async with Client(built) as client:
            listed = (await client.list_tools()).tools
    return [{"name": t.name, "description": _summary(t.description or "")} for t in listed]


def _summary(description: str, limit: int = 200) -> str:
    """The first sentence of a tool's description, at most `limit` characters."""
    sentence = " ".join(description.split()).split(". ")[0].rstrip(".") + "."
    return sentence if len(sentence) <= limit else sentence[:limit - 3].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def tools(server: str) -> list[dict[str, str]]:
    import anyio

    return anyio.run(_tools, server)


def build_wheel(out: Path) -> Path:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
                            "--wheel-dir", str(out), str(REPO)], capture_output=True, text=True)
    if built.returncode:
        raise SystemExit(f"building the wheel failed:\n{built.stdout[-2000:]}{built.stderr[-4000:]}")
    version = project()["version"]
    return next(out.glob(f"snowmcp-{version}-*.whl"))


def build(out: Path, wheel: Path | None = None) -> list[Path]:
    """Write dist/snowmcp-<server>-<version>.mcpb for each server; returns their paths."""
    version = project()["version"]
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        wheel = wheel or build_wheel(Path(scratch))
        if not wheel.name.startswith(f"snowmcp-{version}-"):
            raise SystemExit(f"{wheel.name} is not snowmcp {version}, the version in pyproject.toml")
        bundles = []
        for server in SERVERS:
            files = {
                "manifest.json": json.dumps(manifest(server, version, tools(server)), indent=2) + "\n",
                "pyproject.toml": bundle_pyproject(server, version, wheel.name),
                ENTRY_POINT: entry_point(server),
            }
            target = out / f"snowmcp-{server}-{version}.mcpb"
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
                for name, text in files.items():
                    bundle.writestr(_info(name), text)
                bundle.writestr(_info(f"wheels/{wheel.name}"), wheel.read_bytes())
            bundles.append(target)
    return bundles


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m snowmcp.mcpb", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="folder for the bundles (default: dist/)")
    parser.add_argument("--wheel", type=Path, help="a built snowmcp wheel (default: build one now)")
    args = parser.parse_args(argv)
    for path in build(args.out, args.wheel):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path}  sha256 {digest}  ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
