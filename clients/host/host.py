"""The host: many MCP servers behind one tool catalog.

    async with Host(specs) as host:           # every server starts concurrently
        host.catalog()                         # [CatalogTool("query__run_query", ...), ...]
        await host.call("query__run_query", {"sql": "SELECT 1"})

Tools are named `server__tool`, so two servers may both have `list_tables`.
Names are kept to what every LLM API accepts (`[A-Za-z0-9_-]`, at most 64
characters); a name that is not is rewritten, and if two tools still end up
with the same name the later one gets a numeric suffix and the catalog lists
the collision. A server that fails to start is reported (`statuses()`) and the
others work; a call to a server that is down restarts it (with backoff).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import anyio
from anyio.abc import TaskGroup

from snowmcp.clients.host.config import ServerSpec
from snowmcp.clients.host.connection import CallOutcome, ProgressFn, ServerConnection

SEPARATOR = "__"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
MAX_NAME = 64


@dataclass(frozen=True)
class CatalogTool:
    name: str  # what a model calls: server__tool
    server: str
    tool: str  # the server's own name for it
    description: str
    input_schema: dict[str, Any]
    read_only: bool | None = None
    app_uri: str | None = None  # the MCP Apps view of its results (`_meta.ui.resourceUri`)
    definition: dict[str, Any] | None = None  # the server's Tool as JSON (what an app view is told)


@dataclass
class ServerStatus:
    name: str
    state: str
    where: str
    tools: int
    starts: int
    error: str | None = None
    ping_ms: float | None = None


@dataclass
class Catalog:
    tools: list[CatalogTool] = field(default_factory=list)
    collisions: list[str] = field(default_factory=list)


class Host:
    def __init__(self, specs: list[ServerSpec], *, connect_timeout_s: float = 60.0,
                 targets: dict[str, Any] | None = None) -> None:
        """`targets` maps server names to in-memory servers (tests); others are reached by their spec."""
        names = [s.name for s in specs]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"server names must be unique: {', '.join(sorted(duplicates))}")
        self.connections = {s.name: ServerConnection(s, connect_timeout_s=connect_timeout_s,
                                                     target=(targets or {}).get(s.name)) for s in specs}
        self._task_group: TaskGroup | None = None
        self._catalog: Catalog | None = None
        self._apps: dict[tuple[str, int, str], str | None] = {}

    async def __aenter__(self) -> Host:
        self._task_group = await anyio.create_task_group().__aenter__()
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._task_group is not None
        with anyio.CancelScope(shield=True):
            async with anyio.create_task_group() as stopping:
                for connection in self.connections.values():
                    stopping.start_soon(connection.stop)
        self._task_group.cancel_scope.cancel()
        return await self._task_group.__aexit__(*exc)

    async def start(self) -> None:
        """Start every server at once; returns when each is ready or has failed."""
        assert self._task_group is not None
        task_group = self._task_group
        async with anyio.create_task_group() as starting:
            for connection in self.connections.values():
                starting.start_soon(connection.start, task_group)
        self._catalog = None

    # -- the catalog ------------------------------------------------------------

    def catalog(self, server: str | None = None) -> list[CatalogTool]:
        if self._catalog is None:
            self._catalog = _build_catalog(self.connections.values())
        return [t for t in self._catalog.tools if server is None or t.server == server]

    @property
    def collisions(self) -> list[str]:
        self.catalog()
        assert self._catalog is not None
        return self._catalog.collisions

    def resolve(self, name: str) -> CatalogTool | None:
        return next((t for t in self.catalog() if t.name == name), None)

    # -- calls ------------------------------------------------------------------

    async def call(self, name: str, arguments: dict[str, Any] | None = None, *, timeout_s: float | None = None,
                   progress: ProgressFn | None = None) -> CallOutcome:
        """Route a namespaced call; every failure comes back as an error outcome naming server and tool."""
        tool = self.resolve(name)
        if tool is None:
            server, _, bare = name.partition(SEPARATOR)
            if server in self.connections and self.connections[server].state != "ready":
                tool = CatalogTool(name, server, bare, "", {})  # a server that is down: try to bring it back
            else:
                known = ", ".join(t.name for t in self.catalog()[:40])
                return CallOutcome(server or "?", bare or name, True, f"no tool {name!r}; tools: {known}", None, 0.0)
        connection = self.connections[tool.server]
        assert self._task_group is not None
        problem = await connection.ensure_ready(self._task_group)
        if problem is not None:
            return CallOutcome(tool.server, tool.tool, True, problem, None, 0.0)
        if connection.starts > 1:
            self._catalog = None  # a restarted server may list different tools
        return await connection.call(tool.tool, arguments or {}, timeout_s=timeout_s or connection.spec.timeout_s,
                                     progress=progress)

    async def read_app(self, tool: CatalogTool) -> str | None:
        """The HTML of `tool`'s MCP Apps view, read once per server start."""
        if tool.app_uri is None or tool.server not in self.connections:
            return None
        connection = self.connections[tool.server]
        key = (tool.server, connection.starts, tool.app_uri)
        if key not in self._apps:
            self._apps[key] = await connection.read_text_resource(tool.app_uri)
        return self._apps[key]

    async def statuses(self, *, ping: bool = False) -> list[ServerStatus]:
        """Each server's state (with a ping round trip when asked; a silent server is marked down)."""
        statuses = []
        for name, connection in self.connections.items():
            latency = None
            if ping and connection.state == "ready" and await connection.check_alive():
                latency = await connection.ping()
            statuses.append(ServerStatus(name, connection.state, connection.spec.describe(), len(connection.tools),
                                         connection.starts, connection.error, latency))
        return statuses


def _build_catalog(connections: Any) -> Catalog:
    catalog = Catalog()
    taken: set[str] = set()
    for connection in connections:
        if connection.state != "ready":
            continue
        for tool in connection.tools:
            name = safe_name(f"{connection.spec.name}{SEPARATOR}{tool.name}")
            if name in taken:
                original, number = name, 2
                while f"{original[:MAX_NAME - 3]}_{number}" in taken:
                    number += 1
                name = f"{original[:MAX_NAME - 3]}_{number}"
                catalog.collisions.append(f"{connection.spec.name}{SEPARATOR}{tool.name} is listed as {name}: "
                                          f"{original} was taken")
            taken.add(name)
            annotations = tool.annotations
            catalog.tools.append(CatalogTool(
                name=name, server=connection.spec.name, tool=tool.name, description=tool.description or "",
                input_schema=dict(tool.input_schema or {"type": "object"}),
                read_only=annotations.read_only_hint if annotations is not None else None,
                app_uri=app_uri(tool.meta), definition=tool.model_dump(mode="json", by_alias=True, exclude_none=True)))
    return catalog


def app_uri(meta: dict[str, Any] | None) -> str | None:
    """The `ui://` view a tool links in its `_meta` (`ui.resourceUri`, or the older flat key)."""
    meta = meta or {}
    ui = meta.get("ui")
    uri = ui.get("resourceUri") if isinstance(ui, dict) else meta.get("ui/resourceUri")
    return uri if isinstance(uri, str) and uri.startswith("ui://") else None


def safe_name(name: str) -> str:
    """A tool name every LLM API accepts: [A-Za-z0-9_-], at most 64 characters (a hash keeps long ones apart)."""
    cleaned = _SAFE.sub("_", name)
    if len(cleaned) <= MAX_NAME:
        return cleaned
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{cleaned[:MAX_NAME - 9]}_{digest}"
