"""`snowmcp doctor`: what a server would connect to, from where, and whether it works.

For `snowflake://[name]` it says which connection would be used and where each part came from
(the URL or the default's setting, connections.toml, SNOWFLAKE_* and SNOWMCP_SNOWFLAKE_* variables),
the authenticator, user, account, role, warehouse, database and schema, then logs in as a server
does (session parameters, USE SECONDARY ROLES) and asks the session for its user, role,
warehouse, database and schema. For `demo` and `duckdb://` it names the DuckDB file, whether it
exists and whether it opens as a server opens it (read-only, locked engine).

It prints no secret: what it shows of a connection comes from an allow-list of keys
(`snowflake_config.SHOWN_KEYS`), and error texts are scrubbed of the connection's secret values.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from snowmcp.common.errors import SnowmcpError
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import WarehouseSpec, parse_warehouse_url

if TYPE_CHECKING:
    from snowmcp.common.warehouse.snowflake_config import ConnectionConfig

_SESSION_SQL = "SELECT CURRENT_USER(), CURRENT_ROLE(), CURRENT_WAREHOUSE(), CURRENT_DATABASE(), CURRENT_SCHEMA()"


@dataclass
class Report:
    """Lines of `label  value`, and whether a server could use the warehouse."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    ok: bool = True

    def add(self, label: str, value: object) -> None:
        self.rows.append((label, str(value)))

    def fail(self, label: str, problem: str, hint: str | None = None) -> Report:
        self.ok = False
        self.add(label, f"FAILED: {problem}")
        if hint:
            self.add("hint", hint)
        return self

    def render(self) -> str:
        verdict = "ok: a server can use this warehouse" if self.ok else "failed: a server could not use this warehouse"
        rows = [*self.rows, ("result", verdict)]
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def diagnose(settings: Settings, warehouse: str | None = None) -> Report:
    """Check the warehouse `warehouse` (default: the configured one). Blocking; never raises."""
    url = warehouse or settings.warehouse
    report = Report()
    report.add("warehouse", url)
    try:
        spec = parse_warehouse_url(url)
    except SnowmcpError as exc:
        return report.fail("warehouse", exc.message, exc.hint)
    if spec.kind == "snowflake":
        return _snowflake(spec, settings, report)
    return _duckdb(spec, settings, report)


# -- DuckDB -------------------------------------------------------------------------------------


def _duckdb(spec: WarehouseSpec, settings: Settings, report: Report) -> Report:
    from snowmcp.common.demo_warehouse import demo_path

    path = demo_path(settings.state_path) if spec.kind == "demo" else spec.path
    assert path is not None
    report.add("engine", "DuckDB (the embedded demo warehouse)" if spec.kind == "demo" else "DuckDB file")
    report.add("file", path.expanduser().resolve())
    if not path.exists():
        if spec.kind == "demo":
            report.add("exists", "no: built on the first call, or now with `snowmcp demo init`")
            return report
        return report.fail("exists", f"no such file: {path}",
                           "Check the path in SNOWMCP_WAREHOUSE / --warehouse (duckdb:///absolute/path/NAME.duckdb).")
    report.add("exists", f"yes, {path.stat().st_size / 1e6:.1f} MB")
    import duckdb

    from snowmcp.common.warehouse.duckdb_engine import EngineConfig, open_locked

    try:
        engine = open_locked(duckdb, path, EngineConfig.from_settings(settings))
    except duckdb.Error as exc:
        locked = "lock" in str(exc).lower()
        return report.fail("opens", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
                           "Another process is writing the file (dbt?); try again when it is done." if locked
                           else "Is it a DuckDB file, written by a DuckDB version this one reads?")
    try:
        tables, schemas = engine.con.cursor().execute(
            "SELECT count(*), count(DISTINCT table_schema) FROM information_schema.tables "
            "WHERE table_schema NOT IN ('information_schema', 'pg_catalog')").fetchone()
    except duckdb.Error as exc:
        return report.fail("opens", f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
    finally:
        engine.release()
    report.add("opens", f"yes, read-only: {tables} tables and views in {schemas} schemas")
    return report


# -- Snowflake ----------------------------------------------------------------------------------


def _snowflake(spec: WarehouseSpec, settings: Settings, report: Report) -> Report:
    from snowmcp.common.warehouse.snowflake_config import connections_file, resolve_config

    report.add("connector", _connector_version())
    try:
        config = resolve_config(spec.connection_name, settings)
    except SnowmcpError as exc:
        report.add("files", f"{connections_file()} (connections), {_config_file()} (default_connection_name)")
        return report.fail("connection", exc.message, exc.hint)
    report.add("connection", repr(config.name) if config.name else "the SNOWFLAKE_* variables (no entry)")
    for source in config.sources:
        report.add("  from", source)
    shown = config.shown
    report.add("authenticator", _authenticator(shown))
    for key in ("account", "user", "role", "warehouse", "database", "schema"):
        report.add(key, shown.get(key) or _UNSET[key])
    if "host" in shown:
        report.add("host", f"{shown['host']}:{shown.get('port', 443)} ({shown.get('protocol', 'https')})")
    report.add("timeouts", f"login {config.kwargs['login_timeout']} s, network {config.kwargs['network_timeout']} s")
    report.add("secondary roles", settings.snowflake_secondary_roles)
    return _login(config, report)


_UNSET = {"account": "(not set)", "user": "(not set)", "role": "(the user's default role)",
          "warehouse": "(the user's default warehouse)", "database": "(the user's default, if any)",
          "schema": "(the user's default, if any)"}


def _authenticator(shown: dict[str, object]) -> str:
    name = str(shown.get("authenticator") or "snowflake (user and password)")
    if key_file := shown.get("private_key_file"):
        path = Path(str(key_file)).expanduser()
        name += f", key file {path} ({'found' if path.is_file() else 'NOT FOUND'})"
    if token_file := shown.get("token_file_path"):
        path = Path(str(token_file)).expanduser()
        name += f", token file {path} ({'found' if path.is_file() else 'NOT FOUND'})"
    return name


def _login(config: ConnectionConfig, report: Report) -> Report:
    import snowflake.connector  # lazy: ~260 ms

    from snowmcp.common.warehouse.snowflake_pool import connect, summarize

    started = time.perf_counter()
    try:
        raw = connect(snowflake.connector, config)  # as a server logs in, session start included
    except SnowmcpError as exc:
        return report.fail("login", f"{exc.message} (after {time.perf_counter() - started:.1f} s)", exc.hint)
    report.add("login", f"ok in {time.perf_counter() - started:.2f} s")
    try:
        cursor = raw.cursor()
        cursor.execute(_SESSION_SQL)
        user, role, warehouse, database, schema = cursor.fetchone()
    except Exception as exc:
        return report.fail("session", config.scrub(summarize(exc)),
                           "The login works but the session cannot run a query: check the role's grants.")
    finally:
        try:
            raw.close()
        except Exception:
            pass
    report.add("session", f"user {user}, role {role}, warehouse {warehouse or '(none)'}, "
                          f"database {database or '(none)'}, schema {schema or '(none)'}")
    if not warehouse:
        return report.fail("warehouse", "the session has no warehouse: statements cannot run",
                           "Set warehouse in the connection (or SNOWMCP_SNOWFLAKE_WAREHOUSE), or give the user a "
                           "DEFAULT_WAREHOUSE, and grant the role USAGE on it.")
    if (wanted := config.shown.get("database")) and not database:
        return report.fail("database", f"{wanted} is not usable by role {role}",
                           f"Check it exists and grant USAGE ON DATABASE {wanted} to the role.")
    return report


def _connector_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"snowflake-connector-python {version('snowflake-connector-python')}"
    except PackageNotFoundError:
        return "snowflake-connector-python (not installed)"


def _config_file() -> str:
    from snowmcp.common.warehouse.snowflake_config import config_file

    return config_file()
