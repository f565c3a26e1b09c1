"""The report's header facts and data to collect."""

from __future__ import annotations

import datetime as dt

from kapdecide.assessment.patient import data_to_collect, patient_data
from kapdecide.inputs.profile import Profile


def _profile(**vitals: object) -> Profile:
    return Profile.model_validate({"patient": {"age": 40, "sex_at_birth": "male", "weight_kg": 80}, "vitals": vitals})


def test_the_blood_pressure_used_is_the_mean_of_the_latest_day() -> None:
    p = _profile(
        blood_pressure=[
            {"systolic_mmhg": 150, "diastolic_mmhg": 95, "taken_at": "2026-11-01"},
            {"systolic_mmhg": 131, "diastolic_mmhg": 81, "taken_at": "2026-11-20"},
            {"systolic_mmhg": 128, "diastolic_mmhg": 80, "taken_at": "2026-11-20"},
        ]
    )
    facts = {"vitals.bp_systolic_mmhg": 130, "vitals.bp_diastolic_mmhg": 81, "vitals.bp_days_since": 1}
    out = patient_data(p, facts, [])
    assert out["blood_pressure"] == {
        "systolic_mmhg": 130,
        "diastolic_mmhg": 81,
        "taken_on": "2026-11-20",
        "readings": 2,
        "days_old": 1,
        "used": True,
    }
    assert [r["taken_on"] for r in out["blood_pressure_readings"]] == ["2026-11-01", "2026-11-20", "2026-11-20"]
    assert (out["age"], out["sex_at_birth"], out["weight_date"]) == (40, "male", None)


def test_a_stale_reading_is_shown_and_marked_unused() -> None:
    p = _profile(blood_pressure=[{"systolic_mmhg": 118, "diastolic_mmhg": 76, "taken_at": dt.date(2026, 10, 7)}])
    out = patient_data(p, {"vitals.bp_days_since": 45}, ["blood_pressure"])
    assert out["blood_pressure"]["used"] is False
    assert (out["blood_pressure"]["systolic_mmhg"], out["blood_pressure"]["days_old"]) == (118, 45)


def test_no_reading_is_none_not_a_default() -> None:
    assert patient_data(_profile(), {}, [])["blood_pressure"] is None


def test_data_to_collect_is_one_item_per_profile_field() -> None:
    out = data_to_collect(["pregnancy.possible", "vitals.bp_diastolic_mmhg", "vitals.bp_systolic_mmhg"])
    assert [x["path"] for x in out] == ["pregnancy.can_become_pregnant", "vitals.blood_pressure"]
    assert out[1]["fields"] == ["vitals.bp_diastolic_mmhg", "vitals.bp_systolic_mmhg"]
