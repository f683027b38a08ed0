"""The helpers the real providers share."""

from __future__ import annotations

import pytest

from snowmcp.clients.host.providers.support import api_message, one_line, parse_arguments, resolve_key


def test_one_line_redacts_secrets_and_bounds_the_text() -> None:
    assert one_line("bad key\n  sk-123 here", ("sk-123", None)) == "bad key *** here"
    assert len(one_line("x" * 1000)) == 300


def test_resolve_key_prefers_the_argument_then_the_first_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("B_KEY", "b")
    monkeypatch.delenv("A_KEY", raising=False)
    assert resolve_key("given", "A_KEY", "B_KEY") == "given"
    assert resolve_key(None, "A_KEY", "B_KEY") == "b"
    monkeypatch.delenv("B_KEY")
    assert resolve_key(None, "A_KEY", "B_KEY") is None


@pytest.mark.parametrize("raw, expected", [
    ('{"a": 1}', {"a": 1}), ("", {}), (None, {}), ("null", {}), ({"a": 1}, {"a": 1}),
])
def test_parse_arguments(raw: object, expected: dict) -> None:
    assert parse_arguments(raw) == expected


@pytest.mark.parametrize("raw, problem", [
    ('{"a": ', "not valid JSON"), ("[1]", "got a JSON list"), ("3", "got a JSON int"), (3, "got int"),
])
def test_parse_arguments_says_what_is_wrong(raw: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_arguments(raw)


def test_api_message_reads_the_json_error() -> None:
    class Status(Exception):
        def __init__(self, body: object, message: str) -> None:
            self.body, self.message = body, message

    assert api_message(Status({"type": "error", "error": {"message": "invalid x-api-key"}}, "x")) == "invalid x-api-key"
    assert api_message(Status({"message": "Incorrect API key"}, "x")) == "Incorrect API key"
    assert api_message(Status(None, "Error code: 502 - upstream down")) == "upstream down"
