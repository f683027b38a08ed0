"""Settings of the quality server (environment variables with the SNOWMCP_ prefix)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class QualitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SNOWMCP_", extra="ignore")

    quality_history_schema: str | None = None
    """DATABASE.SCHEMA (Snowflake) where the server may create its history tables; unset: the local state file."""
