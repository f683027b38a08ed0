"""Quality history kept in the warehouse itself, in a schema the server may write.

`SNOWMCP_QUALITY_HISTORY_SCHEMA=DB.SCHEMA` (on Snowflake) makes the quality
server create three tables there on first use — SNOWMCP_QUALITY_RUNS,
SNOWMCP_QUALITY_RESULTS, SNOWMCP_QUALITY_SNAPSHOTS — and keep every run in them,
so history is shared by every machine and can be queried like any table. The
role needs CREATE TABLE and INSERT on that schema and nothing else; when it
cannot write, the run is stored in the local state file instead and says why
(`HistoryInfo.note`). Statements are built with sqlglot; every value is a literal.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from snowmcp.common.durations import as_utc, parse_timestamp
from snowmcp.common.errors import InvalidArgument, NotFound, SnowmcpError
from snowmcp.common.identifiers import parse_table_name
from snowmcp.common.runtime import ServerRuntime
from snowmcp.servers.quality.history import RESULT_COLUMNS, RunRecord, SavedAt

if TYPE_CHECKING:
    from sqlglot import exp

log = logging.getLogger("snowmcp.quality.history")

_TYPES = {
    "runs": [("run_id", "VARCHAR"), ("warehouse", "VARCHAR"), ("table_name", "VARCHAR"), ("suite_name", "VARCHAR"),
             ("started_at", "TIMESTAMP_TZ"), ("finished_at", "TIMESTAMP_TZ"), ("as_of", "TIMESTAMP_TZ"),
             ("passed", "INT"), ("warned", "INT"), ("failed", "INT"), ("errored", "INT")],
    "results": [(c, "FLOAT" if c in ("observed", "unexpected_percent", "duration_ms") else
                 "BIGINT" if c in ("unexpected_count", "rows_tested") else
                 "TIMESTAMP_TZ" if c == "checked_at" else "VARCHAR") for c in RESULT_COLUMNS],
    "snapshots": [("warehouse", "VARCHAR"), ("table_name", "VARCHAR"), ("taken_at", "TIMESTAMP_TZ"),
                  ("columns", "VARCHAR")],
}
_TABLES = {"runs": "SNOWMCP_QUALITY_RUNS", "results": "SNOWMCP_QUALITY_RESULTS", "snapshots": "SNOWMCP_QUALITY_SNAPSHOTS"}


class WarehouseHistoryStore:
    """The same operations as `HistoryStore`, on tables in the warehouse."""

    kind = "warehouse"

    def __init__(self, runtime: ServerRuntime, schema: str, dialect: str = "snowflake") -> None:
        parts = parse_table_name(schema, dialect)
        if len(parts) != 2:
            raise InvalidArgument(f"SNOWMCP_QUALITY_HISTORY_SCHEMA {schema!r} must be DATABASE.SCHEMA")
        self.database, self.schema = parts
        self.runtime = runtime
        self.dialect = dialect
        self._created = False  # the tables exist (seen in the catalog, or created)
        self._writable = False  # created and brought up to date by this process

    @property
    def location(self) -> str:
        return f"{self.database}.{self.schema}"


    def _table(self, kind: str) -> exp.Table:
        from sqlglot import exp

        return exp.table_(_TABLES[kind], db=self.schema, catalog=self.database, quoted=True)

    async def _run(self, statement: exp.Expression, max_rows: int = 1) -> Any:
        return await self.runtime.query(statement, tool="quality_history",
                                        max_rows=max_rows, use_cache=False)

    async def _create(self) -> None:
        from sqlglot import exp

        if self._writable:
            return
        for kind, columns in _TYPES.items():
            schema = exp.Schema(this=self._table(kind), expressions=[
                exp.ColumnDef(this=exp.to_identifier(name.upper(), quoted=True),
                              kind=exp.DataType.build(kind_, dialect=self.dialect)) for name, kind_ in columns])
            await self._run(exp.Create(this=schema, kind="TABLE", exists=True))
        # Results tables made before checks stored their definition get the column (a no-op otherwise).
        # A role that may insert but does not own the tables cannot alter them: the column may be there already.
        try:
            await self._run(exp.Alter(this=self._table("results"), kind="TABLE", actions=[exp.ColumnDef(
                this=exp.to_identifier("DEFINITION", quoted=True), kind=exp.DataType.build("VARCHAR"), exists=True)]))
        except SnowmcpError as exc:
            log.warning("could not add the DEFINITION column to %s: %s", self.location, type(exc).__name__)
        self._created = self._writable = True

    async def _insert(self, kind: str, rows: Sequence[Sequence[Any]]) -> None:
        from sqlglot import exp

        if not rows:
            return
        names = [exp.to_identifier(name.upper(), quoted=True) for name, _ in _TYPES[kind]]
        values = exp.values([tuple(_literal(v) for v in row) for row in rows])
        await self._run(exp.insert(values, exp.Schema(this=self._table(kind), expressions=names)))

    async def save_run(self, run: RunRecord, results: Sequence[dict[str, Any]],
                       snapshot: dict[str, str] | None) -> SavedAt:
        await self._create()
        await self._insert("results", [[row.get(c) for c in RESULT_COLUMNS] for row in results])
        if snapshot is not None:
            await self._insert("snapshots", [[run.warehouse, run.table_name, run.finished_at, json.dumps(snapshot)]])
        await self._insert("runs", [[run.run_id, run.warehouse, run.table_name, run.suite_name, run.started_at,
                                     run.finished_at, run.as_of, run.totals["pass"], run.totals["warn"],
                                     run.totals["fail"], run.totals["error"]]])  # last: a run row means complete
        return SavedAt("warehouse", self.location)

    async def observed_history(self, warehouse: str, check_ids: Sequence[str], limit: int) -> dict[str, list[float]]:
        from sqlglot import exp

        if not check_ids or not await self._exists():
            return {}
        ranked = exp.select("CHECK_ID", "OBSERVED", "CHECKED_AT", exp.alias_(exp.Window(
            this=exp.RowNumber(), partition_by=[exp.column("CHECK_ID")],
            order=exp.Order(expressions=[exp.Ordered(this=exp.column("CHECKED_AT"), desc=True)])), "N")).from_(
            self._table("results")).where(exp.and_(
                exp.column("WAREHOUSE").eq(exp.convert(warehouse)),
                exp.column("CHECK_ID").isin(*[exp.convert(c) for c in check_ids]),
                exp.column("STATUS").neq(exp.convert("error")), exp.not_(exp.column("OBSERVED").is_(exp.null()))))
        query = (exp.select("CHECK_ID", "OBSERVED").from_(ranked.subquery("r")).where(exp.column("N") <= limit)
                 .order_by("CHECK_ID", "CHECKED_AT"))
        result = await self._run(query, max_rows=self.runtime.settings.max_rows_limit)
        found: dict[str, list[float]] = {}
        for check_id, observed in result.rows:
            found.setdefault(check_id, []).append(float(observed))
        return found

    async def last_snapshot(self, warehouse: str, table_name: str) -> tuple[dt.datetime, dict[str, str]] | None:
        from sqlglot import exp

        if not await self._exists():
            return None
        query = (exp.select("TAKEN_AT", "COLUMNS").from_(self._table("snapshots"))
                 .where(exp.and_(exp.column("WAREHOUSE").eq(exp.convert(warehouse)),
                                 exp.column("TABLE_NAME").eq(exp.convert(table_name))))
                 .order_by(exp.Ordered(this=exp.column("TAKEN_AT"), desc=True)).limit(1))
        result = await self._run(query)
        if not result.rows:
            return None
        taken_at, columns = result.rows[0]
        return _instant(taken_at), json.loads(columns)

    async def result(self, run_id: str, check: str) -> dict[str, Any]:
        from sqlglot import exp

        rows = await self._results(exp.and_(exp.column("RUN_ID").eq(exp.convert(run_id)),
                                            exp.column("CHECK_NAME").eq(exp.convert(check))), 1)
        if rows:
            return rows[0]
        names = [r["check_name"] for r in await self._results(exp.column("RUN_ID").eq(exp.convert(run_id)), 500)]
        if not names:
            raise NotFound(f"no stored run {run_id!r}", hint="run_checks returns a run_id; check_history lists runs.")
        raise NotFound(f"run {run_id} has no check named {check!r}", hint="Checks of that run: " + ", ".join(names[:50]))

    async def results(self, warehouse: str, *, table_name: str | None, check: str | None, since: dt.datetime | None,
                      limit: int) -> list[dict[str, Any]]:
        from sqlglot import exp

        conditions = [exp.column("WAREHOUSE").eq(exp.convert(warehouse))]
        if table_name is not None:
            conditions.append(exp.column("TABLE_NAME").eq(exp.convert(table_name)))
        if check is not None:
            conditions.append(exp.column("CHECK_NAME").eq(exp.convert(check)))
        if since is not None:
            conditions.append(exp.column("CHECKED_AT") >= _literal(since))
        return await self._results(exp.and_(*conditions), limit)

    async def _results(self, condition: exp.Expression, limit: int) -> list[dict[str, Any]]:
        from sqlglot import exp

        if not await self._exists():
            return []
        query = (exp.select(*[exp.column(c.upper()) for c in RESULT_COLUMNS]).from_(self._table("results"))
                 .where(condition).order_by(exp.Ordered(this=exp.column("CHECKED_AT"), desc=True), "CHECK_NAME")
                 .limit(limit))
        result = await self._run(query, max_rows=limit)
        rows = [dict(zip(RESULT_COLUMNS, row)) for row in result.rows]
        for row in rows:
            row["checked_at"] = _instant(row["checked_at"])
        return rows

    async def available(self) -> bool:
        """Whether the history tables exist (before the first save, or in a missing schema, they don't)."""
        return await self._exists()

    async def _exists(self) -> bool:
        if self._created:
            return True
        try:
            tables = {t.name for t in await self.runtime.catalog(lambda w: w.list_tables(self.database, self.schema, None))}
        except NotFound:
            return False
        self._created = {_TABLES["results"], _TABLES["runs"], _TABLES["snapshots"]} <= tables
        return self._created


def _literal(value: Any) -> exp.Expression:
    from sqlglot import exp

    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(as_utc(value).isoformat()), exp.DataType.build("TIMESTAMP_TZ", dialect="snowflake"))
    return exp.convert(value)


def _instant(value: Any) -> dt.datetime:
    return as_utc(value) if isinstance(value, dt.datetime) else parse_timestamp(str(value), "stored time")
