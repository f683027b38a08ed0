"""How the host (and `config claude`) start this installation's servers: through its `snowmcp` script.

The script sits next to the Python that runs us (a venv's bin/, or pipx's and uv's tool
venvs); it imports `snowmcp` from site-packages whatever the caller's folder holds.
Without it (an unusual install) `python -P -m snowmcp` does the same: `-P` keeps the
current folder off `sys.path`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def snowmcp_script() -> Path | None:
    """The `snowmcp` script of this installation, if there is one."""
    script = Path(sys.executable).with_name("snowmcp.exe" if os.name == "nt" else "snowmcp")
    return script if script.exists() else None


def snowmcp_command() -> list[str]:
    """The argv prefix that runs `snowmcp` from this installation."""
    script = snowmcp_script()
    return [str(script)] if script else [sys.executable, "-P", "-m", "snowmcp"]
