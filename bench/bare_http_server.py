"""The yardstick over streamable HTTP: a bare MCPServer with one echo tool, served as snowmcp serves.

Same transport options as `snowmcp serve query --transport streamable-http [--stateless]`
(`stateless_http` and `json_response` follow `--stateless`) and the same log level
(snowmcp's default, WARNING), so the only difference left is what the tool does.

    python bench/bare_http_server.py --port P [--stateless]
"""

import argparse

from mcp.server.mcpserver import MCPServer

server = MCPServer("bare", log_level="WARNING")


@server.tool()
def echo(text: str) -> str:
    """Return the text."""
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stateless", action="store_true")
    args = parser.parse_args()
    server.run("streamable-http", host="127.0.0.1", port=args.port,
               stateless_http=args.stateless, json_response=args.stateless)
