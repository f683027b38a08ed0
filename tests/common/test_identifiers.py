"""Table names are parsed strictly and normalized like the warehouse does."""

from __future__ import annotations

import pytest

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.identifiers import parse_table_name, table_expression
from snowmcp.common.warehouse.base import TableRef


@pytest.mark.parametrize(("text", "dialect", "parts"), [
    ("ANALYTICS.SALES.ORDERS", "snowflake", ["ANALYTICS", "SALES", "ORDERS"]),
    ("analytics.sales.orders", "snowflake", ["ANALYTICS", "SALES", "ORDERS"]),
    ("analytics.sales.orders", "duckdb", ["analytics", "sales", "orders"]),
    ('"My Db"."s".t', "snowflake", ["My Db", "s", "T"]),
    ('"a""b"', "duckdb", ['a"b']),
    ("sales . orders", "duckdb", ["sales", "orders"]),
    ("T$1", "snowflake", ["T$1"]),
])
def test_valid_names(text: str, dialect: str, parts: list[str]) -> None:
    assert parse_table_name(text, dialect) == parts


@pytest.mark.parametrize("text", [
    "", "   ", 'x"; DROP TABLE y; --', "a.b.c.d", "orders; drop table x", "f(1)", "a..b", "1abc",
    "'/etc/passwd'", "@stage", "a.", '"unterminated', "x" * 2_000, "a\x00b",
])
def test_invalid_names_are_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_table_name(text, "snowflake")


def test_table_expression_quotes_every_part() -> None:
    sql = table_expression(TableRef("D", 'x"; DROP TABLE y; --', "T")).sql("snowflake")
    assert sql == '"D"."x""; DROP TABLE y; --"."T"'
