"""The SQL guard (see `common.guard.guard`): one `Guard` per server, built from the dialect and settings."""

from snowmcp.common.guard.guard import MAX_SQL_CHARS, Guard, GuardVerdict

__all__ = ["MAX_SQL_CHARS", "Guard", "GuardVerdict"]
