"""What the chart report shows beside the report: the profile's blood-pressure readings, the dates of
last use and the weight's date, and the protocol's blood-pressure thresholds and freshness limit.

The report model carries the decision; a picture of the readings needs the readings themselves, so
the HTML report is given these too (``chart_inputs``), read from the same checked profile and
protocols the report was computed from. Nothing here decides anything.
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
class Reading:
    """One blood-pressure reading."""

    day: dt.date
    systolic: int
    diastolic: int


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
    """The profile's dated values and the protocol's limits that the chart report draws."""

    as_of: dt.date
    readings: tuple[Reading, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    freshness_days: int | None = None
    last_use: tuple[LastUse, ...] = ()
    age: int | None = None
    sex: str | None = None
    weight: str | None = None
    """The weight as recorded, with its date ("92 kg, weighed 2026-11-01")."""
    rule_titles: tuple[tuple[str, str], ...] = ()
    """(rule id, title) of every rule, to name the findings a "what would change" value adds."""

    @property
    def cutoff(self) -> dt.date | None:
        """The oldest day whose readings are still used (the freshness limit), if the protocol has one."""
        return None if self.freshness_days is None else self.as_of - dt.timedelta(days=self.freshness_days)

    def bp_used(self) -> str:
        """The blood pressure the assessment used, with its date, or why none was used."""
        if not self.readings:
            return "not recorded"
        latest = max(r.day for r in self.readings)
        day = [r for r in self.readings if r.day == latest]
        age = (self.as_of - latest).days
        if self.cutoff is not None and latest < self.cutoff:
            limit = f"over the {self.freshness_days}-day limit"
            return f"none used: the latest ({latest.isoformat()}) is {age} days old, {limit}"
        sys_mean = _half_up(sum(r.systolic for r in day) / len(day))
        dia_mean = _half_up(sum(r.diastolic for r in day) / len(day))
        n = f"mean of {len(day)} readings" if len(day) > 1 else "1 reading"
        return f"{sys_mean}/{dia_mean} mmHg ({n}, {latest.isoformat()})"


def _half_up(x: float) -> int:
    from kapdecide.language.facts import round_half_up

    return round_half_up(x)


def chart_inputs(profile: Profile, protocols: Sequence[LoadedProtocol], as_of: dt.date) -> ChartInputs:
    """The chart's inputs from the checked profile and the protocols of its report."""
    readings: tuple[Reading, ...] = ()
    if profile.vitals and profile.vitals.blood_pressure:
        readings = tuple(
            sorted(
                (Reading(r.taken_at, r.systolic_mmhg, r.diastolic_mmhg) for r in profile.vitals.blood_pressure),
                key=lambda r: (r.day, r.systolic, r.diastolic),
            )
        )
    limits = [f.max_age_days for lp in protocols for f in lp.protocol.freshness if f.source == "blood_pressure"]
    patient = profile.patient
    return ChartInputs(
        as_of=as_of,
        readings=readings,
        thresholds=bp_thresholds(protocols),
        freshness_days=min(limits) if limits else None,
        last_use=_last_use(profile, as_of),
        age=patient.age if patient else None,
        sex=patient.sex_at_birth if patient else None,
        weight=_weight(profile),
        rule_titles=tuple((r.id, r.title) for lp in protocols for r in lp.protocol.rules),
    )


def _weight(profile: Profile) -> str | None:
    patient = profile.patient
    if patient is None or patient.weight_in_kg is None:
        return None
    kg = f"{patient.weight_in_kg:g} kg"
    if patient.weight_kg is None and patient.weight_lb is not None:
        kg += f" ({patient.weight_lb:g} lb)"
    when = f"weighed {patient.weight_date.isoformat()}" if patient.weight_date else "date of weighing not recorded"
    return f"{kg}, {when}"


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
