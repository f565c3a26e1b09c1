"""Protocol lint: mistakes a schema cannot see. Part of ``kapdecide validate``.

Each lint rule is a module with its ``CODES``, a ``check(lp, today)`` and a docstring that is its
documentation (as yamllint's rules are); ``RULES`` lists them, in the order they run.

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
from collections.abc import Iterator

from kapdecide.core.errors import Problem
from kapdecide.protocol.lint import shadowing, staleness, tiers, truth
from kapdecide.protocol.lint.satisfiability import can_be_false, can_be_true, satisfiable
from kapdecide.protocol.lint.shadowing import (
    MAX_SHADOW_BRANCHES,
    MAX_SHADOW_COMPARISONS,
    SEVERITY,
)
from kapdecide.protocol.lint.staleness import review_due
from kapdecide.protocol.loaded import LoadedProtocol

RULES = (tiers, truth, shadowing, staleness)

__all__ = [
    "MAX_SHADOW_BRANCHES",
    "MAX_SHADOW_COMPARISONS",
    "RULES",
    "SEVERITY",
    "can_be_false",
    "can_be_true",
    "lint_protocol",
    "review_due",
    "satisfiable",
]


def lint_protocol(lp: LoadedProtocol, today: dt.date | None) -> Iterator[Problem]:
    """Every lint problem of one (schema-valid) protocol; ``today`` enables the review-date check."""
    for rule in RULES:
        yield from rule.check(lp, today)
