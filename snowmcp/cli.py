"""The `snowmcp` command: serve a server, build the demo warehouse, run the tour, the agent host.

It sits above the parts it dispatches to (`snowmcp.common`, `snowmcp.servers.<name>`,
`snowmcp.clients.host`), which never import it. Each part is imported only when its
command runs, so `snowmcp serve query` pays for neither the host nor the other servers.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from snowmcp import __version__
from snowmcp.common.errors import SnowmcpError
from snowmcp.servers import SERVERS

if TYPE_CHECKING:
    from snowmcp.common.settings import Settings



def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snowmcp", description="MCP servers for a Snowflake (or DuckDB) warehouse.")
    parser.add_argument("--version", action="version", version=f"snowmcp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run one MCP server")
    serve.add_argument("server", choices=SERVERS)
    serve.add_argument("--transport", choices=("stdio", "streamable-http", "sse"), default="stdio")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (HTTP transports; default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (HTTP transports; default 8000)")
    serve.add_argument("--warehouse", help="overrides SNOWMCP_WAREHOUSE")
    serve.add_argument("--stateless", action="store_true", help="streamable HTTP without sessions (JSON responses)")

    demo = commands.add_parser("demo", help="the embedded demo warehouse")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    init = demo_commands.add_parser("init", help="build the demo warehouse (DuckDB file)")
    init.add_argument("--path", type=Path, help="file to build (default: $SNOWMCP_STATE_DIR/demo/ANALYTICS.duckdb)")
    init.add_argument("--force", action="store_true", help="rebuild even if it exists")
    tour = demo_commands.add_parser("tour", help="the agent host with all five servers, in a scripted session")
    tour.add_argument("--warehouse", help="overrides SNOWMCP_WAREHOUSE")
    doctor = commands.add_parser("doctor", help="which warehouse and connection a server would use; try a login")
    doctor.add_argument("--warehouse", help="overrides SNOWMCP_WAREHOUSE (demo, duckdb:///path, snowflake://[name])")
    commands.add_parser("host", help="the agent host: servers, tools, call, chat (snowmcp host --help)", add_help=False)
    commands.add_parser("config", help="MCP client configuration: claude (snowmcp config --help)", add_help=False)
    return parser


def _settings(warehouse: str | None = None) -> Settings:
    from snowmcp.common.settings import Settings

    return Settings(warehouse=warehouse) if warehouse else Settings()


def _serve(args: argparse.Namespace) -> None:
    from snowmcp.common.logs import configure_logging
    from snowmcp.common.server_factory import serve

    from snowmcp.common.warehouse.selection import parse_warehouse_url

    settings = _settings(args.warehouse)
    parse_warehouse_url(settings.warehouse)  # a typo fails now; connecting waits for the first call
    configure_logging(settings.log_level, settings.log_format)
    from snowmcp.common.telemetry import configure

    configure(settings.otel)
    try:
        module = importlib.import_module(f"snowmcp.servers.{args.server}.server")
    except ModuleNotFoundError:
        raise SnowmcpError(f"the {args.server} server is not part of this build yet") from None
    server = module.build_server(settings)
    serve(server, settings, transport=args.transport, host=args.host, port=args.port, stateless=args.stateless)


def _demo(args: argparse.Namespace) -> None:
    if args.demo_command == "init":
        import logging
        import time

        from snowmcp.common.demo_warehouse import build_demo_warehouse, demo_path

        logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(message)s")
        settings = _settings()
        path = (args.path or demo_path(settings.state_path)).expanduser().resolve()
        started = time.perf_counter()
        exists = path.exists()
        build_demo_warehouse(path, force=args.force)
        how = "already there" if exists and not args.force else f"built in {time.perf_counter() - started:.1f} s"
        print(f"demo warehouse: {path} ({how})")
        from snowmcp.servers.quality.demo import install_demo_suites, suites_folder

        folder = path.parent / "quality"
        suites = install_demo_suites(folder)
        print(f"demo quality suites: {len(suites)} in {folder} ({', '.join(s.stem for s in suites)})")
        if folder != suites_folder(settings.state_path).expanduser().resolve():
            print(f"  to use them: SNOWMCP_WAREHOUSE=duckdb://{path} SNOWMCP_QUALITY_SUITES_DIR={folder}")
        from snowmcp.servers.semantic.demo import install_demo_models, models_folder

        models = path.parent / "semantic"
        installed = install_demo_models(models)
        print(f"demo semantic models: {len(installed)} file(s) in {models}")
        if models != models_folder(settings.state_path).expanduser().resolve():
            print(f"  to use them: SNOWMCP_WAREHOUSE=duckdb://{path} SNOWMCP_SEMANTIC_MODELS={models}")
    else:
        from snowmcp.clients.host.demo import run_demo

        code = run_demo(args.warehouse)
        if code:
            raise SystemExit(code)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] in (["host"], ["config"]):  # the agent host parses its own arguments
        from snowmcp.clients.host.cli import main as host_main

        return int(host_main(arguments))
    args = _parser().parse_args(arguments)
    try:
        if args.command == "serve":
            _serve(args)
        elif args.command == "doctor":
            from snowmcp.common.warehouse.doctor import diagnose

            report = diagnose(_settings(), args.warehouse)
            print(report.render())
            return 0 if report.ok else 1
        else:
            _demo(args)
    except SnowmcpError as exc:
        print(f"snowmcp: error: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(f"SNOWMCP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        print(f"snowmcp: error: invalid settings: {problems}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
