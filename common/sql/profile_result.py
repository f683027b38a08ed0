"""A profile statement's result, read into one model per column (see `common.sql.profile`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from snowmcp.common.results import QueryResult
from snowmcp.common.sql.profile import QUANTILES, TOP_VALUE_KINDS, ProfileStatement

_COUNTS = {"distinct", "zeros", "negatives", "true_count"}


class ValueCount(BaseModel):
    value: Any = Field(description="The value (as text in profiles).")
    count: int
    percent: float | None = Field(None, description="Share of the non-null rows, in percent.")


_ALWAYS_SENT = {"name", "type", "kind", "count", "nulls", "null_percent", "min", "max"}


class ColumnProfile(BaseModel):
    name: str
    type: str
    kind: str = Field(description="number, text, boolean, date, timestamp, time or other.")
    count: int = Field(description="Non-null values.")
    nulls: int
    null_percent: float
    distinct: int | None = Field(None, description="Distinct non-null values (approximate).")
    min: Any = None
    max: Any = None
    mean: float | None = None
    stddev: float | None = None
    p01: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    p99: float | None = None
    zeros: int | None = None
    negatives: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    avg_length: float | None = None
    true_count: int | None = None
    top_values: list[ValueCount] | None = Field(
        None, description="Most frequent values with counts (text, boolean and date columns).")
    top_values_truncated: bool | None = Field(
        None, description="True when the result size cap cut this column's top values short.")

    @model_serializer(mode="wrap")
    def _without_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Statistics that don't apply to the column's kind are left out, not sent as nulls."""
        data = handler(self)
        return {k: v for k, v in data.items() if v is not None or k in _ALWAYS_SENT}


def read_profile(statement: ProfileStatement, result: QueryResult) -> tuple[int, list[ColumnProfile]]:
    """The row count and one profile per column of `statement`, from its result rows.

    The statistics row comes first; when the result size cap cut the top-value rows after it,
    the columns whose top values may be incomplete say `top_values_truncated`."""
    from snowmcp.common.errors import InvalidArgument

    if not result.rows:
        raise InvalidArgument("the profile of these columns does not fit the result size cap",
                              hint="Profile fewer columns at a time (columns=[...]).")
    index = {column.name.lower(): i for i, column in enumerate(result.columns)}
    first = result.rows[0]

    def stat(position: int, name: str) -> Any:
        at = index.get(f"c{position}_{name}")
        return None if at is None else first[at]

    row_count = int(first[index["row_count"]])
    tops = _top_values(result, index)
    cut_from = max(tops, default=-1) if result.truncated else None  # columns from here on may lack top values
    profiles = []
    for position, column in enumerate(statement.columns):
        values = {name: stat(position, name) for name in statement.stats[position]}
        if statement.quantile_list and values.get("quantiles") is not None:
            values.update(zip(QUANTILES, values.pop("quantiles")))
        values.pop("quantiles", None)
        count = int(values.pop("count") or 0)
        if count == 0:  # no values: nothing to report (fakesnow sends an epoch for MIN of no timestamps)
            values = {k: (0 if k in _COUNTS else None) for k in values}
        if values.get("distinct") is not None:  # an approximate count may overshoot
            values["distinct"] = min(int(values["distinct"]), count)
        nulls = row_count - count
        top, cut = None, None
        if column.kind in TOP_VALUE_KINDS:
            top = [ValueCount(value=v, count=n, percent=_percent(n, count)) for v, n in tops.get(position, [])]
            cut = True if cut_from is not None and position >= cut_from else None
        profiles.append(ColumnProfile(
            name=column.name, type=column.type, kind=column.kind.value, count=count, nulls=nulls,
            null_percent=_percent(nulls, row_count) or 0.0, top_values=top, top_values_truncated=cut,
            **{k: _number(v) if k not in ("min", "max") else v for k, v in values.items()},
        ))
    return row_count, profiles


def _top_values(result: QueryResult, index: dict[str, int]) -> dict[int, list[tuple[Any, int]]]:
    if "top_col" not in index:
        return {}
    col, value, count = index["top_col"], index["top_value"], index["top_count"]
    tops: dict[int, list[tuple[Any, int]]] = {}
    for row in result.rows:
        if row[col] is not None:
            tops.setdefault(int(row[col]), []).append((row[value], int(row[count])))
    return tops


def _percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 4) if whole else None


def _number(value: Any) -> Any:
    if isinstance(value, str):  # a decimal too long for a double travels as text
        try:
            return float(value)
        except ValueError:
            return value
    return value
