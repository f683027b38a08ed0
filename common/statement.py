"""A statement as it travels to the runtime: the expression that was checked or built, and its text.

Builders and the guard hand `ServerRuntime.query` a sqlglot expression; a plan
that runs the same statement again and again (a quality suite) renders it once
and hands over both, so the runtime renders only when its row cap changes the
statement. A `GuardVerdict` has the same two attributes and travels the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


@dataclass(frozen=True)
class Rendered:
    expression: exp.Expression
    sql: str

    @classmethod
    def of(cls, expression: exp.Expression, dialect: str) -> Rendered:
        return cls(expression, expression.sql(dialect=dialect))
