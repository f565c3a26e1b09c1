"""Whether a conjunction of tests can hold: per field, numeric ranges, enum and flag values, list
membership. Shared by the lint rules; sound for the operators a protocol may use."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kapdecide.language.conditions import ConditionNode, Conjunction, Leaf, TooManyBranches, dnf, negate
from kapdecide.language.facts import FIELDS


@dataclass
class _Range:
    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf
    high_open: bool = False

    def meet(self, op: str, t: float) -> None:
        if op in (">", ">="):
            if t > self.low or (t == self.low and op == ">"):
                self.low, self.low_open = t, op == ">"
        elif op in ("<", "<="):
            if t < self.high or (t == self.high and op == "<"):
                self.high, self.high_open = t, op == "<"
        elif op == "==":
            self.meet(">=", t)
            self.meet("<=", t)

    def empty(self, integer: bool) -> bool:
        low, high = self.low, self.high
        if integer:
            if math.isfinite(low):
                low = math.floor(low) + 1 if self.low_open or low != math.floor(low) else low
            if math.isfinite(high):
                high = math.ceil(high) - 1 if self.high_open or high != math.ceil(high) else high
            return low > high
        return low > high or (low == high and (self.low_open or self.high_open))


def satisfiable(conj: Conjunction) -> bool:
    """Whether some profile makes every leaf of the conjunction true."""
    return all(_field_satisfiable(field, leaves) for field, leaves in _by_field(conj).items())


def _by_field(conj: Conjunction) -> dict[str, list[Leaf]]:
    by_field: dict[str, list[Leaf]] = {}
    for leaf in conj:
        by_field.setdefault(leaf.field, []).append(leaf)
    return by_field


def _field_satisfiable(field: str, leaves: list[Leaf]) -> bool:
    """Whether one value of ``field`` passes every test in ``leaves`` (all on that field)."""
    ops = {leaf.op for leaf in leaves}
    if "is_unknown" in ops and ops != {"is_unknown"}:
        return False  # any other test needs a known value
    spec = FIELDS.get(field)
    if spec is None:
        return True
    if spec.type in ("int", "number"):
        rng = _Range()
        excluded = set()
        for leaf in leaves:
            if isinstance(leaf.value, int | float) and not isinstance(leaf.value, bool):
                if leaf.op == "!=":
                    excluded.add(leaf.value)
                elif leaf.op in ("<", "<=", ">", ">=", "=="):
                    rng.meet(leaf.op, float(leaf.value))
        if rng.empty(spec.type == "int"):
            return False
        return not (rng.low == rng.high and rng.low in excluded)
    if spec.type in ("bool", "enum"):
        equal = {leaf.value for leaf in leaves if leaf.op == "=="}
        differ = {leaf.value for leaf in leaves if leaf.op == "!="}
        if len(equal) > 1 or equal & differ:
            return False
        domain = {True, False} if spec.type == "bool" else set(spec.vocabulary)
        return bool(equal or not domain or not domain <= differ)
    has = {leaf.value for leaf in leaves if leaf.op == "contains"}
    lacks = {leaf.value for leaf in leaves if leaf.op == "not_contains"}
    return not has & lacks


def can_be_true(cond: ConditionNode) -> bool:
    """False when every DNF branch is contradictory; True when unsure (too large to expand)."""
    try:
        return any(satisfiable(c) for c in dnf(cond, limit=256))
    except TooManyBranches:
        return True


def can_be_false(cond: ConditionNode) -> bool:
    """False when no profile with known values can make the condition false."""
    return can_be_true(negate(cond))
