"""DuckDB's second opinion: the engine's own parse of what will run, held to the same lists.

sqlglot and DuckDB do not always read a statement the same way (a quoted
function name, an operator sqlglot maps to another function). So on DuckDB the
guard also asks the engine: `json_serialize_sql` returns DuckDB's parse tree
without running anything, and every function, table function and table in it
must pass the same allow-lists. The engine is a private in-memory DuckDB with
external access off and its configuration locked: it never sees user data.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

from snowmcp.common.guard.errors import Refusal

_BUILTIN_SCHEMAS = {"", "main", "system", "pg_catalog"}


class DuckDBParseCheck:
    def __init__(self, *, allowed: Callable[[str, str, bool], bool], check_table: Callable[[str], None]) -> None:
        """`allowed(name, qualifier, as_table)` judges one function; `check_table` one table name part."""
        import duckdb

        self._con = duckdb.connect(":memory:", config={
            "enable_external_access": False, "autoload_known_extensions": False,
            "autoinstall_known_extensions": False, "lock_configuration": True,
        })
        self._lock = threading.Lock()
        self._allowed = allowed
        self._check_table = check_table

    def check(self, sql: str) -> None:
        tree = self._serialize(sql)
        if tree.get("error"):
            message = str(tree.get("error_message", "")).splitlines()[0][:200]
            raise Refusal(f"DuckDB cannot parse the statement as checked ({message})")
        statements = tree.get("statements") or []
        if len(statements) != 1:
            raise Refusal("DuckDB reads more than one statement")
        for node, as_table in _walk(statements[0], False):
            self._judge(node, as_table)

    def _serialize(self, sql: str) -> dict[str, Any]:
        with self._lock:
            text = self._con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
        return json.loads(text)

    def _judge(self, node: dict[str, Any], as_table: bool) -> None:
        if node.get("class") == "PARAMETER":
            raise Refusal("parameters ($1, ?) are not allowed in a statement")
        kind = node.get("type")
        if kind == "BASE_TABLE":
            for part in (node.get("catalog_name", ""), node.get("schema_name", ""), node.get("table_name", "")):
                if part:
                    self._check_table(part)
            return
        name = node.get("function_name")
        if isinstance(name, str):
            qualifier = ".".join(p for p in (node.get("catalog", ""), node.get("schema", "")) if p)
            if node.get("schema", "") in _BUILTIN_SCHEMAS and not node.get("catalog"):
                qualifier = ""
            if not self._allowed(name.lower(), qualifier, as_table):
                shown = f"{qualifier}.{name}" if qualifier else name
                where = "as a table" if as_table else ""
                raise Refusal(f"DuckDB reads function {shown} {where}".rstrip() + ", which is not on the allow-list")


def _walk(value: Any, as_table: bool) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every dict of the tree, with whether it is the function of a TABLE_FUNCTION source."""
    if isinstance(value, dict):
        yield value, as_table
        table_function = value.get("type") == "TABLE_FUNCTION"
        for key, child in value.items():
            if table_function and key == "function":
                yield child, True
                for grand_key, grand in child.items():
                    yield from _walk(grand, False)
            else:
                yield from _walk(child, False)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, False)
