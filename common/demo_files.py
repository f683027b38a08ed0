"""Files shipped for the demo (quality suites, semantic models), copied beside the demo warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path


def install_missing(source: Path, target: Path, pattern: str = "*.yml") -> list[Path]:
    """Copy `source`'s files matching `pattern` into `target`, keeping any a user already has (edited or not);
    return the installed paths."""
    target.mkdir(parents=True, exist_ok=True)
    installed = []
    for shipped in sorted(source.glob(pattern)):
        destination = target / shipped.name
        if not destination.exists():
            shutil.copyfile(shipped, destination)
        installed.append(destination)
    return installed
