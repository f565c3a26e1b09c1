"""What the chart report's pictures need that the report does not carry: the protocols' blood-pressure
thresholds, freshness limit and rule titles, and each substance's date of last use.

The report carries the decision and the header facts (``report.patient``: age, sex, weight and its
date, the blood pressure used and every reading); the HTML report reads those from the report. The
thresholds are read from the protocol rules (the report names only the rules that fired), the
freshness limit from the protocol (the report gives it only when a reading is stale), the rule titles
for the findings a "what would change" value would add (not fired, so not in the report), and the
dates of last use from the profile (the report has no dates of use). ``chart_inputs`` reads them from
the same checked profile and protocols the report was computed from. Nothing here decides anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kapdecide.language.conditions import AnyOf, Leaf, Not, children

if TYPE_CHECKING:
    from kapdecide.inputs.profile import Profile
    from kapdecide.language.conditions import ConditionNode
    from kapdecide.protocol.loaded import LoadedProtocol

SYSTOLIC = "vitals.bp_systolic_mmhg"
DIASTOLIC = "vitals.bp_diastolic_mmhg"
#: Severity of a rule kind, to keep the most severe rule at a shared threshold.
_KIND_RANK = {"contraindication": 0, "deferral": 1, "required_data": 2, "caution": 3, "interaction": 4, "info": 5}


@dataclass(frozen=True)
class Threshold:
    """A protocol rule that fires at systolic >= X or diastolic >= Y."""

    systolic: int
    diastolic: int
    kind: str
    title: str


@dataclass(frozen=True)
class LastUse:
    """The last use of one substance and the days since it (None: not recorded)."""

    substance: str
    day: dt.date | None
    days: int | None
    nonprescribed: bool = False


@dataclass(frozen=True)
class ChartInputs:
    """The protocols' limits and the profile's dates of last use that the chart report draws."""

    as_of: dt.date
    thresholds: tuple[Threshold, ...] = ()
    freshness_days: int | None = None
    """The protocols' blood-pressure freshness limit (days), if they set one."""
    last_use: tuple[LastUse, ...] = ()
    rule_titles: tuple[tuple[str, str], ...] = ()
    """(rule id, title) of every rule, to name the findings a "what would change" value adds."""

    @property
    def cutoff(self) -> dt.date | None:
        """The oldest day whose readings are still used (the freshness limit), if the protocol has one."""
        return None if self.freshness_days is None else self.as_of - dt.timedelta(days=self.freshness_days)


def chart_inputs(profile: Profile, protocols: Sequence[LoadedProtocol], as_of: dt.date) -> ChartInputs:
    """The chart's inputs from the checked profile and the protocols of its report."""
    limits = [f.max_age_days for lp in protocols for f in lp.protocol.freshness if f.source == "blood_pressure"]
    return ChartInputs(
        as_of=as_of,
        thresholds=bp_thresholds(protocols),
        freshness_days=min(limits) if limits else None,
        last_use=_last_use(profile, as_of),
        rule_titles=tuple((r.id, r.title) for lp in protocols for r in lp.protocol.rules),
    )


def _last_use(profile: Profile, as_of: dt.date) -> tuple[LastUse, ...]:
    out = []
    for s in profile.substance_use or []:
        day = s.last_nonprescribed_use or s.last_use
        out.append(
            LastUse(
                s.substance,
                day,
                None if day is None else (as_of - day).days,
                nonprescribed=s.last_nonprescribed_use is not None,
            )
        )
    return tuple(out)


def bp_thresholds(protocols: Sequence[LoadedProtocol]) -> tuple[Threshold, ...]:
    """The protocols' blood-pressure thresholds: each rule with an ``any`` of systolic >= X and
    diastolic >= Y (the hold, stage 1 and severe thresholds of the shipped protocol), lowest first."""
    found: dict[tuple[int, int], Threshold] = {}
    for lp in protocols:
        for rule in lp.protocol.rules:
            for sys_, dia in _any_pairs(rule.when):
                t = Threshold(sys_, dia, rule.kind, rule.title)
                old = found.get((sys_, dia))
                if old is None or _KIND_RANK.get(t.kind, 9) < _KIND_RANK.get(old.kind, 9):
                    found[(sys_, dia)] = t
    return tuple(found[k] for k in sorted(found))


def _any_pairs(node: ConditionNode) -> list[tuple[int, int]]:
    """(systolic, diastolic) of each ``any`` with both ``>=`` tests, outside any ``not``."""
    out: list[tuple[int, int]] = []
    if isinstance(node, AnyOf):
        tests = {
            c.field: c.value
            for c in node.any
            if isinstance(c, Leaf) and c.op == ">=" and isinstance(c.value, int) and not isinstance(c.value, bool)
        }
        if SYSTOLIC in tests and DIASTOLIC in tests:
            out.append((int(tests[SYSTOLIC]), int(tests[DIASTOLIC])))
    if isinstance(node, Not):
        return out
    for _, child in children(node):
        out.extend(_any_pairs(child))
    return out
