"""snowmcp: MCP tool servers for a Snowflake (or DuckDB) warehouse, and an agent host.

The installed package holds the repository's folders under one namespace:
`snowmcp.common` (the tool base), `snowmcp.servers.<name>` and `snowmcp.clients`;
`snowmcp.cli` is the `snowmcp` command above them.
"""

from importlib import metadata

try:
    __version__ = metadata.version("snowmcp")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
