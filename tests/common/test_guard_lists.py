"""The guard's allow-lists are data, held to the libraries installed with them.

A DuckDB or sqlglot upgrade that adds a function makes these fail until the
lists are rebuilt and reviewed (`python -m snowmcp.common.guard.lists.build_duckdb`,
`... build_sqlglot`): nothing new is trusted by default, and nothing listed is
a name the engine does not have.
"""

from __future__ import annotations

import inspect

import duckdb
import pytest
from sqlglot import exp

from snowmcp.common.guard import Guard
from snowmcp.common.guard.lists import dialect_lists, read_list, sqlglot_functions, sqlglot_nodes


@pytest.fixture(scope="module")
def installed_duckdb_functions() -> dict[str, set[str]]:
    con = duckdb.connect()
    kinds: dict[str, set[str]] = {}
    for name, kind in con.execute("SELECT DISTINCT function_name, function_type FROM duckdb_functions()").fetchall():
        kinds.setdefault(name, set()).add(kind)
    return kinds


def test_every_listed_duckdb_function_exists_in_the_installed_engine(installed_duckdb_functions: dict) -> None:
    lists = dialect_lists("duckdb")
    assert lists.expressions - installed_duckdb_functions.keys() == set()
    assert lists.tables - installed_duckdb_functions.keys() == set()
    for name in lists.tables:
        assert installed_duckdb_functions[name] & {"table", "table_macro"}, name


def test_every_installed_duckdb_function_is_listed_or_refused(installed_duckdb_functions: dict) -> None:
    lists = dialect_lists("duckdb")
    refused = read_list("duckdb_refused.txt")
    unreviewed = installed_duckdb_functions.keys() - lists.expressions - lists.tables - refused
    assert unreviewed == set(), "rebuild and review: python -m snowmcp.common.guard.lists.build_duckdb"
    assert lists.expressions & refused == set() and lists.tables & refused == set()


@pytest.mark.parametrize("name", ["current_setting", "enable_logging", "json_execute_serialized_sql",
                                  "read_text", "read_duckdb", "query", "getvariable", "checkpoint",
                                  "duckdb_settings", "duckdb_logs", "nextval", "write_log", "glob"])
def test_engine_state_file_and_dynamic_sql_functions_are_refused(name: str, installed_duckdb_functions: dict) -> None:
    assert name in installed_duckdb_functions
    lists = dialect_lists("duckdb")
    assert name not in lists.expressions and name not in lists.tables


def test_every_listed_sqlglot_class_exists_and_every_installed_one_is_reviewed() -> None:
    installed = {c.__name__ for c in vars(exp).values() if inspect.isclass(c) and issubclass(c, exp.Func)}
    assert sqlglot_functions() - installed == set()
    unreviewed = installed - sqlglot_functions() - read_list("sqlglot_refused.txt")
    assert unreviewed == set(), "rebuild and review: python -m snowmcp.common.guard.lists.build_sqlglot"
    nodes = sqlglot_nodes()
    assert all(hasattr(exp, name) and not issubclass(getattr(exp, name), exp.Func) for name in nodes)


def test_no_write_or_state_node_is_on_the_node_list() -> None:
    for cls in (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Create, exp.Drop, exp.Alter, exp.Command,
                exp.Into, exp.Set, exp.Use, exp.Copy, exp.Transaction, exp.Placeholder, exp.Parameter,
                exp.SessionParameter, exp.Lock, exp.Pragma, exp.Attach, exp.Install):
        assert cls.__name__ not in sqlglot_nodes()


def test_snowflake_lists_hold_no_system_cortex_or_result_scan_names() -> None:
    lists = dialect_lists("snowflake")
    for name in lists.expressions | lists.tables:
        assert name == name.upper() and not name.startswith("SYSTEM$"), name
        assert name not in {"RESULT_SCAN", "LAST_QUERY_ID", "COMPLETE", "DIRECTORY", "INFER_SCHEMA"}


def test_the_duckdb_lists_are_what_the_build_rule_gives_for_this_engine() -> None:
    from snowmcp.common.guard.lists.build_duckdb import build

    expressions, tables, refused = build(duckdb.connect())
    lists = dialect_lists("duckdb")
    assert set(expressions) == lists.expressions and set(tables) == lists.tables
    assert set(refused) == read_list("duckdb_refused.txt")


def test_every_built_in_aggregate_an_analyst_uses_passes_both_dialects() -> None:
    for dialect, sql in (("duckdb", "SELECT count(*), sum(a), avg(a), min(a), max(a), stddev(a), median(a), "
                                    "string_agg(b, ','), approx_count_distinct(b) FROM t"),
                         ("snowflake", "SELECT COUNT(*), SUM(a), AVG(a), MIN(a), MAX(a), STDDEV(a), MEDIAN(a), "
                                       "LISTAGG(b, ','), APPROX_COUNT_DISTINCT(b), COUNT_IF(a > 1) FROM t")):
        verdict = Guard(dialect).check(sql)
        assert verdict.allowed, verdict.reason
