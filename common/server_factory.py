"""Building an `MCPServer` the snowmcp way, and serving it on a transport.

`new_server` gives every server the same identity, instructions, logging,
shutdown and (when a token is configured) bearer-token auth. `serve` runs it
over stdio, streamable HTTP or SSE, refusing to listen beyond loopback without
a token and keeping DNS-rebinding protection on. It logs a start-up line
(server, version, transport, warehouse) and, on HTTP, "listening on <url>"
once the socket is bound.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

import anyio

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.extension import Extension
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, Tool

from snowmcp import __version__
from snowmcp.common.catalog import compact_schema
from snowmcp.common.errors import ConfigError
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.tasks_extension import TasksExtension
from snowmcp.common.settings import Settings

Transport = Literal["stdio", "streamable-http", "sse"]
log = logging.getLogger("snowmcp.server")


class StaticTokenVerifier:
    """Accepts exactly one bearer token (compared in constant time)."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="", client_id="snowmcp-client", scopes=[])
        return None


class SnowmcpServer(MCPServer):
    """MCPServer with protocol errors where the SDK gives none: a bad `prompts/get` (an unknown prompt,
    missing arguments) is -32602 Invalid params, not an untyped error logged with a traceback; and a
    compact catalog: `tools/list` publishes each input schema through `common.catalog.compact_schema`
    (the arguments are still validated by the tool's pydantic model)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._published: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # name: (schema, compact)

    async def list_tools(self) -> list[Tool]:
        return [tool.model_copy(update={"input_schema": self._compact(tool)}) for tool in await super().list_tools()]

    def _compact(self, tool: Tool) -> dict[str, Any]:
        """The compact form of a tool's input schema, computed once per schema (a few ms for analytics)."""
        known = self._published.get(tool.name)
        if known is None or known[0] != tool.input_schema:
            known = self._published[tool.name] = (tool.input_schema, compact_schema(tool.input_schema))
        return known[1]

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None, context: Any = None) -> Any:
        if name not in {prompt.name for prompt in await self.list_prompts()}:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {name}")
        try:
            return await super().get_prompt(name, arguments, context)
        except ValueError as exc:  # how the SDK reports missing or invalid arguments
            raise MCPError(INVALID_PARAMS, str(exc)) from None


def new_server(
    runtime: ServerRuntime,
    *,
    instructions: str,
    public_url: str = "http://127.0.0.1:8000",
    extensions: Sequence[Extension] = (),
) -> MCPServer:
    """An empty MCPServer for `runtime` (with `extensions`, such as MCP Apps); the caller registers
    its tools on it."""
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[None]:
        try:
            yield None
        finally:
            await runtime.close()

    auth: dict[str, Any] = {}
    token = settings.bearer_token()
    if token:
        auth = {
            "token_verifier": StaticTokenVerifier(token),
            "auth": AuthSettings(issuer_url=public_url, resource_server_url=public_url),
        }
    return SnowmcpServer(
        f"snowmcp-{runtime.server_name}",
        title=f"snowmcp {runtime.server_name}",
        instructions=instructions + _semantic_pointer(runtime),
        version=__version__,
        log_level=settings.log_level,
        lifespan=lifespan,
        extensions=[TasksExtension(runtime.long_calls), *extensions],
        **auth,
    )


SEMANTIC_POINTER = ("\nCertified metrics are configured: for business figures (revenue, orders, rates...) ask the "
                    "semantic server's query_metrics by metric name rather than writing the SQL.")


def _semantic_pointer(runtime: ServerRuntime) -> str:
    """The line pointing the other servers' users at the semantic server, when it has metrics to serve
    (MetricFlow YAML, a dbt semantic manifest, or the demo's models)."""
    settings = runtime.settings
    if runtime.server_name == "semantic":
        return ""
    dbt = settings.dbt_target_dir
    configured = settings.semantic_models is not None or settings.warehouse == "demo" or dbt is not None and any(
        (folder / "semantic_manifest.json").is_file() for folder in (dbt.expanduser(), dbt.expanduser() / "target"))
    return SEMANTIC_POINTER if configured else ""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, transport: Transport, host: str) -> None:
    """Refuse to listen beyond loopback without a bearer token."""
    if transport != "stdio" and not is_loopback(host) and not settings.bearer_token():
        raise ConfigError(
            f"refusing to listen on {host} without a bearer token: anyone on the network could query the warehouse",
            hint="Set SNOWMCP_AUTH_TOKEN (or SNOWMCP_AUTH_TOKEN_FILE), or bind to 127.0.0.1.",
        )


_LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")


def default_allowed_hosts(host: str) -> list[str]:
    """`Host` values a server bound to `host` accepts when SNOWMCP_ALLOWED_HOSTS is unset: loopback
    and the bound address; a wildcard bind (0.0.0.0, ::) is reached by this machine's names too."""
    if host in ("0.0.0.0", "::", ""):
        names = {socket.gethostname(), socket.getfqdn()}
        bound = [f"{name}:*" for name in sorted(n for n in names if n)]
    else:
        bound = [f"[{host}]:*" if ":" in host else f"{host}:*"]
    return [*_LOOPBACK_HOSTS, *(h for h in bound if h not in _LOOPBACK_HOSTS)]


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: the SDK's loopback defaults, or the configured (default) hosts."""
    if is_loopback(host):
        return None  # the SDK turns it on for loopback by itself
    hosts = list(settings.allowed_hosts) or default_allowed_hosts(host)
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def warehouse_identity(settings: Settings) -> str:
    """The warehouse as the start-up line names it (a URL, never a credential)."""
    from snowmcp.common.warehouse.selection import parse_warehouse_url

    spec = parse_warehouse_url(settings.warehouse)
    if spec.kind == "demo":
        from snowmcp.common.demo_warehouse import demo_path

        return f"demo ({demo_path(settings.state_path)})"
    return settings.warehouse


def serve(
    server: MCPServer,
    settings: Settings,
    *,
    transport: Transport = "stdio",
    host: str = "127.0.0.1",
    port: int = 8000,
    stateless: bool = False,
) -> None:
    check_bind(settings, transport, host)
    log.info("snowmcp %s %s on %s%s, warehouse %s", server.name.removeprefix("snowmcp-"), __version__,
             transport, " (stateless)" if stateless and transport == "streamable-http" else "",
             warehouse_identity(settings))
    if transport == "stdio":
        server.run()
        return
    security = transport_security(settings, host)
    if transport == "streamable-http":
        path = "/mcp"
        app = server.streamable_http_app(streamable_http_path=path, stateless_http=stateless,
                                         json_response=stateless, transport_security=security, host=host)
    else:
        path = "/sse"
        app = server.sse_app(sse_path=path, transport_security=security, host=host)
    anyio.run(_serve_http, app, host, port, path)


async def _serve_http(app: Any, host: str, port: int, path: str) -> None:
    """Uvicorn with our logging (its own log config would print access lines to stdout), and a
    "listening on" line once the socket is bound, with the port it got (`--port 0` picks one)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                for server in self.servers:
                    for sock in server.sockets:
                        address, bound_port = sock.getsockname()[:2]
                        shown = f"[{address}]" if ":" in address else address
                        log.info("listening on http://%s:%d%s", shown, bound_port, path)

    await Server(uvicorn.Config(app, host=host, port=port, log_config=None, log_level="warning")).serve()
