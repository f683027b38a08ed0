"""What users install works: the sdist and the wheel built from it, installed into a fresh venv
outside the repository, with the dependency versions a fresh `pip install` resolves.

Everything runs from a folder that has packages of its own named `common` and `servers`
(as many projects do): nothing of ours may be shadowed by them, or shadow them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import REPO

pytestmark = pytest.mark.slow

SERVERS = ("query", "analytics", "etl", "quality", "semantic")
# What the code reads at run time besides modules; the wheel test below lists every data file.
DATA_FILES = (
    "snowmcp/common/guard/lists/duckdb_functions.txt",
    "snowmcp/common/guard/lists/sqlglot_nodes.txt",
    "snowmcp/common/guard/lists/snowflake_functions.txt",
    "snowmcp/servers/quality/suite.schema.json",
    "snowmcp/servers/quality/demo_suites/orders.yml",
    "snowmcp/clients/host/demo_session.json",
)


@dataclass
class Installed:
    wheel: Path
    sdist: Path
    venv: Path
    workdir: Path  # a user's project folder with its own common/ and servers/ packages
    env: dict[str, str]

    @property
    def snowmcp(self) -> str:
        return str(self.venv / "bin" / "snowmcp")

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.snowmcp, *args], cwd=self.workdir, env=self.env, capture_output=True,
                              text=True, timeout=timeout)


def _check(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, f"{result.args}: {result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    root = tmp_path_factory.mktemp("installed")
    dist = root / "dist"
    # sdist first, then the wheel built from the sdist: a file missing from the sdist fails here
    _check(subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)],
                          capture_output=True, text=True, timeout=600))
    (wheel,), (sdist,) = dist.glob("snowmcp-*.whl"), dist.glob("snowmcp-*.tar.gz")
    venv = root / "venv"
    _check(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=120))
    _check(subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                           str(wheel)], capture_output=True, text=True, timeout=900))
    workdir = root / "project"
    for package in ("common", "servers", "clients"):
        (workdir / package).mkdir(parents=True)
        (workdir / package / "__init__.py").write_text("raise ImportError('the user project\\'s own package')\n")
    (workdir / "common" / "cli.py").write_text("raise SystemExit('the user project\\'s common.cli ran')\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SNOWMCP_", "SNOWFLAKE_", "VIRTUAL_ENV", "PYTHON"))}
    env.update({"SNOWMCP_STATE_DIR": str(root / "state"), "PATH": f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
                "PYTHONPATH": str(workdir)})  # as if the user's project were on the path
    yield Installed(wheel, sdist, venv, workdir, env)


def test_the_wheel_holds_one_namespace_and_its_data(installed: Installed) -> None:
    names = zipfile.ZipFile(installed.wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"snowmcp"}
    assert set(DATA_FILES) <= set(names)
    packages = {str(p.parent.relative_to(REPO)) for p in REPO.glob("*/**/__init__.py")
                if p.parts[len(REPO.parts)] in ("common", "servers", "clients", "snowmcp")}
    for package in packages:  # every package of the source tree is in the wheel (pyproject lists them)
        inside = package if package.startswith("snowmcp") else f"snowmcp/{package}"
        assert f"{inside}/__init__.py" in names, f"{package} is missing from the wheel: list it in pyproject.toml"
    shipped_lists = {n for n in names if n.startswith("snowmcp/common/guard/lists/") and n.endswith(".txt")}
    assert len(shipped_lists) == len(list((REPO / "common/guard/lists").glob("*.txt")))


def test_the_sdist_holds_the_data_files(installed: Installed) -> None:
    with tarfile.open(installed.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    source = {"snowmcp/": "", "snowmcp/common/": "common/", "snowmcp/servers/": "servers/", "snowmcp/clients/": "clients/"}
    for data in DATA_FILES:
        prefix = max((p for p in source if data.startswith(p)), key=len)
        assert source[prefix] + data[len(prefix):] in names, data
    assert {"README.md", "pyproject.toml"} <= names


def test_the_version_is_the_packages(installed: Installed) -> None:
    version = _check(installed.run("--version")).stdout.strip()
    assert version == f"snowmcp {installed.wheel.name.split('-')[1]}"


def test_demo_init_and_the_tour_run_from_a_user_folder(installed: Installed) -> None:
    init = _check(installed.run("demo", "init"))
    assert "demo quality suites: 4 in" in init.stdout
    tour = _check(installed.run("demo", "tour", timeout=600))
    assert "Traceback" not in tour.stdout + tour.stderr and len(tour.stdout) > 500


def test_host_tools_lists_every_server(installed: Installed) -> None:
    _check(installed.run("demo", "init"))
    tools = json.loads(_check(installed.run("host", "tools", "--json", timeout=300)).stdout)
    assert {tool["name"].split("__", 1)[0] for tool in tools} == set(SERVERS)


@pytest.mark.parametrize("server", SERVERS)
def test_each_server_answers_the_inspector_over_stdio(installed: Installed, server: str) -> None:
    _check(installed.run("demo", "init"))
    inspector = REPO / ".tools/node_modules/.bin/mcp-inspector"
    if not inspector.exists():
        pytest.fail("the MCP Inspector is not installed: run `make tools` (make test does it)")
    env = {**installed.env, "PATH": f"{REPO / '.tools/node_modules/.bin'}{os.pathsep}{installed.env['PATH']}",
           "MCP_CATALOG_PATH": str(REPO / ".tools/catalog.json")}
    result = subprocess.run([str(inspector), "--cli", installed.snowmcp, "serve", server, "--method", "tools/list"],
                            cwd=installed.workdir, env=env, capture_output=True, text=True, timeout=180)
    _check(result)
    tools = json.loads(result.stdout)["tools"]
    assert len(tools) >= 4 and all("annotations" in tool for tool in tools)
