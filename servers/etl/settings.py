"""The etl server's settings (`SNOWMCP_ETL_*`, `SNOWMCP_DBT_TARGET_DIR`), read like the shared ones.

They live here rather than in `common.settings` because no other server needs them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

from snowmcp.common.settings import DBT_TARGET_DIR

SourceName = Literal["audit", "dbt", "snowflake"]
SOURCE_NAMES: tuple[SourceName, ...] = ("audit", "dbt", "snowflake")


class EtlSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SNOWMCP_", extra="ignore")

    etl_audit_table: str = Field(
        "ANALYTICS.OPS.ETL_RUNS", description="The warehouse table with one row per pipeline run (audit source).")
    etl_audit_mapping: str | None = Field(
        None,
        description='JSON (inline or a file path) renaming the audit columns and mapping status values, e.g. '
                    '{"columns": {"pipeline": "JOB_NAME"}, "statuses": {"OK": "success"}}.')
    dbt_target_dir: Path | None = DBT_TARGET_DIR
    etl_sla_file: Path | None = Field(
        None, description="TOML or JSON file of SLAs, owners, schedules and upstreams per pipeline (or glob) "
                          "and max ages per table.")
    etl_sources: Annotated[tuple[SourceName, ...] | None, NoDecode] = Field(
        None, description="Comma-separated sources to use (audit, dbt, snowflake). Default: audit; dbt when "
                          "SNOWMCP_DBT_TARGET_DIR is set; snowflake on a Snowflake warehouse.")
    etl_table_slas: str | None = Field(
        "ANALYTICS.OPS.TABLE_SLAS",
        description="Warehouse table of freshness SLAs (TABLE_NAME, MAX_AGE_HOURS, OWNER); skipped when absent. "
                    "Empty disables it.")
    etl_now: str | None = Field(
        None, description='What "now" is: an ISO timestamp, "latest" (the newest run in the data) or unset '
                          "(the wall clock; on the demo warehouse, \"latest\").")
    etl_snowflake_lookback_days: int = Field(
        7, ge=1, le=7, description="Days of Snowflake task/refresh/load history read (Snowflake keeps 7 to 14).")
    etl_max_runs: int = Field(5_000, ge=100, le=100_000, description="Most runs any one source returns to a tool.")

    @field_validator("etl_sources", mode="before")
    @classmethod
    def _split_sources(cls, value: object) -> object:
        if isinstance(value, str):
            parts = tuple(part.strip().lower() for part in value.split(",") if part.strip())
            return parts or None
        return value

    @field_validator("etl_table_slas", "etl_audit_mapping", "etl_now", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
