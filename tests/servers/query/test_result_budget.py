"""Results sized for a model: a token budget, an honest note, and next pages instead of huge max_rows."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from snowmcp.servers.query.server import build_server
from tests.conftest import Backend
from tests.helpers import call_error, call_ok

pytestmark = pytest.mark.anyio

ORDERED = "SELECT ORDER_ID, STATUS, AMOUNT FROM ANALYTICS.SALES.ORDERS ORDER BY ORDER_ID LIMIT 300"


TEN_THOUSAND = {
    "duckdb": "SELECT i, repeat('x', 20) AS pad, i * 1.5 AS x FROM range(10000) t(i)",
    "snowflake": "SELECT SEQ4() AS I, REPEAT('x', 20) AS PAD, SEQ4() * 1.5 AS X FROM TABLE(GENERATOR(ROWCOUNT => 10000))",
}


async def test_ten_thousand_rows_put_at_most_64_kb_of_text_in_front_of_the_model(
    query_client: Client, backend: Backend
) -> None:
    result = await query_client.call_tool("run_query", {"sql": TEN_THOUSAND[backend.dialect], "max_rows": 10_000})
    assert not result.is_error
    text = "".join(block.text for block in result.content if block.type == "text")
    assert len(text.encode()) <= 64_000
    assert len(result.model_dump_json(by_alias=True, exclude_none=True).encode()) <= 160_000
    data = json.loads(text)
    assert data["truncated"] is True and data["truncated_by"] == "max_bytes"
    assert data["next_page"] and "12000-token result budget" in data["note"]
    assert data == result.structured_content  # the text is the result itself, once


async def test_pages_follow_on_exactly_to_the_end(backend: Backend) -> None:
    async with Client(build_server(backend.settings)) as whole_client:
        whole = await call_ok(whole_client, "run_query", {"sql": ORDERED, "max_rows": 1_000})
    assert whole["truncated"] is False and whole["row_count"] == 300
    small = backend.settings.model_copy(update={"max_result_tokens": 500})  # 2 KB a page
    async with Client(build_server(small)) as client:
        page = await call_ok(client, "run_query", {"sql": ORDERED, "max_rows": 1_000})
        rows, pages = list(page["rows"]), 1
        while page.get("next_page"):
            assert page["truncated_by"] == "max_bytes" and "ORDER BY" not in page["note"]
            page = await call_ok(client, "get_query_result", {"query_handle": page["next_page"]})
            assert page["status"] == "done"
            rows += page["rows"]
            pages += 1
        assert page["truncated"] is False and "note" not in page
    assert pages > 3
    assert rows == whole["rows"]


async def test_max_rows_pages_too_and_an_unordered_statement_is_told_to_order(query_client: Client) -> None:
    first = await call_ok(query_client, "run_query", {"sql": "SELECT ORDER_ID FROM ANALYTICS.SALES.ORDERS",
                                                      "max_rows": 5})
    assert first["truncated_by"] == "max_rows" and "add ORDER BY" in first["note"]
    second = await call_ok(query_client, "get_query_result", {"query_handle": first["next_page"]})
    assert second["row_count"] == 5 and second["next_page"] != first["next_page"]


async def test_a_forged_or_unknown_page_token_is_a_clear_error(query_client: Client) -> None:
    assert "not a next_page token" in await call_error(query_client, "get_query_result",
                                                       {"query_handle": "p_abc.notanumber"})
    assert "unknown next_page token" in await call_error(query_client, "get_query_result",
                                                         {"query_handle": "p_abc.10"})
    assert "not a next_page token" in await call_error(query_client, "get_query_result",
                                                       {"query_handle": "p_abc.99999999999"})

