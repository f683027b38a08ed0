"""Error messages: a signature to group equal failures, and a category with the usual fix."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"(?<![A-Za-z_])\d[\d,.]*")
_HEX = re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b|\b[0-9a-f]{16,}\b", re.IGNORECASE)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?")
_SPACE = re.compile(r"\s+")

CATEGORIES: list[tuple[str, re.Pattern[str], str]] = [
    ("missing_object", re.compile(r"does not exist|not found|no such|unknown (table|column)|invalid identifier"
                                  r"|Referenced column", re.I),
     "An object the pipeline reads is missing or was renamed: check that the upstream load/feed landed and "
     "that the name is right."),
    ("permission", re.compile(r"insufficient privileges|not authorized|permission denied|access denied", re.I),
     "The pipeline's role lacks a grant: compare grants with the last good run."),
    ("timeout", re.compile(r"timeout|timed out|canceled|cancelled", re.I),
     "The run hit a time limit: look at data volume and warehouse size, or raise the timeout."),
    ("duplicate", re.compile(r"duplicate|unique constraint|primary key", re.I),
     "Duplicate keys in the input: deduplicate upstream or fix the merge key."),
    ("bad_value", re.compile(r"is not recognized|cannot be cast|conversion|invalid (value|number|date)|"
                             r"numeric value", re.I),
     "A value did not parse: find the bad rows in the source and fix or filter them."),
    ("connection", re.compile(r"connection|network|communication|reset by peer|unreachable", re.I),
     "A transient connection fault: a retry usually succeeds; if it repeats, check the network path."),
    ("test_failure", re.compile(r"Got \d+ results?, configured to (fail|warn)", re.I),
     "A data test found rows breaking it: run the test's compiled SQL to see them."),
    ("upstream", re.compile(r"upstream|skipped", re.I),
     "A dependency failed first: diagnose the upstream failure."),
]


def signature(message: str | None) -> str:
    """The message with numbers, ids and timestamps blanked, so equal failures group together."""
    if not message:
        return ""
    text = _TIMESTAMP.sub("<ts>", message)
    text = _HEX.sub("<id>", text)
    text = _NUMBER.sub("<n>", text)
    return _SPACE.sub(" ", text).strip()[:300]


def categorize(message: str | None, status: str | None = None) -> tuple[str | None, str | None]:
    if status == "upstream_failed":
        return "upstream", CATEGORIES[-1][2]
    if not message:
        return None, None
    for name, pattern, hint in CATEGORIES:
        if pattern.search(message):
            return name, hint
    return "other", "Read the full error and the run's logs."
