"""The report's header facts and what to collect: who was assessed, on which weight and blood pressure,
and each missing item named as the profile field to record, in plain words."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from kapdecide.inputs.profile import Profile
from kapdecide.language.facts import Facts, round_half_up
from kapdecide.language.sources import source_of

if TYPE_CHECKING:
    from kapdecide.assessment.report import BloodPressureUsed, DataToCollect, PatientSummary

Data = dict[str, Any]


def patient_data(profile: Profile, facts: Facts, stale_sources: Iterable[str]) -> PatientSummary:
    """Age, sex, weight and its date, and the blood pressure the assessment used (or why none)."""
    p = profile.patient
    readings = sorted(
        (profile.vitals.blood_pressure or []) if profile.vitals else [],
        key=lambda r: (r.taken_at, r.systolic_mmhg, r.diastolic_mmhg),
    )
    return {
        "age": p.age if p else None,
        "sex_at_birth": p.sex_at_birth if p else None,
        "weight_kg": cast("float | None", facts.get("patient.weight_kg")),
        "weight_date": p.weight_date.isoformat() if p and p.weight_date else None,
        "blood_pressure": _bp_used(readings, facts, "blood_pressure" in stale_sources),
        "blood_pressure_readings": [
            {"systolic_mmhg": r.systolic_mmhg, "diastolic_mmhg": r.diastolic_mmhg, "taken_on": r.taken_at.isoformat()}
            for r in readings
        ],
    }


def _bp_used(readings: list[Any], facts: Facts, stale: bool) -> BloodPressureUsed | None:
    """The mean of the latest day's readings (taken_at is a day), as the rules read it; when stale,
    shown but marked unused."""
    if not readings:
        return None
    latest = readings[-1].taken_at
    day = [r for r in readings if r.taken_at == latest]
    sys_ = facts.get("vitals.bp_systolic_mmhg")
    dia = facts.get("vitals.bp_diastolic_mmhg")
    if sys_ is None or dia is None:  # stale (or made unknown with --what-if): the mean as recorded
        sys_ = round_half_up(sum(r.systolic_mmhg for r in day) / len(day))
        dia = round_half_up(sum(r.diastolic_mmhg for r in day) / len(day))
        used = False
    else:
        used = not stale
    return {
        "systolic_mmhg": cast(int, sys_),
        "diastolic_mmhg": cast(int, dia),
        "taken_on": latest.isoformat(),
        "readings": len(day),
        "days_old": cast("int | None", facts.get("vitals.bp_days_since")),
        "used": used,
    }


def data_to_collect(missing_fields: Iterable[str]) -> list[DataToCollect]:
    """Each missing fact field as the profile path to record and the question to ask, one per path."""
    out: dict[str, DataToCollect] = {}
    for field in missing_fields:
        path, ask = source_of(field)
        item = out.setdefault(path, {"path": path, "ask": ask, "fields": []})
        item["fields"].append(field)
    return list(out.values())
