"""The fact schema: the fields protocol conditions may test, and the results of building facts.

``fact_builder.build_facts`` turns a profile into facts.

Facts are a flat mapping from a dotted field name to a typed value. A field that is absent is
*unknown*; the builder never fills an unknown with a default. Derived fields (mean blood pressure,
days since an event) are computed here once, so that the rules engine and the Python evaluator see
exactly the same values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from kapdecide.core import vocabulary as v

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


def text_list(facts: Facts, name: str) -> tuple[str, ...] | None:
    """A list fact, or None when unknown."""
    value = facts.get(name)
    return value if isinstance(value, tuple) else None


def round_half_up(x: float) -> int:
    """Round half up (reference 0.2), not Python's half-to-even."""
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


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
