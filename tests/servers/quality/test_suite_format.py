"""The suite format: parsing, line-numbered errors, the published schema, and the tools that read it."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from snowmcp.common.errors import InvalidArgument
from snowmcp.servers.quality.check_types import CHECK_TYPES
from snowmcp.servers.quality.suite import SCHEMA_PATH, parse_suite, suite_from_data, suite_json_schema
from tests.helpers import call_error, call_ok

ISSUE_EXAMPLE = """\
table: ANALYTICS.SALES.ORDERS
filter: "ORDER_DATE >= '2024-01-01'"     # optional, applies to every check
checks:
  - row_count: {min: 100000}
  - freshness: {column: UPDATED_AT, max_age: 24h}
columns:
  ORDER_ID: [missing: {max: 0}, duplicate: {max: 0}]
  STATUS:   [accepted_values: {values: [pending, shipped, delivered, cancelled, returned]}]
  AMOUNT:   [value_range: {min: 0, max: 100000, warn_above: 0, fail_above: 0.01}]
"""


def test_the_documented_example_parses() -> None:
    suite = parse_suite(ISSUE_EXAMPLE)
    assert suite.table == "ANALYTICS.SALES.ORDERS" and suite.filter == "ORDER_DATE >= '2024-01-01'"
    assert [c.name for c in suite.checks] == [
        "row_count", "freshness(UPDATED_AT)", "missing(ORDER_ID)", "duplicate(ORDER_ID)", "accepted_values(STATUS)",
        "value_range(AMOUNT)"]
    assert [c.line for c in suite.checks] == [4, 5, 7, 7, 8, 9]


def test_yes_no_and_country_codes_stay_text() -> None:
    suite = parse_suite("table: T\ncolumns:\n  C: [accepted_values: {values: [NO, yes, off, 'true', true]}]\n")
    assert suite.checks[0].params.values == ["NO", "yes", "off", "true", True]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("text", "expected"), [
    ("table: T\nchecks:\n  - row_count: {min: lots}\n", "line 3, checks.0.row_count.min: Input should be a valid number"),
    ("table: T\nchecks:\n  - rowcount: {}\n", "line 3, checks.0.rowcount: unknown check type"),
    ("table: T\ncolumns:\n  A:\n    - missing: {max: -1}\n", "line 4, columns.A.0.missing.max: Value error, a threshold cannot be negative"),
    ("table: T\ncolumns:\n  A: [accepted_values: {}]\n", "columns.A.0.accepted_values.values: Field required"),
    ("table: T\nchecks:\n  - missing: {max: 0}\n", "line 3, checks.0.missing: missing needs a column"),
    ("table: T\nchecks:\n  - missing: {column: A, maxx: 0}\n", "checks.0.missing.maxx: Extra inputs are not permitted"),
    ("table: T\ncolumns:\n  A: [missing: {column: B}]\n", "`column` is implied under `columns:`"),
    ("table: T\nchecks: {row_count: {}}\n", "line 2, checks: `checks` must be a list"),
    ("table: T\nchecks:\n  - row_count: {}\n    missing: {}\n", "each check is one mapping"),
    ("checks:\n  - row_count: {}\n", "`table` is required"),
    ("table: T\ncheck:\n  - row_count: {}\n", "line 2, check: unknown key"),
    ("table: T\n", "declares no checks"),
    ("table: T\nchecks:\n  - row_count: {min: 1\n", "not valid YAML at line 4"),
    ("table: T\nchecks:\n  - value_range: {column: A, min: 0, fail_above: lots}\n", "not a count or a percentage"),
    ("- 1\n- 2\n", "a suite is a mapping"),
    ("", "the suite is empty"),
])
def test_errors_name_the_line_and_key(text: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_suite(text)
    assert expected in str(caught.value)


def test_every_error_of_a_suite_is_reported_at_once() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_suite("table: T\nchecks:\n  - row_count: {min: x}\n  - nope: {}\n  - missing: {}\n")
    assert str(caught.value).count("\n- ") == 3


def test_the_published_schema_is_current() -> None:
    """Regenerate with: .venv/bin/python -c 'from servers.quality.suite import write_schema; write_schema()'"""
    assert json.loads(SCHEMA_PATH.read_text()) == suite_json_schema()


def test_the_schema_accepts_the_example_and_each_check_types_example() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    schema = suite_json_schema()
    jsonschema.validate(yaml.safe_load(ISSUE_EXAMPLE.replace("24h", "'24h'")), schema)
    for check_type in CHECK_TYPES.values():
        (params,) = check_type.example.values()
        if check_type.needs_column and "column" not in params and "columns" not in params:
            suite = {"table": "T", "columns": {"C": [check_type.example]}}  # meant to sit under a column
        else:
            suite = {"table": "T", "checks": [check_type.example]}
        jsonschema.validate(suite, schema)
        suite_from_data(suite)  # and the parser agrees
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"table": "T", "checks": [{"nope": {}}]}, schema)


anyio = pytest.mark.anyio


@anyio
async def test_list_check_types_documents_all_types(quality: Client) -> None:
    listed = await call_ok(quality, "list_check_types")
    assert [t["type"] for t in listed["types"]] == list(CHECK_TYPES)
    assert len(listed["types"]) == 21
    for entry in listed["types"]:
        assert entry["summary"] and entry["parameters"]["properties"] and entry["example"].startswith("[{")


@anyio
async def test_validate_suite_shows_the_sql_without_running(quality: Client) -> None:
    suite = ("table: LAB.LAB.MEASURES\ncolumns:\n  ID: [missing: {}, duplicate: {}]\n  NOPE: [missing: {}]\n"
             "checks:\n  - relationships: {column: ID, to: LAB.LAB.SINGLE, to_column: ID}\n  - schema: {required: [ID]}\n")
    verdict = await call_ok(quality, "validate_suite", {"suite": suite})
    assert verdict["valid"] is False
    by_name = {c["check"]: c for c in verdict["checks"]}
    assert by_name["missing(NOPE)"]["error"] and "'NOPE' is not a column" in by_name["missing(NOPE)"]["error"]
    assert by_name["missing(ID)"]["batched"] and by_name["duplicate(ID)"]["batched"]
    assert not by_name["relationships(ID)"]["batched"] and by_name["schema"]["sql"] is None
    assert len(verdict["statements"]) == 2  # the batch, the foreign key


@anyio
@pytest.mark.parametrize(("arguments", "expected"), [
    ({}, "pass exactly one of suite"),
    ({"suite": "table: X\nchecks: [row_count: {}]", "suite_path": "/x.yml"}, "pass exactly one of suite"),
    ({"checks": [{"row_count": {}}]}, "inline checks need `table`"),
    ({"suite_path": "/nonexistent/suite.yml"}, "outside the suite folders"),
    ({"suite_path": "nonexistent.yml"}, "no suite file 'nonexistent.yml' in the suite folders"),
    ({"suite": "table: LAB.LAB.NOTHERE\nchecks: [row_count: {}]"}, "NOTHERE"),
    ({"suite": "table: LAB.LAB.MEASURES\nfilter: \"1=1; DROP TABLE x\"\nchecks: [row_count: {}]"}, "refused"),
])
async def test_run_checks_bad_arguments(quality: Client, arguments: dict, expected: str) -> None:
    assert expected in await call_error(quality, "run_checks", arguments)


@anyio
async def test_inline_checks_run_like_a_suite(quality: Client) -> None:
    run = await call_ok(quality, "run_checks", {"table": "LAB.LAB.MEASURES",
                                                "checks": [{"missing": {"column": "AMOUNT"}}, "row_count"]})
    assert [(r["check"], r["status"]) for r in run["results"]] == [("missing(AMOUNT)", "fail"), ("row_count", "pass")]


@anyio
async def test_suggested_checks_are_a_valid_suite_that_passes_today(quality: Client) -> None:
    suggestion = await call_ok(quality, "suggest_checks", {"table": "LAB.LAB.MEASURES"})
    suite = parse_suite(suggestion["suite"])
    names = {c.name for c in suite.checks}
    assert {"missing(ID)", "duplicate(ID)", "accepted_values(GRP)", "length_range(CONST)", "freshness(TS)"} <= names
    assert "value_range(AMOUNT)" not in names  # AMOUNT has a negative value
    run = await call_ok(quality, "run_checks", {"suite": suggestion["suite"]})
    failing = [r for r in run["results"] if r["status"] not in ("pass", "warn") and r["type"] != "freshness"]
    assert failing == []
