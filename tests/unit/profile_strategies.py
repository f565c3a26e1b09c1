"""Hypothesis strategies for whole patient profiles: every section, every vocabulary value, boundaries.

Generated profiles are valid and consistent on ``AS_OF`` (no date after it, systolic above
diastolic, no pregnancy where it is recorded impossible), and any field may be absent (unknown).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from kapdecide.core import vocabulary as v

AS_OF = dt.date(2026, 11, 21)

#: Numbers at and beside the protocol's thresholds, plus the plausibility limits.
SYSTOLIC = st.sampled_from([50, 100, 118, 129, 130, 139, 140, 141, 150, 179, 180, 181, 299, 300])
DIASTOLIC = st.sampled_from([20, 60, 76, 79, 80, 89, 90, 91, 109, 110, 111, 199])
HEART_RATE = st.sampled_from([20, 59, 60, 72, 99, 100, 101, 130, 131, 250])
AGES = st.sampled_from([0, 16, 17, 18, 19, 42, 64, 65, 66, 90, 120])
DAYS = st.sampled_from([0, 1, 2, 4, 5, 6, 7, 8, 14, 29, 30, 31, 42, 43, 364, 365, 366, 400, 4000])


def _date(days_before: int) -> str:
    return (AS_OF - dt.timedelta(days=days_before)).isoformat()


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or absent (None is dropped by ``_section``)."""
    return st.one_of(st.none(), strategy)


@st.composite
def _section(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    out = {}
    for key, strategy in fields.items():
        value = draw(_maybe(strategy))
        if value is not None:
            out[key] = value
    return out


@st.composite
def _bp_reading(draw: st.DrawFn) -> dict[str, Any]:
    systolic = draw(SYSTOLIC)
    diastolic = draw(DIASTOLIC.filter(lambda d: d < systolic))
    return {"systolic_mmhg": systolic, "diastolic_mmhg": diastolic, "taken_at": _date(draw(DAYS))}


@st.composite
def _substance(draw: st.DrawFn, substance: str) -> dict[str, Any]:
    entry = {"substance": substance}
    entry.update(
        draw(
            _section(
                {
                    "severity": st.sampled_from(v.SEVERITIES),
                    "withdrawal": st.sampled_from(v.WITHDRAWAL_STATES),
                    "ciwa_ar": st.sampled_from([0, 7, 8, 15, 67]),
                    "cows": st.sampled_from([0, 4, 5, 12, 48]),
                    "treatment": st.lists(
                        st.sampled_from(
                            ["naltrexone", "buprenorphine", "methadone", "acamprosate", "lorazepam", "unknownium"]
                        ),
                        max_size=2,
                        unique=True,
                    ),
                }
            )
        )
    )
    last = draw(_maybe(DAYS))
    if last is not None:
        entry["last_use"] = _date(last)
        if last <= 1:
            entry.update(draw(_section({"intoxicated": st.booleans()})))
        else:
            entry.update(draw(_section({"intoxicated": st.just(False)})))
        if last >= 365:
            entry.update(draw(_section({"remission": st.sampled_from(v.REMISSION_STATES)})))
        else:
            entry.update(draw(_section({"remission": st.sampled_from(("none", "early"))})))
    if substance in ("opioids", "sedatives"):  # prescribed and non-prescribed use told apart
        # never after the last use of any kind (a contradiction the profile rejects)
        days = DAYS if last is None else st.integers(min_value=last, max_value=last + 400)
        entry.update(draw(_section({"last_nonprescribed_use": days.map(_date)})))
    return entry


#: Conditions as records write them: synonyms, codes and words outside the vocabulary.
CONDITIONS_AS_WRITTEN = (
    "heart attack",
    "high blood pressure",
    "asthma",
    "Alzheimer's disease",
    "atrial fibrillation",
    {"system": "icd-10-cm", "code": "I63.9"},
    {"system": "snomed", "code": "38341003"},
)


@st.composite
def _medical_condition(draw: st.DrawFn) -> Any:
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        return draw(st.sampled_from(CONDITIONS_AS_WRITTEN))
    slug = draw(st.sampled_from(tuple(v.MEDICAL_CONDITIONS)))
    if not draw(st.booleans()):
        return slug
    entry: dict[str, Any] = {"condition": slug}
    entry.update(
        draw(
            _section(
                {
                    "date": DAYS.map(_date),
                    "nyha_class": st.sampled_from(v.NYHA_CLASSES),
                    "child_pugh_class": st.sampled_from(v.CHILD_PUGH_CLASSES),
                    "controlled": st.booleans(),
                    "haemodynamically_significant": st.booleans(),
                }
            )
        )
    )
    return entry


@st.composite
def profiles(draw: st.DrawFn) -> dict[str, Any]:
    """A valid, consistent profile as plain data (what a YAML file would hold)."""
    sex = draw(_maybe(st.sampled_from(v.SEX_AT_BIRTH)))
    profile: dict[str, Any] = {"assessed_on": AS_OF.isoformat()}
    patient = draw(_section({"age": AGES, "weight_kg": st.sampled_from([0.5, 40, 68.0, 84.5, 120.25, 650])}))
    if "weight_kg" not in patient and draw(st.booleans()):
        patient["weight_lb"] = draw(st.sampled_from([90, 186, 250.5]))
    if sex:
        patient["sex_at_birth"] = sex
    if patient or draw(st.booleans()):
        profile["patient"] = patient
    if sex != "male" or draw(st.booleans()):
        can = draw(_maybe(st.booleans()))
        preg = draw(
            _section(
                {
                    "last_negative_test": DAYS.map(_date),
                    "breastfeeding": st.booleans(),
                }
            )
        )
        if can is not None:
            preg["can_become_pregnant"] = can
        if can is not False and sex != "male":
            preg.update(
                draw(
                    _section(
                        {
                            "status": st.sampled_from(v.PREGNANCY_STATUS),
                            "test_pending": st.booleans(),
                        }
                    )
                )
            )
        if draw(st.booleans()) or preg:
            profile["pregnancy"] = preg
    vitals = draw(
        _section(
            {
                "blood_pressure": st.lists(_bp_reading(), min_size=0, max_size=3),
                "heart_rate_bpm": HEART_RATE,
            }
        )
    )
    if vitals or draw(st.booleans()):
        profile["vitals"] = vitals
    subs = draw(_maybe(st.lists(st.sampled_from(v.SUBSTANCES), max_size=3, unique=True)))
    if subs is not None:
        profile["substance_use"] = [draw(_substance(s)) for s in subs]
    profile_psy = draw(
        _section(
            {
                "psychotic_disorder": st.sampled_from(v.PSYCHOSIS_HISTORY),
                "family_history_psychosis": st.booleans(),
                "bipolar_disorder": st.sampled_from(v.BIPOLAR),
                "mania": st.sampled_from(v.MANIA),
                "suicidal_ideation": st.sampled_from(v.SUICIDAL_IDEATION),
                "suicidal_behavior_past_3_months": st.booleans(),
                "conditions": st.lists(st.sampled_from(tuple(v.PSYCHIATRIC_CONDITIONS)), max_size=3, unique=True),
            }
        )
    )
    if draw(st.booleans()):  # the date of the last suicidal behaviour, consistent with the 3-month flag
        past_3 = profile_psy.get("suicidal_behavior_past_3_months")
        if past_3 is True:
            profile_psy["last_suicidal_behavior"] = _date(draw(st.sampled_from([0, 45, 90])))
        else:
            profile_psy["last_suicidal_behavior"] = draw(
                st.sampled_from(["none", _date(91), _date(200), _date(365), _date(366), _date(900)])
                if past_3 is False
                else st.sampled_from(["none", _date(10), _date(90), _date(91), _date(365), _date(366)])
            )
    if profile_psy or draw(st.booleans()):
        profile["psychiatric"] = profile_psy
    # what records write: ingredients, brands with doses, salts, combinations, codes, and unknown names
    as_written = st.sampled_from(
        [
            "Xanax 0.5 mg",
            "Suboxone 8/2 mg",
            "oxycodone and acetaminophen",
            "ketamine hydrochloride",
            "metformin 500 mg",
            {"system": "rxnorm", "code": "1010600"},
            {"ingredient": "Zoloft", "dose": "50 mg"},
        ]
    )
    meds = st.lists(st.one_of(st.sampled_from(tuple(v.MEDICATIONS)), st.just("Unknownium"), as_written), max_size=4)
    rest = draw(
        _section(
            {
                "medical_conditions": st.lists(_medical_condition(), max_size=3),
                "medications": meds,
                "allergies": st.lists(
                    st.sampled_from(["ketamine", "Esketamine", "penicillin", "latex", "Ketalar", "sulfa drugs"]),
                    max_size=2,
                ),
                "ketamine_history": _section(
                    {"prior_exposure": st.sampled_from(v.KETAMINE_EXPOSURE), "misuse": st.booleans()}
                ),
                "screening": _section(
                    {
                        "phq9": st.sampled_from([0, 9, 10, 27]),
                        "audit": st.sampled_from([0, 7, 8, 20, 40]),
                        "cssrs_screen": st.sampled_from(v.CSSRS_SCREEN),
                    }
                ),
                "context": _section(
                    {
                        "setting_preference": st.sampled_from(v.SETTINGS),
                        "support_person_available": st.booleans(),
                        "secure_storage": st.booleans(),
                        "prior_supervised_dose_tolerated": st.booleans(),
                    }
                ),
            }
        )
    )
    profile.update(rest)
    return profile


#: A complete profile that the shipped protocol finds eligible (an adult man with alcohol use disorder).
ELIGIBLE_BASE: dict[str, Any] = {
    "assessed_on": AS_OF.isoformat(),
    "patient": {"age": 42, "sex_at_birth": "male", "weight_kg": 80.0},
    "vitals": {
        "blood_pressure": [{"systolic_mmhg": 118, "diastolic_mmhg": 76, "taken_at": AS_OF.isoformat()}],
        "heart_rate_bpm": 72,
    },
    "substance_use": [
        {
            "substance": "alcohol",
            "severity": "severe",
            "last_use": _date(14),
            "withdrawal": "completed",
            "intoxicated": False,
            "remission": "early",
            "treatment": [],
        }
    ],
    "psychiatric": {
        "psychotic_disorder": "none",
        "family_history_psychosis": False,
        "bipolar_disorder": "none",
        "mania": "none",
        "suicidal_ideation": "none",
        "suicidal_behavior_past_3_months": False,
        "conditions": [],
    },
    "medical_conditions": [],
    "medications": [],
    "allergies": [],
    "ketamine_history": {"prior_exposure": "none", "misuse": False},
    "screening": {"cssrs_screen": "negative"},
}


@st.composite
def near_eligible_profiles(draw: st.DrawFn) -> dict[str, Any]:
    """The eligible base with 0-2 sections replaced by generated ones (or removed): every status occurs."""
    profile = dict(ELIGIBLE_BASE)
    other = draw(profiles())
    for key in draw(st.lists(st.sampled_from(sorted(set(ELIGIBLE_BASE) - {"assessed_on"})), max_size=2, unique=True)):
        if key in other:
            profile[key] = other[key]
        else:
            profile.pop(key)
    if "patient" in profile and "pregnancy" in other and profile["patient"].get("sex_at_birth") != "male":
        profile["pregnancy"] = other["pregnancy"]
    if draw(st.booleans()):  # a current medication, so interaction and precaution paths are common
        profile["medications"] = [draw(st.sampled_from(tuple(v.MEDICATIONS)))]
    return profile
