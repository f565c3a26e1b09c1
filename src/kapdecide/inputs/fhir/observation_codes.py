"""The FHIR codes of observations the importer reads (LOINC panels and components, units, answer codes)
and of "no known allergy" (mapping reference, sections 2 and 3)."""

from __future__ import annotations

from typing import Literal

BP_PANELS = frozenset({"85354-9", "55284-4"})
"""Blood pressure panel (current) and the legacy panel used by Synthea 2019; seen in samples."""
SYSTOLIC = frozenset({"8480-6", "8459-0", "8460-8", "8461-6"})
DIASTOLIC = frozenset({"8462-4", "8453-3", "8454-1", "8455-8"})
"""8462-4 verified; the positional variants 8453-3/8454-1/8455-8 are unverified (†)."""
HEART_RATE = frozenset({"8867-4", "68999-2", "69000-8", "69001-6"})
WEIGHT = frozenset({"29463-7", "3141-9", "3142-7"})
#: UCUM code or plain unit -> factor to kg.
WEIGHT_UNITS: dict[str, float] = {
    "kg": 1.0,
    "g": 0.001,
    "[lb_av]": 0.45359237,
    "lb": 0.45359237,
    "lbs": 0.45359237,
    "[oz_av]": 0.028349523125,
}
MMHG_UNITS = frozenset({"mm[Hg]", "mmHg", "mm Hg"})
PER_MIN_UNITS = frozenset({"/min", "{beats}/min", "beats/min", "bpm", "{Beats}/min"})

PREGNANCY_STATUS = "82810-3"
#: Pregnancy status answers (SNOMED). 261665006 "Unknown" is unverified (†) and maps to nothing.
PREGNANCY_STATUS_ANSWERS: dict[str, Literal["pregnant", "not_pregnant", "unknown"]] = {
    "77386006": "pregnant",
    "60001007": "not_pregnant",
    "261665006": "unknown",
}
HCG_QUALITATIVE = frozenset({"2106-3", "2118-8", "2112-1", "2110-5", "80384-1", "80385-8"})
HCG_POSITIVE = frozenset({"10828004"})
HCG_NEGATIVE = frozenset({"260385009"})
BREASTFEEDING_STATUS = "63895-7"
"""Unverified (†): seen in a German IG only."""
BREASTFEEDING_ANSWERS: dict[str, bool] = {"LA29252-6": True, "LA29253-4": False}
"""Unverified (†)."""
PHQ9_TOTAL = frozenset({"44261-6", "89204-2"})
"""44261-6 PHQ-9 total (seen in samples); 89204-2 the adolescent version (same 0-27 scale)."""
AUDIT_TOTAL = frozenset({"75624-7"})
"""Unverified (†). AUDIT-C (75626-2) is a different 0-12 scale and is never mapped here."""
PHQ9_ITEM9 = "44260-8"
"""Unverified (†): thoughts of self-harm. Positive answers raise a warning; nothing is mapped."""
PHQ9_ITEM9_POSITIVE = frozenset({"LA6569-3", "LA6570-1", "LA6571-9"})
"""Unverified (†): several days / more than half the days / nearly every day."""

#: Observation codes deliberately not mapped, with the reason reported in ``unmapped``.
OBSERVATION_NOT_MAPPED: dict[str, str] = {
    "75626-2": "AUDIT-C total (0-12) is a different scale from AUDIT (screening.audit): not mapped",
    "72109-2": "AUDIT-C panel: not mapped (screening.audit is the full AUDIT)",
    "93374-7": "C-SSRS risk level: answer codes unverified, not mapped to screening.cssrs_screen; review",
    "93373-9": "C-SSRS screener panel: not mapped to screening.cssrs_screen; review",
    "93245-9": "C-SSRS panel: not mapped to screening.cssrs_screen; review",
    "86645-9": "pregnancy intention is context only, not evidence of pregnancy",
    "55758-7": "PHQ-2 total is not a PHQ-9 score",
    "44249-1": "PHQ-9 panel: the total (44261-6) is read instead",
    "72166-2": "tobacco smoking status is not a use-disorder diagnosis",
    "96607-7": "mean blood pressure panel: individual readings are read instead",
    "21198-7": "quantitative hCG needs a laboratory threshold: review",
    "19080-1": "quantitative hCG needs a laboratory threshold: review",
    "83086-9": "quantitative hCG needs a laboratory threshold: review",
}

# ---------------------------------------------------------------- allergies

NO_KNOWN_ALLERGY = frozenset({"716186003"})
"""SNOMED 'No known allergy' (unverified †). Never becomes an allergy."""
