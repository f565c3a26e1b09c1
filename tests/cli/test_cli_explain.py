"""`--explain`, `kapdecide explain --rule` and `--what-if` through real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run

from kapdecide.language.facts import parse_fact_value

ROOT = Path(__file__).resolve().parents[2]
MINI = "tests/fixtures/protocols/valid"
PROFILE = "examples/incomplete-missing-bp.yaml"


def test_explain_json_names_every_leaf_and_what_would_change() -> None:
    proc = run("assess", PROFILE, "--protocols", MINI, "--explain", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rules = {e["rule_id"]: e for e in doc["explanation"]}
    hold = rules["bp_above_hold_threshold"]
    assert hold["result"] == "unknown" and hold["fired"] is False
    assert [(leaf["field"], leaf["operator"], leaf["threshold"], leaf["result"]) for leaf in hold["leaves"]] == [
        ("vitals.bp_systolic_mmhg", ">=", 140, "unknown"),
        ("vitals.bp_diastolic_mmhg", ">=", 90, "unknown"),
    ]
    (bp,) = [w for w in doc["what_would_change"] if w["label"] == "blood pressure"]
    statuses = {tuple(s["values"].values()): s["status"] for s in bp["scenarios"]}
    assert statuses[(140, 90)] == "deferred"
    assert statuses[(139, 89)] != "deferred"


def test_explain_command_for_one_rule() -> None:
    proc = run("explain", "examples/deferred-bp-alcohol.yaml", "--protocols", MINI, "--rule", "bp_above_hold_threshold")
    assert proc.returncode == 0, proc.stderr
    assert "✓ true bp_above_hold_threshold" in proc.stdout
    assert "mean systolic BP (mmHg) = 152  >= 140 → ✓ true" in proc.stdout
    assert "benzodiazepine_interaction" not in proc.stdout


def test_explain_unknown_rule_is_exit_2() -> None:
    proc = run("explain", PROFILE, "--protocols", MINI, "--rule", "no_such_rule")
    assert proc.returncode == 2
    assert "no_such_rule" in proc.stderr


def test_what_if_is_marked_hypothetical_and_changes_the_answer() -> None:
    proc = run(
        "assess",
        PROFILE,
        "--protocols",
        MINI,
        "--format",
        "json",
        "--what-if",
        "vitals.bp_systolic_mmhg=150",
        "--what-if",
        "vitals.bp_diastolic_mmhg=85",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["what_if_overrides"] == {"vitals.bp_diastolic_mmhg": 85, "vitals.bp_systolic_mmhg": 150}
    assert doc["status"] == "deferred"
    text = run("assess", PROFILE, "--protocols", MINI, "--what-if", "vitals.bp_systolic_mmhg=150")
    assert "HYPOTHETICAL" in text.stdout


@pytest.mark.parametrize("arg", ["vitals.bp_sistolic=150", "vitals.bp_systolic_mmhg=high", "noequals"])
def test_bad_what_if_is_exit_2(arg: str) -> None:
    proc = run("assess", PROFILE, "--protocols", MINI, "--what-if", arg)
    assert proc.returncode == 2
    assert "--what-if" in proc.stderr and "Traceback" not in proc.stderr


def test_parse_fact_value_types() -> None:
    assert parse_fact_value("patient.age", "64") == 64
    assert parse_fact_value("patient.weight_kg", "70.5") == 70.5
    assert parse_fact_value("pregnancy.possible", "false") is False
    assert parse_fact_value("psychiatric.mania", "active") == "active"
    assert parse_fact_value("medications.classes", "opioid,maoi") == ("maoi", "opioid")
    assert parse_fact_value("medications.classes", "") == ()
    assert parse_fact_value("patient.age", "unknown") is None
    with pytest.raises(ValueError, match=r"did you mean 'patient\.age'"):
        parse_fact_value("patient.agee", "1")
    with pytest.raises(ValueError, match="one of"):
        parse_fact_value("psychiatric.mania", "sometimes")


def test_explain_without_rule_explains_every_rule_that_fired_or_could_not_be_checked() -> None:
    """Issue 15: --rule was required, so a clinician had to know the rule ids first."""
    from helpers import run_in_process

    for example in ("examples/deferred-bp-alcohol.yaml", "examples/incomplete-missing-bp.yaml"):
        code, out, _ = run_in_process("assess", example, "--format", "json")
        report = json.loads(out)
        expected = [f["rule_id"] for f in report["findings"]] + [
            n["rule_id"] for n in report["not_checked"] if not n["rule_id"].startswith("entries:")
        ]
        code, out, err = run_in_process("explain", example, "--format", "json")
        assert code == 0, err
        assert sorted(e["rule_id"] for e in json.loads(out)["explanation"]) == sorted(expected)
        assert expected
