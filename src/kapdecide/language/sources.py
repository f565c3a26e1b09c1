"""Where each fact comes from in the profile, and how to ask for it when it is missing.

A report's data to collect names what the clinician records (``pregnancy.can_become_pregnant``),
never a fact the profile does not accept (``pregnancy.possible``), and says it in plain words.
"""

from __future__ import annotations

from kapdecide.core import vocabulary as v

_BP = ("vitals.blood_pressure", "a current blood pressure (seated, after 5 minutes' rest, at least two readings)")
_SUDS = ("substance_use", "the substance use disorders, each with its substance ([] for none)")
_MEDS = ("medications", "every current medication, by name or RxNorm code ([] for none)")
_ALLERGIES = ("allergies", "allergies, by agent ([] for none)")
_MEDICAL = ("medical_conditions", "medical conditions ([] for none)")

#: fact field -> (profile path, what to ask)
SOURCES: dict[str, tuple[str, str]] = {
    "patient.age": ("patient.age", "age in years"),
    "patient.sex_at_birth": ("patient.sex_at_birth", "sex at birth"),
    "patient.weight_kg": ("patient.weight_kg", "body weight in kg, with the date of weighing"),
    "pregnancy.possible": ("pregnancy.can_become_pregnant", "can the patient become pregnant?"),
    "pregnancy.status": ("pregnancy.status", "is the patient pregnant? (a pregnancy test result)"),
    "pregnancy.test_pending": ("pregnancy.test_pending", "is a pregnancy test result still awaited?"),
    "pregnancy.days_since_negative_test": (
        "pregnancy.last_negative_test",
        "date of the last negative pregnancy test",
    ),
    "pregnancy.breastfeeding": ("pregnancy.breastfeeding", "is the patient breastfeeding?"),
    "vitals.bp_systolic_mmhg": _BP,
    "vitals.bp_diastolic_mmhg": _BP,
    "vitals.bp_days_since": _BP,
    "vitals.bp_readings": _BP,
    "vitals.heart_rate_bpm": ("vitals.heart_rate_bpm", "resting heart rate (bpm)"),
    "substance_use.substances": _SUDS,
    "substance_use.count": _SUDS,
    "substance_use.any_intoxicated": ("substance_use[].intoxicated", "is the patient acutely intoxicated?"),
    "substance_use.any_active_withdrawal": ("substance_use[].withdrawal", "withdrawal state for each substance"),
    "substance_use.max_ciwa_ar": ("substance_use[].ciwa_ar", "CIWA-Ar score (alcohol withdrawal)"),
    "substance_use.max_cows": ("substance_use[].cows", "COWS score (opioid withdrawal)"),
    "substance_use.all_last_use_recorded": ("substance_use[].last_use", "date of last use for each substance"),
    "substance_use.all_state_recorded": (
        "substance_use[].withdrawal",
        "withdrawal state and intoxication for each substance",
    ),
    "substance_use.days_since_stimulant_use": ("substance_use[].last_use", "date of the last stimulant use"),
    "psychiatric.psychotic_disorder": ("psychiatric.psychotic_disorder", "any personal history of psychosis?"),
    "psychiatric.family_history_psychosis": (
        "psychiatric.family_history_psychosis",
        "a first-degree relative with a psychotic disorder?",
    ),
    "psychiatric.bipolar_disorder": ("psychiatric.bipolar_disorder", "bipolar disorder (none, bipolar I, II)?"),
    "psychiatric.mania": ("psychiatric.mania", "any mania or hypomania, past or current?"),
    "psychiatric.suicidal_ideation": ("psychiatric.suicidal_ideation", "suicidal ideation in the past month?"),
    "psychiatric.suicidal_behavior_past_3_months": (
        "psychiatric.suicidal_behavior_past_3_months",
        "any suicidal behaviour in the past 3 months?",
    ),
    "psychiatric.suicidal_behavior_ever": (
        "psychiatric.last_suicidal_behavior",
        "date of the last suicidal behaviour (or none)",
    ),
    "psychiatric.days_since_suicidal_behavior": (
        "psychiatric.last_suicidal_behavior",
        "date of the last suicidal behaviour (or none)",
    ),
    "psychiatric.conditions": ("psychiatric.conditions", "co-occurring psychiatric conditions ([] for none)"),
    "medical.conditions": _MEDICAL,
    "medical.coronary_event": _MEDICAL,
    "medical.days_since_coronary_event": ("medical_conditions[].date", "date of each coronary event"),
    "medical.heart_failure_nyha_class": ("medical_conditions[].nyha_class", "NYHA class of the heart failure"),
    "medical.cirrhosis_child_pugh_class": ("medical_conditions[].child_pugh_class", "Child-Pugh class"),
    "medical.cirrhosis_decompensated": ("medical_conditions[].decompensated", "is the cirrhosis decompensated?"),
    "medical.hyperthyroidism_controlled": ("medical_conditions[].controlled", "is the hyperthyroidism controlled?"),
    "medical.arrhythmia_controlled": ("medical_conditions[].controlled", "is the arrhythmia controlled?"),
    "medical.valve_disease_significant": (
        "medical_conditions[].haemodynamically_significant",
        "is the valve disease haemodynamically significant?",
    ),
    "medications.classes": _MEDS,
    "medications.ingredients": _MEDS,
    "medications.unchecked": _MEDS,
    "medications.any_unchecked": _MEDS,
    "medications.proposed": ("proposed_medications", "draft or proposed orders ([] for none)"),
    "allergies.agents": _ALLERGIES,
    "allergies.ketamine": _ALLERGIES,
    "allergies.unrecognised": _ALLERGIES,
    "conditions.unrecognised": _MEDICAL,
    "ketamine_history.prior_exposure": ("ketamine_history.prior_exposure", "any prior ketamine exposure?"),
    "ketamine_history.misuse": ("ketamine_history.misuse", "any history of ketamine or PCP misuse?"),
    "screening.phq9": ("screening.phq9", "PHQ-9 total (0-27)"),
    "screening.audit": ("screening.audit", "AUDIT total (0-40)"),
    "screening.cssrs_screen": ("screening.cssrs_screen", "C-SSRS screen result"),
    "context.setting_preference": ("context.setting_preference", "preferred setting: clinic or at home"),
    "context.support_person_available": (
        "context.support_person_available",
        "a responsible adult present after an at-home session?",
    ),
    "context.secure_storage": ("context.secure_storage", "can the medication be stored locked at home?"),
    "context.prior_supervised_dose_tolerated": (
        "context.prior_supervised_dose_tolerated",
        "was a supervised in-clinic dose tolerated before?",
    ),
}

_SUBSTANCE_ATTR: dict[str, tuple[str, str]] = {
    "severity": ("severity", "severity (mild, moderate, severe)"),
    "days_since_last_use": ("last_use", "date of last use"),
    "withdrawal": ("withdrawal", "withdrawal state (none, active, completed)"),
    "intoxicated": ("intoxicated", "acutely intoxicated now?"),
    "ciwa_ar": ("ciwa_ar", "CIWA-Ar score"),
    "cows": ("cows", "COWS score"),
    "remission": ("remission", "remission (none, early, sustained)"),
    "days_since_nonprescribed_use": ("last_nonprescribed_use", "date of the last use not as prescribed"),
    "treatment": ("treatment", "current medication treatment ([] for none)"),
}


def source_of(field: str) -> tuple[str, str]:
    """The profile path to record for ``field`` and the question to ask, in plain words."""
    if field in SOURCES:
        return SOURCES[field]
    parts = field.split(".")
    if parts[0] == "substance_use" and len(parts) == 3 and parts[2] in _SUBSTANCE_ATTR:
        attr, ask = _SUBSTANCE_ATTR[parts[2]]
        return f"substance_use[{parts[1]}].{attr}", f"{v.value_label(parts[1]).replace('_', ' ')}: {ask}"
    if field.startswith("medications.by_class."):
        return _MEDS
    return field, field.rsplit(".", 1)[-1].replace("_", " ")
