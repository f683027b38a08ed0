"""A small MCP server for the host's tests, run in memory or as a stdio subprocess (`python toy_server.py`).

Tools: echo, pid (which process answers), sleep (slow on purpose), crash (the process exits mid-call),
and fail (an isError result)."""

from __future__ import annotations

import os
import sys

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError


def build(name: str = "toy") -> MCPServer:
    server = MCPServer(name)

    @server.tool()
    def echo(text: str) -> str:
        """Repeat the text."""
        return text

    @server.tool()
    def pid() -> int:
        """The id of the process that answers."""
        return os.getpid()

    @server.tool()
    async def sleep(seconds: float) -> str:
        """Wait, then answer."""
        await anyio.sleep(seconds)
        return "slept"

    @server.tool()
    def crash() -> str:
        """Exit the process without answering."""
        os._exit(3)

    @server.tool()
    def fail(reason: str) -> str:
        """Fail with the given reason."""
        raise ToolError(reason)

    return server


if __name__ == "__main__":
    build(sys.argv[1] if len(sys.argv) > 1 else "toy").run()
