"""edits: what-if profile paths, applied to the profile's data before validation."""

from __future__ import annotations

import datetime as dt

import pytest

from kapdecide.core.errors import InvalidInputError, Problem
from kapdecide.inputs.edits import apply_edits, is_profile_path, parse_edit, profile_paths, relocate

DAY = dt.date(2026, 11, 21)


@pytest.mark.parametrize(
    "path",
    [
        "vitals.blood_pressure",
        "patient.weight_lb",
        "psychiatric.last_suicidal_behavior",
        "medications",
        "substance_use.alcohol.last_use",
        "pregnancy",
        "assessed_on",
    ],
)
def test_profile_paths_are_the_models_fields(path: str) -> None:
    assert is_profile_path(path)
    assert path in profile_paths()


@pytest.mark.parametrize(
    "path",
    [
        "vitals.bp",
        "substance_use.booze.last_use",
        "substance_use.alcohol",
        "patient.",
        "nothing",
        "vitals.x.y",
        "medications.0.dose",  # a list is replaced whole
        "vitals.blood_pressure.0.systolic_mmhg",
    ],
)
def test_anything_else_is_not_a_profile_path(path: str) -> None:
    assert not is_profile_path(path)


def test_a_blood_pressure_written_as_a_reading_is_taken_on_the_assessment_day() -> None:
    edit = parse_edit("vitals.blood_pressure", "150/95,148/92")
    data, applied, written = apply_edits(
        {"assessed_on": "2026-11-20", "vitals": {"heart_rate_bpm": 70}}, [edit], None, DAY
    )
    readings = [
        {"systolic_mmhg": 150, "diastolic_mmhg": 95, "taken_at": "2026-11-20"},
        {"systolic_mmhg": 148, "diastolic_mmhg": 92, "taken_at": "2026-11-20"},
    ]
    assert data["vitals"] == {"heart_rate_bpm": 70, "blood_pressure": readings}
    assert applied == {"vitals.blood_pressure": readings}
    assert [path for path, _ in written] == ["vitals.blood_pressure"]


def test_values_are_yaml_and_unknown_removes_the_field() -> None:
    original = {"patient": {"age": 40}, "substance_use": [{"substance": "alcohol", "last_use": "2026-10-01"}]}
    edits = [
        parse_edit("substance_use.alcohol.last_use", "2026-11-18"),
        parse_edit("patient.age", "unknown"),
        parse_edit("medications", "[sertraline, {ingredient: lorazepam}]"),
        parse_edit("pregnancy.status", "pregnant"),
    ]
    data, applied, written = apply_edits(original, edits, DAY, None)
    assert data["substance_use"][0]["last_use"] == "2026-11-18"
    assert data["patient"] == {}
    assert data["medications"] == ["sertraline", {"ingredient": "lorazepam"}]
    assert data["pregnancy"] == {"status": "pregnant"}  # a section the profile lacked is created
    assert original["patient"] == {"age": 40}  # the loaded data is not changed
    assert applied["patient.age"] is None
    assert ("substance_use[0].last_use", edits[0]) in written


def test_a_substance_the_profile_does_not_record_is_an_error_not_a_new_disorder() -> None:
    with pytest.raises(InvalidInputError, match="records no cocaine use disorder"):
        apply_edits({"substance_use": []}, [parse_edit("substance_use.cocaine.last_use", "2026-11-18")], DAY, None)


def test_a_value_that_is_not_yaml_says_so() -> None:
    with pytest.raises(ValueError, match="as in a YAML profile"):
        parse_edit("medications", "[unclosed")


def test_problems_in_an_edited_value_are_located_at_the_what_if() -> None:
    edit = parse_edit("vitals.blood_pressure", "80/120")
    inside = Problem("p.yaml", 9, 7, "x", "bad", "vitals.blood_pressure[0]")
    elsewhere = Problem("p.yaml", 3, 1, "x", "bad", "patient.age")
    moved, kept = relocate([inside, elsewhere], [("vitals.blood_pressure", edit)])
    assert (moved.file, moved.line, moved.col) == ("--what-if vitals.blood_pressure", None, None)
    assert kept == elsewhere


def test_an_edited_value_reads_plainly_where_reports_show_overrides() -> None:
    from kapdecide.assessment.wording import show_value

    readings = parse_edit("vitals.blood_pressure", "150/95").data(DAY)
    assert show_value(readings) == "150/95 mmHg on 2026-11-21"
    assert (
        show_value([{"ingredient": "lorazepam", "dose": "1 mg"}, "sertraline"])
        == "ingredient lorazepam dose 1 mg, sertraline"
    )
    assert show_value(None) == "unknown"
