"""Every setting of snowmcp, read from `SNOWMCP_*` environment variables.

One `Settings` object per process; the CLI builds it (flags override the
environment) and hands it to the server it starts. Each field is listed in the
README's configuration table with its default: keep the two in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated


BYTES_PER_TOKEN = 4  # compact JSON of typical rows: ~4 bytes per token for Claude's and GPT's tokenizers

# Read by the etl server (run results) and the semantic server (semantic_manifest.json): declared once.
DBT_TARGET_DIR = Field(
    None, description="A dbt target/ folder: run_results.json and manifest.json (etl), semantic_manifest.json "
    "(semantic).")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SNOWMCP_", extra="ignore")

    warehouse: str = Field(
        "demo",
        description="Which warehouse: demo, duckdb:///path/NAME.duckdb, snowflake:// or snowflake://<connection>.",
    )
    state_dir: Path = Field(Path("~/.snowmcp"), description="Where the demo warehouse and local state live.")
    tools: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Only these tools of the server, comma-separated (e.g. run_query,list_tables); "
        "empty: all. A name the server does not have stops it at start-up.",
    )

    default_max_rows: int = Field(200, ge=1, description="Rows a query returns when the caller names no limit.")
    max_rows_limit: int = Field(10_000, ge=1, description="The most rows any call may ask for.")
    max_result_tokens: int = Field(
        12_000, ge=250, description="Budget of one result's rows in a model's tokens (counted as 4 bytes of "
        "compact JSON each: 12000 is 48 KB); a longer result is cut and says so, with a next_page token.",
    )
    query_timeout_s: float = Field(60.0, gt=0, description="Default statement timeout, seconds.")
    max_timeout_s: float = Field(600.0, gt=0, description="The largest timeout_s a caller may ask for.")
    call_wait_s: float = Field(
        45.0, gt=0, description="Seconds a long tool call waits for its work before answering status running "
        "with a query_handle (hosts drop calls after ~60 s); get_query_result waits as long again.",
    )

    cache_ttl_s: float = Field(300.0, ge=0, description="How long a query result stays cached (0 disables).")
    cache_max_bytes: int = Field(64_000_000, ge=0, description="Byte bound of the result cache.")

    retry_attempts: int = Field(3, ge=1, le=10, description="Attempts for transient warehouse faults.")
    breaker_failure_threshold: int = Field(5, ge=1, description="Consecutive faults that open the breaker.")
    breaker_reset_timeout_s: float = Field(30.0, gt=0, description="Seconds the breaker stays open.")

    max_cell_bytes: int = Field(
        8_000, ge=100, description="Bytes one cell may take in a result; a longer one is cut and reported."
    )
    max_concurrent_statements: int = Field(
        8, ge=1, le=256, description="Statements one server runs at once (worker threads of their own)."
    )
    max_concurrent_light_calls: int = Field(
        8, ge=1, le=256, description="Catalog lookups one server runs at once, apart from statements."
    )
    max_session_statements: int = Field(
        4, ge=1, le=256, description="Statements one MCP session may have in flight; more wait their turn."
    )

    duckdb_memory_limit: str = Field("1GB", description="DuckDB memory_limit of the warehouse engine.")
    duckdb_threads: int = Field(2, ge=1, le=256, description="DuckDB threads of the warehouse engine.")
    duckdb_max_temp_directory_size: str = Field(
        "2GB", description="Most temp-file space DuckDB may spill to (in <state dir>/duckdb_tmp)."
    )
    duckdb_disabled_optimizers: str = Field(
        "expression_rewriter,statistics_propagation",
        description="DuckDB optimizers switched off: these two fold constants outside memory_limit "
        "(empty: all on, faster, but SELECT range(10000000) costs ~850 MB).",
    )
    duckdb_idle_close_s: float = Field(
        2.0, ge=0, description="Seconds without a running statement after which a server closes its DuckDB "
        "file, so dbt or another writer can open it; the next call reopens it (0: keep it open).",
    )

    allow_functions: Annotated[frozenset[str], NoDecode] = Field(
        frozenset(),
        description="Comma-separated functions the SQL guard allows beyond its lists: names or patterns "
        "(e.g. READ_PARQUET, ANALYTICS.UDF.*).",
    )
    max_sql_chars: int = Field(
        40_000, ge=1_000, le=1_000_000, description="Longest SQL text the guard reads (longer is refused)."
    )

    dbt_target_dir: Path | None = DBT_TARGET_DIR
    semantic_models: Path | None = Field(
        None, description="MetricFlow YAML (semantic_models, metrics, a time spine) for teams without dbt: a "
        "file or a folder of .yml/.yaml files. Wins over SNOWMCP_DBT_TARGET_DIR for the semantic server.",
    )

    otel: Literal["off", "console", "otlp"] = Field("off", description="OpenTelemetry export.")
    auth_token: SecretStr | None = Field(None, description="Bearer token for the HTTP transports.")
    auth_token_file: Path | None = Field(None, description="File holding the bearer token.")
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="Host headers accepted when serving HTTP beyond loopback (comma-separated, host:port)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Log level of snowmcp's own logs (stderr); other libraries log from WARNING."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines for people (text) or one JSON object per line with trace ids (json)."
    )

    # Snowflake (SNOWMCP_WAREHOUSE=snowflake://...): the connection itself comes from Snowflake's
    # own connections.toml / SNOWFLAKE_* variables; these only override or bound it.
    snowflake_role: str | None = Field(None, description="Role to use instead of the connection's (Snowflake).")
    snowflake_warehouse: str | None = Field(
        None, description="Virtual warehouse to use instead of the connection's (Snowflake)."
    )
    snowflake_database: str | None = Field(None, description="Database to use instead of the connection's (Snowflake).")
    snowflake_schema: str | None = Field(None, description="Schema to use instead of the connection's (Snowflake).")
    snowflake_secondary_roles: Literal["none", "all", "default"] = Field(
        "none",
        description="USE SECONDARY ROLES at session start: none (only the primary role's grants), all, "
        "or default (leave the user's DEFAULT_SECONDARY_ROLES).",
    )
    snowflake_pool_size: int = Field(4, ge=1, le=64, description="Most Snowflake sessions one server keeps open.")
    snowflake_login_timeout_s: float = Field(
        30.0, gt=0, description="Seconds to log in to Snowflake (a connections.toml login_timeout wins unless set)."
    )
    snowflake_network_timeout_s: float = Field(
        60.0,
        gt=0,
        description="Seconds a Snowflake network request may take, retries included "
        "(a connections.toml network_timeout wins unless set).",
    )

    @field_validator("allow_functions", mode="before")
    @classmethod
    def _split_functions(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip().upper() for part in value.split(",") if part.strip())
        if isinstance(value, (list, tuple, set, frozenset)):
            return frozenset(str(part).strip().upper() for part in value)
        return value

    @field_validator("allowed_hosts", "tools", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def max_result_bytes(self) -> int:
        """The result budget in JSON bytes (what the row collector counts)."""
        return self.max_result_tokens * BYTES_PER_TOKEN

    @property
    def state_path(self) -> Path:
        return self.state_dir.expanduser()

    def bearer_token(self) -> str | None:
        """The configured bearer token (from the variable, else the file), or None."""
        if self.auth_token is not None and self.auth_token.get_secret_value():
            return self.auth_token.get_secret_value()
        if self.auth_token_file is not None:
            token = self.auth_token_file.expanduser().read_text().strip()
            return token or None
        return None
