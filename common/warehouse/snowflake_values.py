"""Snowflake result columns: names and types from the cursor's description, and the few values the
connector hands over as text (semi-structured JSON, year-month intervals) as JSON-safe values.

The collector makes every other value JSON-safe (`common.result_values`).
"""

from __future__ import annotations

import decimal
import functools
import json
import threading
from collections.abc import Callable
from typing import Any

from snowmcp.common.results import ColumnInfo, RowCollector
from snowmcp.common.warehouse.snowflake_catalog import column_type

_JSON_TYPES = {"VARIANT", "OBJECT", "ARRAY", "MAP", "GEOGRAPHY", "GEOMETRY"}  # arrive as JSON text


def fetch_into(cursor: Any, collector: RowCollector, field_names: dict[int, str], stop: threading.Event) -> list[ColumnInfo]:
    """Read an answered cursor in batches of `collector.fetch_size` until the collector is full, the
    result ends or `stop` is set (a big result is never drained); its columns."""
    batch = cursor.fetchmany(collector.fetch_size)
    columns, convert = result_columns(cursor.description, field_names)
    while collector.add_batch(convert(batch)) and batch and not stop.is_set():
        batch = cursor.fetchmany(collector.fetch_size)
    return columns


def result_columns(description: Any, field_names: dict[int, str]
                   ) -> tuple[list[ColumnInfo], Callable[[list[Any]], list[Any]]]:
    """Column names and Snowflake types, and a converter parsing semi-structured JSON text and
    year-month intervals (the collector makes every other value JSON-safe: `common.result_values`)."""
    columns, convert_at = [], []
    for index, meta in enumerate(description or []):  # (name, type_code, _, _, precision, scale, _)
        kind = field_names.get(meta[1], str(meta[1]))
        number = kind == "FIXED" and meta[4] is not None
        columns.append(ColumnInfo(name=meta[0], type=column_type("NUMBER" if number else kind, meta[4], meta[5])))
        if kind in _JSON_TYPES:
            convert_at.append((index, _parse_json))
        elif kind == "INTERVAL_YEAR_MONTH":  # the connector's text ('+1-02'), its scale says which fields
            convert_at.append((index, functools.partial(year_month_duration, scale=meta[5])))

    def convert(batch: list[Any]) -> list[Any]:
        if not convert_at:
            return batch
        rows = [list(row) for row in batch]
        for row in rows:
            for index, parse in convert_at:
                row[index] = parse(row[index])
        return rows

    return columns, convert


def _parse_json(value: Any) -> Any:
    """Semi-structured JSON text as Python values; numbers with a fraction as decimals, so the
    collector keeps them exact (a number when a double holds it, else a string)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value, parse_float=decimal.Decimal)
    except ValueError:
        return value


def year_month_duration(value: Any, scale: int | None) -> Any:
    """An INTERVAL YEAR TO MONTH as the connector gives it ('+1-02'; INTERVAL YEAR '+1' at scale 1,
    INTERVAL MONTH '+14' at scale 2) as an ISO 8601 duration: P1Y2M, P1Y, P14M; negative: P-1Y-2M."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    sign = "-" if text.startswith("-") else ""
    body = text.lstrip("+-")
    try:
        if "-" in body:
            years, months = (int(part) for part in body.split("-", 1))
        elif scale == 2:
            years, months = 0, int(body)
        else:
            years, months = int(body), 0
    except ValueError:
        return value  # a form this connector version does not write: its own text
    parts = (f"{sign}{years}Y" if years else "") + (f"{sign}{months}M" if months else "")
    return f"P{parts}" if parts else "PT0S"
