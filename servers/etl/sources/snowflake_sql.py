"""The Snowflake statements the etl server sends (server-built and trusted; rendered in Snowflake SQL).

fakesnow cannot run any of them, so tests parse them with sqlglot and map rows recorded in the
documented column layouts. Each builder returns a sqlglot expression; values enter as literals.
"""

from __future__ import annotations

import datetime as dt

from sqlglot import exp

TASK_COLUMNS = ("NAME", "DATABASE_NAME", "SCHEMA_NAME", "STATE", "SCHEDULED_TIME", "QUERY_START_TIME",
                "COMPLETED_TIME", "ERROR_CODE", "ERROR_MESSAGE", "QUERY_ID", "ROOT_TASK_ID", "RUN_ID")
GRAPH_COLUMNS = ("ROOT_TASK_NAME", "DATABASE_NAME", "SCHEMA_NAME", "STATE", "SCHEDULED_TIME", "QUERY_START_TIME",
                 "COMPLETED_TIME", "FIRST_ERROR_TASK_NAME", "FIRST_ERROR_CODE", "FIRST_ERROR_MESSAGE", "RUN_ID")
DYNAMIC_COLUMNS = ("QUALIFIED_NAME", "NAME", "STATE", "STATE_CODE", "STATE_MESSAGE", "QUERY_ID", "DATA_TIMESTAMP",
                   "REFRESH_START_TIME", "REFRESH_END_TIME", "STATISTICS")
LOAD_COLUMNS = ("SCHEMA_NAME", "TABLE_NAME", "FILE_NAME", "LAST_LOAD_TIME", "STATUS", "ROW_COUNT",
                "FIRST_ERROR_MESSAGE", "ERROR_COUNT")
COPY_COLUMNS = ("TABLE_CATALOG_NAME", "TABLE_SCHEMA_NAME", "TABLE_NAME", "FILE_NAME", "LAST_LOAD_TIME", "STATUS",
                "ROW_COUNT", "FIRST_ERROR_MESSAGE", "ERROR_COUNT", "PIPE_NAME", "PIPE_RECEIVED_TIME")
PIPE_COLUMNS = ("PIPE_CATALOG", "PIPE_SCHEMA", "PIPE_NAME", "DEFINITION", "PIPE_STATUS")
MAX_RESULT_LIMIT = 10_000  # the most RESULT_LIMIT the history table functions accept


def _ltz(value: dt.datetime) -> exp.Expression:
    text = value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return exp.cast(exp.Literal.string(text), "TIMESTAMP_LTZ", dialect="snowflake")


def _kwarg(name: str, value: exp.Expression) -> exp.Kwarg:
    return exp.Kwarg(this=exp.var(name), expression=value)


def _table_function(schema: str, function: str, *kwargs: exp.Kwarg) -> exp.TableFromRows:
    call = exp.Anonymous(this=function, expressions=list(kwargs))
    return exp.TableFromRows(this=exp.Dot(this=exp.to_identifier(schema), expression=call))


def _select(columns: tuple[str, ...], source: exp.Expression, order: str, *ties: str) -> exp.Select:
    """Newest first; the tie-breakers make the order total, so LIMIT/OFFSET pages neither skip nor repeat."""
    return (exp.select(*(exp.column(c) for c in columns)).from_(source)
            .order_by(*(exp.Ordered(this=exp.column(c), desc=True) for c in (order, *ties))))


def task_history(since: dt.datetime, limit: int) -> exp.Select:
    """Task runs (scheduled, executing and finished) since `since` (at most 7 days back)."""
    source = _table_function("INFORMATION_SCHEMA", "TASK_HISTORY",
                             _kwarg("SCHEDULED_TIME_RANGE_START", _ltz(since)),
                             _kwarg("RESULT_LIMIT", exp.convert(limit)))
    return _select(TASK_COLUMNS, source, "SCHEDULED_TIME", "DATABASE_NAME", "SCHEMA_NAME", "NAME", "QUERY_ID")


def complete_task_graphs(since: dt.datetime, limit: int) -> exp.Select:
    """Finished runs of whole task graphs (root task and its children)."""
    source = _table_function("INFORMATION_SCHEMA", "COMPLETE_TASK_GRAPHS",
                             _kwarg("RESULT_LIMIT", exp.convert(limit)))
    return _select(GRAPH_COLUMNS, source, "SCHEDULED_TIME", "DATABASE_NAME", "SCHEMA_NAME", "ROOT_TASK_NAME",
                   "RUN_ID").where(
        exp.GTE(this=exp.column("SCHEDULED_TIME"), expression=_ltz(since)))


def dynamic_table_refresh_history(since: dt.datetime, limit: int) -> exp.Select:
    source = _table_function("INFORMATION_SCHEMA", "DYNAMIC_TABLE_REFRESH_HISTORY",
                             _kwarg("DATA_TIMESTAMP_START", _ltz(since)), _kwarg("RESULT_LIMIT", exp.convert(limit)))
    return _select(DYNAMIC_COLUMNS, source, "REFRESH_START_TIME", "QUALIFIED_NAME", "DATA_TIMESTAMP", "QUERY_ID")


def load_history(since: dt.datetime, limit: int) -> exp.Select:
    """COPY INTO loads of the current database (INFORMATION_SCHEMA.LOAD_HISTORY view, 14 days)."""
    source = exp.table_("LOAD_HISTORY", db="INFORMATION_SCHEMA")
    database = exp.func("CURRENT_DATABASE").as_("TABLE_CATALOG_NAME")  # the view has no database column
    del limit  # paged by the caller (the view has no RESULT_LIMIT)
    return (_select(LOAD_COLUMNS, source, "LAST_LOAD_TIME", "SCHEMA_NAME", "TABLE_NAME", "FILE_NAME").select(database)
            .where(exp.GTE(this=exp.column("LAST_LOAD_TIME"), expression=_ltz(since))))


def copy_history(table: str, since: dt.datetime) -> exp.Select:
    """Loads into one table, Snowpipe included (COPY_HISTORY table function)."""
    source = _table_function("INFORMATION_SCHEMA", "COPY_HISTORY",
                             _kwarg("TABLE_NAME", exp.Literal.string(table)), _kwarg("START_TIME", _ltz(since)))
    return _select(COPY_COLUMNS, source, "LAST_LOAD_TIME", "FILE_NAME")


def pipe_status() -> exp.Select:
    """Every pipe of the current database with SYSTEM$PIPE_STATUS (JSON) for each."""
    name = exp.func("CONCAT", exp.Literal.string('"'), exp.column("PIPE_CATALOG"), exp.Literal.string('"."'),
                    exp.column("PIPE_SCHEMA"), exp.Literal.string('"."'), exp.column("PIPE_NAME"),
                    exp.Literal.string('"'))
    status = exp.Anonymous(this="SYSTEM$PIPE_STATUS", expressions=[name]).as_("PIPE_STATUS")
    return (exp.select(exp.column("PIPE_CATALOG"), exp.column("PIPE_SCHEMA"), exp.column("PIPE_NAME"),
                       exp.column("DEFINITION"), status)
            .from_(exp.table_("PIPES", db="INFORMATION_SCHEMA")).order_by("PIPE_CATALOG", "PIPE_SCHEMA", "PIPE_NAME"))
