"""Protocol lint: mistakes a schema cannot see. Part of ``kapdecide validate``.

- ``tier-gap`` / ``tier-overlap`` (errors): numeric tiers of one declared group on the same field
  must meet exactly, and may overlap only where ``tier.nested_in`` declares it.
- ``never-true`` (error) / ``never-false`` (warning): a condition no profile can make true, or
  one that no known data can make false (found per DNF branch: contradictory tests on one field).
- ``shadowed-rule`` (warning): whenever a rule applies, a more severe rule applies too, so it can
  never change the status.
- ``option-never-offered`` (warning): an exclusion that no known data can make false.
- ``review-overdue``, ``evidence-without-doi``, ``rule-without-rationale`` (warnings): stale content.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass

from .conditions import ConditionNode, Conjunction, Leaf, TooManyBranches, dnf, negate, walk_leaves
from .errors import Problem
from .facts import FIELDS
from .loaded import LoadedProtocol
from .protocol import Rule

SEVERITY = {"contraindication": 0, "deferral": 1, "caution": 2, "interaction": 2}
#: Pairs are compared only for conditions this small, so that validate stays fast.
MAX_SHADOW_BRANCHES = 12
#: Branch pairs compared per protocol at most (about a second); past it, one warning says what was not checked.
MAX_SHADOW_COMPARISONS = 400_000


# ---------------------------------------------------------------- satisfiability of one conjunction


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


# ---------------------------------------------------------------- tiers


def _interval(cond: ConditionNode, field: str) -> _Range | None:
    """The values of ``field`` for which a tier rule applies (bounds gathered from its leaves)."""
    rng = _Range()
    found = False
    for _, leaf in walk_leaves(cond):
        if leaf.field == field and leaf.op in ("<", "<=", ">", ">=") and isinstance(leaf.value, int | float):
            rng.meet(leaf.op, float(leaf.value))
            found = True
    return rng if found else None


def _tier_problems(lp: LoadedProtocol) -> Iterator[Problem]:
    rules = lp.protocol.rules
    index = {r.id: i for i, r in enumerate(rules)}
    groups: dict[str, list[Rule]] = {}
    for r in rules:
        if r.tier is not None:
            groups.setdefault(r.tier.group, []).append(r)
    for i, r in enumerate(rules):
        if r.tier and r.tier.nested_in and (r.tier.nested_in not in index or r.tier.nested_in == r.id):
            yield lp.smap().problem(
                ("rules", i, "tier", "nested_in"),
                "unknown-rule",
                f"{r.tier.nested_in!r} is not another rule of this protocol",
            )
    for group, members in groups.items():
        fields = sorted(
            {
                leaf.field
                for r in members
                for _, leaf in walk_leaves(r.when)
                if FIELDS.get(leaf.field) and FIELDS[leaf.field].type in ("int", "number")
            }
        )
        for field in fields:
            tiers = [(r, _interval(r.when, field)) for r in members]
            spans = sorted(((r, rng) for r, rng in tiers if rng is not None), key=lambda x: (x[1].low, x[1].high))
            integer = FIELDS[field].type == "int"
            for (a, ra), (b, rb) in zip(spans, spans[1:], strict=False):
                nested = (b.tier and b.tier.nested_in == a.id) or (a.tier and a.tier.nested_in == b.id)
                overlap = not _Range(
                    rb.low, rb.low_open, min(ra.high, rb.high), ra.high_open if ra.high <= rb.high else rb.high_open
                ).empty(integer)
                where = ("rules", index[b.id], "when")
                if overlap and not nested:
                    yield lp.smap().problem(
                        where,
                        "tier-overlap",
                        f"tier {b.id!r} overlaps tier {a.id!r} on {field} (group {group}); declare "
                        f"`tier: {{group: {group}, nested_in: {a.id}}}` if that is intended",
                    )
                elif not overlap and _gap(ra, rb, integer):
                    yield lp.smap().problem(
                        where,
                        "tier-gap",
                        f"values of {field} between tier {a.id!r} and tier {b.id!r} belong to no tier (group {group})",
                    )


def _gap(a: _Range, b: _Range, integer: bool) -> bool:
    """Whether some value lies above ``a`` and below ``b``."""
    between = _Range(a.high, not a.high_open, b.low, not b.low_open)
    return not between.empty(integer)


# ---------------------------------------------------------------- all lint


def review_due(lp: LoadedProtocol) -> tuple[dt.date, Problem]:
    """The date a review falls due, and the warning to give after it (kept apart so that a cached
    lint result stays valid on any day)."""
    p = lp.protocol
    due = p.last_reviewed + dt.timedelta(days=p.review_interval_days)
    return due, lp.smap().problem(
        ("last_reviewed",),
        "review-overdue",
        f"last reviewed {p.last_reviewed.isoformat()}; review was due {due.isoformat()} "
        f"(every {p.review_interval_days} days)",
        severity="warning",
    )


def lint_protocol(lp: LoadedProtocol, today: dt.date | None) -> Iterator[Problem]:
    """Every lint problem of one (schema-valid) protocol; ``today`` enables the review-date check."""
    p, src = lp.protocol, lp.smap()
    yield from _tier_problems(lp)
    for i, r in enumerate(p.rules):
        where = ("rules", i, "when")
        if not can_be_true(r.when):
            yield src.problem(where, "never-true", f"rule {r.id!r} can never apply: its tests contradict each other")
        elif r.kind != "required_data" and not can_be_false(r.when):
            yield src.problem(
                where, "never-false", f"rule {r.id!r} applies to every profile with known data", severity="warning"
            )
        if r.rationale is None and r.kind != "required_data":
            yield src.problem(
                ("rules", i, "id"), "rule-without-rationale", f"rule {r.id!r} has no rationale", severity="warning"
            )
    yield from _shadowed(lp)
    for i, o in enumerate(p.options):
        for j, x in enumerate(o.exclude_when):
            xwhere: tuple[str | int, ...] = ("options", i, "exclude_when", j, "when")
            if not can_be_true(x.when):
                yield src.problem(xwhere, "never-true", f"exclusion {x.id!r} can never apply")
            elif not can_be_false(x.when):
                yield src.problem(
                    xwhere,
                    "option-never-offered",
                    f"option {o.id!r} can never be offered: exclusion {x.id!r} always applies",
                    severity="warning",
                )
    due, overdue = review_due(lp)
    if today is not None and today > due:
        yield overdue
    for i, e in enumerate(p.evidence):
        if e.doi is None:
            yield src.problem(
                ("evidence", i, "id"),
                "evidence-without-doi",
                f"evidence {e.id!r} has no DOI" + (f" (identifier: {e.identifier})" if e.identifier else ""),
                severity="warning",
            )


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
