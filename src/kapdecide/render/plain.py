"""The clinician's words: status labels and symbols, values without slugs, protocol text without its
authors' tags, and the profile field (and plain question) behind each fact that is missing.

Renderers for people (the HTML report; the text screen may share it) read the report through these,
so a slug (``active_with_plan``), an author tag (DESIGN CHOICE, CONSERVATIVE) or a fact name the
profile does not accept (``pregnancy.possible``) never reaches the clinician.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kapdecide.core import vocabulary as v
from kapdecide.core.operators import OPERATORS
from kapdecide.language.facts import FIELDS, label

STATUS_LABEL = {
    "contraindicated": "Contraindicated",
    "deferred": "Deferred",
    "incomplete": "Incomplete",
    "eligible_with_precautions": "Eligible with precautions",
    "eligible": "Eligible",
}
#: Each status's symbol, readable without colour: a stop sign, a pause, a question, a warning, a tick.
STATUS_SYMBOL = {
    "contraindicated": "stop",
    "deferred": "pause",
    "incomplete": "question",
    "eligible_with_precautions": "warning",
    "eligible": "tick",
}
KIND_TITLE = {
    "contraindication": "Contraindications",
    "deferral": "Reasons to defer",
    "required_data": "Missing safety data",
    "caution": "Cautions",
    "interaction": "Interactions",
    "info": "Notes",
}
GRADE_LABEL = {"high": "high", "moderate": "moderate", "low": "low", "very_low": "very low", "none": "none"}

# ---------------------------------------------------------------- values without slugs

_LABELS: dict[str, str] = {
    **{k: val.split(" (")[0] for k, val in v.PSYCHIATRIC_CONDITIONS.items()},
    **{k: val.split(" (")[0] for k, val in v.MEDICAL_CONDITIONS.items()},
    "other_stimulants": "other stimulants",
    "positive_passive": "positive (passive ideation)",
    "positive_active": "positive (active ideation)",
    "at_home": "at home",
    "not_pregnant": "not pregnant",
    "bipolar_i": "bipolar I",
    "bipolar_ii": "bipolar II",
}
#: Every vocabulary word with an underscore, as it may appear inside protocol text.
_SLUGS = sorted(
    {word for f in FIELDS.values() for word in f.vocabulary if "_" in word} | {k for k in _LABELS if "_" in k},
    key=len,
    reverse=True,
)
_SLUG = re.compile(r"\b(" + "|".join(map(re.escape, _SLUGS)) + r")\b") if _SLUGS else None


def word(value: str) -> str:
    """A vocabulary value as words (``major_depressive_disorder`` -> ``Major depressive disorder``)."""
    return _LABELS.get(value, value.replace("_", " "))


def show(value: Any) -> str:
    """A fact value as a clinician reads it: yes/no, lists joined, vocabulary words, unknown."""
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(show(x) for x in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return word(value)
    return str(value)


def test_words(operator: str, threshold: Any) -> str:
    """A condition's test in words, after the field: "≥ 140", "is one of active with plan, ..."."""
    op = OPERATORS[operator].sign if operator in OPERATORS else operator
    return op if threshold is None else f"{op} {show(threshold)}"


# ---------------------------------------------------------------- protocol text without author tags

_TAG_EDITS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bVERIFY\b"), "unverified"),
    (re.compile(r"\ba DESIGN CHOICE\b"), "a protocol choice"),
    (re.compile(r"\s*\((?:DESIGN CHOICE|CONSERVATIVE)\)"), ""),
    (re.compile(r"\bDISAGREEMENT\b[^;:.()]*[;:]\s*"), ""),
    (re.compile(r"\bDISAGREEMENT\b[^.()]*\.\s*"), ""),
    (re.compile(r"\b(?:DESIGN CHOICE|CONSERVATIVE)\s*:\s*"), ""),
    (re.compile(r"\b(DESIGN CHOICE|CONSERVATIVE|DISAGREEMENT)\b"), "a protocol choice"),
    (re.compile(r"\(\s+"), "("),
    (re.compile(r"\s+([).,;:])"), r"\1"),
    (re.compile(r"\s{2,}"), " "),
)
_SENTENCE_START = re.compile(r"(^|[.!?]\s+)([a-z])")


def clean(text: str) -> str:
    """Protocol text for the clinician: the authors' tags (DESIGN CHOICE, CONSERVATIVE,
    DISAGREEMENT, VERIFY) removed or put in words, vocabulary slugs as words, sentences capitalised.
    The authors' notes stay in the protocol and in ``explain``."""
    out = " ".join(text.split())
    for pattern, repl in _TAG_EDITS:
        out = pattern.sub(repl, out)
    if _SLUG is not None:
        out = _SLUG.sub(lambda m: word(m.group(1)).lower() if m.group(1) in _LABELS else word(m.group(1)), out)
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), out.strip())


def first_clause(text: str) -> str:
    """The first clause of a text (to the first full stop or semicolon), without its end mark."""
    head = re.split(r"(?<=[a-z0-9)])[.;](?:\s|$)", clean(text), maxsplit=1)[0]
    return head.rstrip(" .;:")


# ---------------------------------------------------------------- the data to collect


@dataclass(frozen=True)
class Collect:
    """One item of data to collect: where it goes in the profile, and the question in plain words."""

    field: str
    question: str


_BP = ("vitals.blood_pressure", "Blood pressure: seated, after 5 minutes' rest, two readings, with the date")
_QUESTIONS: dict[str, tuple[str, str]] = {
    "patient.age": ("patient.age", "How old is the patient?"),
    "patient.sex_at_birth": ("patient.sex_at_birth", "Sex at birth (female, male or intersex)?"),
    "patient.weight_kg": ("patient.weight_kg", "Body weight in kg, with the date it was measured"),
    "pregnancy.possible": ("pregnancy.can_become_pregnant", "Can the patient become pregnant?"),
    "pregnancy.status": ("pregnancy.status", "Is the patient pregnant?"),
    "pregnancy.test_pending": ("pregnancy.test_pending", "Is a pregnancy test pending?"),
    "pregnancy.days_since_negative_test": ("pregnancy.last_negative_test", "Date of the last negative pregnancy test"),
    "pregnancy.breastfeeding": ("pregnancy.breastfeeding", "Is the patient breastfeeding?"),
    "vitals.bp_systolic_mmhg": _BP,
    "vitals.bp_diastolic_mmhg": _BP,
    "vitals.bp_days_since": _BP,
    "vitals.bp_readings": _BP,
    "vitals.heart_rate_bpm": ("vitals.heart_rate_bpm", "Resting heart rate (bpm)"),
    "substance_use.substances": ("substance_use", "Which substance use disorders does the patient have?"),
    "substance_use.any_intoxicated": ("substance_use[].intoxicated", "Is the patient acutely intoxicated?"),
    "substance_use.any_active_withdrawal": ("substance_use[].withdrawal", "Is the patient in withdrawal?"),
    "substance_use.all_last_use_recorded": ("substance_use[].last_use", "Date of last use of each substance"),
    "substance_use.all_state_recorded": (
        "substance_use[].withdrawal, substance_use[].intoxicated",
        "Withdrawal and intoxication for each substance",
    ),
    "substance_use.max_ciwa_ar": ("substance_use[].ciwa_ar", "CIWA-Ar score (alcohol or sedative withdrawal)"),
    "substance_use.max_cows": ("substance_use[].cows", "COWS score (opioid withdrawal)"),
    "substance_use.days_since_stimulant_use": ("substance_use[].last_use", "Date of the last stimulant use"),
    "psychiatric.psychotic_disorder": ("psychiatric.psychotic_disorder", "Any personal history of psychosis?"),
    "psychiatric.family_history_psychosis": (
        "psychiatric.family_history_psychosis",
        "A first-degree relative with a psychotic disorder?",
    ),
    "psychiatric.bipolar_disorder": ("psychiatric.bipolar_disorder", "Bipolar disorder?"),
    "psychiatric.mania": ("psychiatric.mania", "Mania or hypomania, now or in the past?"),
    "psychiatric.suicidal_ideation": ("psychiatric.suicidal_ideation", "Suicidal ideation in the past month?"),
    "psychiatric.suicidal_behavior_past_3_months": (
        "psychiatric.suicidal_behavior_past_3_months",
        "Suicidal behaviour in the past 3 months?",
    ),
    "psychiatric.suicidal_behavior_ever": (
        "psychiatric.last_suicidal_behavior",
        "Date of the most recent suicidal behaviour (none if never)",
    ),
    "psychiatric.days_since_suicidal_behavior": (
        "psychiatric.last_suicidal_behavior",
        "Date of the most recent suicidal behaviour",
    ),
    "psychiatric.conditions": ("psychiatric.conditions", "Co-occurring psychiatric conditions ([] for none)"),
    "medical.conditions": ("medical_conditions", "Medical conditions ([] for none)"),
    "medications.classes": ("medications", "Current medications ([] for none)"),
    "medications.ingredients": ("medications", "Current medications ([] for none)"),
    "allergies.agents": ("allergies", "Allergies ([] for none)"),
    "allergies.ketamine": ("allergies", "Allergies ([] for none)"),
    "substance_use.count": ("substance_use", "Which substance use disorders does the patient have?"),
    "medical.coronary_event": ("medical_conditions", "Medical conditions ([] for none)"),
    "medical.days_since_coronary_event": (
        "medical_conditions[].date",
        "Date of each myocardial infarction, acute coronary syndrome or revascularisation",
    ),
    "medical.heart_failure_nyha_class": ("medical_conditions[heart_failure].nyha_class", "Heart failure: NYHA class?"),
    "medical.cirrhosis_child_pugh_class": (
        "medical_conditions[cirrhosis].child_pugh_class",
        "Cirrhosis: Child-Pugh class (A, B, C)?",
    ),
    "medical.cirrhosis_decompensated": (
        "medical_conditions[cirrhosis].decompensated",
        "Cirrhosis: decompensated (ascites, variceal bleeding or encephalopathy)?",
    ),
    "medical.hyperthyroidism_controlled": (
        "medical_conditions[hyperthyroidism].controlled",
        "Hyperthyroidism: controlled?",
    ),
    "medical.arrhythmia_controlled": ("medical_conditions[arrhythmia].controlled", "Arrhythmia: controlled?"),
    "medical.valve_disease_significant": (
        "medical_conditions[valvular_heart_disease].haemodynamically_significant",
        "Valve disease: haemodynamically significant?",
    ),
    "ketamine_history.prior_exposure": ("ketamine_history.prior_exposure", "Prior ketamine exposure?"),
    "ketamine_history.misuse": ("ketamine_history.misuse", "Any history of ketamine or PCP misuse?"),
    "screening.phq9": ("screening.phq9", "PHQ-9 total (0-27)"),
    "screening.audit": ("screening.audit", "AUDIT total (0-40)"),
    "screening.cssrs_screen": ("screening.cssrs_screen", "C-SSRS screen result"),
    "context.setting_preference": ("context.setting_preference", "Preferred setting (clinic or at home)?"),
    "context.support_person_available": (
        "context.support_person_available",
        "A responsible adult present after an at-home session?",
    ),
    "context.secure_storage": ("context.secure_storage", "Can the medication be stored locked at home?"),
    "context.prior_supervised_dose_tolerated": (
        "context.prior_supervised_dose_tolerated",
        "Was a supervised in-clinic dose tolerated before?",
    ),
}
_SUBSTANCE_QUESTIONS = {
    "severity": ("severity", "{s}: severity (mild, moderate, severe)"),
    "days_since_last_use": ("last_use", "{s}: date of last use"),
    "days_since_nonprescribed_use": ("last_nonprescribed_use", "{s}: date of the last use not as prescribed"),
    "withdrawal": ("withdrawal", "{s}: withdrawal now (none, active, completed)?"),
    "intoxicated": ("intoxicated", "{s}: acutely intoxicated?"),
    "ciwa_ar": ("ciwa_ar", "{s}: CIWA-Ar score"),
    "cows": ("cows", "{s}: COWS score"),
    "remission": ("remission", "{s}: remission (none, early, sustained)?"),
    "treatment": ("treatment", "{s}: current medication treatment ([] for none)"),
}


def to_collect(fact_field: str) -> Collect:
    """The profile field and the plain question behind a fact that is missing."""
    if fact_field in _QUESTIONS:
        return Collect(*_QUESTIONS[fact_field])
    parts = fact_field.split(".")
    if parts[0] == "substance_use" and len(parts) == 3 and parts[2] in _SUBSTANCE_QUESTIONS:
        key, question = _SUBSTANCE_QUESTIONS[parts[2]]
        name = word(parts[1])
        return Collect(f"substance_use[{parts[1]}].{key}", question.format(s=name[:1].upper() + name[1:]))
    described = FIELDS[fact_field].description if fact_field in FIELDS else label(fact_field)
    return Collect(fact_field, described)


def collect_list(fact_fields: list[str], stale_days: dict[str, tuple[int, int]]) -> list[Collect]:
    """The data to collect, one item per profile field, in the report's order; a stale source says
    how old its latest value is (``stale_days``: source -> (days old, limit))."""
    out: dict[str, Collect] = {}
    for name in fact_fields:
        item = to_collect(name)
        if item.field == _BP[0] and "blood_pressure" in stale_days:
            old, limit = stale_days["blood_pressure"]
            item = Collect(item.field, f"{item.question} (the latest is {old} days old; the limit is {limit})")
        out.setdefault(item.field, item)
    return list(out.values())
