"""Hostile suites and names get clear errors quickly, in bounded memory, and never echo what they hold."""

from __future__ import annotations

import json
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from snowmcp.common.errors import InvalidArgument
from snowmcp.common.settings import Settings
from snowmcp.servers.quality.server import build_server
from snowmcp.servers.quality.suite import parse_suite, suite_from_data
from snowmcp.servers.quality.suite_limits import MAX_SUITE_BYTES
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio
TABLE = "LAB.LAB.MEASURES"

ALIAS_BOMB = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def refused(work: Any) -> str:
    with pytest.raises(InvalidArgument) as caught:
        work()
    return str(caught.value)


# -- YAML -------------------------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_in_under_a_second_with_tiny_memory() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    try:
        message = refused(lambda: parse_suite(ALIAS_BOMB))
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0 and peak < 5_000_000, (elapsed, peak)
    assert "anchor" in message and "line 1, column 4" in message


@pytest.mark.parametrize("text, place", [
    ("table: &t LAB.LAB.MEASURES\nchecks: [row_count]\n", "anchor (&name) at line 1, column 8"),
    ("table: T\nchecks:\n  - row_count: {}\n  - *x\n", "alias (*name) at line 4, column 5"),
    ("table: T\nchecks:\n  - row_count: &p {min: 1}\n  - row_count: {<<: *p}\n", "anchor (&name) at line 3"),
])
def test_anchors_and_aliases_are_refused_at_their_line(text: str, place: str) -> None:
    assert place in refused(lambda: parse_suite(text))


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    assert "nest" in refused(lambda: parse_suite("table: T\nchecks: " + "[" * 50_000))  # ours, or libyaml's limit
    assert "nests deeper than 32 levels at line 2" in refused(lambda: parse_suite("table: T\nchecks: " + "[" * 40))
    deep: Any = {"row_count": {}}
    for _ in range(100_000):
        deep = [deep]
    assert "nests deeper than" in refused(lambda: suite_from_data({"table": "T", "checks": deep}))


def test_yaml_errors_name_the_place_but_quote_nothing_of_the_suite() -> None:
    for text in ('table: "SECRET-1\nchecks: [row_count]\n', "table: T\nchecks: [row_count]\n...\n%SECRET-1\n",
                 "table: !!python/object:SECRET-1 {}\nchecks: [row_count]\n",
                 "table: T\nchecks:\n  - row_count: {min: SECRET-1\n",
                 "table: T\n\tSECRET-1: x\n"):
        message = refused(lambda: parse_suite(text))
        assert "line " in message and "SECRET" not in message, message


def test_validation_errors_name_the_key_path_but_never_a_value() -> None:
    text = ("table: T\ncolumns:\n  C:\n    - accepted_values: {values: SECRET-1}\n"
            "    - missing: {fail_above: SECRET-2}\n    - value_range: {min: SECRET-3}\n")
    message = refused(lambda: parse_suite(text))
    assert "line 4, columns.C.0.accepted_values.values" in message
    assert "line 5, columns.C.1.missing.fail_above" in message
    assert "SECRET" not in message and "input_value" not in message


# -- one budget for every form ----------------------------------------------------------------------


async def test_every_suite_form_meets_the_same_byte_budget(quality: Client, tmp_path: Path) -> None:
    big_filter = "ID > 0 OR " * (MAX_SUITE_BYTES // 10) + "ID > 0"
    text = json.dumps({"table": TABLE, "filter": big_filter, "checks": [{"row_count": {}}]})
    as_text = await call_error(quality, "validate_suite", {"suite": text})
    as_object = await call_error(quality, "validate_suite", {"suite": json.loads(text)})
    inline = await call_error(quality, "run_checks", {"table": TABLE, "checks": [
        {"accepted_values": {"column": "GRP", "values": ["x" * 1000] * 1100}}]})
    for message in (as_text, as_object, inline):
        assert f"larger than {MAX_SUITE_BYTES} bytes" in message, message


async def test_a_suite_file_over_the_budget_is_refused_unread(lab_settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "big.yml").write_text("table: T\n" + "# padding\n" * (MAX_SUITE_BYTES // 10 + 1))
    async with client_with_folders(lab_settings, folder) as client:
        assert f"larger than {MAX_SUITE_BYTES} bytes" in await call_error(client, "run_checks", {"suite_path": "big.yml"})


def test_an_object_with_too_many_values_is_refused_before_it_is_measured() -> None:
    message = refused(lambda: suite_from_data({"table": "T", "checks": [{"row_count": {}}] * 300_000}))
    assert "more than" in message and "values" in message


async def test_a_big_suite_is_parsed_off_the_event_loop(quality: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow parse (a big suite) must not stall other calls: it runs in a worker thread."""
    import snowmcp.servers.quality.suite_sources as sources

    loop_thread = threading.current_thread()
    seen: list[threading.Thread] = []
    real = sources.parse_suite

    def slow_parse(text: str) -> Any:
        seen.append(threading.current_thread())
        time.sleep(1.5)
        return real(text)

    monkeypatch.setattr(sources, "parse_suite", slow_parse)
    probe_seconds: list[float] = []

    async def probe() -> None:
        await anyio.sleep(0.2)
        started = time.perf_counter()
        await call_ok(quality, "list_check_types")
        probe_seconds.append(time.perf_counter() - started)

    async with anyio.create_task_group() as group:
        group.start_soon(probe)
        await call_ok(quality, "validate_suite", {"suite": f"table: {TABLE}\nchecks: [row_count]\n"})
    assert seen and seen[0] is not loop_thread
    assert probe_seconds[0] < 1.0, probe_seconds


# -- binary and special files, bad Unicode ----------------------------------------------------------


@pytest.fixture
def suites(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "suites"
    folder.mkdir()
    (folder / "ok.yml").write_text(f"table: {TABLE}\nchecks: [row_count]\n")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (folder / "latin1.yml").write_bytes("table: CAF\xc9\n".encode("latin-1"))
    (folder / "nul.yml").write_bytes(b"table: T\x00\nchecks: [row_count]\n")
    (folder / "sub").mkdir()
    os.mkfifo(folder / "pipe.yml")
    (folder / "zero.yml").symlink_to("/dev/zero")
    yield folder


def client_with_folders(settings: Settings, *folders: Path) -> Client:
    from snowmcp.servers.quality.settings import QualitySettings

    allowed = QualitySettings(quality_suites_dir=",".join(str(f) for f in folders))
    return Client(build_server(settings, quality_settings=allowed))


@pytest.mark.parametrize("name, expected", [
    ("image.png", "not UTF-8 text (an invalid byte at offset 0)"),
    ("latin1.yml", "not UTF-8 text"),
    ("nul.yml", "not text (it holds a NUL byte at offset 8)"),
    ("sub", "is a directory, not a regular file"),
    ("pipe.yml", "is a FIFO, not a regular file"),
])
async def test_binary_and_special_files_get_clear_errors_without_hanging(
        lab_settings: Settings, suites: Path, name: str, expected: str) -> None:
    async with client_with_folders(lab_settings, suites) as client:
        with anyio.fail_after(10):
            message = await call_error(client, "run_checks", {"suite_path": name})
    assert expected in message and "internal error" not in message


async def test_a_link_to_a_device_or_outside_the_folders_is_refused(lab_settings: Settings, suites: Path,
                                                                     tmp_path: Path) -> None:
    outside = tmp_path / "outside.yml"
    outside.write_text("table: SECRET-1\nchecks: [nope]\n")
    (suites / "escape.yml").symlink_to(outside)
    async with client_with_folders(lab_settings, suites) as client:
        with anyio.fail_after(10):
            zero = await call_error(client, "run_checks", {"suite_path": "zero.yml"})
            escape = await call_error(client, "run_checks", {"suite_path": "escape.yml"})
    assert "outside the suite folders" in zero and "outside the suite folders" in escape
    assert "SECRET" not in escape


@pytest.mark.parametrize("arguments", [
    {"suite": "table: T\ud800\nchecks: [row_count]\n"},
    {"suite": {"table": "LAB.LAB.MEASURES", "checks": [{"accepted_values": {"column": "GRP", "values": ["\udfff"]}}]}},
    {"table": TABLE, "checks": [{"regex": {"column": "GRP", "pattern": "\ud800"}}]},
])
async def test_lone_surrogates_get_a_clear_error(quality: Client, arguments: dict[str, Any]) -> None:
    message = await call_error(quality, "run_checks", arguments)
    assert "invalid Unicode (a lone surrogate)" in message and "internal error" not in message


def test_a_lone_surrogate_in_an_object_key_gets_a_clear_error() -> None:
    message = refused(lambda: suite_from_data({"table": TABLE, "columns": {"GRP\ud800": ["missing"]}}))
    assert "invalid Unicode (a lone surrogate) in a key at columns" in message


def test_a_json_escaped_lone_surrogate_in_yaml_text_gets_a_clear_error() -> None:
    assert "not valid YAML at line 1" in refused(lambda: parse_suite('table: "\\ud800"\nchecks: [row_count]\n'))


# -- suite_path stays inside the suite folders ------------------------------------------------------


async def test_a_suite_path_outside_the_suite_folders_is_refused_and_its_content_never_appears(
        lab_settings: Settings, suites: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yml"
    secret.write_text("table: SECRET-1\npassword: SECRET-2\n")
    async with client_with_folders(lab_settings, suites) as client:
        for path in (str(secret), str(suites / ".." / "secret.yml"), "../secret.yml", "/etc/passwd", "/dev/zero",
                     "~/.ssh/id_rsa", ""):
            message = await call_error(client, "run_checks", {"suite_path": path}) if path else ""
            if path:
                assert "outside the suite folders" in message and str(suites.resolve()) in message, message
                assert "SECRET" not in message and "root:" not in message
        ran = await call_ok(client, "run_checks", {"suite_path": "ok.yml"})
    assert ran["status"] == "pass"


async def test_an_invalid_suite_file_in_a_folder_names_lines_and_keys_only(lab_settings: Settings, suites: Path) -> None:
    (suites / "bad.yml").write_text("table: LAB.LAB.MEASURES\nSECRET-KEY-1: x\ncolumns:\n"
                                    "  GRP: [accepted_values: {values: SECRET-2}]\n")
    async with client_with_folders(lab_settings, suites) as client:
        message = await call_error(client, "run_checks", {"suite_path": "bad.yml"})
    assert "line 2, SECRET-KEY-1: unknown key" in message  # a key path may name a key
    assert "line 4, columns.GRP.0.accepted_values.values" in message and "SECRET-2" not in message


async def test_suite_folders_come_from_the_setting(lab_settings: Settings, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from snowmcp.servers.quality.settings import QualitySettings

    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        folder.mkdir()
    (second / "two.yml").write_text(f"table: {TABLE}\nchecks: [row_count]\n")
    monkeypatch.setenv("SNOWMCP_QUALITY_SUITES_DIR", f"{first}{os.pathsep}{second}")
    async with Client(build_server(lab_settings, quality_settings=QualitySettings())) as client:
        assert (await call_ok(client, "run_checks", {"suite_path": "two.yml"}))["status"] == "pass"
        assert (await call_ok(client, "run_checks", {"suite_path": str(second / "two.yml")}))["status"] == "pass"
    default = QualitySettings(quality_suites_dir=None).suite_folders(lab_settings.state_path)
    assert default[0] == lab_settings.state_path / "demo" / "quality"


# -- odd table names --------------------------------------------------------------------------------


@pytest.mark.parametrize("table", ["", '"', "'", ".", "LAB..MEASURES", "a.b.c.d", "x" * 10_000, "LAB.LAB.MEASURES\x00",
                                   "\x00", "ÄÖ.ü.日本", 'LAB.LAB."日本"', 'LAB.LAB."MEA""SURES"', "LAB.LAB.MEASURES; DROP",
                                   '"LAB"."LAB"."MEASURES', "\ud800", "LAB.LAB.\u202eSERUSAEM"])
async def test_odd_table_names_in_suggest_checks_get_clear_errors(quality: Client, table: str) -> None:
    result = await quality.call_tool("suggest_checks", {"table": table})
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert result.is_error and "internal error" not in text, text


async def test_a_quoted_table_name_works_in_suggest_checks(quality: Client) -> None:
    suggested = await call_ok(quality, "suggest_checks", {"table": 'LAB.LAB."MEASURES"'})
    assert suggested["table"] == TABLE
