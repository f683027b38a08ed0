"""Warehouse URLs, settings parsing and the network binding rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowmcp.common.errors import ConfigError
from snowmcp.common.server_factory import check_bind, is_loopback, transport_security
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import parse_warehouse_url


def test_warehouse_urls() -> None:
    assert parse_warehouse_url("demo").kind == "demo"
    spec = parse_warehouse_url("duckdb:///data/SHOP.duckdb")
    assert spec.kind == "duckdb" and spec.path == Path("/data/SHOP.duckdb")
    assert parse_warehouse_url("snowflake://").connection_name is None
    assert parse_warehouse_url("snowflake://prod_ro").connection_name == "prod_ro"


@pytest.mark.parametrize("url", ["postgres://x", "duckdb://", "snowflake://a/b", "", "demo2"])
def test_unknown_warehouse_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(ConfigError, match="warehouse"):
        parse_warehouse_url(url)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SNOWMCP_ALLOW_FUNCTIONS", "read_parquet, glob")
    monkeypatch.setenv("SNOWMCP_ALLOWED_HOSTS", "mcp.internal:8000")
    monkeypatch.setenv("SNOWMCP_QUERY_TIMEOUT_S", "12.5")
    settings = Settings()
    assert settings.allow_functions == frozenset({"READ_PARQUET", "GLOB"})
    assert settings.allowed_hosts == ("mcp.internal:8000",) and settings.query_timeout_s == 12.5


def test_loopback_detection() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "example.com", "::"))


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    check_bind(Settings(), "streamable-http", "127.0.0.1")
    check_bind(Settings(), "stdio", "0.0.0.0")
    with pytest.raises(ConfigError, match="without a bearer token"):
        check_bind(Settings(), "sse", "0.0.0.0")
    check_bind(Settings(auth_token="t0ken"), "streamable-http", "0.0.0.0")
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    assert Settings(auth_token_file=token_file).bearer_token() == "from-file"


def test_dns_rebinding_protection_stays_on_beyond_loopback() -> None:
    assert transport_security(Settings(), "127.0.0.1") is None  # the SDK's loopback defaults apply
    security = transport_security(Settings(allowed_hosts=("mcp.internal:8000",)), "0.0.0.0")
    assert security is not None and security.enable_dns_rebinding_protection
    assert security.allowed_hosts == ["mcp.internal:8000"]
