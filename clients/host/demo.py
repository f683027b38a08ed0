"""`snowmcp demo tour` (run by `make demo`): the agent host with all five servers on the demo warehouse,
driven by a scripted session (`demo_session.json`), printed as a readable transcript.

No API key and no network: the "model" is the scripted provider, so the tour is
the same every time; `snowmcp host chat --provider anthropic` (or openai,
gemini) puts a real model in its place.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import anyio

SESSION = Path(__file__).with_name("demo_session.json")


def run_demo(warehouse: str | None = None) -> int:
    return anyio.run(_demo, warehouse)


async def _demo(warehouse: str | None) -> int:
    from snowmcp.clients.host.agent import run_turn
    from snowmcp.clients.host.config import default_servers
    from snowmcp.clients.host.host import Host
    from snowmcp.clients.host.providers.scripted import ScriptedProvider
    from snowmcp.clients.host.transcript import print_event
    from snowmcp.common.demo_warehouse import demo_path
    from snowmcp.common.settings import Settings

    settings = Settings(**({"warehouse": warehouse} if warehouse else {}))
    suites = demo_path(settings.state_path).parent / "quality"
    session = json.loads(SESSION.read_text().replace("{{SUITES}}", suites.as_posix()))
    started = time.perf_counter()
    async with Host(default_servers(warehouse=warehouse)) as host:
        statuses = await host.statuses()
        print(f"agent host: {len(statuses)} servers started in {time.perf_counter() - started:.1f} s, "
              f"{len(host.catalog())} tools")
        for status in statuses:
            print(f"  {status.name:<10} {status.state:<6} {status.tools} tools" + (f"  {status.error}" if status.error else ""))
        if any(s.state != "ready" for s in statuses):
            return 1
        conversation = await run_turn(host, ScriptedProvider(session["steps"]), session["prompt"],
                                      max_steps=len(session["steps"]) + 1,
                                      on_event=lambda event: print_event(event, sys.stdout))
    calls = [e for e in conversation.events if e.kind == "tool_call"]
    failed = [e for e in conversation.events if e.kind == "tool_result" and e.is_error]
    print(f"\n{len(calls)} tool calls on {len(statuses)} servers, {len(failed)} refused or failed (the refused write is expected), "
          f"{time.perf_counter() - started:.1f} s in all.")
    return 0 if len(failed) == 1 else 1
