"""The independent evaluator: conditions in plain Python with three-valued (Kleene) logic.

It supplies what the engine cannot: *unknown* (a test on an absent field), and the leaf values
behind each result. It also guards the engine: every assessment compares the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kapdecide.core.operators import OPERATORS, Truth, junction
from kapdecide.language.conditions import All, AnyOf, ConditionNode, Leaf, Not
from kapdecide.language.facts import Facts, OpenList


@dataclass(frozen=True)
class LeafResult:
    """One leaf's outcome: the profile value, the operator, the threshold and the result."""

    field: str
    op: str
    threshold: Any
    value: Any
    result: Truth


def evaluate_leaf(leaf: Leaf, facts: Facts) -> Truth:
    """One leaf; a test on an absent field is unknown (except is_unknown / is_known)."""
    present = leaf.field in facts
    if leaf.op == "is_unknown":
        return not present
    if leaf.op == "is_known":
        return present
    if not present:
        return None
    x = facts[leaf.field]
    t = leaf.value
    op = leaf.op
    cmp = OPERATORS[op].compare
    if cmp is not None:
        return bool(cmp(x, t))
    if op == "in":
        return x in (t if isinstance(t, list) else [t])
    if op == "not_in":
        return x not in (t if isinstance(t, list) else [t])
    if op == "contains":
        # In an incomplete list (OpenList), an item that is not listed is unknown, not absent.
        return True if t in x else (None if isinstance(x, OpenList) else False)  # type: ignore[operator]
    if op == "not_contains":
        return False if t in x else (None if isinstance(x, OpenList) else True)  # type: ignore[operator]
    raise ValueError(f"unknown operator {op}")


def evaluate(cond: ConditionNode, facts: Facts) -> Truth:
    """Kleene three-valued evaluation."""
    if isinstance(cond, Leaf):
        return evaluate_leaf(cond, facts)
    if isinstance(cond, Not):
        inner = evaluate(cond.not_, facts)
        return None if inner is None else not inner
    items = cond.all if isinstance(cond, All) else cond.any
    return junction([evaluate(c, facts) for c in items], isinstance(cond, AnyOf))


Compiled = Callable[[Facts], Truth]
_ABSENT = object()


def _compile_leaf(leaf: Leaf) -> Compiled:
    f, op, t = leaf.field, leaf.op, leaf.value
    if op == "is_unknown":
        return lambda facts: f not in facts
    if op == "is_known":
        return lambda facts: f in facts
    if op in ("in", "not_in"):
        members = t if isinstance(t, list) else [t]
        want = op == "in"
        return lambda facts: None if (x := facts.get(f, _ABSENT)) is _ABSENT else (x in members) is want
    if op in ("contains", "not_contains"):
        hit: Truth = op == "contains"

        def contains(facts: Facts) -> Truth:
            x = facts.get(f, _ABSENT)
            if x is _ABSENT:
                return None
            if t in x:  # type: ignore[operator]
                return hit
            return None if isinstance(x, OpenList) else not hit

        return contains
    cmp = OPERATORS[op].compare
    if cmp is None:
        raise ValueError(f"unknown operator {op}")
    return lambda facts: None if (x := facts.get(f, _ABSENT)) is _ABSENT else bool(cmp(x, t))


def compile_condition(cond: ConditionNode) -> Compiled:
    """``evaluate`` as a closure built once per protocol: the same Kleene results, several times faster."""
    if isinstance(cond, Leaf):
        return _compile_leaf(cond)
    if isinstance(cond, Not):
        inner = compile_condition(cond.not_)
        return lambda facts: None if (r := inner(facts)) is None else not r
    parts = [compile_condition(c) for c in (cond.all if isinstance(cond, All) else cond.any)]
    decisive = isinstance(cond, AnyOf)

    # junction() inlined: this closure runs for every condition of every profile (the batch's hot path)
    def combined(facts: Facts) -> Truth:
        unknown = False
        for part in parts:
            r = part(facts)
            if r is decisive:
                return decisive
            if r is None:
                unknown = True
        return None if unknown else not decisive

    return combined


def reasons(cond: ConditionNode, facts: Facts, want: Truth) -> list[LeafResult]:
    """The leaves that support the result ``want``: what triggered a rule, or what was unknown."""
    known: dict[int, Truth] = {}  # each node evaluated once, however deep the tree

    def ev(c: ConditionNode) -> Truth:
        key = id(c)
        if key not in known:
            if isinstance(c, Leaf):
                known[key] = evaluate_leaf(c, facts)
            elif isinstance(c, Not):
                inner = ev(c.not_)
                known[key] = None if inner is None else not inner
            else:
                known[key] = junction([ev(x) for x in (c.all if isinstance(c, All) else c.any)], isinstance(c, AnyOf))
        return known[key]

    def walk(c: ConditionNode, want: Truth) -> list[LeafResult]:
        if isinstance(c, Leaf):
            r = ev(c)
            return [LeafResult(c.field, c.op, c.value, facts.get(c.field), r)] if r is want else []
        if isinstance(c, Not):
            return walk(c.not_, None if want is None else not want)
        out: list[LeafResult] = []
        for x in c.all if isinstance(c, All) else c.any:
            if ev(x) is want:
                out.extend(walk(x, want))
        return out

    return walk(cond, want)


def explain(cond: ConditionNode, facts: Facts) -> list[LeafResult]:
    """Every leaf with its own result, in order."""
    from kapdecide.language.conditions import walk_leaves

    return [
        LeafResult(leaf.field, leaf.op, leaf.value, facts.get(leaf.field), evaluate_leaf(leaf, facts))
        for _, leaf in walk_leaves(cond)
    ]
