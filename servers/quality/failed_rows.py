"""The offending rows of a stored check, from a statement recompiled now — never from stored SQL.

History may live in a warehouse schema that others can write, so nothing read
back from it is trusted as SQL. Each stored result keeps its check's
*definition* (the suite's table and filter and the one check entry, as JSON);
`get_failed_rows` validates that definition like any suite, compiles it through
the same compiler and guard as `run_checks` (the filter and any SQL fragment
are guarded again), and runs what the compiler built. The stored
`failed_rows_sql` column is only for people reading the history table.

So a row planted in the history store can make the server run no more than a
caller could by sending that suite to run_checks: a guarded read. A result
without a definition (stored by an earlier version, or forged) is refused.
"""

from __future__ import annotations

import json
from typing import Any

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.runtime import ServerRuntime
from snowmcp.servers.quality.history import HistoryBackend
from snowmcp.servers.quality.models import FailedRows
from snowmcp.servers.quality.runner import QualityRunner
from snowmcp.servers.quality.suite import Suite, suite_from_data
from snowmcp.servers.quality.suite_limits import MAX_SUITE_BYTES

ROW_CHECKS = ("Row checks: missing, duplicate, accepted_values, invalid_values, regex, value_range, length_range, "
              "relationships, expression, failed_rows.")


def suite_of_definition(text: Any, check: str) -> Suite:
    """The one-check suite a stored definition describes, validated like any object-form suite."""
    if not isinstance(text, str) or len(text) > MAX_SUITE_BYTES:
        raise _unusable(check, "its stored definition is not a suite")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise _unusable(check, "its stored definition is not valid JSON") from None
    try:
        suite = suite_from_data(data)
    except InvalidArgument as exc:
        raise _unusable(check, f"its stored definition is not a valid suite ({str(exc).splitlines()[0]})") from None
    if len(suite.checks) != 1 or suite.checks[0].name != check:
        raise _unusable(check, "its stored definition does not describe that check")
    return suite


async def failed_rows(runtime: ServerRuntime, runner: QualityRunner, store: HistoryBackend, run_id: str, check: str,
                      limit: int) -> FailedRows:
    """Sample the rows failing `check` of run `run_id`, by recompiling the check from its stored definition."""
    stored = await store.result(run_id, check)
    definition = stored.get("definition")
    if not definition:
        if not stored.get("failed_rows_sql"):
            raise _no_rows(check, stored.get("check_type"))
        raise InvalidArgument(f"{check}: this run was stored without its checks' definitions (by an earlier version), "
                              "so its failed rows cannot be recompiled", hint="Run the checks again, then ask for the "
                                                                              "failed rows of the new run.")
    suite = await runtime.off_loop(lambda: suite_of_definition(definition, check))
    plan = await runner.plan(suite)
    if str(plan.scope.description.ref) != stored.get("table_name"):
        raise _unusable(check, "its stored definition names another table than the stored result")
    (declared,) = suite.checks
    if declared.index in plan.errors:
        raise _unusable(check, plan.errors[declared.index])
    compiled = next((c for c in plan.compiled if c.check.index == declared.index), None)
    if compiled is None or compiled.failed_rows is None:
        raise _no_rows(check, declared.type)
    result = await runtime.query(compiled.failed_rows, tool="get_failed_rows", max_rows=limit, use_cache=False)
    return FailedRows(run_id=run_id, check=check, sql=plan.failed_rows_sql[declared.index],
                      columns=[c.name for c in result.columns], rows=result.rows, truncated=result.truncated)


def _no_rows(check: str, check_type: Any) -> InvalidArgument:
    return InvalidArgument(f"{check} ({check_type}) does not test rows, so it has no failed rows", hint=ROW_CHECKS)


def _unusable(check: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"cannot show the failed rows of {check}: {why}",
                           hint="Run the checks again, then ask for the failed rows of the new run.")
