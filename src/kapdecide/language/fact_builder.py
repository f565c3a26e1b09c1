"""How a profile becomes facts: one section of the profile at a time.

A field that is absent stays *unknown*; the builder never fills an unknown with a default. Derived
fields (mean blood pressure, days since an event) are computed here once, so that the rules engine
and the Python evaluator see exactly the same values. A derived value the profile did not record is
reported (``Derived``), and repeated entries where a vaguer one could be worse are reported as
could-not-check (``Unresolved``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kapdecide.core import vocabulary as v
from kapdecide.inputs import resolution as res_
from kapdecide.inputs import terminology as term
from kapdecide.inputs.profile import PREGNANCY_ENTRY_MAX_DAYS, MedicalCondition, Profile
from kapdecide.language.facts import (
    DATED_SOURCES,
    Derived,
    Facts,
    FactSet,
    OpenList,
    StaleData,
    Unresolved,
    Value,
    round_half_up,
)

if TYPE_CHECKING:
    from kapdecide.inputs.profile import Psychiatric, SubstanceUse

#: Words in a cirrhosis entry's name that say it is decompensated ("cirrhosis with ascites").
_DECOMPENSATION_WORDS = re.compile(r"decompensat|ascites|varic|encephalopath", re.IGNORECASE)

#: Remission cannot have begun within this many days of the last non-prescribed use (DSM-5: early
#: remission needs at least 3 months without criteria; 90 days, counted conservatively).
REMISSION_MIN_DAYS = 90

_STIMULANTS = ("cocaine", "methamphetamine", "other_stimulants")
_Entries = Sequence[tuple[MedicalCondition, tuple[str, ...]]]


def build_facts(
    profile: Profile,
    as_of: dt.date,
    freshness: dict[str, int] | None = None,
    resolved: res_.Resolved | None = None,
) -> FactSet:
    """The facts of ``profile`` on ``as_of``; ``freshness`` maps a dated source to its maximum age;
    ``resolved`` is ``resolution.resolve(profile)`` when the caller has it already."""
    b = _Builder(profile, as_of, freshness or {}, resolved if resolved is not None else res_.resolve(profile))
    b.patient_and_pregnancy()
    b.vitals()
    b.substance_use()
    b.psychiatric()
    b.medical()
    b.medications()
    b.allergies_and_unrecognised()
    b.plain_sections()
    _open_world(b.out, set(profile.incomplete_lists or ()))
    return FactSet(b.out, b.stale, b.derived, [u for u in b.unresolved if u.field in b.out])


class _Builder:
    """The facts under construction, and what was stale, derived or left open on the way."""

    def __init__(self, profile: Profile, as_of: dt.date, freshness: dict[str, int], res: res_.Resolved):
        self.profile, self.as_of, self.freshness, self.res = profile, as_of, freshness, res
        self.out: Facts = {}
        self.stale: list[StaleData] = []
        self.derived: list[Derived] = []
        self.unresolved: list[Unresolved] = []

    def put(self, name: str, value: Value | None) -> None:
        if value is not None:
            self.out[name] = value

    def days(self, when: dt.date | None) -> int | None:
        return None if when is None else (self.as_of - when).days

    # ---------------------------------------------------------------- sections

    def patient_and_pregnancy(self) -> None:
        put, p, preg = self.put, self.profile.patient, self.profile.pregnancy
        if p:
            put("patient.age", p.age)
            put("patient.sex_at_birth", p.sex_at_birth)
            put("patient.weight_kg", p.weight_in_kg)
        if preg is None:
            if p and p.sex_at_birth == "male":
                put("pregnancy.possible", False)
                put("pregnancy.breastfeeding", False)
            return
        put("pregnancy.possible", preg.can_become_pregnant)
        status = None if preg.status == "unknown" else preg.status
        if status is None and self.res.current("pregnancy", self.as_of, PREGNANCY_ENTRY_MAX_DAYS):
            status = "pregnant"  # a pregnancy named in a condition list: never read as unknown
            self.derived.append(
                Derived(
                    "pregnancy.status",
                    "pregnant",
                    "a condition entry names a current pregnancy and pregnancy.status is not recorded: read as "
                    "pregnant. Record pregnancy.status to override.",
                )
            )
        put("pregnancy.status", status)
        put("pregnancy.test_pending", preg.test_pending)
        put("pregnancy.days_since_negative_test", self.days(preg.last_negative_test))
        put("pregnancy.breastfeeding", preg.breastfeeding)

    def vitals(self) -> None:
        vit = self.profile.vitals
        if not vit:
            return
        self.put("vitals.heart_rate_bpm", vit.heart_rate_bpm)
        if not vit.blood_pressure:
            return
        latest = max(r.taken_at for r in vit.blood_pressure)
        same_day = [r for r in vit.blood_pressure if r.taken_at == latest]
        age = self.days(latest)
        self.put("vitals.bp_days_since", age)
        self.put("vitals.bp_readings", len(same_day))
        limit = self.freshness.get("blood_pressure")
        if limit is not None and age is not None and age > limit:
            self.stale.append(StaleData("blood_pressure", age, limit, DATED_SOURCES["blood_pressure"]))
            return
        self.put("vitals.bp_systolic_mmhg", round_half_up(sum(r.systolic_mmhg for r in same_day) / len(same_day)))
        self.put("vitals.bp_diastolic_mmhg", round_half_up(sum(r.diastolic_mmhg for r in same_day) / len(same_day)))

    def substance_use(self) -> None:
        suds = self.profile.substance_use
        if suds is None:
            return
        put = self.put
        put("substance_use.substances", tuple(sorted({s.substance for s in suds})))
        put("substance_use.count", len(suds))
        put("substance_use.any_intoxicated", _any3([s.intoxicated for s in suds]))
        put(
            "substance_use.any_active_withdrawal",
            _any3([None if s.withdrawal is None else s.withdrawal == "active" for s in suds]),
        )
        put("substance_use.all_last_use_recorded", all(s.last_use is not None for s in suds))
        put("substance_use.max_ciwa_ar", max((s.ciwa_ar for s in suds if s.ciwa_ar is not None), default=None))
        put("substance_use.max_cows", max((s.cows for s in suds if s.cows is not None), default=None))
        put(
            "substance_use.all_state_recorded",
            all(s.withdrawal is not None and s.intoxicated is not None for s in suds),
        )
        used = [s.last_use for s in suds if s.substance in _STIMULANTS and s.last_use is not None]
        if used:  # the most recent known use decides; a missing date is reported by its own rule
            put("substance_use.days_since_stimulant_use", min(self.days(d) or 0 for d in used))
        current_classes = res_.current_classes(self.res, self.profile.medications is not None)
        for s in suds:
            self._one_substance(s, current_classes)

    def _one_substance(self, s: SubstanceUse, current_classes: set[str]) -> None:
        put, pre = self.put, f"substance_use.{s.substance}"
        put(f"{pre}.severity", s.severity)
        put(f"{pre}.days_since_last_use", self.days(s.last_use))
        put(f"{pre}.withdrawal", s.withdrawal)
        put(f"{pre}.intoxicated", s.intoxicated)
        put(f"{pre}.ciwa_ar", s.ciwa_ar)
        put(f"{pre}.cows", s.cows)
        put(f"{pre}.remission", s.remission)
        since = self.days(res_.nonprescribed_use(s, current_classes))
        if s.remission is None and since is not None and since <= REMISSION_MIN_DAYS:
            put(f"{pre}.remission", "none")
            self.derived.append(
                Derived(
                    f"{pre}.remission",
                    "none",
                    f"{s.substance.replace('_', ' ')}: remission not recorded and the last "
                    f"{'non-prescribed ' if s.substance in res_.PRESCRIBED_FOR else ''}use {since} days ago; "
                    "DSM-5 remission needs at least 3 months without criteria, so it is read as none. "
                    "Record remission to override.",
                )
            )
        put(f"{pre}.days_since_nonprescribed_use", since)
        if s.treatment is not None:
            tmatches = [m for _, _, m in self.res.treatments.get(s.substance, [])]
            names = tuple(
                sorted({i for m in tmatches for i in m.ingredients} | {u for m in tmatches for u in m.unknown})
            )
            put(f"{pre}.treatment", names)

    def psychiatric(self) -> None:
        put, psy, res = self.put, self.profile.psychiatric, self.res
        # A diagnosis named in a condition list (schizophrenia, bipolar disorder, mania) fills the
        # structured field when that is unknown; a recorded value stays authoritative, and a recorded
        # "none" against such an entry is rejected as a contradiction (consistency.check_consistency).
        psychosis = psy.psychotic_disorder if psy else None
        if psychosis is None and res.psychosis:
            psychosis = "past"
        bipolar = psy.bipolar_disorder if psy else None
        if bipolar is None and res.bipolar:
            bipolar = "bipolar_i" if any(b == "bipolar_i" for _, b in res.bipolar) else "bipolar_ii"
        mania = psy.mania if psy else None
        if mania is None and res.mania:
            mania = "active" if any(level == "active" for _, level in res.mania) else "past"
        put("psychiatric.psychotic_disorder", psychosis)
        put("psychiatric.bipolar_disorder", bipolar)
        put("psychiatric.mania", mania)
        if psy:
            put("psychiatric.family_history_psychosis", psy.family_history_psychosis)
            put("psychiatric.suicidal_ideation", psy.suicidal_ideation)
            self._suicidal_behaviour(psy)
            if psy.conditions is not None:
                put("psychiatric.conditions", tuple(sorted({slug for _, slug in res.psych})))

    def _suicidal_behaviour(self, psy: Psychiatric) -> None:
        put = self.put
        last = psy.last_suicidal_behavior
        dated = [d for _, d in self.res.named.get("suicidal_behavior", []) if isinstance(d, dt.date)]
        if last is None and dated:  # a dated attempt in a condition list: its date counts
            last = max(dated)
            self.derived.append(
                Derived(
                    "psychiatric.last_suicidal_behavior",
                    last.isoformat(),
                    f"a condition entry dates suicidal behaviour on {last.isoformat()} and "
                    "psychiatric.last_suicidal_behavior is not recorded: that date is used.",
                )
            )
        past_3 = psy.suicidal_behavior_past_3_months
        if last == "none":
            put("psychiatric.suicidal_behavior_ever", False)
            past_3 = False if past_3 is None else past_3
        elif last is not None:
            put("psychiatric.suicidal_behavior_ever", True)
            put("psychiatric.days_since_suicidal_behavior", self.days(last))
            if past_3 is None:
                past_3 = (self.days(last) or 0) <= 90
        put("psychiatric.suicidal_behavior_past_3_months", past_3)

    def medical(self) -> None:
        conds, res, put = self.profile.medical_conditions, self.res, self.put
        if conds is None:
            return
        slugs_of = dict(res.medical)
        pairs = [(c, slugs_of.get(i, ())) for i, c in enumerate(conds)]
        put(
            "medical.conditions",
            tuple(sorted({s for _, slugs in pairs for s in slugs} | {s for _, s in res.extra_medical})),
        )
        coronary = [c for c, slugs in pairs if set(slugs) & set(v.CORONARY_EVENTS)]
        put("medical.coronary_event", bool(coronary) or any(s in v.CORONARY_EVENTS for _, s in res.extra_medical))
        dated = [c.date for c in coronary if c.date is not None]
        if dated:  # the most recent dated event decides; an undated one could be more recent still
            put("medical.days_since_coronary_event", min(self.days(d) or 0 for d in dated))
            if len(dated) < len(coronary):
                self.unresolved.append(
                    Unresolved("medical.days_since_coronary_event", "a coronary event entry has no date")
                )
        self._worst_classes(pairs)
        decompensated = [
            True
            if c.decompensated is None and _DECOMPENSATION_WORDS.search(c.condition or c.display or "")
            else c.decompensated
            for c, slugs in pairs
            if "cirrhosis" in slugs
        ]
        if decompensated:
            put("medical.cirrhosis_decompensated", _any3(decompensated))
        _all_flag(put, "medical.hyperthyroidism_controlled", pairs, "hyperthyroidism", lambda c: c.controlled)
        _all_flag(put, "medical.arrhythmia_controlled", pairs, "arrhythmia", lambda c: c.controlled)
        valves = [c.haemodynamically_significant for c, slugs in pairs if "valvular_heart_disease" in slugs]
        if valves:
            put("medical.valve_disease_significant", _any3(valves))

    def _worst_classes(self, pairs: _Entries) -> None:
        if _worst(
            self.put, "medical.heart_failure_nyha_class", pairs, "heart_failure", lambda c: c.nyha_class, v.NYHA_CLASSES
        ):
            self.unresolved.append(
                Unresolved("medical.heart_failure_nyha_class", "a heart failure entry has no nyha_class")
            )
        child_pugh = _worst(
            self.put,
            "medical.cirrhosis_child_pugh_class",
            pairs,
            "cirrhosis",
            lambda c: c.child_pugh_class,
            v.CHILD_PUGH_CLASSES,
        )
        if child_pugh:
            self.unresolved.append(
                Unresolved("medical.cirrhosis_child_pugh_class", "a cirrhosis entry has no child_pugh_class")
            )

    def medications(self) -> None:
        res, put = self.res, self.put
        meds_known = self.profile.medications is not None
        if not (meds_known or res.proposed):
            return
        # Current drugs decide what protects (MOUD, a taper); proposed ones are checked for
        # interactions like current ones but never stand in for a current drug. With no current list,
        # the classes are an open list: what a proposed drug adds is known, the rest unknown.
        current_rows = [*res.medications, *(row for group in res.treatments.values() for row in group)]
        current = sorted({i for _, _, m in current_rows for i in m.ingredients})
        proposed = sorted({i for _, _, m in res.proposed for i in m.ingredients} - set(current))
        classes_of = {n: term.ingredient_classes(n) for n in (*current, *proposed)}
        classes = tuple(sorted({c for cs in classes_of.values() for c in cs}))
        put("medications.classes", classes if meds_known else OpenList(classes))
        if meds_known:
            put("medications.ingredients", tuple(current))
        put("medications.proposed", tuple(proposed))
        for cls in v.DRUG_CLASSES:
            members = [n for n in current if cls in classes_of[n]] + [
                f"{n} (proposed)" for n in proposed if cls in classes_of[n]
            ]
            put(f"medications.by_class.{cls}", tuple(members) if meds_known else OpenList(members))
        unchecked = tuple(sorted({u for _, _, m in [*current_rows, *res.proposed] for u in m.unknown}))
        put("medications.unchecked", unchecked)
        if meds_known:
            put("medications.any_unchecked", bool(unchecked))

    def allergies_and_unrecognised(self) -> None:
        profile, res, put = self.profile, self.res, self.put
        if profile.allergies is not None:
            agents = {i for _, _, m, _ in res.allergies for i in m.ingredients} | {
                u for _, _, m, _ in res.allergies for u in m.unknown
            }
            put("allergies.agents", tuple(sorted(agents)))
            put("allergies.ketamine", any(k for *_, k in res.allergies))
            put(
                "allergies.unrecognised",
                tuple(sorted({text for _, text, m, k in res.allergies if not (m.recognised or k)})),
            )
        psy = profile.psychiatric
        if profile.medical_conditions is not None or (psy is not None and psy.conditions is not None):
            lists = ("medical_conditions", "psychiatric.conditions")
            put("conditions.unrecognised", tuple(sorted({r.entry for r in res.review if r.list in lists})))

    def plain_sections(self) -> None:
        put, profile = self.put, self.profile
        kh = profile.ketamine_history
        if kh:
            put("ketamine_history.prior_exposure", kh.prior_exposure)
            put("ketamine_history.misuse", kh.misuse)
        sc = profile.screening
        if sc:
            put("screening.phq9", sc.phq9)
            put("screening.audit", sc.audit)
            put("screening.cssrs_screen", sc.cssrs_screen)
        ctx = profile.context
        if ctx:
            put("context.setting_preference", ctx.setting_preference)
            put("context.support_person_available", ctx.support_person_available)
            put("context.secure_storage", ctx.secure_storage)
            put("context.prior_supervised_dose_tolerated", ctx.prior_supervised_dose_tolerated)


def _any3(values: list[bool | None]) -> bool | None:
    if any(x is True for x in values):
        return True
    return None if any(x is None for x in values) else False


#: For each list a profile may declare incomplete: the list facts it feeds, and the aggregates that
#: an unlisted item could make wrong (a "none found" or a count), which therefore become unknown.
_OPEN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "substance_use": (
        ("substance_use.substances",),
        (
            "substance_use.count",
            "substance_use.max_ciwa_ar",
            "substance_use.max_cows",
            "substance_use.days_since_stimulant_use",
        ),
    ),
    "psychiatric.conditions": (("psychiatric.conditions",), ()),
    "medical_conditions": (("medical.conditions",), ()),
    "medications": (
        (
            "medications.classes",
            "medications.ingredients",
            "medications.unchecked",
            "medications.proposed",
            *(f"medications.by_class.{c}" for c in v.DRUG_CLASSES),
        ),
        (),
    ),
    "allergies": (("allergies.agents", "allergies.unrecognised"), ()),
}
#: Flags that stay true when an item is found; "false" (none found) becomes unknown in an open list.
_OPEN_FLAGS: dict[str, tuple[str, ...]] = {
    "substance_use": ("substance_use.any_intoxicated", "substance_use.any_active_withdrawal"),
    "medical_conditions": ("medical.coronary_event",),
    "allergies": ("allergies.ketamine",),
    "medications": ("medications.any_unchecked",),
}
#: Flags that stay false when an item lacks the data; "true" (all recorded) becomes unknown.
_OPEN_ALL: dict[str, tuple[str, ...]] = {
    "substance_use": ("substance_use.all_last_use_recorded", "substance_use.all_state_recorded"),
}


def _open_world(out: Facts, open_lists: set[str]) -> None:
    for name in open_lists:
        lists, unknowable = _OPEN[name]
        for fact in lists:
            value = out.get(fact)
            if isinstance(value, tuple):
                out[fact] = OpenList(value)
        for fact in unknowable:
            out.pop(fact, None)
        for fact in _OPEN_FLAGS.get(name, ()):
            if out.get(fact) is False:
                del out[fact]
        for fact in _OPEN_ALL.get(name, ()):
            if out.get(fact) is True:
                del out[fact]


def _worst(
    put: Callable[[str, Value | None], None],
    name: str,
    conds: Sequence[tuple[MedicalCondition, tuple[str, ...]]],
    slug: str,
    get: Callable[[MedicalCondition], str | None],
    order: tuple[str, ...],
) -> bool:
    """The worst value recorded on the entries of ``slug`` (a vaguer duplicate never erases it).
    True when an entry without the value could be worse still: the caller reports it as unresolved."""
    found = [get(c) for c, slugs in conds if slug in slugs]
    known = [x for x in found if x is not None]
    if not known:
        return False
    worst = max(known, key=lambda x: order.index(str(x)))
    put(name, worst)
    return len(known) < len(found) and worst != order[-1]


def _all_flag(
    put: Callable[[str, Value | None], None],
    name: str,
    conds: Sequence[tuple[MedicalCondition, tuple[str, ...]]],
    slug: str,
    get: Callable[[MedicalCondition], bool | None],
) -> None:
    """True only when every entry is recorded true; one entry recorded false is false whatever the
    others say (an uncontrolled condition is never hidden by a vaguer duplicate)."""
    found = [get(c) for c, slugs in conds if slug in slugs]
    if found:
        put(name, False if any(x is False for x in found) else None if any(x is None for x in found) else True)
