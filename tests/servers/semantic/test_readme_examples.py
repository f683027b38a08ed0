"""The semantic server's README examples, run as written on the demo warehouse (with the demo's models)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from mcp import Client

from snowmcp.common.settings import Settings
from snowmcp.servers.semantic.server import build_server

pytestmark = pytest.mark.anyio
README = Path(__file__).resolve().parents[3] / "README.md"


def examples() -> list[tuple[str, dict[str, object]]]:
    section = README.read_text().split("## The semantic server's tools", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```text\n(.*?)```", section, re.DOTALL)
    return [(line.split(" ", 1)[0], json.loads(line.split(" ", 1)[1])) for line in block.strip().splitlines()]


def test_every_tool_has_an_example() -> None:
    names = {name for name, _ in examples()}
    assert names == {"list_metrics", "get_dimensions", "get_entities", "get_dimension_values", "query_metrics",
                     "get_metrics_compiled_sql", "list_saved_queries"}


async def test_the_examples_answer_on_the_demo(settings: Settings) -> None:
    demo = settings.model_copy(update={"warehouse": "demo"})
    (demo.state_path / "demo").mkdir(parents=True, exist_ok=True)
    (demo.state_path / "demo" / "ANALYTICS.duckdb").symlink_to(Path(settings.warehouse.removeprefix("duckdb://")))
    async with Client(build_server(demo)) as client:
        for name, arguments in examples():
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, result.content[0].text)
            data = result.structured_content or {}
            assert any(data.get(key) for key in ("metrics", "dimensions", "entities", "values", "rows", "sql",
                                                   "saved_queries")), (name, data)
