"""``tier-gap`` and ``tier-overlap`` (errors).

Numeric tiers of one declared group (``tier.group``) on the same field must meet exactly: a value
between two tiers belongs to no tier (a gap), and two tiers may overlap only where
``tier.nested_in`` declares it (a stricter tier inside a wider one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import pairwise

from kapdecide.core.errors import Problem
from kapdecide.language.conditions import ConditionNode, walk_leaves
from kapdecide.language.facts import FIELDS
from kapdecide.protocol.lint.satisfiability import _Range
from kapdecide.protocol.loaded import LoadedProtocol
from kapdecide.protocol.model import Rule

CODES = ("tier-gap", "tier-overlap")


def check(lp: LoadedProtocol, today: dt.date | None) -> Iterator[Problem]:
    """Gaps and undeclared overlaps between the tiers of each group."""
    yield from _tier_problems(lp)


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
            for (a, ra), (b, rb) in pairwise(spans):
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
