"""The demo warehouse's semantic models: shipped in `demo_models/`, installed by `snowmcp demo init`."""

from __future__ import annotations

from pathlib import Path

from snowmcp.common.demo_files import install_missing

MODELS = Path(__file__).with_name("demo_models")


def models_folder(state_path: Path) -> Path:
    """Where `snowmcp demo init` installs them: beside the demo warehouse, under the state dir."""
    from snowmcp.common.demo_warehouse import demo_path

    return demo_path(state_path).parent / "semantic"


def install_demo_models(target: Path) -> list[Path]:
    """Copy the demo models into `target` (a file a user edited is kept) and return their paths."""
    return install_missing(MODELS, target)
