"""How every snowmcp tool is declared and wrapped.

A server collects its tools in a `Toolset`; `Toolset.register` adds them to
the `MCPServer` with the same wrapper, so policy is enforced for all tools
alike:

- annotations default to the most cautious values (may write, destructive,
  not idempotent, open world); a read-only tool says so explicitly;
- each call runs inside a telemetry span (`common.telemetry.tool_span`), with its
  MCP session in `common.concurrency.current_session` (per-session limits) and its
  progress reporter in `common.progress`;
- a `SnowmcpError` becomes an MCP tool error (`isError: true`) whose text is
  the message and hint, for the model to act on; anything unexpected is logged
  with its traceback to stderr and reported without internals;
- a pydantic result is sent once as structured content, with the same JSON
  (compact) as the text block for clients that read only text;
- a tool declared `long=True` runs through `common.long_calls`: after
  `SNOWMCP_CALL_WAIT_S` it answers `status: "running"` with a handle, and its
  results say `status: "done"` (its output schema admits both);
- a tool declared with a `Chart` (`common.charts`) links its MCP Apps page in
  `_meta.ui.resourceUri` and takes `chart: bool = False`; with `chart=true` a PNG
  of the result is added as an image block.

Tools are registered in the order they are declared (a stable catalog order); `SNOWMCP_TOOLS`
(`Settings.tools`) registers only the tools it names, and a name the server does not have is a
start-up error that lists the server's tools.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
import pydantic_core
from pydantic import BaseModel

from snowmcp.common import progress
from snowmcp.common.catalog import tool_description
from snowmcp.common.charts import Chart, chart_image
from snowmcp.common.concurrency import current_session
from snowmcp.common.errors import ConfigError, NotFound, SnowmcpError
from snowmcp.common.long_calls import LongCalls, admit_running
from snowmcp.common.telemetry import tool_span

log = logging.getLogger("snowmcp.tools")

ToolFn = Callable[..., Awaitable[BaseModel]]


@dataclass(frozen=True)
class _ToolSpec:
    fn: ToolFn
    annotations: ToolAnnotations
    long: bool = False
    chart: Chart | None = None


class Toolset:
    """The tools of one server, declared with `@toolset.tool(...)`; `long_calls` serves the long ones."""

    def __init__(self, server_name: str, long_calls: LongCalls | None = None) -> None:
        self.server_name = server_name
        self.long_calls = long_calls
        self._specs: list[_ToolSpec] = []

    def tool(
        self,
        *,
        title: str,
        read_only: bool = False,
        destructive: bool = True,
        idempotent: bool = False,
        open_world: bool = True,
        long: bool = False,
        chart: Chart | None = None,
    ) -> Callable[[ToolFn], ToolFn]:
        """Declare a tool; the function's docstring is what the model reads. `long`: its work may
        outlive a host's call (statements of unbounded cost), see `common.long_calls`. With `chart`,
        its results are drawn: in the host by the app page, as a PNG when the caller asks."""

        def decorator(fn: ToolFn) -> ToolFn:
            annotations = ToolAnnotations(
                title=title,
                read_only_hint=read_only,
                destructive_hint=False if read_only else destructive,
                idempotent_hint=idempotent,
                open_world_hint=open_world,
            )
            self._specs.append(_ToolSpec(fn, annotations, long and self.long_calls is not None, chart))
            return fn

        return decorator

    @property
    def names(self) -> list[str]:
        """The tools' names, in declaration order."""
        return [spec.fn.__name__ for spec in self._specs]

    def register(self, server: MCPServer, enabled: Collection[str] = ()) -> None:
        """Add the tools to `server` in declaration order: all of them, or only those `enabled`
        names (`SNOWMCP_TOOLS`); a name this server does not have is a ConfigError."""
        unknown = sorted(set(enabled) - set(self.names))
        if unknown:
            raise ConfigError(
                f"SNOWMCP_TOOLS names {', '.join(unknown)}, which the {self.server_name} server does not have",
                hint=f"The {self.server_name} server's tools: {', '.join(self.names)}.")
        for spec in self._specs:
            if enabled and spec.fn.__name__ not in enabled:
                continue
            server.add_tool(
                self._wrap(spec),
                name=spec.fn.__name__,
                title=spec.annotations.title,
                description=tool_description(spec.fn),
                annotations=spec.annotations,
                structured_output=True,
                meta={"ui": {"resourceUri": spec.chart.app_uri}} if spec.chart else None,
            )
            if spec.long:
                admit_running(server, spec.fn.__name__)

    def _wrap(self, spec: _ToolSpec) -> Callable[..., Awaitable[CallToolResult]]:
        fn, chart = spec.fn, spec.chart
        name = fn.__name__
        server_name = self.server_name
        long_calls = self.long_calls if spec.long else None

        own_context = find_context_parameter(fn)

        @functools.wraps(fn)
        async def call(*args: Any, **kwargs: Any) -> CallToolResult:
            context = kwargs.get(own_context) if own_context else kwargs.pop(_CONTEXT, None)
            wants_chart = bool(kwargs.pop(CHART_ARGUMENT, False)) if chart else False
            owner = session_of(context)
            session_token = current_session.set(owner)
            detached = False  # a long call that answered `running`: its progress has nobody to go to
            progress_token = progress.bind(context, active=lambda: not detached)

            def detach() -> None:
                nonlocal detached
                detached = True
                stats.outcome = "running"

            with tool_span(server_name, name) as stats:
                try:
                    if long_calls is None:
                        result = await fn(*args, **kwargs)
                    else:
                        result = await long_calls.start(name, lambda: fn(*args, **kwargs), owner, on_detach=detach)
                except SnowmcpError as exc:
                    stats.failed("refused", exc)
                    raise ToolError(str(exc)) from None
                except ToolError as exc:
                    stats.failed("refused", exc)
                    raise
                except Exception as exc:
                    stats.failed("crashed", exc)
                    log.exception("tool %s crashed", name)
                    raise ToolError(
                        f"internal error in {name}; the server's log (stderr) has the details"
                    ) from None
                finally:
                    current_session.reset(session_token)
                    progress.unbind(progress_token)
                image = await chart_image(chart, result, name) if wants_chart and chart else None
            if isinstance(result, CallToolResult):  # a tool that built its own (get_query_result)
                return result
            return structured_result(result, status="done" if long_calls is not None else None,
                                     extra=[image] if image else ())

        extra = [] if own_context else [_context_parameter()]
        if chart:
            extra.append(_chart_parameter())
        if extra:  # ask the SDK for the Context too (it carries the session), and take `chart`
            with_parameters(call, fn, extra)
        return call


_CONTEXT = "snowmcp_context"  # no leading underscore: the SDK refuses those


CHART_ARGUMENT = "chart"
ChartFlag = bool  # "chart: true adds a PNG": the tool descriptions and instructions say so


def _context_parameter() -> inspect.Parameter:
    """A keyword-only Context parameter the SDK fills (and leaves out of the schema)."""
    return inspect.Parameter(_CONTEXT, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Context)


def _chart_parameter() -> inspect.Parameter:
    return inspect.Parameter(CHART_ARGUMENT, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=ChartFlag)


def with_context(wrapper: Callable[..., Any], fn: Callable[..., Any]) -> None:
    """Give `wrapper` the signature of `fn` plus a Context parameter the SDK fills."""
    with_parameters(wrapper, fn, [_context_parameter()])


def with_parameters(wrapper: Callable[..., Any], fn: Callable[..., Any], extra: list[inspect.Parameter]) -> None:
    """Give `wrapper` the signature of `fn` plus the keyword-only parameters `extra`."""
    hints = typing.get_type_hints(fn, include_extras=True)  # resolved: tool modules use string annotations
    signature = inspect.signature(fn)
    if any(p.name in signature.parameters for p in extra):
        raise TypeError(f"{fn.__name__} declares a parameter the tool wrapper adds: {[p.name for p in extra]}")
    parameters = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()]
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*parameters, *extra], return_annotation=hints.get("return", signature.return_annotation))
    wrapper.__annotations__ = {**hints, **{p.name: p.annotation for p in extra}}


def session_of(context: Any) -> str | None:
    """Who a tool call belongs to, for per-session limits: "session:<Mcp-Session-Id>" on stateful
    HTTP, else "caller:<client id>" when the request carried a verified token, else None (stdio
    serves one client; stateless anonymous HTTP has no session to limit).

    SDK 2.3 builds a `ServerSession` per request around a `Connection` holding the session id;
    there is no public accessor yet (tests/reliability/test_abuse_latency.py checks this path)."""
    try:
        connection = getattr(context.session, "_connection", None) if context is not None else None
    except Exception:  # a Context outside a request
        connection = None
    session_id = getattr(connection, "session_id", None)
    if session_id:
        return f"session:{session_id}"
    from mcp.server.auth.middleware.auth_context import get_access_token

    token = get_access_token()
    return f"caller:{token.client_id}" if token is not None and token.client_id else None


def structured_result(result: BaseModel, status: str | None = None, *,
                      extra: Sequence[ContentBlock] = ()) -> CallToolResult:
    """One payload: structured content, and the same JSON as the text block (then `extra` blocks,
    such as a chart the caller asked for). A long tool's result says its `status` first: "done",
    unless it has a status of its own (quality's pass/fail); a `RunningCall` says "running"."""
    data = result.model_dump(mode="json", by_alias=True)
    if status is not None and "status" not in data:  # a result with a status of its own keeps it
        data = {"status": status, **data}
    text = pydantic_core.to_json(data).decode()
    return CallToolResult(content=[TextContent(type="text", text=text), *extra], structured_content=data)


@contextmanager
def resource_errors() -> Iterator[None]:
    """Report our errors from a resource handler as resource errors the client can read."""
    try:
        yield
    except NotFound as exc:
        raise ResourceNotFoundError(str(exc)) from None
    except SnowmcpError as exc:
        raise ResourceError(str(exc)) from None
