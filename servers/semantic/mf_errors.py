"""MetricFlow's refusals, shortened for a model: what was wrong, with which input, and the closest names.

MetricFlow explains a refused query in a long report ("Error #1: Message: ...
Suggestions: [...] Query Input: ... Issue Location: ..."). The message and the
suggestions are what a model can act on; the rest is dropped. An unexpected
exception inside MetricFlow is still an error of this one call (never a crash).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator

from snowmcp.common.errors import InvalidArgument, SnowmcpError

log = logging.getLogger("snowmcp.semantic")

_BLOCK = re.compile(r"Error #\d+:(.*?)(?=Error #\d+:|\Z)", re.S)
_SECTION = re.compile(r"^\s*(Message|Suggestions|Query Input|Issue Location):\s*$", re.M)
_QUOTED = re.compile(r"'([^']{1,200})'")
_PARAMETER_NAME = re.compile(r"\w+Parameter\(name='([^']*)'[^)]*\)")
_MAX_CHARS = 1_200
FAN_OUT_HINT = ("A dimension is reachable only along entities, from the metric's model towards models where the "
                "entity is primary or unique (never to a model with many rows per entity: that would count twice).")


@contextlib.contextmanager
def invalid_query() -> Iterator[None]:
    """Turn MetricFlow's exceptions raised in the block into `InvalidArgument`."""
    try:
        yield
    except SnowmcpError:
        raise
    except Exception as exc:  # noqa: BLE001 - any MetricFlow failure is this call's error
        from metricflow_semantics.errors.error_classes import MetricFlowException

        if not isinstance(exc, (MetricFlowException, ValueError, KeyError)):
            log.warning("MetricFlow failed on a query: %s: %s", type(exc).__name__, str(exc)[:300])
        raise InvalidArgument(shorten(str(exc)) or type(exc).__name__, hint=_hint(str(exc))) from None


def shorten(report: str) -> str:
    """The gist of a MetricFlow error report: each error's message, its input and the suggestions."""
    blocks = _BLOCK.findall(report)
    if not blocks:
        return _squash(report)[:_MAX_CHARS]
    parts = []
    for block in blocks:
        sections = _sections(block)
        message = _squash(sections.get("Message", ""))
        message = message.split(" Common issues are:")[0].split(" Suggestions:")[0]
        given = _squash(sections.get("Query Input", ""))
        given = _PARAMETER_NAME.sub(r"\1", given)  # DimensionOrEntityParameter(name='x', alias=None) -> x
        suggestions = _QUOTED.findall(sections.get("Suggestions", ""))
        text = f"{given}: {message}" if given else message
        if suggestions:
            text += f" The closest: {', '.join(suggestions[:6])}."
        parts.append(text)
    return " | ".join(parts)[:_MAX_CHARS]


def _sections(block: str) -> dict[str, str]:
    found = list(_SECTION.finditer(block))
    return {m.group(1): block[m.end():(found[i + 1].start() if i + 1 < len(found) else len(block))]
            for i, m in enumerate(found)}


def _hint(report: str) -> str:
    if "group-by-item" in report or "join path" in report:
        return FAN_OUT_HINT + " get_dimensions lists what each metric can be grouped by."
    return "list_metrics and get_dimensions list the valid names."


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
