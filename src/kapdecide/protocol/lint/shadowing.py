"""``shadowed-rule`` and ``shadow-check-incomplete`` (warnings).

A rule is shadowed when a more severe rule always applies with it, so it can never change the
status. The check is bounded (``MAX_SHADOW_COMPARISONS``) so that validate stays fast for the
largest protocol it accepts; past the bound, one warning names the first rule left unchecked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kapdecide.core.errors import Problem
from kapdecide.language.conditions import Conjunction, Leaf, TooManyBranches, dnf, negate, walk_leaves
from kapdecide.protocol.lint.satisfiability import _by_field, _field_satisfiable
from kapdecide.protocol.loaded import LoadedProtocol
from kapdecide.protocol.model import Rule

CODES = ("shadowed-rule", "shadow-check-incomplete")
SEVERITY = {"contraindication": 0, "deferral": 1, "caution": 2, "interaction": 2}
#: Pairs are compared only for conditions this small, so that validate stays fast.
MAX_SHADOW_BRANCHES = 12
#: Branch pairs compared per protocol at most (about a second); past it, one warning says what was not checked.
MAX_SHADOW_COMPARISONS = 400_000


def check(lp: LoadedProtocol, today: dt.date | None) -> Iterator[Problem]:
    """Rules a more severe rule always accompanies."""
    yield from _shadowed(lp)


#: One DNF branch: per field, its tests and a hashable key for them (only satisfiable branches are kept).
_Key = tuple[tuple[str, str], ...]
_Branch = dict[str, tuple[tuple[Leaf, ...], _Key]]
_Seen = dict[tuple[str, _Key], bool]


def _branches(conjunctions: list[Conjunction]) -> list[_Branch]:
    out: list[_Branch] = []
    for conj in conjunctions:
        grouped = _by_field(conj)
        if all(_field_satisfiable(f, ls) for f, ls in grouped.items()):
            out.append(
                {f: (tuple(ls), tuple((str(leaf.op), repr(leaf.value)) for leaf in ls)) for f, ls in grouped.items()}
            )
    return out


def _compatible(x: _Branch, y: _Branch, seen: _Seen) -> bool:
    """Whether branches x and y can hold together; each holds alone, so only shared fields can clash."""
    for f in x.keys() & y.keys():
        (xl, xk), (yl, yk) = x[f], y[f]
        key = (f, xk + yk)
        ok = seen.get(key)
        if ok is None:
            ok = seen[key] = _field_satisfiable(f, [*xl, *yl])
        if not ok:
            return False
    return True


def _shadowed(lp: LoadedProtocol, budget: int | None = None) -> Iterator[Problem]:
    """Rules that a more severe rule always accompanies: rule a is shadowed by b when a implies b,
    that is when no branch of a is compatible with a branch of not-b. At most ``budget`` branch
    pairs are compared, so that validate time is bounded whatever the protocol."""
    rules = [(i, r) for i, r in enumerate(lp.protocol.rules) if r.kind in SEVERITY]
    branches: dict[int, list[_Branch]] = {}
    negated: dict[int, list[_Branch]] = {}
    for i, r in rules:
        try:
            branches[i] = _branches(dnf(r.when, limit=MAX_SHADOW_BRANCHES))
            negated[i] = _branches(dnf(negate(r.when), limit=MAX_SHADOW_BRANCHES))
        except TooManyBranches:
            continue
    # Who can shadow whom: a more severe rule, expandable, sharing a field; in protocol order.
    by_field: dict[str, set[int]] = {}
    for i, r in rules:
        if i in negated:
            for _, leaf in walk_leaves(r.when):
                by_field.setdefault(leaf.field, set()).add(i)
    left = MAX_SHADOW_COMPARISONS if budget is None else budget
    seen: _Seen = {}
    for n, (i, a) in enumerate(rules):
        if not branches.get(i):
            continue
        severity = SEVERITY[a.kind]
        near = set().union(*(by_field.get(leaf.field, ()) for _, leaf in walk_leaves(a.when)))
        for j in sorted(near):
            b = lp.protocol.rules[j]
            if j == i or SEVERITY[b.kind] >= severity:
                continue
            # a implies b  <=>  a and not b is unsatisfiable
            pairs = len(branches[i]) * len(negated[j])
            if pairs > left:
                yield _incomplete(lp, rules, n, MAX_SHADOW_COMPARISONS if budget is None else budget)
                return
            left -= pairs
            if not any(_compatible(x, y, seen) for x in branches[i] for y in negated[j]):
                yield lp.smap().problem(
                    ("rules", i, "id"),
                    "shadowed-rule",
                    f"{a.kind} {a.id!r} can never change the status: whenever it applies, {b.kind} {b.id!r} applies",
                    severity="warning",
                )
                break


def _incomplete(lp: LoadedProtocol, rules: list[tuple[int, Rule]], n: int, budget: int) -> Problem:
    first = rules[n][0]
    return lp.smap().problem(
        ("rules", first, "id"),
        "shadow-check-incomplete",
        f"the shadowed-rule check stopped after {budget:,} comparisons, so that validate stays fast: "
        f"rules[{first}] ({rules[n][1].id!r}) and the {len(rules) - n - 1} rules after it were not checked "
        "for shadowing; split the protocol, or write fewer rules on the same fields, to check them all",
        severity="warning",
    )
