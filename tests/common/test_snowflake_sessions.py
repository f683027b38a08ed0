"""Snowflake sessions: secondary roles off at session start, and a statement that reached Snowflake is
never resent (fakesnow over HTTP, through the real connector; faults planted in the connector)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from snowmcp.common.errors import WarehouseUnavailable
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.settings import Settings
from snowmcp.common.warehouse.selection import open_warehouse
from snowmcp.common.warehouse.snowflake import SnowflakeWarehouse
from tests.snowflake_fixtures import (  # noqa: F401  (fixtures)
    warehouse,
    FakesnowServer,
    fakesnow_server,
    snowflake_home,
    snowflake_settings,
)

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:Arrow output:UserWarning")]  # fakesnow's


def _count(fakesnow_server: FakesnowServer, marker: str) -> int:
    """Statements that reached the server carrying `marker` (the runtime adds a LIMIT to the text)."""
    return sum(marker in text and "RESULT_SCAN" not in text for text in fakesnow_server.sql_texts())


@pytest.mark.parametrize(("setting", "sent"), [
    (None, ["USE SECONDARY ROLES NONE"]),
    ("all", ["USE SECONDARY ROLES ALL"]),
    ("default", []),
])
async def test_every_session_starts_without_secondary_roles_unless_configured(
    snowflake_settings: Settings, fakesnow_server: FakesnowServer, setting: str | None, sent: list[str]
) -> None:
    settings = snowflake_settings if setting is None else snowflake_settings.model_copy(
        update={"snowflake_secondary_roles": setting})
    before = len(fakesnow_server.sql_texts())
    opened = await open_warehouse(settings)
    try:
        texts = fakesnow_server.sql_texts()[before:]
        assert [t for t in texts if "SECONDARY ROLES" in t] == sent  # one login, one session start
        runtime = ServerRuntime("query", settings, opened)
        await runtime.query("SELECT 1 AS ONE", tool="run_query")
        await runtime.catalog(lambda w: w.list_databases())  # its own session: set up the same way
        texts = fakesnow_server.sql_texts()[before:]
        assert [t for t in texts if "SECONDARY ROLES" in t] == sent * 2
    finally:
        await opened.close()


async def test_a_session_that_cannot_drop_secondary_roles_is_refused(
    snowflake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from snowflake.connector.cursor import SnowflakeCursor
    from snowflake.connector.errors import ProgrammingError

    original = SnowflakeCursor.execute

    def execute(self: Any, command: str, *args: Any, **kwargs: Any) -> Any:
        if command.startswith("USE SECONDARY ROLES"):
            raise ProgrammingError(msg="Insufficient privileges", errno=3001, sqlstate="42501")
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(SnowflakeCursor, "execute", execute)
    with pytest.raises(WarehouseUnavailable, match="session set-up failed.*USE SECONDARY ROLES NONE") as caught:
        await open_warehouse(snowflake_settings)
    assert caught.value.transient is False and "SNOWMCP_SNOWFLAKE_SECONDARY_ROLES" in str(caught.value)


@pytest.mark.parametrize(("fault_in", "where"), [
    ("execute", r"its request was sent"),  # the answer never came: the statement may be running
    ("fetchmany", r"query id [0-9a-f-]{36}"),  # the answer came, a later batch failed
])
async def test_a_statement_that_reached_snowflake_is_never_resent(
    warehouse: SnowflakeWarehouse, snowflake_settings: Settings, fakesnow_server: FakesnowServer,
    monkeypatch: pytest.MonkeyPatch, fault_in: str, where: str,
) -> None:
    from snowflake.connector.cursor import SnowflakeCursor
    from snowflake.connector.errors import OperationalError

    marker = str(uuid.uuid4())
    original = getattr(SnowflakeCursor, fault_in)

    def lost(self: Any, *args: Any, **kwargs: Any) -> Any:  # the network drops once the request went out
        result = original(self, *args, **kwargs)
        if fault_in == "fetchmany" or marker in str(args[0]):
            raise OperationalError(msg="Failed to execute request: connection reset", errno=250003)
        return result

    monkeypatch.setattr(SnowflakeCursor, fault_in, lost)
    sql = f"SELECT COUNT(*) AS N, '{marker}' AS ID FROM ANALYTICS.SALES.ORDERS"
    runtime = ServerRuntime("query", snowflake_settings.model_copy(update={"retry_attempts": 3}), warehouse)
    with pytest.raises(WarehouseUnavailable, match=rf"reached Snowflake \({where}\); not resent") as caught:
        await runtime.query(sql, tool="run_query")
    assert caught.value.transient is False
    assert _count(fakesnow_server, marker) == 1  # submitted once, never again


async def test_a_fault_before_submission_is_retried(
    warehouse: SnowflakeWarehouse, snowflake_settings: Settings, fakesnow_server: FakesnowServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from snowflake.connector.cursor import SnowflakeCursor
    from snowflake.connector.errors import OperationalError

    marker = str(uuid.uuid4())
    original, failures = SnowflakeCursor.execute, []

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        if marker in str(args[0]) and not failures:  # the request never left: no connection
            failures.append(args[0])
            raise OperationalError(msg="Failed to connect to DB", errno=250001)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SnowflakeCursor, "execute", execute)
    sql = f"SELECT COUNT(*) AS N, '{marker}' AS ID FROM ANALYTICS.SALES.ORDERS"
    runtime = ServerRuntime("query", snowflake_settings.model_copy(update={"retry_attempts": 3}), warehouse)
    result = await runtime.query(sql, tool="run_query")
    assert result.rows[0][0] == 300 and len(failures) == 1
    assert _count(fakesnow_server, marker) == 1
