"""`--what-if` with profile paths (applied before validation) as well as fact fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.helpers import run_in_process

ELIGIBLE = "examples/eligible-cocaine.yaml"
ALCOHOL = "examples/precautions-alcohol.yaml"
AS_OF = ("--as-of", "2026-11-21")


def assess_json(*args: str) -> dict[str, object]:
    code, out, err = run_in_process("assess", *args, "--format", "json", *AS_OF)
    assert code == 0, err.decode()
    doc: dict[str, object] = json.loads(out)
    return doc


def test_a_blood_pressure_profile_path_is_assessed_like_a_recorded_reading() -> None:
    doc = assess_json(ELIGIBLE, "--what-if", "vitals.blood_pressure=150/95")
    reading = {"systolic_mmhg": 150, "diastolic_mmhg": 95, "taken_at": "2026-11-21"}
    assert doc["status"] == "deferred"
    assert doc["what_if_overrides"] == {"vitals.blood_pressure": [reading]}
    assert doc["receipt"]["what_if_overrides"] == doc["what_if_overrides"]  # type: ignore[index]
    # the same as writing the reading into the profile
    text = Path(ELIGIBLE).read_text(encoding="utf-8")
    start = text.index("  blood_pressure:")
    end = text.index("  heart_rate_bpm")
    edited = (
        text[:start]
        + "  blood_pressure: [{systolic_mmhg: 150, diastolic_mmhg: 95, taken_at: 2026-11-21}]\n"
        + text[end:]
    )
    code, out, _ = run_in_process("assess", "-", "--format", "json", *AS_OF, stdin=edited.encode())
    written = json.loads(out)
    assert code == 0 and written["findings"] == doc["findings"] and written["status"] == doc["status"]


def test_a_substance_is_named_by_its_substance() -> None:
    doc = assess_json(ALCOHOL, "--what-if", "substance_use.alcohol.last_use=2026-11-19")
    assert doc["status"] == "deferred"
    assert "alcohol_last_use_under_5_days" in [f["rule_id"] for f in doc["findings"]]  # type: ignore[attr-defined,index]


def test_fact_fields_work_as_before_and_both_kinds_combine() -> None:
    doc = assess_json(ELIGIBLE, "--what-if", "vitals.blood_pressure=150/95", "--what-if", "vitals.bp_diastolic_mmhg=80")
    assert doc["what_if_overrides"] == {
        "vitals.blood_pressure": [{"systolic_mmhg": 150, "diastolic_mmhg": 95, "taken_at": "2026-11-21"}],
        "vitals.bp_diastolic_mmhg": 80,
    }


def test_every_check_runs_on_the_edited_profile_and_points_at_the_what_if() -> None:
    code, out, err = run_in_process("assess", ELIGIBLE, "--what-if", "vitals.blood_pressure=80/120", *AS_OF)
    assert code == 2 and out == b""
    assert "--what-if vitals.blood_pressure: error [invalid_bp_systolic_not_above_diastolic]" in err.decode()
    code, _, err = run_in_process("assess", ELIGIBLE, "--what-if", "patient.age=forty", *AS_OF)
    assert code == 2 and "patient.age takes a whole number" in err.decode()  # a fact field: typed as before
    code, _, err = run_in_process("assess", ELIGIBLE, "--what-if", "patient.weight_lb=heavy", *AS_OF)
    assert code == 2 and "--what-if patient.weight_lb: error [invalid-value]" in err.decode()


@pytest.mark.parametrize(
    ("arg", "hint"),
    [
        ("substances.alcohol.days_since_last_use=3", "did you mean 'substance_use.alcohol.days_since_last_use'?"),
        ("vitals.blood_presure=150/95", "did you mean 'vitals.blood_pressure'?"),
        ("nothing.like.this=1", "neither a fact field"),
        ("medications.0.dose=1 mg", "a list is replaced whole, e.g. --what-if 'medications=[...]'"),
    ],
)
def test_an_unknown_path_is_a_usage_error_with_did_you_mean(arg: str, hint: str) -> None:
    code, out, err = run_in_process("assess", ELIGIBLE, "--what-if", arg, *AS_OF)
    assert code == 2 and out == b""
    assert hint in err.decode() and "Try 'kapdecide assess --help'." in err.decode()


def test_a_disorder_the_profile_does_not_record_is_refused() -> None:
    code, _, err = run_in_process("assess", ELIGIBLE, "--what-if", "substance_use.alcohol.last_use=2026-11-19", *AS_OF)
    assert code == 2 and "records no alcohol use disorder" in err.decode()


def test_explain_lists_profile_edits_with_the_overrides() -> None:
    code, out, err = run_in_process(
        "explain", ELIGIBLE, "--rule", "bp_above_hold_threshold", "--what-if", "vitals.blood_pressure=150/95",
        "--format", "json", *AS_OF,
    )  # fmt: skip
    assert code == 0, err.decode()
    doc = json.loads(out)
    assert list(doc["what_if_overrides"]) == ["vitals.blood_pressure"]
    assert doc["explanation"][0]["result"] == "true"


def test_a_report_with_a_profile_edit_replays_to_the_same_result(tmp_path: Path) -> None:
    code, out, _ = run_in_process("assess", ELIGIBLE, "--what-if", "vitals.blood_pressure=150/95", "--format", "json")
    report = tmp_path / "report.json"
    report.write_bytes(out)
    code, out, err = run_in_process("replay", str(report), ELIGIBLE)
    assert code == 0, (out + err).decode()
    assert b"Same result: status deferred" in out


def test_the_help_names_profile_paths() -> None:
    code, out, _ = run_in_process("assess", "--help")
    assert code == 0 and b"vitals.blood_pressure=150/95" in out


def test_a_warning_about_an_edited_entry_points_at_the_what_if() -> None:
    code, out, err = run_in_process("assess", ELIGIBLE, "--what-if", "medications=[xanaxx]", "--format", "json", *AS_OF)
    assert code == 0
    assert "--what-if medications: warning [unrecognised-entry] medications[0]" in err.decode()
    assert "did you mean 'xanax'?" in err.decode()
    assert json.loads(out)["status"] == "eligible_with_precautions"  # an unchecked drug is never a pass
