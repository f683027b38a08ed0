"""`snowmcp host ...` and `snowmcp config claude`: the agent host from the command line.

    snowmcp host servers                       status of each server (with a ping)
    snowmcp host tools [--server S]            the tool catalog
    snowmcp host call query__run_query '{"sql": "SELECT 1"}'
                                               the structured result; exit 1 on a tool error
    snowmcp host chat [--provider P] [--prompt TEXT]
                                               a conversation with an LLM that uses the tools

`call` and `chat` save what calls return besides text (images; a tool's MCP Apps view with its
result, as a page a browser opens) in `--out` (default snowmcp-output/) and print their paths;
`chat` writes its transcript there too. On a terminal, long calls show a progress bar (stderr).
    snowmcp config claude [--write]            Claude Desktop's mcpServers entries

`--config FILE` uses a Claude Desktop style config (any MCP servers); without
it the host runs the four snowmcp servers on `--warehouse` (or SNOWMCP_WAREHOUSE).
Exit status: 0 ok, 1 a tool or provider error, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

from snowmcp.common.errors import ConfigError

EXIT_OK, EXIT_TOOL_ERROR, EXIT_USAGE = 0, 1, 2
DEFAULT_OUT = "snowmcp-output"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snowmcp", description="The snowmcp agent host.")
    commands = parser.add_subparsers(dest="command", required=True)
    host = commands.add_parser("host", help="connect to MCP servers, list and call their tools, chat with an LLM")
    host.add_argument("--config", help="a Claude Desktop style config file (default: the four snowmcp servers)")
    host.add_argument("--warehouse", help="warehouse for the default servers (default: SNOWMCP_WAREHOUSE or demo)")
    host.add_argument("--connect-timeout", type=float, default=60.0, help="seconds for a server to start")
    actions = host.add_subparsers(dest="action", required=True)
    actions.add_parser("servers", help="status of each server")
    tools = actions.add_parser("tools", help="the tool catalog")
    tools.add_argument("--server", help="only this server's tools")
    tools.add_argument("--json", action="store_true", help="name, description and input schema as JSON")
    call = actions.add_parser("call", help="call one tool and print its result")
    call.add_argument("tool", help="server__tool")
    call.add_argument("arguments", nargs="?", default="{}", help="the arguments as a JSON object")
    call.add_argument("--timeout", type=float, help="seconds before the call is cancelled")
    call.add_argument("--out", default=DEFAULT_OUT, help=f"folder for images and app pages (default {DEFAULT_OUT})")
    chat = actions.add_parser("chat", help="talk to an LLM that can use the tools")
    chat.add_argument("--provider", default=os.environ.get("SNOWMCP_PROVIDER", "anthropic"),
                      help="anthropic, openai (any OpenAI-compatible endpoint), gemini or scripted")
    chat.add_argument("--model", help="the model (default: the provider's)")
    chat.add_argument("--base-url", help="the API endpoint (e.g. http://localhost:11434/v1 for Ollama)")
    chat.add_argument("--script", help="the JSON script of the scripted provider")
    chat.add_argument("--prompt", help="one message, then exit (default: read messages from stdin)")
    chat.add_argument("--max-steps", type=int, default=12, help="model requests per message")
    chat.add_argument("--out", default=DEFAULT_OUT,
                      help=f"folder for the transcript, images and app pages (default {DEFAULT_OUT})")
    config = commands.add_parser("config", help="configure MCP clients")
    targets = config.add_subparsers(dest="target", required=True)
    claude = targets.add_parser("claude", help="Claude Desktop's mcpServers entries for the five servers")
    claude.add_argument("--write", action="store_true", help="merge them into Claude Desktop's config (with a backup)")
    claude.add_argument("--path", help="the config file (default: Claude Desktop's for this platform)")
    claude.add_argument("--warehouse", help="SNOWMCP_WAREHOUSE for the servers (default: none, i.e. demo)")
    claude.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="another variable for the servers (repeatable), e.g. SNOWMCP_ETL_NOW=latest")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    try:
        if args.command == "config":
            return _config_claude(args)
        return anyio.run(_host, args)
    except ConfigError as exc:
        print(f"snowmcp: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _config_claude(args: argparse.Namespace) -> int:
    from pathlib import Path

    from snowmcp.clients.host import claude_desktop as claude

    warnings = []
    env = claude.parse_env(args.env)
    warehouse = args.warehouse
    given = env.pop("SNOWMCP_WAREHOUSE", None)  # the same setting: checked and made absolute alike
    if given is not None and warehouse is not None and given != warehouse:
        raise ConfigError("--warehouse and --env SNOWMCP_WAREHOUSE= disagree: give one of them")
    warehouse = warehouse or given
    if warehouse:
        warehouse, warning = claude.warehouse_for_config(warehouse)
        warnings.append(warning)
    command, warning = claude.stable_command()
    warnings.append(warning)
    for line in filter(None, warnings):
        print(f"snowmcp: warning: {line}", file=sys.stderr)
    entries = claude.server_entries(warehouse, env, command=command)
    if not args.write:
        print(json.dumps({"mcpServers": claude.masked(entries)}, indent=2))
        return EXIT_OK
    path = Path(args.path).expanduser() if args.path else claude.config_path()
    written = claude.merge_into(path, entries)
    print(f"wrote {len(entries)} servers into {path}"
          + (f" (previous version: {written.backup})" if written.backup else ""))
    for name, change in written.changes.items():
        print(f"  {name}: {change.describe()}")
    print("Restart Claude Desktop to load them.")
    return EXIT_OK


async def _host(args: argparse.Namespace) -> int:
    from snowmcp.clients.host.config import load_config
    from snowmcp.clients.host.host import Host

    arguments: dict[str, Any] = {}
    if args.action == "call":
        try:
            arguments = json.loads(args.arguments)
        except json.JSONDecodeError as exc:
            print(f"snowmcp: the arguments are not valid JSON ({exc.msg} at column {exc.colno})", file=sys.stderr)
            return EXIT_USAGE
        if not isinstance(arguments, dict):
            print("snowmcp: the arguments must be a JSON object", file=sys.stderr)
            return EXIT_USAGE
    provider = _provider(args) if args.action == "chat" else None
    specs = load_config(args.config, warehouse=args.warehouse)
    async with Host(specs, connect_timeout_s=args.connect_timeout) as host:
        down = [c.spec.name for c in host.connections.values() if c.state != "ready"]
        for name in down:
            connection = host.connections[name]
            print(f"snowmcp: server {name} did not start: {connection.error}", file=sys.stderr)
        if args.action == "servers":
            return _servers(await host.statuses(ping=True))
        if args.action == "tools":
            return _tools(host, args.server, args.json)
        if args.action == "call":
            return await _call(host, args.tool, arguments, args.timeout, Path(args.out))
        assert provider is not None
        return await _chat(host, provider, args)


def _servers(statuses: list[Any]) -> int:
    for status in statuses:
        latency = f"{status.ping_ms:.1f} ms" if status.ping_ms is not None else "-"
        line = f"{status.name:<14} {status.state:<8} {status.tools:>3} tools  ping {latency:<9} {status.where}"
        print(line + (f"\n{'':<14} error: {status.error}" if status.error else ""))
    return EXIT_OK if all(s.state == "ready" for s in statuses) else EXIT_TOOL_ERROR


def _tools(host: Any, server: str | None, as_json: bool) -> int:
    if server is not None and server not in host.connections:
        print(f"snowmcp: no server {server!r}; servers: {', '.join(host.connections)}", file=sys.stderr)
        return EXIT_USAGE
    tools = host.catalog(server)
    if as_json:
        print(json.dumps([{"name": t.name, "description": t.description, "input_schema": t.input_schema}
                          for t in tools], indent=2))
    else:
        for tool in tools:
            summary = (tool.description.strip().splitlines() or [""])[0]
            print(f"{tool.name:<34} {'read-only ' if tool.read_only else '          '}{summary[:90]}")
    for collision in host.collisions:
        print(f"note: {collision}", file=sys.stderr)
    return EXIT_OK


async def _call(host: Any, tool: str, arguments: dict[str, Any], timeout: float | None, out: Path) -> int:
    from snowmcp.clients.host.artifacts import Artifacts
    from snowmcp.clients.host.progress_bar import ProgressBar

    bar = ProgressBar(sys.stderr, tool)
    try:
        outcome = await host.call(tool, arguments, timeout_s=timeout, progress=bar)
    finally:
        bar.finish()
    for path in await Artifacts(out).save(host, tool, arguments, outcome):
        print(f"saved {path}", file=sys.stderr)  # stdout stays the result alone
    if outcome.is_error:
        print(outcome.text, file=sys.stderr)
        return EXIT_TOOL_ERROR
    if outcome.structured is not None:
        print(json.dumps(outcome.structured, indent=2, default=str))
    else:
        print(outcome.text)
    return EXIT_OK


def _provider(args: argparse.Namespace) -> Any:
    from snowmcp.clients.host.providers.base import ProviderError
    from snowmcp.clients.host.providers.select import make_provider

    try:
        return make_provider(args.provider, model=args.model, base_url=args.base_url, api_key=None, script=args.script)
    except ProviderError as exc:
        raise ConfigError(str(exc)) from None


async def _chat(host: Any, provider: Any, args: argparse.Namespace) -> int:
    from snowmcp.clients.host.agent import Conversation, run_turn
    from snowmcp.clients.host.artifacts import Artifacts
    from snowmcp.clients.host.progress_bar import ProgressBar
    from snowmcp.clients.host.providers.base import ProviderError
    from snowmcp.clients.host.transcript import print_event

    conversation = Conversation()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    transcript = (out / "transcript.txt").open("a", encoding="utf-8")
    artifacts = Artifacts(out)
    print(f"snowmcp: transcript, images and app pages go to {out}/", file=sys.stderr)

    def show(event: Any) -> None:
        print_event(event, transcript)
        if not (event.kind == "user" and args.prompt is None):  # typed lines are on the screen already
            print_event(event, sys.stdout)

    def watch(tool: str) -> tuple[Any, Any]:
        bar = ProgressBar(sys.stderr, tool)
        return bar, bar.finish

    async def keep(tool: str, arguments: dict[str, Any], outcome: Any) -> list[Path]:
        return await artifacts.save(host, tool, arguments, outcome)

    async def turn(prompt: str) -> int:
        try:
            await run_turn(host, provider, prompt, conversation=conversation, max_steps=args.max_steps,
                           on_event=show, watch=watch, keep=keep)
        except ProviderError as exc:
            print(f"snowmcp: the model could not answer: {exc}", file=sys.stderr)
            return EXIT_TOOL_ERROR
        return EXIT_OK

    try:
        if args.prompt is not None:
            return await turn(args.prompt)
        status = EXIT_OK
        while True:
            print("you> ", end="", flush=True)
            line = await anyio.to_thread.run_sync(sys.stdin.readline)
            if not line or line.strip() in ("exit", "quit"):
                return status
            if line.strip():
                status = await turn(line.strip())
    finally:
        transcript.close()
        close = getattr(provider, "aclose", None)
        if close is not None:
            await close()  # the SDK's connection pool
