"""Thresholds of quality checks.

Row checks count unexpected rows and compare the count with `fail_above`
(default 0) and the optional `warn_above`. A threshold is a count (an integer),
a percentage of the rows tested (`"0.5%"`), or a fraction of them (a number
with a fractional part: `0.01` is 1%).

Metric checks compare a value with bounds: `min`/`max` fail, `warn_min`/`warn_max` warn.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field

Status = Literal["pass", "warn", "fail", "error"]
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


def _threshold(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a threshold is a count, a percentage such as '1%', or a fraction such as 0.01")
    if isinstance(value, str) and not _PERCENT.match(value):
        raise ValueError("not a count or a percentage such as '1%'")
    if isinstance(value, (int, float)) and value < 0:
        raise ValueError("a threshold cannot be negative")
    return value


Threshold = Annotated[int | float | str, BeforeValidator(_threshold)]


def allowed(threshold: int | float | str, tested: int) -> float:
    """The largest unexpected count a threshold allows for `tested` rows."""
    if isinstance(threshold, str):
        match = _PERCENT.match(threshold)
        assert match is not None
        return float(match.group(1)) / 100 * tested
    if isinstance(threshold, float) and not threshold.is_integer():
        return threshold * tested
    return float(threshold)


class RowThresholds(BaseModel):
    """How many unexpected rows are acceptable (`max` is accepted for `fail_above`)."""

    model_config = ConfigDict(extra="forbid")

    fail_above: Threshold = Field(
        0, validation_alias=AliasChoices("fail_above", "max"),
        description="Fail above this many unexpected rows: a count, '1%', or a fraction such as 0.01 (also: max).")
    warn_above: Threshold | None = Field(None, description="Warn above this many (same forms).")

    def status(self, unexpected: int, tested: int) -> Status:
        if unexpected > allowed(self.fail_above, tested):
            return "fail"
        if self.warn_above is not None and unexpected > allowed(self.warn_above, tested):
            return "warn"
        return "pass"

    def describe(self) -> str:
        text = f"fail above {self.fail_above}"
        return text + (f", warn above {self.warn_above}" if self.warn_above is not None else "")


class RangeThresholds(RowThresholds):
    """For checks whose own min/max are value bounds: only `fail_above` names the threshold."""

    fail_above: Threshold = Field(
        0, description="Fail above this many rows out of range: a count, '1%', or a fraction such as 0.01.")


class Bounds(BaseModel):
    """Acceptable range of a measured value."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = Field(None, description="Fail below this.")
    max: float | None = Field(None, description="Fail above this.")
    warn_min: float | None = Field(None, description="Warn below this.")
    warn_max: float | None = Field(None, description="Warn above this.")

    def status(self, value: float | None) -> Status:
        if value is None:
            return "fail"
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            return "fail"
        if (self.warn_min is not None and value < self.warn_min) or (self.warn_max is not None and value > self.warn_max):
            return "warn"
        return "pass"

    def describe(self) -> str:
        parts = [f"{label} {getattr(self, key):g}" for key, label in
                 (("min", "min"), ("max", "max"), ("warn_min", "warn below"), ("warn_max", "warn above"))
                 if getattr(self, key) is not None]
        return ", ".join(parts) or "no bounds"

    def has_bounds(self) -> bool:
        return any(v is not None for v in (self.min, self.max, self.warn_min, self.warn_max))
