"""Building an `MCPServer` the snowmcp way, and serving it on a transport.

`new_server` gives every server the same identity, instructions, logging,
shutdown and (when a token is configured) bearer-token auth. `serve` runs it
over stdio, streamable HTTP or SSE, refusing to listen beyond loopback without
a token and keeping DNS-rebinding protection on.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from snowmcp.common.errors import ConfigError
from snowmcp.common.runtime import ServerRuntime
from snowmcp.common.settings import Settings

Transport = Literal["stdio", "streamable-http", "sse"]
VERSION = "0.1.0"
log = logging.getLogger("snowmcp.server")


class StaticTokenVerifier:
    """Accepts exactly one bearer token (compared in constant time)."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        if hmac.compare_digest(token.encode(), self._token):
            return AccessToken(token="", client_id="snowmcp-client", scopes=[])
        return None


def configure_logging(level: str) -> None:
    """Logs go to stderr only: stdout carries the MCP protocol on stdio."""
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("snowmcp").setLevel(level)


class SnowmcpServer(MCPServer):
    """MCPServer with protocol errors where the SDK gives none: a bad `prompts/get` (an unknown prompt,
    missing arguments) is -32602 Invalid params, not an untyped error logged with a traceback."""

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
) -> MCPServer:
    """An empty MCPServer for `runtime`; the caller registers its tools on it."""
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
        instructions=instructions,
        version=VERSION,
        log_level=settings.log_level,
        lifespan=lifespan,
        **auth,
    )


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


def transport_security(settings: Settings, host: str) -> TransportSecuritySettings | None:
    """DNS-rebinding protection: the SDK's loopback defaults, or the configured hosts."""
    if is_loopback(host):
        return None  # the SDK turns it on for loopback by itself
    hosts = list(settings.allowed_hosts) or [f"{host}:*"]
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


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
    if transport == "stdio":
        server.run()
    elif transport == "streamable-http":
        server.run(
            "streamable-http", host=host, port=port, stateless_http=stateless, json_response=stateless,
            transport_security=transport_security(settings, host),
        )
    else:
        server.run("sse", host=host, port=port, transport_security=transport_security(settings, host))
