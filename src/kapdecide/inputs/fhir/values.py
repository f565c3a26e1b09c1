"""FHIR datatypes read defensively (strings, codings, dates, quantities) and the importer's limits."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kapdecide.core import clock
from kapdecide.inputs import fhir_codes as fc
from kapdecide.inputs import terminology as term
from kapdecide.inputs.fhir import observation_codes as oc

HR_MAX_AGE_DAYS = 30
PHQ9_MAX_AGE_DAYS = 30
WEIGHT_MAX_AGE_DAYS = 90
AUDIT_MAX_AGE_DAYS = 365
PREGNANT_MAX_AGE_DAYS = 300  # about 43 weeks: a longer "current" pregnancy is a stale record
NOT_PREGNANT_MAX_AGE_DAYS = 30
BREASTFEEDING_TRUE_MAX_AGE_DAYS = 365
SUICIDAL_IDEATION_DAYS = 30  # the profile field means "past month"
SUICIDAL_BEHAVIOR_DAYS = 90
#: DESIGN CHOICE (conservative: an interaction is flagged rather than missed). A dispense is current
#: for its days' supply plus this grace (late refills, tablets left over), or DISPENSE_DEFAULT_DAYS
#: when the supply is not given in days.
DISPENSE_GRACE_DAYS = 30
DISPENSE_DEFAULT_DAYS = 90
ADMINISTRATION_MAX_AGE_DAYS = 30

READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationDispense",
        "MedicationAdministration",
        "AllergyIntolerance",
    }
)
NO_PATIENT_MESSAGE = (
    "the FHIR Bundle has no Patient resource: kapdecide cannot tell whose record this is; "
    "export the Bundle with the Patient"
)
_OBS_USE = frozenset({"final", "amended", "corrected"})
_OBS_DROP = frozenset({"entered-in-error", "cancelled", "registered", "unknown"})
_COND_CURRENT = frozenset({"active", "recurrence", "relapse"})
_COND_HISTORY = frozenset({"inactive", "remission", "resolved"})
_VER_DROP = frozenset({"refuted", "entered-in-error"})
_VER_UNCONFIRMED = frozenset({"unconfirmed", "provisional", "differential"})
_MEDREQ_CURRENT = frozenset({"active", "on-hold"})
_MEDREQ_HISTORY = frozenset({"completed", "stopped"})
_MEDSTMT_CURRENT = frozenset({"active", "intended"})
_MEDREQ_INTENT_OK = frozenset({"order", "plan", "original-order", "reflex-order", "filler-order", "instance-order"})
_MEDREQ_PROPOSAL_STATUS = frozenset({"active", "draft", "on-hold"})
_SUPPLY_CURRENT = frozenset({"completed", "in-progress", "on-hold"})  # MedicationDispense and -Administration
_SUPPLY_DROP = frozenset({"entered-in-error", "cancelled", "declined", "not-done", "stopped"})
_DAY_UNITS = frozenset({"d", "day", "days"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


# ---------------------------------------------------------------- small helpers


def _s(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codings(cc: Any) -> list[tuple[str, str, str | None]]:
    """(system, code, display) of a CodeableConcept; systems canonicalised."""
    out = []
    for c in _list(_dict(cc).get("coding")):
        c = _dict(c)
        system, code = _s(c.get("system")), _s(c.get("code"))
        if system and code:
            out.append((fc.system_of(system), code, _s(c.get("display"))))
    return out


def _label(cc: Any) -> str | None:
    """A CodeableConcept's text or first display, for messages and names."""
    cc = _dict(cc)
    text = _s(cc.get("text"))
    if text:
        return text
    for _, _, display in _codings(cc):
        if display:
            return display
    return None


def _status_code(cc: Any) -> str | None:
    for _, code, _ in _codings(cc):
        return code
    return None


def _clean(text: str, limit: int = 200) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())[:limit].strip()


def _round(x: float) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _number(value: Any) -> float | None:
    """A finite number, or None ("NaN", "inf" and non-numbers are not values)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class _When:
    """A FHIR date/dateTime/instant: ``key`` (aware UTC, for ordering) and ``day`` (as written)."""

    key: dt.datetime
    day: dt.date
    precise: bool  # a full date at least


def _when(value: Any) -> _When | None:
    """Parse a FHIR date, dateTime or instant; partial dates take their *latest* possible day."""
    text = _s(value)
    if text is None:
        return None
    try:
        if len(text) == 4:
            day = dt.date(int(text), 12, 31)
            return _When(dt.datetime(day.year, 12, 31, tzinfo=dt.UTC), day, False)
        if len(text) == 7:
            y, m = int(text[:4]), int(text[5:7])
            nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
            day = nxt - dt.timedelta(days=1)
            return _When(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), day, False)
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return _When(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), day, True)
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # an instant with an offset falls on its day in the run's zone (clock.py), not the day as written:
    # 2026-11-22T08:00+11:00 is still 2026-11-21 in UTC, so it is not "after" an assessment that day
    day = clock.local_day(stamp)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=clock.zone())
    return _When(stamp.astimezone(dt.UTC), day, True)


def _effective(r: dict[str, Any]) -> _When | None:
    """Observation time: effectiveDateTime, effectiveInstant, effectivePeriod (end, else start), issued."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if key in r:
            return _when(r[key])
    if "effectivePeriod" in r:
        period = _dict(r["effectivePeriod"])
        return _when(period.get("end")) or _when(period.get("start"))
    return _when(r.get("issued"))


def _onset(r: dict[str, Any]) -> _When | None:
    """Condition date: onsetDateTime, onsetPeriod.start, else recordedDate."""
    if "onsetDateTime" in r:
        w = _when(r["onsetDateTime"])
        if w:
            return w
    if "onsetPeriod" in r:
        period = _dict(r["onsetPeriod"])
        w = _when(period.get("start")) or _when(period.get("end"))
        if w:
            return w
    return _when(r.get("recordedDate"))


def _version_key(r: dict[str, Any]) -> tuple[int, str]:
    meta = _dict(r.get("meta"))
    version = _s(meta.get("versionId")) or ""
    when = _when(meta.get("lastUpdated"))
    return (int(version) if version.isdigit() else -1, when.key.isoformat() if when else "")


def _entered_in_error(r: dict[str, Any]) -> bool:
    return r.get("status") == "entered-in-error" or _status_code(r.get("verificationStatus")) == "entered-in-error"


def _strip_history(ref: str) -> str:
    i = ref.find("/_history/")
    return ref[:i] if i >= 0 else ref


# ---------------------------------------------------------------- the mapper


@dataclass
class _Reading:
    when: _When
    value: float
    ref: str


#: LOINC code -> the kind of observation the importer reads (the first table naming a code wins).
_OBS_KINDS: dict[str, str] = {}
for _codes, _kind in (
    (oc.SYSTOLIC, "systolic"),
    (oc.DIASTOLIC, "diastolic"),
    (oc.HEART_RATE, "hr"),
    (oc.WEIGHT, "weight"),
    ((oc.PREGNANCY_STATUS,), "pregnancy_status"),
    (oc.HCG_QUALITATIVE, "hcg"),
    ((oc.BREASTFEEDING_STATUS,), "breastfeeding"),
    (oc.PHQ9_TOTAL, "phq9"),
    (oc.AUDIT_TOTAL, "audit"),
    ((oc.PHQ9_ITEM9,), "phq9_item9"),
):
    for _code in _codes:
        _OBS_KINDS.setdefault(_code, _kind)


def _obs_kind(code: str) -> str | None:
    return _OBS_KINDS.get(code)


def _quantity(r: dict[str, Any]) -> tuple[float | None, str | None]:
    """A numeric value and its unit code: valueQuantity, valueInteger or a numeric valueString."""
    if "valueQuantity" in r:
        q = _dict(r["valueQuantity"])
        unit = _s(q.get("code")) or _s(q.get("unit"))
        return _number(q.get("value")), unit
    if "valueInteger" in r:
        return _number(r["valueInteger"]), None
    if "valueString" in r:
        return _number(r["valueString"]), None
    return None, None


def _days_supply(value: Any) -> float | None:
    """A MedicationDispense.daysSupply in days (UCUM ``d``, or unit day/days), else None."""
    q = _dict(value)
    amount = _number(q.get("value"))
    unit = _s(q.get("code")) or _s(q.get("unit"))
    if amount is None or amount < 0 or amount != amount or unit is None or unit.lower() not in _DAY_UNITS:
        return None
    return amount


def _hcg_result(r: dict[str, Any]) -> bool | None:
    for system, code, _ in _codings(r.get("valueCodeableConcept")):
        if system == fc.SNOMED and code in oc.HCG_POSITIVE:
            return True
        if system == fc.SNOMED and code in oc.HCG_NEGATIVE:
            return False
    text = (_s(r.get("valueString")) or _s(_dict(r.get("valueCodeableConcept")).get("text")) or "").lower()
    if text in ("positive", "pos", "detected"):
        return True
    if text in ("negative", "neg", "not detected"):
        return False
    return None


def _ingredients(concept: Any, med: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    """Ingredient names by RxNorm code, then Medication.ingredient codes, then by name."""

    def by_code(codings: Iterable[tuple[str, str, str | None]]) -> tuple[str, ...]:
        out: list[str] = []
        for system, code, _ in codings:
            if system == fc.RXNORM:
                out.extend(term.rxnorm_ingredients(code))
            elif system == fc.SNOMED:
                out.extend(term.snomed_substance(code))
        return tuple(dict.fromkeys(out))

    found = by_code(_codings(concept))
    if not found:
        items = [_codings(_dict(i).get("itemCodeableConcept")) for i in _list(med.get("ingredient"))]
        found = by_code(c for item in items for c in item)
    if found:
        return found, False
    # the name fallback reads text and displays as a clinician's free text (brands, salts, doses)
    texts = [_s(_dict(concept).get("text"))] + [d for _, _, d in _codings(concept)]
    for text in texts:
        if text:
            m = term.match_drug_text(_clean(text))
            if m.recognised:
                return m.ingredients, True
    return (), True
