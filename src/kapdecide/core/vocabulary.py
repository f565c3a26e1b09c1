"""The profile's controlled vocabularies: substances, conditions, and the medication table.

Medication ingredients map to interaction classes. RxNorm ingredient (IN) codes follow the
project's clinical reference (section b); apart from ketamine (6130) they are from the reference
author's knowledge and are marked unverified there, so they are used for display and FHIR matching
hints only, never as the sole basis of a rule.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal, get_args

#: The substances a use disorder is recorded for (profile ``substance_use[].substance``).
Substance = Literal[
    "alcohol",
    "opioids",
    "cocaine",
    "methamphetamine",
    "other_stimulants",
    "cannabis",
    "nicotine",
    "sedatives",
    "hallucinogens",
    "ketamine",
    "other",
]
SUBSTANCES: tuple[Substance, ...] = get_args(Substance)
SEVERITIES = ("mild", "moderate", "severe")
WITHDRAWAL_STATES = ("none", "active", "completed")
REMISSION_STATES = ("none", "early", "sustained")
SEX_AT_BIRTH = ("female", "male", "intersex")
PREGNANCY_STATUS = ("pregnant", "not_pregnant", "unknown")
PSYCHOSIS_HISTORY = ("none", "past", "active")
BIPOLAR = ("none", "bipolar_i", "bipolar_ii")
MANIA = ("none", "past", "active")
SUICIDAL_IDEATION = ("none", "passive", "active_without_plan", "active_with_plan")
CSSRS_SCREEN = ("negative", "positive_passive", "positive_active")
KETAMINE_EXPOSURE = ("none", "medical", "nonmedical")
SETTINGS = ("clinic", "at_home")
NYHA_CLASSES = ("I", "II", "III", "IV")
CHILD_PUGH_CLASSES = ("A", "B", "C")

#: Plain words for the slugs of the profile's closed vocabularies, where the slug is not already
#: plain (``active_with_plan`` reads "active, with a plan"); reports show these, never the slug.
VALUE_LABELS: dict[str, str] = {
    "not_pregnant": "not pregnant",
    "bipolar_i": "bipolar I",
    "bipolar_ii": "bipolar II",
    "active_without_plan": "active, without a plan",
    "active_with_plan": "active, with a plan",
    "positive_passive": "positive (passive ideation)",
    "positive_active": "positive (active ideation)",
    "nonmedical": "non-medical",
    "at_home": "at home",
    "other_stimulants": "other stimulants",
}

#: Co-occurring psychiatric conditions (profile ``psychiatric.conditions``).
PSYCHIATRIC_CONDITIONS: dict[str, str] = {
    "major_depressive_disorder": "Major depressive disorder",
    "treatment_resistant_depression": "Treatment-resistant depression (>=2 adequate antidepressant failures)",
    "persistent_depressive_disorder": "Persistent depressive disorder",
    "ptsd": "Post-traumatic stress disorder",
    "generalized_anxiety_disorder": "Generalized anxiety disorder",
    "panic_disorder": "Panic disorder",
    "social_anxiety_disorder": "Social anxiety disorder",
    "obsessive_compulsive_disorder": "Obsessive-compulsive disorder",
    "adhd": "Attention-deficit/hyperactivity disorder",
    "insomnia": "Insomnia disorder",
    "eating_disorder": "Eating disorder",
    "borderline_personality_disorder": "Borderline personality disorder",
    "chronic_pain": "Chronic pain",
}

#: Medical conditions (profile ``medical_conditions``), with the attributes each may carry.
MEDICAL_CONDITIONS: dict[str, str] = {
    "hypertension": "Diagnosed hypertension",
    "hypertensive_encephalopathy": "Past hypertensive encephalopathy",
    "aneurysmal_vascular_disease": "Aneurysm (intracranial, aortic or peripheral arterial)",
    "arteriovenous_malformation": "Arteriovenous malformation",
    "intracerebral_hemorrhage": "Intracerebral haemorrhage (any history)",
    "ischemic_stroke": "Ischaemic stroke",
    "transient_ischemic_attack": "Transient ischaemic attack",
    "myocardial_infarction": "Myocardial infarction (date matters)",
    "acute_coronary_syndrome": "Acute coronary syndrome (date matters)",
    "coronary_revascularization": "Coronary revascularisation, PCI or CABG (date matters)",
    "stable_coronary_disease": "Stable coronary artery disease",
    "unstable_angina": "Current unstable or rest angina",
    "heart_failure": "Heart failure (nyha_class I-IV; decompensated: nyha_class IV)",
    "valvular_heart_disease": "Valve disease (haemodynamically_significant: true|false)",
    "arrhythmia": "Arrhythmia (controlled: true|false)",
    "raised_intracranial_pressure": "Raised intracranial pressure, intracranial mass, shunt malfunction",
    "angle_closure_glaucoma": "Untreated or acute angle-closure glaucoma",
    "open_angle_glaucoma": "Treated, controlled open-angle glaucoma",
    "penetrating_eye_injury": "Penetrating eye injury",
    "planned_eye_surgery": "Planned eye surgery",
    "cirrhosis": "Cirrhosis (child_pugh_class A-C)",
    "hepatic_impairment": "Hepatic impairment / ALT or AST >3x upper limit",
    "hyperthyroidism": "Hyperthyroidism (controlled: true|false)",
    "ketamine_uropathy": "Ketamine-associated cystitis or uropathy",
    "interstitial_cystitis": "Interstitial cystitis not caused by ketamine",
    "lower_urinary_tract_symptoms": "Unexplained lower urinary tract symptoms",
    "copd": "COPD or significant pulmonary insufficiency",
    "obstructive_sleep_apnea": "Obstructive sleep apnoea",
    "seizure_disorder": "Epilepsy or past withdrawal seizures",
    "dementia": "Dementia (moderate to severe)",
    "delirium": "Current delirium",
    "lacks_capacity": "Cannot give informed consent",
    "mild_cognitive_impairment": "Mild cognitive impairment with capacity",
    "substance_induced_psychosis": "Past psychosis judged substance-induced",
    "diabetes": "Diabetes mellitus",
    "chronic_kidney_disease": "Chronic kidney disease",
}

#: Next-step actions a finding can call for (clinical reference, section e.3), with their labels.
NEXT_STEPS: dict[str, str] = {
    "withdrawal_management": "Withdrawal management first",
    "bp_optimization_then_reassess": "Optimise blood pressure, then reassess",
    "same_day_medical_evaluation": "Same-day medical evaluation (emergency care if symptomatic)",
    "reassess_heart_rate_cause": "Look for the cause of the raised heart rate, then reassess",
    "urgent_safety_evaluation": "Urgent suicide-risk evaluation and higher level of care",
    "safety_plan": "Safety plan",
    "await_pregnancy_test_then_reassess": "Await the pregnancy test result, then reassess",
    "repeat_pregnancy_test": "Repeat the pregnancy test",
    "supervised_benzodiazepine_taper": "Supervised benzodiazepine taper or stabilisation",
    "collect_missing_data": "Collect the missing safety data, then reassess",
    "cardiology_review_then_reassess": "Cardiology review, then reassess",
    "urgent_cardiology_review": "Urgent cardiology review",
    "psychiatric_stabilisation_then_reassess": "Psychiatric stabilisation, then reassess",
    "hepatology_review": "Hepatology review",
    "endocrinology_review": "Endocrinology review",
    "reassess_after_5_days_abstinent": "Reassess after 5 full days without alcohol",
    "adolescent_sud_and_mental_health_services": "Refer to adolescent substance use and mental health services",
    "standard_sud_care": "Offer standard evidence-based SUD care (see Standard care)",
    "moud_stabilisation_then_reassess": "Continue MOUD and stabilise (no non-prescribed opioid use), then reassess",
}

#: Conditions whose date decides a rule (days since the event become a fact).
CORONARY_EVENTS = ("myocardial_infarction", "acute_coronary_syndrome", "coronary_revascularization")

#: Agents whose allergy means ketamine hypersensitivity.
KETAMINE_AGENTS = ("ketamine", "esketamine", "arketamine")


@dataclass(frozen=True)
class Ingredient:
    """One medication ingredient: its interaction class and RxNorm ingredient code."""

    name: str
    drug_class: str
    rxcui: str


_CLASSES: dict[str, tuple[tuple[str, str], ...]] = {
    "benzodiazepine": (
        ("alprazolam", "596"),
        ("chlordiazepoxide", "2356"),
        ("clonazepam", "2598"),
        ("diazepam", "3322"),
        ("lorazepam", "6470"),
        ("midazolam", "6960"),
        ("oxazepam", "7781"),
        ("temazepam", "10355"),
        ("triazolam", "10767"),
    ),
    "cns_depressant": (
        ("zolpidem", "39993"),
        ("eszopiclone", "461016"),
        ("zaleplon", "74667"),
        ("gabapentin", "25480"),
        ("pregabalin", "187832"),
        ("phenobarbital", "8134"),
        ("diphenhydramine", "3498"),
        ("hydroxyzine", "5553"),
        ("promethazine", "8745"),
        ("baclofen", "1292"),
        ("cyclobenzaprine", "21949"),
        ("quetiapine", "51272"),
        ("olanzapine", "61381"),
    ),
    "opioid": (
        ("buprenorphine", "1819"),
        ("methadone", "6813"),
        ("morphine", "7052"),
        ("oxycodone", "7804"),
        ("hydrocodone", "5489"),
        ("hydromorphone", "3423"),
        ("fentanyl", "4337"),
        ("codeine", "2670"),
        ("tramadol", "10689"),
        ("tapentadol", "787390"),
    ),
    "opioid_antagonist": (("naltrexone", "7243"),),
    "maoi": (
        ("phenelzine", "8123"),
        ("tranylcypromine", "10734"),
        ("isocarboxazid", "6011"),
        ("selegiline", "9639"),
        ("rasagiline", "134748"),
        ("linezolid", "190376"),
        ("methylene blue", "6878"),
    ),
    "psychostimulant": (
        ("amphetamine", "725"),
        ("dextroamphetamine", "3288"),
        ("lisdexamfetamine", "700810"),
        ("methylphenidate", "6901"),
        ("modafinil", "30125"),
        ("armodafinil", "641465"),
    ),
    "lamotrigine": (("lamotrigine", "28439"),),
    "nmda_antagonist": (("memantine", "6719"), ("amantadine", "620"), ("dextromethorphan", "3289")),
    "theophylline": (("theophylline", "10438"), ("aminophylline", "689")),
    "cyp_inhibitor": (("clarithromycin", "21212"), ("ticlopidine", "10594")),
    "cyp_inducer": (("rifampin", "9384"),),
    "thyroid_hormone": (("levothyroxine", "10582"),),
    "antihypertensive": (
        ("amlodipine", "17767"),
        ("lisinopril", "29046"),
        ("losartan", "52175"),
        ("hydrochlorothiazide", "5487"),
        ("metoprolol", "6918"),
        ("atenolol", "1202"),
        ("propranolol", "8787"),
        ("clonidine", "2599"),
        ("ramipril", "35296"),
    ),
    "ssri_snri": (
        ("sertraline", "36437"),
        ("escitalopram", "321988"),
        ("fluoxetine", "4493"),
        ("citalopram", "2556"),
        ("paroxetine", "32937"),
        ("venlafaxine", "39786"),
        ("duloxetine", "72625"),
    ),
    "mood_stabilizer": (("lithium", "6448"), ("valproate", "11118")),
    "lithium": (),
    "bupropion": (("bupropion", "42347"),),
    "sud_pharmacotherapy": (
        ("disulfiram", "3554"),
        ("acamprosate", "82819"),
        ("varenicline", "591622"),
        ("nicotine", "7407"),
    ),
    "ketamine": (("ketamine", "6130"), ("esketamine", "")),
}

MEDICATIONS: dict[str, Ingredient] = {
    name: Ingredient(name, cls, rxcui) for cls, items in _CLASSES.items() for name, rxcui in items
}
#: Classes of the terminology tables (data/terminology-names.json): those above, which carry an
#: interaction in reference b, and classes that only say what a drug is (no interaction of their own).
RECOGNISED_ONLY_CLASSES = ("antidepressant", "antipsychotic", "dementia_drug", "adhd_nonstimulant", "opioid_reversal")
DRUG_CLASSES = (*_CLASSES, *RECOGNISED_ONLY_CLASSES)


def normalise_name(name: str) -> str:
    """Lower-case, single-spaced ingredient or agent name."""
    return " ".join(name.strip().lower().split())


#: Unit suffixes of field names: a hint never swaps one unit for another (weight_lbs is not
#: weight_kg: following that hint would read pounds as kilograms).
_UNITS = {"kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
          "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "oz": "oz", "ounces": "oz", "st": "st",
          "stone": "st", "mmhg": "mmhg", "bpm": "bpm", "mg": "mg", "g": "g", "cm": "cm", "in": "in",
          "inches": "in", "days": "days", "months": "months", "years": "years"}  # fmt: skip


def _unit(name: str) -> str | None:
    return _UNITS.get(name.rsplit("_", 1)[-1].lower()) if "_" in name else None


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The nearest known word, for 'did you mean' hints; never one with a different unit."""
    unit = _unit(word)
    if unit is not None:  # a unit in the word picks a field with that unit, or none (weight_oz)
        same = [c for c in choices if _unit(c) == unit]
        found = difflib.get_close_matches(word, same, n=1, cutoff=0.3)
        return found[0] if found else None
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not found:
        return None
    # the bare quantity (weight) is never given a unit by the hint: the clinician chooses kg or lb
    # a quantity recorded in two units (weight_kg, weight_lb) is never given one by the hint for a word
    # without a unit (weight): the clinician chooses
    stem = found[0].rsplit("_", 1)[0]
    units = {_unit(c) for c in choices if c.rsplit("_", 1)[0] == stem and _unit(c) is not None}
    if _unit(found[0]) is not None and len(units) > 1:
        return None
    return found[0]


def value_label(slug: str) -> str:
    """A vocabulary slug as a clinician reads it inside a sentence; any other text is returned as is."""
    if slug in VALUE_LABELS:
        return VALUE_LABELS[slug]
    named = PSYCHIATRIC_CONDITIONS.get(slug) or MEDICAL_CONDITIONS.get(slug)
    if named is None:
        return slug
    named = named.split(" (")[0]
    # "Major depressive disorder" reads lower case mid-sentence; an acronym ("PTSD", "COPD") stays
    return named if named[:2].isupper() else named[0].lower() + named[1:]
