"""Reading YAML written by users safely: no anchors or aliases, bounded nesting, errors that quote nothing.

Used for quality suites and for MetricFlow semantic-model files (`what` names the
document in messages: "the suite", "semantic model file models/orders.yml").

PyYAML expands aliases when it builds Python objects, so nine lines of nested
aliases ("billion laughs") become gigabytes. The parser's event stream is read
first, before any node is composed: an anchor (`&name`), an alias (`*name`) or
nesting beyond `MAX_DEPTH` is refused there, at its line and column, in time
proportional to the text. Only then is the document composed and constructed
(with YAML 1.2 booleans: only true/false, so `NO` and `yes` stay text).

Error messages name the line, the column and what the parser expected; any
quoted part of the parser's message (a character, a tag of the file) is cut.
"""

from __future__ import annotations

import re
from typing import Any

from snowmcp.common.errors import InvalidArgument

MAX_DEPTH = 32
"""Nesting of mappings and lists; a real quality suite needs about 7, a semantic model about 6."""

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_GRAMMAR = re.compile(r"^['\"](?:<[\w -]+>|[,:\[\]{}?-])['\"]$")  # a token kind or a bracket: no file content
_LOADER: Any = None


def compose(text: str, *, what: str = "the suite", hint: str = "") -> tuple[Any, Any]:
    """The document's root node (for line numbers) and its data; raises `InvalidArgument` on any problem."""
    import yaml

    loader_class = _loader_class()
    check_events(text, what=what, hint=hint)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise _invalid(exc, what, hint) from None
    except RecursionError:
        raise InvalidArgument(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return node, data


def check_events(text: str, *, what: str, hint: str = "") -> int:
    """Refuse anchors, aliases and deep nesting from the event stream (nothing is built yet).

    Returns the number of documents (a `---` stream may hold several)."""
    import yaml

    loader = _loader_class()(text)
    documents = 0
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                raise InvalidArgument(f"{what} uses a YAML alias (*name) at {_at(event.start_mark)}; anchors and "
                                      "aliases are not allowed", hint="Write the repeated value out.")
            if getattr(event, "anchor", None) is not None:
                raise InvalidArgument(f"{what} uses a YAML anchor (&name) at {_at(event.start_mark)}; anchors and "
                                      "aliases are not allowed", hint="Write the repeated value out.")
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
            elif isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InvalidArgument(f"{what} nests deeper than {MAX_DEPTH} levels at {_at(event.start_mark)}")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as exc:
        raise _invalid(exc, what, hint) from None
    finally:
        loader.dispose()
    return documents


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "an unknown place"


def _invalid(exc: Exception, what: str, hint: str) -> InvalidArgument:
    """A YAML error as a message with its place and the parser's problem, minus anything quoted from the file."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at {_at(mark)}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or "unreadable"
    problem = _QUOTED.sub(lambda m: m.group() if _GRAMMAR.match(m.group()) else "…", str(problem))
    problem = (problem.splitlines() or ["unreadable"])[0][:200]
    return InvalidArgument(f"{what} is not valid YAML{where}: {problem}", hint=hint or None)


def _loader_class() -> Any:
    """PyYAML's safe loader (libyaml's when the wheel has it) with YAML 1.2 booleans; built once."""
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class SuiteLoader(base):  # type: ignore[misc, valid-type]
            pass

        SuiteLoader.yaml_implicit_resolvers = {
            key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
            for key, resolvers in base.yaml_implicit_resolvers.copy().items()
        }
        SuiteLoader.add_implicit_resolver("tag:yaml.org,2002:bool",
                                          re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
        _LOADER = SuiteLoader
    return _LOADER


def load_all(text: str, *, what: str, hint: str = "") -> list[Any]:
    """Every document of a `---` stream, after `check_events` passed on the same text."""
    import yaml

    loader = _loader_class()(text)
    try:
        documents = []
        while loader.check_data():
            documents.append(loader.get_data())
        return documents
    except yaml.YAMLError as exc:
        raise _invalid(exc, what, hint) from None
    except RecursionError:
        raise InvalidArgument(f"{what} nests deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
