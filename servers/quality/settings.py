"""Settings of the quality server (environment variables with the SNOWMCP_ prefix)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class QualitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SNOWMCP_", extra="ignore")

    quality_history_schema: str | None = None
    """DATABASE.SCHEMA (Snowflake) where the server may create its history tables; unset: the local state file."""

    quality_suites_dir: str | None = None
    """The folders `suite_path` may read, separated by commas or the OS path separator; unset: the
    demo suites folder under the state dir (`$SNOWMCP_STATE_DIR/demo/quality`, where `snowmcp demo init`
    installs them) and the read-only demo suites shipped in the package."""

    def suite_folders(self, state_path: Path) -> list[Path]:
        """The configured suite folders (user home expanded), or the default folders for `state_path`."""
        from snowmcp.servers.quality.demo import SUITES, suites_folder

        if not self.quality_suites_dir or not self.quality_suites_dir.strip():
            return [suites_folder(state_path), SUITES]
        parts = re.split(f"[,{re.escape(os.pathsep)}]", self.quality_suites_dir)
        return [Path(p.strip()).expanduser() for p in parts if p.strip()]
