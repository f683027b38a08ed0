"""The exceptions every snowmcp server raises, and how they reach the model.

Each error carries a message (what went wrong) and a hint (what the caller can
do about it). The tool wrapper in `common.toolkit` turns any `SnowmcpError`
into an MCP tool error (`isError: true`) whose text is `str(error)`, so the
model reads both. Messages must never contain secrets or raw row values.
"""

from __future__ import annotations


class SnowmcpError(Exception):
    """Base of every error a tool reports to its caller."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message


class ConfigError(SnowmcpError):
    """The configuration (settings, warehouse URL, connection) is unusable."""

    hint = "Check the SNOWMCP_* settings listed in the README."


class InvalidArgument(SnowmcpError):
    """A tool argument is malformed or out of range."""


class NotFound(SnowmcpError):
    """A database, schema, table or column does not exist (or is not visible)."""

    hint = "Use list_databases, list_schemas and list_tables to see what exists."


class SqlRefused(SnowmcpError):
    """The SQL guard refused a statement; it never reached the warehouse."""

    hint = "Only single read-only statements (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN) are allowed."


class QueryFailed(SnowmcpError):
    """The warehouse rejected the statement (syntax, missing object, type error...)."""

    hint = "Fix the SQL; validate_sql and describe_table can help."


class QueryTimeout(SnowmcpError):
    """The statement ran past its timeout and was cancelled in the warehouse."""

    hint = "Narrow the query (filters, LIMIT, fewer columns) or pass a larger timeout_s."


class WarehouseUnavailable(SnowmcpError):
    """The warehouse cannot be reached, or the circuit breaker is open.

    `transient` marks faults worth retrying (network, expired session,
    throttling); `retry_after_s` is set when the breaker fails fast. `outage`
    says the fault counts against the circuit breaker (default: when transient):
    a network fault after a statement was sent is not retried, yet it is one.
    """

    hint = "The warehouse is unreachable; try again shortly."

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        transient: bool = True,
        retry_after_s: float | None = None,
        outage: bool | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.transient = transient
        self.retry_after_s = retry_after_s
        self.outage = transient if outage is None else outage
