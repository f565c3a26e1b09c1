"""The fact schema: the fields protocol conditions may test, and how a profile becomes facts.

Facts are a flat mapping from a dotted field name to a typed value. A field that is absent is
*unknown*; the builder never fills an unknown with a default. Derived fields (mean blood pressure,
days since an event) are computed here once, so that the rules engine and the Python evaluator see
exactly the same values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from . import terminology as term
from . import vocabulary as v
from .profile import PREGNANCY_ENTRY_MAX_DAYS, MedicalCondition, Profile

FieldType = Literal["bool", "int", "number", "enum", "enum_list", "text_list"]
Value = bool | int | float | str | tuple[str, ...]
Facts = dict[str, Value]


class OpenList(tuple[str, ...]):
    """A list that holds what a source record shows, not a complete answer (profile
    ``incomplete_lists``): an item it includes is known; an item it does not include is unknown."""

    __slots__ = ()


@dataclass(frozen=True)
class FactField:
    """One field that conditions may test."""

    name: str
    type: FieldType
    description: str
    vocabulary: tuple[str, ...] = ()


FIELDS: dict[str, FactField] = {}


def _f(name: str, type_: FieldType, description: str, vocabulary: Iterable[str] = ()) -> None:
    FIELDS[name] = FactField(name, type_, description, tuple(vocabulary))


_f("patient.age", "int", "Age in years (patient.age).")
_f("patient.sex_at_birth", "enum", "Sex at birth.", v.SEX_AT_BIRTH)
_f("patient.weight_kg", "number", "Body weight, kg.")
_f(
    "pregnancy.possible",
    "bool",
    "Can become pregnant: pregnancy.can_become_pregnant; false when sex_at_birth is male and the "
    "pregnancy section is omitted.",
)
_f("pregnancy.status", "enum", "Pregnancy status; a recorded 'unknown' is unknown.", ("pregnant", "not_pregnant"))
_f("pregnancy.test_pending", "bool", "A pregnancy test was taken and its result is not back.")
_f("pregnancy.days_since_negative_test", "int", "Whole days from the last negative test to the assessment date.")
_f(
    "pregnancy.breastfeeding",
    "bool",
    "Breastfeeding; false when sex_at_birth is male and the pregnancy section is omitted.",
)
_f(
    "vitals.bp_systolic_mmhg",
    "int",
    "Mean systolic of all readings on the most recent measurement date, rounded half up; unknown "
    "when that date is older than the protocol's freshness limit (stale).",
)
_f("vitals.bp_diastolic_mmhg", "int", "Mean diastolic, as for vitals.bp_systolic_mmhg.")
_f("vitals.bp_days_since", "int", "Whole days since the most recent blood-pressure measurement date.")
_f("vitals.bp_readings", "int", "Number of readings on the most recent measurement date.")
_f("vitals.heart_rate_bpm", "int", "Resting heart rate, bpm.")
_f("substance_use.substances", "enum_list", "Substances with a recorded use disorder.", v.SUBSTANCES)
_f("substance_use.count", "int", "Number of substance use disorders recorded.")
_f("substance_use.any_intoxicated", "bool", "Any substance: acutely intoxicated at assessment.")
_f("substance_use.any_active_withdrawal", "bool", "Any substance: withdrawal recorded as active.")
_f("substance_use.max_ciwa_ar", "int", "Highest CIWA-Ar score recorded for any substance (absent if none).")
_f("substance_use.max_cows", "int", "Highest COWS score recorded for any substance (absent if none).")
_f("substance_use.all_last_use_recorded", "bool", "Every substance has a date of last use.")
_f("substance_use.all_state_recorded", "bool", "Every substance has withdrawal and intoxication recorded.")
_f(
    "substance_use.days_since_stimulant_use",
    "int",
    "Days since the latest use of cocaine, methamphetamine or other stimulants.",
)
for _s in v.SUBSTANCES:
    _p = f"substance_use.{_s}"
    _f(f"{_p}.severity", "enum", f"{_s}: DSM-5 severity.", v.SEVERITIES)
    _f(f"{_p}.days_since_last_use", "int", f"{_s}: whole days since last use.")
    _f(f"{_p}.withdrawal", "enum", f"{_s}: withdrawal state.", v.WITHDRAWAL_STATES)
    _f(f"{_p}.intoxicated", "bool", f"{_s}: acutely intoxicated at assessment.")
    _f(f"{_p}.ciwa_ar", "int", f"{_s}: CIWA-Ar score.")
    _f(f"{_p}.cows", "int", f"{_s}: COWS score.")
    _f(
        f"{_p}.remission",
        "enum",
        f"{_s}: DSM-5 remission; derived as none when not recorded and the last use is within 90 days.",
        v.REMISSION_STATES,
    )
    _f(
        f"{_p}.days_since_nonprescribed_use",
        "int",
        f"{_s}: whole days since the last use not as prescribed (last_nonprescribed_use; else last_use "
        "unless a prescribed drug of the class is recorded, then unknown).",
    )
    _f(f"{_p}.treatment", "text_list", f"{_s}: current medication treatment, ingredient names.")
_f("psychiatric.psychotic_disorder", "enum", "Personal history of psychosis.", v.PSYCHOSIS_HISTORY)
_f("psychiatric.family_history_psychosis", "bool", "First-degree relative with a psychotic disorder.")
_f("psychiatric.bipolar_disorder", "enum", "Bipolar disorder.", v.BIPOLAR)
_f("psychiatric.mania", "enum", "Mania or hypomania.", v.MANIA)
_f("psychiatric.suicidal_ideation", "enum", "Suicidal ideation, past month.", v.SUICIDAL_IDEATION)
_f(
    "psychiatric.suicidal_behavior_past_3_months",
    "bool",
    "Suicidal behaviour in the past 3 months (recorded, or derived from last_suicidal_behavior).",
)
_f("psychiatric.suicidal_behavior_ever", "bool", "Any suicidal behaviour recorded (last_suicidal_behavior).")
_f("psychiatric.days_since_suicidal_behavior", "int", "Whole days since the most recent suicidal behaviour.")
_f("psychiatric.conditions", "enum_list", "Co-occurring psychiatric conditions.", tuple(v.PSYCHIATRIC_CONDITIONS))
_f("medical.conditions", "enum_list", "Medical conditions.", tuple(v.MEDICAL_CONDITIONS))
_f("medical.coronary_event", "bool", "Any myocardial infarction, acute coronary syndrome or revascularisation.")
_f(
    "medical.days_since_coronary_event",
    "int",
    "Days since the most recent coronary event; unknown if any coronary event has no date.",
)
_f("medical.heart_failure_nyha_class", "enum", "Highest NYHA class recorded for heart failure.", v.NYHA_CLASSES)
_f("medical.cirrhosis_child_pugh_class", "enum", "Highest Child-Pugh class recorded.", v.CHILD_PUGH_CLASSES)
_f(
    "medical.cirrhosis_decompensated",
    "bool",
    "Cirrhosis recorded as decompensated (ascites, variceal bleeding or encephalopathy) on any entry.",
)
_f("medical.hyperthyroidism_controlled", "bool", "Hyperthyroidism recorded as controlled.")
_f("medical.arrhythmia_controlled", "bool", "Arrhythmia recorded as controlled.")
_f("medical.valve_disease_significant", "bool", "Valve disease recorded as haemodynamically significant.")
_f(
    "medications.classes",
    "enum_list",
    "Interaction classes of current medications (medications and substance_use[].treatment).",
    v.DRUG_CLASSES,
)
_f(
    "medications.ingredients",
    "text_list",
    "Current medication ingredients the terminology tables recognise, from names, brands, salts, "
    "combinations and RxNorm codes (proposed ones are in medications.proposed).",
)
_f("medications.proposed", "text_list", "Ingredients of proposed medications (draft or proposed orders).")
for _c in v.DRUG_CLASSES:
    _f(
        f"medications.by_class.{_c}",
        "text_list",
        f"Current (and, marked, proposed) medications in the {_c} class (for messages).",
    )
_f(
    "medications.unchecked",
    "text_list",
    "Medication names (or parts of combinations) the tables do not recognise: not checked for interactions.",
)
_f("medications.any_unchecked", "bool", "Any current or proposed medication not recognised by the tables.")
_f("allergies.agents", "text_list", "Allergy agents: recognised ingredients, and unrecognised names in lower case.")
_f("allergies.ketamine", "bool", "Allergy to any ketamine product, salt or brand (ketamine, esketamine, arketamine).")
_f("allergies.unrecognised", "text_list", "Allergy entries the tables do not recognise.")
_f("conditions.unrecognised", "text_list", "Condition entries (medical or psychiatric) the tables do not recognise.")
_f("ketamine_history.prior_exposure", "enum", "Prior ketamine exposure.", v.KETAMINE_EXPOSURE)
_f("ketamine_history.misuse", "bool", "Any history of ketamine or PCP misuse.")
_f("screening.phq9", "int", "PHQ-9 total, 0-27.")
_f("screening.audit", "int", "AUDIT total, 0-40.")
_f("screening.cssrs_screen", "enum", "C-SSRS screen result.", v.CSSRS_SCREEN)
_f("context.setting_preference", "enum", "Preferred setting.", v.SETTINGS)
_f("context.support_person_available", "bool", "A responsible adult present after an at-home session.")
_f("context.secure_storage", "bool", "Medication can be stored locked at home.")
_f("context.prior_supervised_dose_tolerated", "bool", "A supervised in-clinic dose was tolerated before.")

#: Short labels for the fields clinicians read most in checklists and explanations.
LABELS: dict[str, str] = {
    "patient.age": "age (years)",
    "vitals.bp_systolic_mmhg": "mean systolic BP (mmHg)",
    "vitals.bp_diastolic_mmhg": "mean diastolic BP (mmHg)",
    "vitals.bp_days_since": "days since the BP reading",
    "vitals.heart_rate_bpm": "resting heart rate (bpm)",
    "pregnancy.possible": "can become pregnant",
    "pregnancy.status": "pregnancy status",
    "pregnancy.test_pending": "pregnancy test pending",
    "pregnancy.days_since_negative_test": "days since the last negative pregnancy test",
    "pregnancy.breastfeeding": "breastfeeding",
    "substance_use.substances": "substance use disorders",
    "substance_use.any_intoxicated": "acutely intoxicated",
    "substance_use.any_active_withdrawal": "withdrawal active",
    "substance_use.days_since_stimulant_use": "days since stimulant use",
    "substance_use.max_ciwa_ar": "highest CIWA-Ar score",
    "substance_use.max_cows": "highest COWS score",
    "psychiatric.suicidal_ideation": "suicidal ideation",
    "psychiatric.suicidal_behavior_past_3_months": "suicidal behaviour in the past 3 months",
    "screening.cssrs_screen": "C-SSRS screen",
    "medications.classes": "current medication classes",
    "medical.conditions": "medical conditions",
    "psychiatric.conditions": "co-occurring conditions",
}


def label(name: str) -> str:
    """A field as a clinician reads it (``substance_use.alcohol.ciwa_ar`` -> ``alcohol CIWA-Ar``)."""
    if name in LABELS:
        return LABELS[name]
    parts = name.split(".")
    if parts[0] == "substance_use" and len(parts) == 3:
        attr = {"ciwa_ar": "CIWA-Ar", "cows": "COWS"}.get(parts[2], parts[2].replace("_", " "))
        return f"{parts[1].replace('_', ' ')} {attr}"
    return parts[-1].replace("_", " ")


#: Dated data whose age a protocol may limit (``freshness``), and the fields it feeds.
DATED_SOURCES: dict[str, tuple[str, ...]] = {
    "blood_pressure": ("vitals.bp_systolic_mmhg", "vitals.bp_diastolic_mmhg"),
}
_AGE_FIELD = {"blood_pressure": "vitals.bp_days_since"}


@dataclass(frozen=True)
class StaleData:
    """Dated data older than the protocol allows: reported, and never used."""

    source: str
    days_old: int
    max_age_days: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Derived:
    """A fact the profile did not record but the builder derived (reported, so it is never mistaken
    for a recorded value)."""

    field: str
    value: Value
    reason: str


@dataclass(frozen=True)
class Unresolved:
    """A fact taken from the worst of repeated entries while another entry lacks the detail that could
    make it worse: the finding stands, and the missing detail is reported as could-not-check."""

    field: str
    reason: str


@dataclass
class FactSet:
    """The facts of one profile, what was stale, what was derived, and what repeated entries left open."""

    values: Facts
    stale: list[StaleData] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)


#: Words in a cirrhosis entry's name that say it is decompensated ("cirrhosis with ascites").
_DECOMPENSATION_WORDS = re.compile(r"decompensat|ascites|varic|encephalopath", re.IGNORECASE)

#: Remission cannot have begun within this many days of the last non-prescribed use (DSM-5: early
#: remission needs at least 3 months without criteria; 90 days, counted conservatively).
REMISSION_MIN_DAYS = 90


def text_list(facts: Facts, name: str) -> tuple[str, ...] | None:
    """A list fact, or None when unknown."""
    value = facts.get(name)
    return value if isinstance(value, tuple) else None


def round_half_up(x: float) -> int:
    """Round half up (reference 0.2), not Python's half-to-even."""
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _any3(values: list[bool | None]) -> bool | None:
    if any(x is True for x in values):
        return True
    return None if any(x is None for x in values) else False


def build_facts(
    profile: Profile,
    as_of: dt.date,
    freshness: dict[str, int] | None = None,
    resolved: term.Resolved | None = None,
) -> FactSet:
    """The facts of ``profile`` on ``as_of``; ``freshness`` maps a dated source to its maximum age;
    ``resolved`` is ``terminology.resolve(profile)`` when the caller has it already."""
    out: Facts = {}

    def put(name: str, value: Value | None) -> None:
        if value is not None:
            out[name] = value

    def days(when: dt.date | None) -> int | None:
        return None if when is None else (as_of - when).days

    derived: list[Derived] = []
    unresolved: list[Unresolved] = []
    res = resolved if resolved is not None else term.resolve(profile)
    p = profile.patient
    if p:
        put("patient.age", p.age)
        put("patient.sex_at_birth", p.sex_at_birth)
        put("patient.weight_kg", p.weight_in_kg)
    male = bool(p and p.sex_at_birth == "male")
    preg = profile.pregnancy
    if preg is None:
        if male:
            put("pregnancy.possible", False)
            put("pregnancy.breastfeeding", False)
    else:
        possible = preg.can_become_pregnant
        put("pregnancy.possible", possible)
        status = None if preg.status == "unknown" else preg.status
        named = res.current("pregnancy", as_of, PREGNANCY_ENTRY_MAX_DAYS)
        if status is None and named:
            status = "pregnant"  # a pregnancy named in a condition list: never read as unknown
            derived.append(
                Derived(
                    "pregnancy.status",
                    "pregnant",
                    "a condition entry names a current pregnancy and pregnancy.status is not recorded: read as "
                    "pregnant. Record pregnancy.status to override.",
                )
            )
        put("pregnancy.status", status)
        put("pregnancy.test_pending", preg.test_pending)
        put("pregnancy.days_since_negative_test", days(preg.last_negative_test))
        put("pregnancy.breastfeeding", preg.breastfeeding)

    stale: list[StaleData] = []
    vit = profile.vitals
    if vit:
        put("vitals.heart_rate_bpm", vit.heart_rate_bpm)
        if vit.blood_pressure:
            latest = max(r.taken_at for r in vit.blood_pressure)
            same_day = [r for r in vit.blood_pressure if r.taken_at == latest]
            age = days(latest)
            put("vitals.bp_days_since", age)
            put("vitals.bp_readings", len(same_day))
            limit = (freshness or {}).get("blood_pressure")
            if limit is not None and age is not None and age > limit:
                stale.append(StaleData("blood_pressure", age, limit, DATED_SOURCES["blood_pressure"]))
            else:
                put("vitals.bp_systolic_mmhg", round_half_up(sum(r.systolic_mmhg for r in same_day) / len(same_day)))
                put("vitals.bp_diastolic_mmhg", round_half_up(sum(r.diastolic_mmhg for r in same_day) / len(same_day)))

    meds_known = profile.medications is not None
    suds = profile.substance_use
    if suds is not None:
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
        stimulant = [s for s in suds if s.substance in ("cocaine", "methamphetamine", "other_stimulants")]
        used = [s.last_use for s in stimulant if s.last_use is not None]
        if used:  # the most recent known use decides; a missing date is reported by its own rule
            put("substance_use.days_since_stimulant_use", min(days(d) or 0 for d in used))
        current_classes = term.current_classes(res, meds_known)
        for s in suds:
            pre = f"substance_use.{s.substance}"
            put(f"{pre}.severity", s.severity)
            put(f"{pre}.days_since_last_use", days(s.last_use))
            put(f"{pre}.withdrawal", s.withdrawal)
            put(f"{pre}.intoxicated", s.intoxicated)
            put(f"{pre}.ciwa_ar", s.ciwa_ar)
            put(f"{pre}.cows", s.cows)
            put(f"{pre}.remission", s.remission)
            since = days(term.nonprescribed_use(s, current_classes))
            if s.remission is None and since is not None and since <= REMISSION_MIN_DAYS:
                put(f"{pre}.remission", "none")
                derived.append(
                    Derived(
                        f"{pre}.remission",
                        "none",
                        f"{s.substance.replace('_', ' ')}: remission not recorded and the last "
                        f"{'non-prescribed ' if s.substance in term.PRESCRIBED_FOR else ''}use {since} days ago; "
                        "DSM-5 remission needs at least 3 months without criteria, so it is read as none. "
                        "Record remission to override.",
                    )
                )
            put(f"{pre}.days_since_nonprescribed_use", since)
            if s.treatment is not None:
                tmatches = [m for _, _, m in res.treatments.get(s.substance, [])]
                names = tuple(
                    sorted({i for m in tmatches for i in m.ingredients} | {u for m in tmatches for u in m.unknown})
                )
                put(f"{pre}.treatment", names)

    psy = profile.psychiatric
    # A diagnosis named in a condition list (schizophrenia, bipolar disorder, mania) fills the
    # structured field when that is unknown; a recorded value stays authoritative, and a recorded
    # "none" against such an entry is rejected as a contradiction (profile.check_consistency).
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
        last = psy.last_suicidal_behavior
        dated = [d for _, d in res.named.get("suicidal_behavior", []) if isinstance(d, dt.date)]
        if last is None and dated:  # a dated attempt in a condition list: its date counts
            last = max(dated)
            derived.append(
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
            put("psychiatric.days_since_suicidal_behavior", days(last))
            if past_3 is None:
                past_3 = (days(last) or 0) <= 90
        put("psychiatric.suicidal_behavior_past_3_months", past_3)
        if psy.conditions is not None:
            put("psychiatric.conditions", tuple(sorted({slug for _, slug in res.psych})))

    conds = profile.medical_conditions
    if conds is not None:
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
            put("medical.days_since_coronary_event", min(days(d) or 0 for d in dated))
            if len(dated) < len(coronary):
                unresolved.append(Unresolved("medical.days_since_coronary_event", "a coronary event entry has no date"))
        worst = _worst(
            put, "medical.heart_failure_nyha_class", pairs, "heart_failure", lambda c: c.nyha_class, v.NYHA_CLASSES
        )
        if worst:
            unresolved.append(Unresolved("medical.heart_failure_nyha_class", "a heart failure entry has no nyha_class"))
        worst = _worst(
            put,
            "medical.cirrhosis_child_pugh_class",
            pairs,
            "cirrhosis",
            lambda c: c.child_pugh_class,
            v.CHILD_PUGH_CLASSES,
        )
        if worst:
            unresolved.append(
                Unresolved("medical.cirrhosis_child_pugh_class", "a cirrhosis entry has no child_pugh_class")
            )
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

    if meds_known or res.proposed:
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
    if conds is not None or (psy is not None and psy.conditions is not None):
        put(
            "conditions.unrecognised",
            tuple(sorted({r.entry for r in res.review if r.list in ("medical_conditions", "psychiatric.conditions")})),
        )

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
    _open_world(out, set(profile.incomplete_lists or ()))
    return FactSet(out, stale, derived, [u for u in unresolved if u.field in out])


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


#: Fields that only mean something together: a what-if varies them jointly.
FIELD_GROUPS: dict[str, tuple[tuple[str, ...], str]] = {
    "vitals.bp_systolic_mmhg": (("vitals.bp_systolic_mmhg", "vitals.bp_diastolic_mmhg"), "blood pressure"),
    "vitals.bp_diastolic_mmhg": (("vitals.bp_systolic_mmhg", "vitals.bp_diastolic_mmhg"), "blood pressure"),
}


#: Plausible ranges for --what-if numbers (the profile's own limits, reference 0.4); other numbers are
#: counts, scores or days: never negative.
_WHAT_IF_RANGE: dict[str, tuple[float, float]] = {
    "patient.age": (0, 120),
    "patient.weight_kg": (0.1, 650),
    "vitals.bp_systolic_mmhg": (50, 300),
    "vitals.bp_diastolic_mmhg": (20, 200),
    "vitals.heart_rate_bpm": (20, 250),
    "screening.phq9": (0, 27),
    "screening.audit": (0, 40),
    "substance_use.max_ciwa_ar": (0, 67),
    "substance_use.max_cows": (0, 48),
}


def _range_of(name: str) -> tuple[float, float]:
    if name.endswith(".ciwa_ar"):
        return (0, 67)
    if name.endswith(".cows"):
        return (0, 48)
    return (0, 100_000)


def parse_fact_value(name: str, text: str) -> Value | None:
    """A ``--what-if FIELD=VALUE`` value, typed by the field; ``unknown`` makes the field unknown."""
    spec = FIELDS.get(name)
    if spec is None:
        hint = v.suggest(name, list(FIELDS))
        raise ValueError(
            f"no fact field {name!r}" + (f"; did you mean {hint!r}?" if hint else "") + " (see docs/reference.md)"
        )
    if text == "unknown":
        return None
    if spec.type == "bool":
        if text not in ("true", "false"):
            raise ValueError(f"{name} takes true, false or unknown")
        return text == "true"
    if spec.type in ("int", "number"):
        try:
            number: int | float = int(text) if spec.type == "int" else float(text)
        except ValueError:
            raise ValueError(f"{name} takes a {'whole ' if spec.type == 'int' else ''}number") from None
        low, high = _WHAT_IF_RANGE.get(name, _range_of(name))
        if not math.isfinite(number) or not low <= number <= high:
            raise ValueError(f"{name} takes a value from {low:g} to {high:g} (got {text!r})")
        return number
    if spec.type == "enum":
        if text not in spec.vocabulary:
            raise ValueError(f"{name} takes one of {', '.join(spec.vocabulary)}")
        return text
    items = tuple(sorted({x.strip() for x in text.split(",") if x.strip()}))
    bad = [x for x in items if spec.type == "enum_list" and x not in spec.vocabulary]
    if bad:
        raise ValueError(f"{name}: {', '.join(bad)} not in {', '.join(spec.vocabulary)}")
    return items
