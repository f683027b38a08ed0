"""`snowmcp demo tour`: the query server seen through a real MCP client over stdio.

Starts `snowmcp serve query` as a subprocess, exactly as Claude Desktop would,
and walks through the catalog, a table, two analytic queries and one refused
write, printing what comes back.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

ORDERS = "ANALYTICS.SALES.ORDERS"

REVENUE_BY_WEEKDAY = """\
SELECT dayname(ORDER_DATE) AS weekday, count(*) AS orders, round(sum(AMOUNT), 2) AS revenue
FROM ANALYTICS.SALES.ORDERS
WHERE STATUS <> 'cancelled'
GROUP BY weekday, dayofweek(ORDER_DATE)
ORDER BY dayofweek(ORDER_DATE)"""

TOP_DAYS = """\
WITH daily AS (
  SELECT ORDER_DATE, sum(AMOUNT) AS revenue FROM ANALYTICS.SALES.ORDERS GROUP BY ORDER_DATE
)
SELECT ORDER_DATE, round(revenue, 2) AS revenue,
       round(revenue / avg(revenue) OVER (), 2) AS times_average
FROM daily
QUALIFY row_number() OVER (ORDER BY revenue DESC) <= 5
ORDER BY revenue DESC"""

REFUSED_WRITE = "COPY ANALYTICS.SALES.ORDERS TO 'leak.csv'"


def run_tour(warehouse: str | None = None) -> None:
    anyio.run(_tour, warehouse)


def server_parameters(server: str, warehouse: str | None = None) -> StdioServerParameters:
    """How to start one snowmcp server over stdio with this Python."""
    env = dict(os.environ)
    if warehouse:
        env["SNOWMCP_WAREHOUSE"] = warehouse
    return StdioServerParameters(command=sys.executable, args=["-m", "common.cli", "serve", server], env=env)


async def _tour(warehouse: str | None) -> None:
    started = time.perf_counter()
    async with Client(server_parameters("query", warehouse)) as client:
        _heading(f"snowmcp tour: the query server over stdio (connected in {time.perf_counter() - started:.2f} s)")
        tools = (await client.list_tools()).tools
        print(f"{len(tools)} tools: " + ", ".join(t.name for t in tools))

        databases = await _call(client, "list_databases", {})
        print("databases: " + ", ".join(d["name"] for d in databases["databases"]))
        schemas = await _call(client, "list_schemas", {"database": "ANALYTICS"})
        print("schemas of ANALYTICS: " + ", ".join(s["name"] for s in schemas["schemas"]))
        tables = await _call(client, "list_tables", {"database": "ANALYTICS", "schema": "SALES"})
        _table(
            ["table", "kind", "rows", "comment"],
            [[t["name"], t["kind"], t["row_count"], _clip(t["comment"], 60)] for t in tables["tables"]],
        )

        _heading(f"describe_table {ORDERS}")
        orders = await _call(client, "describe_table", {"table": ORDERS})
        print(_clip(orders["comment"], 100))
        _table(
            ["column", "type", "nullable", "comment"],
            [[c["name"], c["type"], c["nullable"], _clip(c["comment"], 50)] for c in orders["columns"]],
        )

        for title, sql in (("revenue by weekday (weekly seasonality)", REVENUE_BY_WEEKDAY),
                           ("the five biggest days (one is an anomaly)", TOP_DAYS)):
            _heading(f"run_query: {title}")
            print(sql)
            result = await _call(client, "run_query", {"sql": sql})
            _table([c["name"] for c in result["columns"]], result["rows"])
            print(f"({result['row_count']} rows, {result['elapsed_ms']:.0f} ms, cached={result['cached']})")

        _heading("run_query: a write is refused before it reaches the warehouse")
        print(REFUSED_WRITE)
        refused = await client.call_tool("run_query", {"sql": REFUSED_WRITE})
        text = refused.content[0].text if refused.content else ""  # type: ignore[union-attr]
        print(f"isError={refused.is_error}: {text}")


async def _call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
        raise SystemExit(f"tool {tool} failed: {text}")
    assert result.structured_content is not None
    return result.structured_content


def _heading(text: str) -> None:
    print(f"\n== {text} ==")


def _clip(text: str | None, width: int) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in header]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * width for width in widths))
