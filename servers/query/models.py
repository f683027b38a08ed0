"""Results of the query server's tools (structured output the model reads)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from snowmcp.common.results import QueryResult
from snowmcp.common.warehouse.base import DatabaseInfo, SchemaInfo, TableInfo


class DatabaseList(BaseModel):
    databases: list[DatabaseInfo]


class SchemaList(BaseModel):
    database: str
    schemas: list[SchemaInfo]


class TableList(BaseModel):
    database: str
    schema_: str = Field(alias="schema", serialization_alias="schema")
    tables: list[TableInfo]

    model_config = {"populate_by_name": True}


class SampleRows(QueryResult):
    table: str = Field(description="The fully qualified table the rows come from.")


class QueryPlan(BaseModel):
    sql: str = Field(description="The guarded statement whose plan this is, as sent to the warehouse.")
    plan: str = Field(description="The warehouse's plan, as text.")


class SqlVerdict(BaseModel):
    allowed: bool = Field(description="Whether run_query would accept this statement.")
    reason: str = Field(description="Why it is allowed or refused.")
    statement_type: str | None = Field(description="SELECT, SHOW, DESCRIBE or EXPLAIN; None when unparseable.")
    tables: list[str] = Field(description="Tables the statement references.")
    dialect: str = Field(description="The warehouse's SQL dialect.")
    transpiled: str | None = Field(
        None, description="The statement rendered in the warehouse's dialect (when allowed)."
    )
