"""Query handles on Snowflake: a running statement's query id, a statement's result by id, cancel by id.

A statement answered in one request (`snowflake_statement.py`) shows its query id only with its
answer. For one still running after `QUERY_ID_LOOKUP_AFTER_S` whose caller wants the id (a handle),
the id is looked up on a light session of our own by the nonce in its QUERY_TAG:

    SELECT QUERY_ID FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION(SESSION_ID => <its session>,
      RESULT_LIMIT => 100)) WHERE QUERY_TAG = ?

(https://docs.snowflake.com/en/sql-reference/functions/query_history: the QUERY_HISTORY_BY_*
table functions list a session's queries, running ones included, to its own user; they need a
current database, which a connection without one lacks - the lookup then fails quietly and the id
comes with the answer). At most `_LOOKUP_ATTEMPTS` lookups per statement, 1, 2, 4... s apart.

By id, for any session of the same user (another replica, or this server after a restart):
`fetch_result` waits for the statement (status polls), then reads its result - 5.x
`cursor.query_result(id)`, 4.x `RESULT_SCAN('<id>')` - and `cancel` sends `abort_query(id)`.
Snowflake keeps a result for 24 hours.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from snowmcp.common.errors import InvalidArgument, NotFound, QueryFailed, QueryTimeout
from snowmcp.common.results import RowCollector
from snowmcp.common.warehouse.base import FetchOutcome
from snowmcp.common.warehouse.snowflake_values import fetch_into

if TYPE_CHECKING:
    from snowmcp.common.warehouse.snowflake import SnowflakeWarehouse
    from snowmcp.common.warehouse.snowflake_pool import PooledConnection
    from snowmcp.common.warehouse.snowflake_statement import Statement

log = logging.getLogger("snowmcp.snowflake")
QUERY_ID_LOOKUP_AFTER_S = 1.0
_LOOKUP_ATTEMPTS = 5
_LOOKUP_SQL = ("SELECT QUERY_ID FROM TABLE(INFORMATION_SCHEMA.QUERY_HISTORY_BY_SESSION(SESSION_ID => {session}, "
               "RESULT_LIMIT => 100)) WHERE QUERY_TAG = ?")
_NOT_EXECUTING = 605  # "Identified SQL statement is not currently executing."


def query_id_of(text: str) -> str:
    """A Snowflake query id (a UUID) in its canonical form; parsing it keeps any literal built from it inert."""
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        raise InvalidArgument(f"not a Snowflake query id: {str(text)[:60]!r}") from None


class SnowflakeHandles:
    """Mixed into `SnowflakeWarehouse`: the query-handle half of the backend."""

    async def fetch_result(self: SnowflakeWarehouse, query_id: str, collector: RowCollector, *,
                           timeout_s: float) -> FetchOutcome:
        """The result of statement `query_id` into `collector`, waiting up to `timeout_s` for it to finish.

        Still running then: `QueryTimeout` (the statement keeps running). Never cancels it."""
        target = query_id_of(query_id)
        scan = f"SELECT * FROM TABLE(RESULT_SCAN('{target}'))"
        fetch = self._statement(scan, {"tool": "fetch_result"})
        deadline = time.monotonic() + timeout_s

        def work() -> FetchOutcome | None:
            with self._session(fetch) as pooled:
                if not self._wait_until_done(pooled, target, deadline, fetch.cancelled):
                    return None
                if self._core_hook is not None:  # 5.x: by id, no new statement
                    cursor = pooled.raw.cursor()
                    cursor.query_result(target)
                else:
                    cursor = self._submit(pooled, fetch, None)
                columns = fetch_into(cursor, collector, self._field_names, fetch.cancelled)
                return FetchOutcome(columns=columns, query_id=target)

        outcome = await self._in_thread(work, fetch, timeout_s + self._catalog_timeout_s)
        if outcome is None:
            raise QueryTimeout(f"query {target} is still running after {timeout_s:g} s; it was not cancelled",
                               hint="Ask for its result again later, or cancel it.")
        return outcome

    def _wait_until_done(self: SnowflakeWarehouse, pooled: PooledConnection, query_id: str, deadline: float,
                         stop: threading.Event) -> bool:
        """Poll the statement's status until it ends (True) or `deadline` passes (False); raises if it failed."""
        delay = 0.05
        while True:
            status = pooled.raw.get_query_status_throw_if_error(query_id)
            if getattr(status, "name", "") == "NO_DATA":
                raise NotFound(f"Snowflake knows no query {query_id} for this user (or its result is gone)")
            if not pooled.raw.is_still_running(status):
                return True
            if time.monotonic() + delay > deadline or stop.wait(delay):
                return False
            delay = min(delay * 2, 1.0)

    async def cancel(self: SnowflakeWarehouse, query_id: str) -> bool:
        """Abort statement `query_id` in Snowflake; False when it was not running any more."""
        target = query_id_of(query_id)
        abort = self._statement(f"abort {target}", {"tool": "cancel_query"})

        def work() -> bool:
            with self._session(abort, light=True) as pooled:
                return bool(pooled.raw.cursor().abort_query(target))

        try:
            return await self._in_thread(work, abort, self._catalog_timeout_s, light=True)
        except QueryFailed as exc:
            if exc.message.startswith(f"Snowflake {_NOT_EXECUTING} "):
                return False
            raise

    # -- the query id of a statement still running ------------------------------------------------

    def _watch_for_query_id(self: SnowflakeWarehouse, statement: Statement) -> None:
        """Look the statement's query id up if it still runs after `QUERY_ID_LOOKUP_AFTER_S` (a thread)."""
        threading.Thread(target=self._look_up_while_running, args=(statement,), name="snowmcp-query-id",
                         daemon=True).start()

    def _look_up_while_running(self: SnowflakeWarehouse, statement: Statement) -> None:
        delay = QUERY_ID_LOOKUP_AFTER_S
        for _ in range(_LOOKUP_ATTEMPTS):
            if statement.finished.wait(delay) or statement.cancelled.is_set() or statement.query_id:
                return
            if (found := self._find_query_id(statement)) is not None:
                statement.known(found)
                return
            delay *= 2

    def _find_query_id(self: SnowflakeWarehouse, statement: Statement) -> str | None:
        """Blocking: the running statement's query id by its tag's nonce, from a light session; None if not found."""
        if statement.session_id is None or statement.nonce is None:
            return None
        lookup = self._statement(_LOOKUP_SQL.format(session=int(statement.session_id)), {"tool": "query_id_lookup"})
        try:
            with self._session(lookup, light=True) as pooled:
                rows: list[Any] = self._submit(pooled, lookup, [statement.tag]).fetchall()
        except Exception as exc:  # no current database, no history yet, the network...
            log.debug("query id lookup failed: %s", type(exc).__name__)
            return None
        return str(rows[0][0]) if rows else None
