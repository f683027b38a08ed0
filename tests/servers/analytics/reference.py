"""Independent computations of what the analytics tools must return, in plain Python."""

from __future__ import annotations

import math
import statistics
from typing import Any

from tests.lab_data import MEASURES, MEASURES_COLUMNS


def column(name: str, rows: list[tuple[Any, ...]] = MEASURES) -> list[Any]:
    index = MEASURES_COLUMNS.index(name)
    return [row[index] for row in rows]


def present(values: list[Any]) -> list[Any]:
    return [v for v in values if v is not None]


def quantile_cont(values: list[float], p: float) -> float:
    ordered = sorted(float(v) for v in values)
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stddev(values: list[Any]) -> float | None:
    floats = [float(v) for v in values]
    return statistics.stdev(floats) if len(floats) > 1 else None


def approx(expected: float | None, rel: float = 1e-6) -> Any:
    import pytest

    return None if expected is None else pytest.approx(expected, rel=rel, abs=1e-9)
