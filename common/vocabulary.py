"""The words of the tool catalog: one description per kind of argument, shared by every server.

A tool's parameter is annotated with one of these types (bounds stay at the tool, where they
differ). Descriptions say what the name, type, enum and bounds of the schema do not: the catalog is
read by the model in every conversation, so each says it once and briefly. A parameter whose name
and schema say everything (`grain` with its enum, `limit` with its bounds) has no description.

What holds for every tool of a server is said once, in the server's instructions, not on each
parameter: a `table` is DATABASE.SCHEMA.TABLE (SCHEMA.TABLE and TABLE resolve too), which would
otherwise be repeated on two dozen parameters.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field


Table = str  # DATABASE.SCHEMA.TABLE: the servers' instructions say so once
OptionalTable = str | None
Tables = Annotated[list[str] | None, Field(max_length=200, description="Tables as DATABASE.SCHEMA.TABLE.")]
Columns = list[str] | None  # none: all of them
TimeColumn = str  # a DATE or TIMESTAMP column (the analytics instructions say so)
Start = str | None  # ISO date or date-time, included (the analytics instructions say so)
End = str | None  # ISO date or date-time, excluded
Since = str  # the etl and quality instructions say how `since` reads, once per server
OptionalSince = str | None
Sql = str  # the tools say what SQL they take
Pipeline = Annotated[str, Field(description="Id or name from list_pipelines.")]
OptionalPipeline = Annotated[str | None, Field(description="A pipeline id or name.")]
