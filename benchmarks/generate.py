"""Seeded generator of realistic, varied patient profiles for the kapdecide performance benchmark.

Writes JSON Lines (one compact profile a line) in the input format of ``profile-example.yaml``,
ready for ``kapdecide assess --batch``. The mix follows a KAP-for-substance-use referral population:
mostly adults with alcohol, opioid or stimulant use disorders, common co-occurring conditions and
medications, and a tail of findings that contraindicate, defer or leave safety data missing, so
every status of the shipped protocol occurs.

The output is a pure function of (count, seed, as_of): same bytes on every run and platform
(``random.Random`` with an integer seed; no clock, no hash order). Every profile has ``assessed_on``
set to ``as_of`` and all dates relative to it, so results do not depend on today's date. Profiles
are generated one at a time and streamed, so a million lines need no more memory than one.

Standard library only (no hypothesis, no kapdecide import), so the benchmark input does not depend
on the code it measures. Usage::

    python benchmarks/generate.py --count 1000000 --seed 20261121 --output profiles.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from bisect import bisect
from collections.abc import Iterator, Sequence
from random import Random
from typing import Any, Generic, TextIO, TypeVar

DEFAULT_SEED = 20261121
DEFAULT_AS_OF = dt.date(2026, 11, 21)

#: Days back from ``as_of`` for which date strings are precomputed (covers every date generated).
_MAX_DAYS = 12_000

T = TypeVar("T")
Profile = dict[str, Any]


class _Weighted(Generic[T]):
    """A fixed weighted choice; bisect on cumulative weights is faster than ``Random.choices``."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cum: list[float] = []
        total = 0.0
        for _, w in pairs:
            total += w
            self.cum.append(total)
        self.total = total

    def pick(self, rng: Random) -> T:
        return self.items[bisect(self.cum, rng.random() * self.total)]


# ---------------------------------------------------------------- population weights
# Weights are rough, plausible proportions for a KAP substance-use clinic, tuned so that every
# protocol status occurs (see tests/test_benchmark_generator.py); they are not epidemiology.

_SEX = _Weighted([("male", 0.60), ("female", 0.385), ("intersex", 0.015)])

_PRIMARY = _Weighted(
    [
        ("alcohol", 36),
        ("opioids", 15),
        ("cocaine", 14),
        ("methamphetamine", 9),
        ("cannabis", 9),
        ("nicotine", 5),
        ("sedatives", 4),
        ("other_stimulants", 3),
        ("hallucinogens", 2),
        ("other", 2),
        ("ketamine", 1),
    ]
)
_SECONDARY = _Weighted(
    [
        ("nicotine", 40),
        ("alcohol", 14),
        ("cannabis", 14),
        ("cocaine", 10),
        ("opioids", 5),
        ("methamphetamine", 5),
        ("sedatives", 4),
        ("other_stimulants", 3),
        ("hallucinogens", 2),
        ("other", 2),
    ]
)
_SUBSTANCE_COUNT = _Weighted([(1, 0.70), (2, 0.245), (3, 0.055)])
_SEVERITY = _Weighted([("mild", 0.12), ("moderate", 0.38), ("severe", 0.50)])

#: Phase of use: (min days since last use, max days since last use).
_PHASE = _Weighted(
    [
        ((0, 1), 0.055),  # still using
        ((2, 4), 0.05),  # first days off
        ((5, 30), 0.42),  # early abstinence: the usual referral point
        ((31, 89), 0.20),
        ((90, 364), 0.15),
        ((365, 3000), 0.10),
    ]
)

_WITHDRAWAL_PRONE = frozenset({"alcohol", "opioids", "sedatives"})
_STIMULANTS = frozenset({"cocaine", "methamphetamine", "other_stimulants"})

_TREATMENT: dict[str, _Weighted[tuple[str, ...]]] = {
    "alcohol": _Weighted(
        [
            ((), 0.50),
            (("naltrexone",), 0.22),
            (("acamprosate",), 0.18),
            (("disulfiram",), 0.05),
            (("topiramate",), 0.05),
        ]
    ),
    # Opioid use disorder: most are on MOUD; those without it and not detoxified are deferred.
    "opioids": _Weighted([(("buprenorphine",), 0.48), (("methadone",), 0.27), (("naltrexone",), 0.08), ((), 0.17)]),
    "sedatives": _Weighted(
        [
            (("diazepam",), 0.30),
            (("clonazepam",), 0.15),
            (("chlordiazepoxide",), 0.10),
            (("phenobarbital",), 0.05),
            ((), 0.40),
        ]
    ),
    "nicotine": _Weighted([((), 0.55), (("varenicline",), 0.20), (("nicotine",), 0.20), (("bupropion",), 0.05)]),
}
_NO_TREATMENT: _Weighted[tuple[str, ...]] = _Weighted([((), 1.0)])

_PSYCHOTIC = _Weighted([("none", 0.975), ("past", 0.02), ("active", 0.005)])
_BIPOLAR = _Weighted([("none", 0.94), ("bipolar_ii", 0.035), ("bipolar_i", 0.025)])
_IDEATION = _Weighted([("none", 0.87), ("passive", 0.09), ("active_without_plan", 0.025), ("active_with_plan", 0.015)])
_CSSRS = {
    "none": "negative",
    "passive": "positive_passive",
    "active_without_plan": "positive_active",
    "active_with_plan": "positive_active",
}

#: Co-occurring conditions, independent draws (probability each).
_PSY_CONDITIONS = (
    ("major_depressive_disorder", 0.28),
    ("generalized_anxiety_disorder", 0.16),
    ("ptsd", 0.12),
    ("insomnia", 0.08),
    ("adhd", 0.06),
    ("panic_disorder", 0.05),
    ("chronic_pain", 0.05),
    ("persistent_depressive_disorder", 0.04),
    ("social_anxiety_disorder", 0.04),
    ("borderline_personality_disorder", 0.03),
    ("obsessive_compulsive_disorder", 0.015),
    ("eating_disorder", 0.015),
)

#: Medical conditions with the probability each occurs under 45, 45-64 and from 65.
_MEDICAL: tuple[tuple[str, float, float, float], ...] = (
    ("hypertension", 0.05, 0.22, 0.42),
    ("diabetes", 0.03, 0.09, 0.16),
    ("obstructive_sleep_apnea", 0.02, 0.05, 0.07),
    ("copd", 0.005, 0.03, 0.07),
    ("stable_coronary_disease", 0.0, 0.025, 0.06),
    ("myocardial_infarction", 0.0, 0.012, 0.025),
    ("coronary_revascularization", 0.0, 0.006, 0.012),
    ("acute_coronary_syndrome", 0.0, 0.003, 0.005),
    ("arrhythmia", 0.005, 0.015, 0.04),
    ("heart_failure", 0.0, 0.006, 0.02),
    ("valvular_heart_disease", 0.002, 0.008, 0.02),
    ("chronic_kidney_disease", 0.005, 0.02, 0.06),
    ("hepatic_impairment", 0.01, 0.02, 0.02),
    ("cirrhosis", 0.002, 0.012, 0.015),
    ("hyperthyroidism", 0.004, 0.006, 0.006),
    ("seizure_disorder", 0.012, 0.015, 0.015),
    ("open_angle_glaucoma", 0.0, 0.006, 0.025),
    ("lower_urinary_tract_symptoms", 0.004, 0.008, 0.02),
    ("interstitial_cystitis", 0.002, 0.002, 0.002),
    ("transient_ischemic_attack", 0.0, 0.004, 0.01),
    ("ischemic_stroke", 0.0, 0.003, 0.008),
    ("aneurysmal_vascular_disease", 0.001, 0.003, 0.006),
    ("arteriovenous_malformation", 0.001, 0.001, 0.001),
    ("intracerebral_hemorrhage", 0.0005, 0.001, 0.002),
    ("unstable_angina", 0.0, 0.001, 0.002),
    ("hypertensive_encephalopathy", 0.0, 0.0005, 0.001),
    ("raised_intracranial_pressure", 0.0005, 0.0005, 0.0005),
    ("angle_closure_glaucoma", 0.0, 0.001, 0.002),
    ("penetrating_eye_injury", 0.0005, 0.0005, 0.0005),
    ("planned_eye_surgery", 0.0, 0.001, 0.004),
    ("mild_cognitive_impairment", 0.0, 0.003, 0.03),
    ("dementia", 0.0, 0.0, 0.008),
    ("delirium", 0.0003, 0.0003, 0.001),
    ("lacks_capacity", 0.0003, 0.0003, 0.0005),
)

#: Ingredient -> realistic dose strings (a dose is recorded for about half the medications).
_DOSES: dict[str, tuple[str, ...]] = {
    "sertraline": ("50 mg daily", "100 mg daily", "150 mg daily"),
    "escitalopram": ("10 mg daily", "20 mg daily"),
    "fluoxetine": ("20 mg daily", "40 mg daily"),
    "citalopram": ("20 mg daily",),
    "venlafaxine": ("75 mg daily", "150 mg daily"),
    "duloxetine": ("60 mg daily",),
    "bupropion": ("150 mg daily", "300 mg daily"),
    "mirtazapine": ("15 mg at night", "30 mg at night"),
    "trazodone": ("50 mg at night",),
    "lorazepam": ("0.5 mg at night", "1 mg twice daily"),
    "clonazepam": ("0.5 mg twice daily",),
    "diazepam": ("5 mg twice daily", "10 mg taper"),
    "alprazolam": ("0.25 mg as needed",),
    "zolpidem": ("5 mg at night",),
    "quetiapine": ("25 mg at night", "200 mg daily"),
    "lithium": ("800 mg daily",),
    "valproate": ("1000 mg daily",),
    "lamotrigine": ("100 mg daily", "200 mg daily"),
    "buprenorphine": ("16 mg daily", "8 mg daily", "300 mg monthly depot"),
    "methadone": ("60 mg daily", "90 mg daily"),
    "naltrexone": ("50 mg daily", "380 mg monthly injection"),
    "acamprosate": ("666 mg three times daily",),
    "disulfiram": ("250 mg daily",),
    "topiramate": ("100 mg twice daily",),
    "varenicline": ("1 mg twice daily",),
    "nicotine": ("21 mg/24 h patch",),
    "amlodipine": ("5 mg daily", "10 mg daily"),
    "lisinopril": ("10 mg daily", "20 mg daily"),
    "losartan": ("50 mg daily",),
    "ramipril": ("5 mg daily",),
    "hydrochlorothiazide": ("25 mg daily",),
    "metoprolol": ("50 mg twice daily",),
    "atenolol": ("50 mg daily",),
    "metformin": ("500 mg twice daily", "1000 mg twice daily"),
    "atorvastatin": ("20 mg daily", "40 mg daily"),
    "levothyroxine": ("75 micrograms daily",),
    "gabapentin": ("300 mg three times daily",),
    "pregabalin": ("75 mg twice daily",),
    "tramadol": ("50 mg as needed",),
    "oxycodone": ("5 mg as needed",),
    "methylphenidate": ("36 mg daily",),
    "lisdexamfetamine": ("30 mg daily",),
    "thiamine": ("100 mg daily",),
    "omeprazole": ("20 mg daily",),
}

_ANTIDEPRESSANT = _Weighted(
    [
        ("sertraline", 0.30),
        ("escitalopram", 0.22),
        ("fluoxetine", 0.12),
        ("venlafaxine", 0.10),
        ("duloxetine", 0.06),
        ("citalopram", 0.05),
        ("paroxetine", 0.03),
        ("bupropion", 0.07),
        ("mirtazapine", 0.05),  # not in the project's table: reported as not checked
    ]
)
_ANTIHYPERTENSIVE = _Weighted(
    [
        ("amlodipine", 0.30),
        ("lisinopril", 0.22),
        ("losartan", 0.15),
        ("ramipril", 0.10),
        ("hydrochlorothiazide", 0.10),
        ("metoprolol", 0.08),
        ("atenolol", 0.05),
    ]
)
_BENZODIAZEPINE = _Weighted([("lorazepam", 0.35), ("clonazepam", 0.30), ("alprazolam", 0.20), ("diazepam", 0.15)])
_SLEEP = _Weighted([("zolpidem", 0.30), ("trazodone", 0.35), ("quetiapine", 0.15), ("hydroxyzine", 0.20)])
_MOOD = _Weighted([("lithium", 0.30), ("lamotrigine", 0.30), ("valproate", 0.15), ("quetiapine", 0.25)])
_STIMULANT_RX = _Weighted([("methylphenidate", 0.45), ("lisdexamfetamine", 0.35), ("amphetamine", 0.20)])
_PAIN = _Weighted(
    [("gabapentin", 0.35), ("pregabalin", 0.15), ("tramadol", 0.20), ("oxycodone", 0.10), ("duloxetine", 0.20)]
)
#: Rare interaction-relevant medications, each with its probability.
_RARE_MEDS = (
    ("levothyroxine", 0.04),
    ("omeprazole", 0.05),
    ("atorvastatin", 0.04),
    ("cyclobenzaprine", 0.008),
    ("promethazine", 0.005),
    ("clarithromycin", 0.004),
    ("rifampin", 0.002),
    ("selegiline", 0.002),
    ("phenelzine", 0.002),
    ("modafinil", 0.003),
    ("memantine", 0.002),
    ("amantadine", 0.002),
    ("dextromethorphan", 0.004),
    ("theophylline", 0.002),
    ("linezolid", 0.001),
)

#: The same table per age band (0: under 45, 1: 45-64, 2: 65 and over), for one lookup per draw.
_MEDICAL_BY_BAND: tuple[tuple[tuple[str, float], ...], ...] = tuple(
    tuple((slug, probs[band]) for slug, *probs in _MEDICAL) for band in range(3)
)

_ALLERGY = _Weighted(
    [
        (("penicillin", "rash"), 0.45),
        (("penicillin", None), 0.15),
        (("sulfonamides", "hives"), 0.12),
        (("latex", None), 0.08),
        (("codeine", "nausea and vomiting"), 0.08),
        (("ibuprofen", "angioedema"), 0.05),
        (("ketamine", "generalised urticaria"), 0.025),
        (("esketamine", None), 0.005),
        (("shellfish", None), 0.02),
    ]
)

_EXPOSURE = _Weighted([("none", 0.88), ("medical", 0.08), ("nonmedical", 0.04)])

#: Missing safety data: which gap a profile gets (for about 13 % of profiles; a few get two).
_GAPS = _Weighted(
    [
        ("bp_missing", 16),
        ("bp_stale", 14),
        ("heart_rate", 6),
        ("age", 4),
        ("pregnancy", 14),  # only applies where the patient is not male
        ("psychosis", 5),
        ("bipolar", 5),
        ("suicidality", 6),
        ("medical_conditions", 6),
        ("medications", 7),
        ("last_use", 6),
        ("withdrawal", 5),
        ("allergies", 4),
        ("ketamine_history", 5),
        ("open_list", 4),
    ]
)
_GAP_RATE = 0.13


class _Generator:
    """Builds one profile at a time from a seeded ``Random``."""

    def __init__(self, seed: int, as_of: dt.date) -> None:
        self.rng = Random(seed)
        self.as_of = as_of.isoformat()
        self.day = [(as_of - dt.timedelta(days=d)).isoformat() for d in range(_MAX_DAYS)]

    # ------------------------------------------------------------ helpers

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def between(self, lo: int, hi: int) -> int:
        """Like ``Random.randint`` (both ends included), at a third of its cost."""
        return min(hi, lo + int(self.rng.random() * (hi - lo + 1)))

    def below(self, n: int) -> int:
        """Like ``Random.randrange(n)``."""
        return min(n - 1, int(self.rng.random() * n))

    def when(self, days_ago: int) -> str:
        return self.day[min(days_ago, _MAX_DAYS - 1)]

    def med(self, ingredient: str) -> str | dict[str, str]:
        """A bare ingredient, or ``{ingredient, dose}`` (both forms occur in real records)."""
        doses = _DOSES.get(ingredient)
        if doses and self.rng.random() < 0.55:
            return {"ingredient": ingredient, "dose": doses[self.below(len(doses))]}
        return ingredient

    # ------------------------------------------------------------ sections

    def profile(self, index: int) -> Profile:
        rng = self.rng
        sex = _SEX.pick(rng)
        age = self.age()
        out: Profile = {"assessed_on": self.as_of}
        out["patient"] = self.patient(index, age, sex)
        pregnancy = self.pregnancy(age, sex)
        if pregnancy is not None:
            out["pregnancy"] = pregnancy
        substances = self.substances()
        psychiatric = self.psychiatric()
        names = {s["substance"] for s in substances}
        conditions = self.medical(age, names, psychiatric)
        has = {c if isinstance(c, str) else c["condition"] for c in conditions}
        out["vitals"] = self.vitals(age, "hypertension" in has, substances)
        out["substance_use"] = substances
        out["psychiatric"] = psychiatric
        out["medical_conditions"] = conditions
        out["medications"] = self.medications(age, substances, psychiatric, has)
        out["allergies"] = self.allergies()
        out["ketamine_history"] = self.ketamine_history(names, has)
        out["screening"] = self.screening(psychiatric, names)
        out["context"] = self.context()
        if rng.random() < _GAP_RATE:
            self.gap(out)
            if rng.random() < 0.2:
                self.gap(out)
        return out

    def age(self) -> int:
        r = self.rng.random()
        if r < 0.012:  # adolescents are referred occasionally (out of scope: contraindicated)
            return self.between(16, 17)
        if r < 0.90:
            return int(self.rng.triangular(18, 65, 34))
        return self.between(65, 86)

    def patient(self, index: int, age: int, sex: str) -> dict[str, Any]:
        mean = 84.0 if sex == "male" else 70.0
        weight = max(38.0, min(190.0, self.rng.gauss(mean - (12 if age < 18 else 0), 14.0)))
        patient: dict[str, Any] = {"ref": f"MRN-{index + 1:07d}", "age": age, "sex_at_birth": sex}
        if self.rng.random() < 0.96:  # weight is often left out; no rule needs it
            patient["weight_kg"] = round(weight * 2) / 2
        return patient

    def pregnancy(self, age: int, sex: str) -> dict[str, Any] | None:
        rng = self.rng
        if sex == "male":
            # Usually omitted (not possible); some records still carry an explicit "no".
            if rng.random() < 0.1:
                return {"can_become_pregnant": False, "status": "not_pregnant", "breastfeeding": False}
            return None
        can = rng.random() < (0.88 if age < 50 else 0.10 if age < 56 else 0.01)
        if sex == "intersex":
            can = can and rng.random() < 0.3
        if not can:
            return {
                "can_become_pregnant": False,
                "status": "not_pregnant",
                "test_pending": False,
                "breastfeeding": False,
            }
        section: dict[str, Any] = {"can_become_pregnant": True}
        r = rng.random()
        if r < 0.025:
            section["status"] = "pregnant"
            section["test_pending"] = False
        elif r < 0.055:  # test taken today, result not back
            section["status"] = "unknown"
            section["test_pending"] = True
        else:
            section["status"] = "not_pregnant"
            t = rng.random()
            # Mostly a test within the 7 days the protocol asks for; some older (deferred).
            days = self.between(0, 7) if t < 0.93 else self.between(8, 60)
            section["last_negative_test"] = self.when(days)
            section["test_pending"] = False
        section["breastfeeding"] = age < 45 and rng.random() < 0.015
        return section

    def substances(self) -> list[dict[str, Any]]:
        rng = self.rng
        chosen = [_PRIMARY.pick(rng)]
        n = _SUBSTANCE_COUNT.pick(rng)
        while len(chosen) < n:
            s = _SECONDARY.pick(rng)
            if s not in chosen:
                chosen.append(s)
        return [self.substance(s) for s in chosen]

    def substance(self, name: str) -> dict[str, Any]:
        rng = self.rng
        lo, hi = _PHASE.pick(rng)
        if name == "nicotine":
            days = 0 if rng.random() < 0.8 else self.between(lo, hi)  # smokers mostly still smoke
        else:
            days = self.between(lo, hi)
        entry: dict[str, Any] = {"substance": name, "severity": _SEVERITY.pick(rng), "last_use": self.when(days)}
        if name in _WITHDRAWAL_PRONE:
            if days <= 4:
                r = rng.random()
                withdrawal = "active" if r < 0.45 else "none" if r < 0.75 else "completed"
            else:
                withdrawal = "completed" if rng.random() < 0.75 else "none"
        else:
            withdrawal = "none"
        entry["withdrawal"] = withdrawal
        # Intoxication is only possible with use today or yesterday (the validator checks this).
        entry["intoxicated"] = days <= 1 and name != "nicotine" and rng.random() < 0.25
        if name == "alcohol" and rng.random() < 0.8:
            entry["ciwa_ar"] = self.between(8, 24) if withdrawal == "active" else self.between(0, 6)
        if name == "opioids" and rng.random() < 0.8:
            entry["cows"] = self.between(5, 18) if withdrawal == "active" else self.between(0, 4)
        if days >= 365:
            entry["remission"] = "sustained" if rng.random() < 0.8 else "early"
        elif days >= 90:
            entry["remission"] = "early" if rng.random() < 0.85 else "none"
        else:
            entry["remission"] = "none"
        entry["treatment"] = list(_TREATMENT.get(name, _NO_TREATMENT).pick(rng))
        return entry

    def psychiatric(self) -> dict[str, Any]:
        rng = self.rng
        bipolar = _BIPOLAR.pick(rng)
        if bipolar == "none":
            mania = "none" if rng.random() < 0.995 else "past"
        else:
            r = rng.random()
            mania = "active" if r < 0.08 else "past" if r < 0.7 else "none"
        ideation = _IDEATION.pick(rng)
        behaviour = rng.random() < (0.25 if ideation.startswith("active") else 0.004)
        conditions = [slug for slug, p in _PSY_CONDITIONS if rng.random() < p]
        if "major_depressive_disorder" in conditions and rng.random() < 0.2:
            conditions.append("treatment_resistant_depression")
        return {
            "psychotic_disorder": _PSYCHOTIC.pick(rng),
            "family_history_psychosis": rng.random() < 0.045,
            "bipolar_disorder": bipolar,
            "mania": mania,
            "suicidal_ideation": ideation,
            "suicidal_behavior_past_3_months": behaviour,
            "conditions": conditions,
        }

    def medical(self, age: int, substances: set[str], psychiatric: dict[str, Any]) -> list[Any]:
        rng = self.rng
        band = 0 if age < 45 else 1 if age < 65 else 2
        out: list[Any] = []
        for slug, p in _MEDICAL_BY_BAND[band]:
            if rng.random() < p:
                out.append(self.condition(slug))
        # Substance-linked history: alcohol harms the liver and can cause withdrawal seizures,
        # ketamine the bladder; psychosis is often stimulant-induced.
        if "alcohol" in substances and rng.random() < 0.04:
            out.append(self.condition("hepatic_impairment" if rng.random() < 0.6 else "cirrhosis"))
        if "ketamine" in substances and rng.random() < 0.3:
            out.append(self.condition("ketamine_uropathy"))
        if psychiatric["psychotic_disorder"] == "past" and rng.random() < 0.5:
            days = self.between(200, 3000)
            out.append({"condition": "substance_induced_psychosis", "date": self.when(days)})
        return out

    def condition(self, slug: str) -> Any:
        rng = self.rng
        if slug in ("myocardial_infarction", "acute_coronary_syndrome", "coronary_revascularization"):
            # The date decides the rule: mostly years ago, some within the last year.
            days = self.between(30, 364) if rng.random() < 0.3 else self.between(365, 4000)
            return {"condition": slug, "date": self.when(days)}
        if slug == "heart_failure":
            return {"condition": slug, "nyha_class": ("I", "I", "II", "II", "III", "IV")[self.below(6)]}
        if slug == "cirrhosis":
            return {"condition": slug, "child_pugh_class": ("A", "A", "A", "B", "C")[self.below(5)]}
        if slug in ("hyperthyroidism", "arrhythmia"):
            return {"condition": slug, "controlled": rng.random() < 0.8}
        if slug == "valvular_heart_disease":
            return {"condition": slug, "haemodynamically_significant": rng.random() < 0.25}
        if slug == "hypertension" and rng.random() < 0.6:
            return {"condition": slug, "date": self.when(self.between(200, 7000)), "controlled": rng.random() < 0.75}
        if rng.random() < 0.3:
            return {"condition": slug, "date": self.when(self.between(30, 7000))}
        return slug

    def vitals(self, age: int, hypertension: bool, substances: list[dict[str, Any]]) -> dict[str, Any]:
        rng = self.rng
        # Class of today's mean BP; raised readings are more likely with age and diagnosed hypertension.
        r = rng.random() / ((1.6 if age >= 50 else 1.0) * (1.5 if hypertension else 1.0))
        if r < 0.006:
            sys_m, dia_m = self.between(178, 205), self.between(100, 118)  # severe (or nearly)
        elif r < 0.06:
            if rng.random() < 0.7:
                sys_m, dia_m = self.between(140, 170), self.between(82, 100)
            else:
                sys_m, dia_m = self.between(126, 139), self.between(90, 98)
        elif r < 0.26:
            if rng.random() < 0.6:
                sys_m, dia_m = self.between(130, 139), self.between(72, 88)
            else:
                sys_m, dia_m = self.between(114, 129), self.between(80, 88)
        else:
            sys_m, dia_m = self.between(102, 128), self.between(62, 78)
        latest = 0 if rng.random() < 0.8 else self.between(1, 30)
        readings: list[dict[str, Any]] = []
        if rng.random() < 0.2:  # an earlier reading from another visit
            s = sys_m + self.between(-12, 6)
            d = min(dia_m + self.between(-8, 4), s - 15)  # systolic above diastolic, or it is invalid
            readings.append(
                {"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": self.when(latest + self.between(3, 60))}
            )
        n = 1 if rng.random() < 0.25 else 2 if rng.random() < 0.85 else 3
        hour, minute = self.between(8, 16), self.between(0, 50)
        with_time = latest == 0 or rng.random() < 0.5
        for i in range(n):
            s = sys_m + self.between(-3, 3)
            d = min(dia_m + self.between(-2, 2), s - 15)
            taken = self.when(latest)
            if with_time:
                m = minute + 6 * i
                taken = f"{taken}T{hour + m // 60:02d}:{m % 60:02d}"
            readings.append({"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": taken})
        withdrawing = any(s["withdrawal"] == "active" for s in substances)
        if rng.random() < 0.018:
            heart_rate = self.between(101, 128)
        else:
            heart_rate = max(50, min(100, int(rng.gauss(88 if withdrawing else 74, 9))))
        return {"blood_pressure": readings, "heart_rate_bpm": heart_rate}

    def medications(
        self, age: int, substances: list[dict[str, Any]], psychiatric: dict[str, Any], has: set[str]
    ) -> list[Any]:
        rng = self.rng
        names: list[str] = []

        def add(name: str) -> None:
            if name not in names:
                names.append(name)

        for s in substances:
            for t in s["treatment"]:
                add(t)  # SUD pharmacotherapy is also on the medication list
        psy = set(psychiatric["conditions"])
        if psy & {
            "major_depressive_disorder",
            "persistent_depressive_disorder",
            "ptsd",
            "generalized_anxiety_disorder",
        }:
            if rng.random() < 0.55:
                add(_ANTIDEPRESSANT.pick(rng))
        if psy & {"generalized_anxiety_disorder", "panic_disorder", "insomnia"} and rng.random() < 0.15:
            add(_BENZODIAZEPINE.pick(rng))
        if "insomnia" in psy and rng.random() < 0.4:
            add(_SLEEP.pick(rng))
        if psychiatric["bipolar_disorder"] != "none" and rng.random() < 0.8:
            add(_MOOD.pick(rng))
        if "adhd" in psy and rng.random() < 0.4:
            add(_STIMULANT_RX.pick(rng))
        if "chronic_pain" in psy and rng.random() < 0.6:
            add(_PAIN.pick(rng))
        if "hypertension" in has and rng.random() < 0.85:
            add(_ANTIHYPERTENSIVE.pick(rng))
            if rng.random() < 0.3:
                add(_ANTIHYPERTENSIVE.pick(rng))
        if "diabetes" in has:
            add("metformin")
        if "seizure_disorder" in has and rng.random() < 0.6:
            add("levetiracetam" if rng.random() < 0.6 else "lamotrigine")
        if "copd" in has and rng.random() < 0.7:
            add("tiotropium" if rng.random() < 0.85 else "theophylline")
        if "stable_coronary_disease" in has or "myocardial_infarction" in has:
            add("aspirin")
            add("atorvastatin")
        if has & {"dementia", "mild_cognitive_impairment"} and rng.random() < 0.4:
            add("memantine" if rng.random() < 0.5 else "donepezil")
        if any(s["substance"] == "alcohol" for s in substances) and rng.random() < 0.2:
            add("thiamine")
        if age < 50 and rng.random() < 0.03:
            add("levonorgestrel")
        for name, p in _RARE_MEDS:
            if rng.random() < p:
                add(name)
        return [self.med(n) for n in names]

    def allergies(self) -> list[Any]:
        rng = self.rng
        if rng.random() < 0.82:
            return []
        out: list[Any] = []
        seen: set[str] = set()
        for _ in range(1 if rng.random() < 0.85 else 2):
            agent, reaction = _ALLERGY.pick(rng)
            if agent in seen:
                continue
            seen.add(agent)
            out.append({"agent": agent, "reaction": reaction} if reaction else agent)
        return out

    def ketamine_history(self, substances: set[str], has: set[str]) -> dict[str, Any]:
        rng = self.rng
        if "ketamine" in substances or "ketamine_uropathy" in has:
            return {"prior_exposure": "nonmedical", "misuse": True}
        exposure = _EXPOSURE.pick(rng)
        misuse = exposure == "nonmedical" and rng.random() < 0.3
        return {"prior_exposure": exposure, "misuse": misuse}

    def screening(self, psychiatric: dict[str, Any], substances: set[str]) -> dict[str, Any]:
        rng = self.rng
        depressed = bool(
            set(psychiatric["conditions"])
            & {"major_depressive_disorder", "persistent_depressive_disorder", "treatment_resistant_depression"}
        )
        out: dict[str, Any] = {}
        if rng.random() < 0.9:
            out["phq9"] = max(0, min(27, int(rng.gauss(15 if depressed else 6, 4))))
        if "alcohol" in substances and rng.random() < 0.8:
            out["audit"] = self.between(12, 38)
        elif rng.random() < 0.15:
            out["audit"] = self.between(0, 9)
        if rng.random() < 0.93:
            out["cssrs_screen"] = _CSSRS[psychiatric["suicidal_ideation"]]
        return out

    def context(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "setting_preference": "clinic" if rng.random() < 0.7 else "at_home",
            "support_person_available": rng.random() < 0.75,
            "secure_storage": rng.random() < 0.7,
            "prior_supervised_dose_tolerated": rng.random() < 0.15,
        }

    # ------------------------------------------------------------ missing data

    def gap(self, out: Profile) -> None:
        """Remove or age one piece of safety-critical data, as real referrals do."""
        rng = self.rng
        kind = _GAPS.pick(rng)
        while kind == "pregnancy" and out["patient"]["sex_at_birth"] == "male":
            kind = _GAPS.pick(rng)  # a male patient's pregnancy section is not required: pick another gap
        if kind == "bp_missing":
            out["vitals"].pop("blood_pressure", None)
        elif kind == "bp_stale":
            days = self.between(31, 200)  # older than the 30-day freshness limit
            for r in out["vitals"].get("blood_pressure", []):
                r["taken_at"] = self.when(days)
        elif kind == "heart_rate":
            out["vitals"].pop("heart_rate_bpm", None)
        elif kind == "age":
            out["patient"].pop("age", None)
        elif kind == "pregnancy":
            if rng.random() < 0.5 or "pregnancy" not in out:
                out.pop("pregnancy", None)  # the referral letter says nothing about pregnancy
            else:
                preg = out["pregnancy"]
                dropped = ("breastfeeding", "last_negative_test", "can_become_pregnant")[self.below(3)]
                preg.pop(dropped, None)
        elif kind == "psychosis":
            out["psychiatric"].pop("psychotic_disorder", None)
        elif kind == "bipolar":
            out["psychiatric"].pop("mania" if rng.random() < 0.5 else "bipolar_disorder", None)
        elif kind == "suicidality":
            out["psychiatric"].pop("suicidal_ideation", None)
            out["psychiatric"].pop("suicidal_behavior_past_3_months", None)
            out["screening"].pop("cssrs_screen", None)
        elif kind == "medical_conditions":
            out.pop("medical_conditions", None)
        elif kind == "medications":
            out.pop("medications", None)
        elif kind == "last_use":
            out["substance_use"][self.below(len(out["substance_use"]))].pop("last_use", None)
        elif kind == "withdrawal":
            entry = out["substance_use"][self.below(len(out["substance_use"]))]
            entry.pop("withdrawal" if rng.random() < 0.6 else "intoxicated", None)
        elif kind == "allergies":
            out.pop("allergies", None)
        elif kind == "ketamine_history":
            if rng.random() < 0.5 or "ketamine_history" not in out:
                out.pop("ketamine_history", None)
            else:
                out["ketamine_history"].pop("misuse", None)
        else:
            # Imported from a record that lists only what it shows (e.g. FHIR): absence is unknown.
            out["incomplete_lists"] = ["medications"] if rng.random() < 0.6 else ["medical_conditions", "allergies"]


def generate(count: int, seed: int = DEFAULT_SEED, as_of: dt.date = DEFAULT_AS_OF) -> Iterator[Profile]:
    """Yield ``count`` profiles (plain JSON-ready dicts), the same sequence for the same arguments."""
    if count < 0:
        raise ValueError("count must not be negative")
    gen = _Generator(seed, as_of)
    for i in range(count):
        yield gen.profile(i)


def write_jsonl(profiles: Iterator[Profile], out: TextIO, batch: int = 2000) -> int:
    """Write profiles as compact JSON Lines in batches (fewer write calls); return the count."""
    # One encoder for all lines: the same bytes as json.dumps(p, separators=(",", ":")), without
    # building an encoder per call.
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    n = 0
    buf: list[str] = []
    for p in profiles:
        buf.append(dumps(p))
        n += 1
        if len(buf) >= batch:
            out.write("\n".join(buf) + "\n")
            buf.clear()
    if buf:
        out.write("\n".join(buf) + "\n")
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, required=True, help="number of profiles (lines) to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=DEFAULT_AS_OF,
        help=f"assessment date written to every profile, YYYY-MM-DD (default {DEFAULT_AS_OF.isoformat()})",
    )
    parser.add_argument("--output", default="-", help="output file, or - for standard output (default)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must not be negative")
    profiles = generate(args.count, args.seed, args.as_of)
    if args.output == "-":
        write_jsonl(profiles, sys.stdout)
        sys.stdout.flush()
    else:
        # newline="\n": the same bytes on every platform.
        with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
            write_jsonl(profiles, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
