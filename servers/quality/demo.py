"""The demo warehouse's quality suites: shipped in `demo_suites/`, installed by `snowmcp demo init`."""

from __future__ import annotations

from pathlib import Path

from snowmcp.common.demo_files import install_missing

SUITES = Path(__file__).with_name("demo_suites")


def suites_folder(state_path: Path) -> Path:
    """Where `snowmcp demo init` installs the demo suites: beside the demo warehouse under the state dir.
    It is also the default (and only) folder `suite_path` may read unless SNOWMCP_QUALITY_SUITES_DIR says otherwise."""
    from snowmcp.common.demo_warehouse import demo_path

    return demo_path(state_path).parent / "quality"


def install_demo_suites(target: Path) -> list[Path]:
    """Copy the demo suites into `target` (a file a user edited is kept) and return their paths."""
    return install_missing(SUITES, target)
