"""``never-true`` (error), ``never-false`` and ``option-never-offered`` (warnings).

A rule or exclusion that no profile can make true (its tests contradict each other) can never apply;
a rule that no known data can make false applies to everyone; an exclusion that always applies means
its option is never offered. Found per DNF branch (contradictory tests on one field).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kapdecide.core.errors import Problem
from kapdecide.protocol.lint.satisfiability import can_be_false, can_be_true
from kapdecide.protocol.loaded import LoadedProtocol

CODES = ("never-true", "never-false", "option-never-offered")


def check(lp: LoadedProtocol, today: dt.date | None) -> Iterator[Problem]:
    """Conditions that can never be true, or never false, in rules and option exclusions."""
    p, src = lp.protocol, lp.smap()
    for i, r in enumerate(p.rules):
        where = ("rules", i, "when")
        if not can_be_true(r.when):
            yield src.problem(where, "never-true", f"rule {r.id!r} can never apply: its tests contradict each other")
        elif r.kind != "required_data" and not can_be_false(r.when):
            yield src.problem(
                where, "never-false", f"rule {r.id!r} applies to every profile with known data", severity="warning"
            )
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
