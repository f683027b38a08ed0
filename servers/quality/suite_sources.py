"""A suite from whichever form a tool call gave it, parsed and validated off the event loop.

The forms — YAML/JSON text, a file in a suite folder, an object, a table with
inline checks — all meet the budgets of `suite_limits` before any heavy work.
Reading, parsing and validating run off the event loop, on the server's CPU
slots (`ServerRuntime.off_loop`), so a big suite never stalls other calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.quality.suite import Suite, inline_suite, parse_suite, suite_from_data
from snowmcp.servers.quality.suite_files import SuiteFolders

class SuiteSources:
    """Turns a tool call's suite arguments into a validated `Suite`."""

    def __init__(self, folders: SuiteFolders, off_loop: Callable[[Callable[[], Suite]], Awaitable[Suite]]) -> None:
        self.folders = folders
        self.off_loop = off_loop

    async def suite(self, suite: str | dict[str, Any]) -> Suite:
        """A suite given as text or as an object (validate_suite's one argument)."""
        return await self.off_loop(lambda: _from_value(suite))

    async def load(self, suite: str | dict[str, Any] | None, suite_path: str | None, table: str | None,
                   checks: list[dict[str, Any] | str] | None) -> Suite:
        """run_checks' forms: exactly one of a suite, a suite_path, or a table with inline checks."""
        given = [name for name, value in (("suite", suite), ("suite_path", suite_path), ("checks", checks)) if value]
        if len(given) != 1:
            raise InvalidArgument("pass exactly one of suite (YAML text), suite_path, or table with checks",
                                  hint="e.g. table='ANALYTICS.SALES.ORDERS', checks=[{'row_count': {'min': 1}}]")
        if checks:
            if not table:
                raise InvalidArgument("inline checks need `table`")
            return await self.off_loop(lambda: inline_suite(table, checks))
        if table:
            raise InvalidArgument("`table` goes with `checks`; a suite names its own table")
        if suite_path:
            path = suite_path
            return await self.off_loop(lambda: parse_suite(self.folders.read(path)))
        assert suite is not None
        return await self.off_loop(lambda: _from_value(suite))


def _from_value(suite: str | dict[str, Any]) -> Suite:
    if isinstance(suite, dict):
        return suite_from_data(suite)
    if isinstance(suite, str):
        return parse_suite(suite)
    raise InvalidArgument("a suite is YAML text or an object")
