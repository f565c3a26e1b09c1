"""The one operator table: how each test of a condition negates, reads, compares and compiles.

The evaluator, the engine compiler, lint and every wording (the clinician's text, explain, CDS Hooks
cards) read it, so a new operator cannot be understood by one of them and printed raw by another.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains", "not_contains", "is_unknown", "is_known"]
Truth = bool | None  # None is unknown


@dataclass(frozen=True)
class Operator:
    """One test on a fact field."""

    negation: Op
    """The test that is true exactly when this one is false (for known values)."""
    words: str
    """In a sentence, between the field's label and the value: "heart rate ≥ 100"."""
    sign: str
    """Compact, in a table of a card: "heart rate ≥ 100", "substances includes alcohol"."""
    compare: Callable[[Any, Any], bool] | None = None
    """The plain comparison of a known value with the threshold, where the test is one."""
    engine: str | None = None
    """The durable-rules comparison operator, where the test is one (``==`` is written as a value)."""


OPERATORS: dict[str, Operator] = {
    "==": Operator("!=", "is", "=", operator.eq),
    "!=": Operator("==", "is not", "≠", operator.ne, "$neq"),
    "<": Operator(">=", "<", "<", operator.lt, "$lt"),
    "<=": Operator(">", "≤", "≤", operator.le, "$lte"),
    ">": Operator("<=", ">", ">", operator.gt, "$gt"),
    ">=": Operator("<", "≥", "≥", operator.ge, "$gte"),
    "in": Operator("not_in", "is one of", "is one of"),
    "not_in": Operator("in", "is none of", "is none of"),
    "contains": Operator("not_contains", "includes", "includes"),
    "not_contains": Operator("contains", "does not include", "does not include"),
    "is_unknown": Operator("is_known", "not recorded", "is not recorded"),
    "is_known": Operator("is_unknown", "recorded", "is recorded"),
}


def junction(results: Iterable[Truth], any_of: bool) -> Truth:
    """Kleene all (``any_of`` False) or any (True): a decisive part decides (false for all, true for
    any); otherwise an unknown part makes the whole unknown."""
    unknown = False
    for r in results:
        if r is any_of:
            return any_of
        if r is None:
            unknown = True
    return None if unknown else not any_of
