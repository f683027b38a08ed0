"""Start `snowmcp serve` as a real subprocess for transport and contract tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from snowmcp.clients.host.launch import snowmcp_command

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(server: str = "query", *args: str) -> list[str]:
    return [*snowmcp_command(), "serve", server, *args]


def server_env(warehouse: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWMCP_")}
    env.update({"SNOWMCP_WAREHOUSE": warehouse, **extra})
    return env


@contextmanager
def http_server(warehouse: str, transport: str, *, server: str = "query", env: dict[str, str] | None = None,
                extra_args: tuple[str, ...] = (), log: Path | None = None) -> Iterator[str]:
    """Run a server over HTTP on a free loopback port; yields its base URL. With `log`, its stderr goes
    to that file (a pipe nobody reads could fill up and stall a server that logs a lot)."""
    port = free_port()
    command = serve_command(server, "--transport", transport, "--port", str(port), *extra_args)
    with (log.open("wb") if log is not None else contextlib.nullcontext(subprocess.PIPE)) as stderr:
        process = subprocess.Popen(command, cwd=REPO, env={**server_env(warehouse), **(env or {})},
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            _wait_for_port(port, process, log)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path | None = None,
                   timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            if log is not None:
                err = log.read_text(errors="replace")[-4000:]
            else:
                err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited with {process.returncode}: {err}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"server did not listen on port {port} within {timeout_s} s")
