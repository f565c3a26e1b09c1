"""`kapdecide test`: protocol test cases from the command line (real subprocesses)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import run

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "protocols" / "valid" / "mini.yaml"

BASE = """
bases:
  adult:
    assessed_on: 2026-11-21
    patient: {age: 40, sex_at_birth: male, weight_kg: 70}
    vitals: {blood_pressure: [{systolic_mmhg: 120, diastolic_mmhg: 70, taken_at: 2026-11-21}]}
    substance_use: [{substance: alcohol, last_use: 2026-11-01}]
    medications: []
cases:
  - name: eligible_adult
    base: adult
    expect: {status: eligible, absent: [bp_above_hold_threshold], offered: [iv_ketamine_clinic]}
  - name: bp_hold_at_140
    base: adult
    profile: {vitals: {blood_pressure: [{systolic_mmhg: 140, diastolic_mmhg: 70, taken_at: 2026-11-21}]}}
    expect: {status: deferred, findings: [bp_above_hold_threshold], not_offered: [iv_ketamine_clinic]}
"""
FAILING = """
  - name: wrong_expectation
    base: adult
    expect: {status: deferred, findings: [bp_above_hold_threshold]}
"""
TODO = """
  - name: known_gap
    base: adult
    todo: the mini protocol has no benzodiazepine dose rule yet
    expect: {status: deferred}
"""


def make(tmp_path: Path, cases: str) -> Path:
    shutil.copy(MINI, tmp_path / "mini.yaml")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "mini.cases.yaml").write_text(cases, encoding="utf-8")
    return tmp_path


def test_passing_cases_exit_0(tmp_path: Path) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE)))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 case(s) in 1 file(s): 2 passed" in proc.stdout


def test_failure_shows_expected_and_actual_and_exits_1(tmp_path: Path) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE + FAILING)))
    assert proc.returncode == 1
    assert "FAIL wrong_expectation" in proc.stdout
    assert "status: expected deferred, got eligible" in proc.stdout
    assert "finding bp_above_hold_threshold: expected, not reported" in proc.stdout
    assert "mini.cases.yaml:" in proc.stdout  # file:line of the case


def test_todo_case_does_not_fail_the_run(tmp_path: Path) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE + TODO)), "--format", "json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["summary"] == {"passed": 2, "failed": 0, "todo": 1, "fixed": 0}
    assert [c["outcome"] for c in doc["cases"]] == ["passed", "passed", "todo"]


def test_junit_output(tmp_path: Path) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE + FAILING + TODO)), "--format", "junit")
    assert proc.returncode == 1
    suite = ET.fromstring(proc.stdout).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("4", "1", "1")
    failed = [tc.get("name") for tc in suite if tc.find("failure") is not None]
    assert failed == ["wrong_expectation"]


def test_coverage_names_what_no_case_exercises(tmp_path: Path) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE)), "--coverage", "--format", "json")
    (cov,) = json.loads(proc.stdout)["coverage"]
    assert cov["uncovered_rules"] == ["missing_bp", "benzodiazepine_interaction"]
    assert cov["rules_percent"] == 33.3 and cov["options_percent"] == 100.0
    assert any("includes benzodiazepine" in leaf for leaf in cov["uncovered_condition_leaves"])


@pytest.mark.parametrize(("minimum", "code"), [("33", 0), ("34", 1)])
def test_min_coverage(tmp_path: Path, minimum: str, code: int) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE)), "--min-coverage", minimum)
    assert proc.returncode == code, proc.stdout + proc.stderr


def test_a_broken_fixture_cannot_pass(tmp_path: Path) -> None:
    broken = BASE.replace("age: 40", "age: 400")
    proc = run("test", "--protocols", str(make(tmp_path, broken)))
    assert proc.returncode == 1
    assert "invalid profile" in proc.stdout and "out-of-range" in proc.stdout


def test_invalid_cases_file_exits_2(tmp_path: Path) -> None:
    proc = run("test", "--protocols", str(make(tmp_path, BASE.replace("expect:", "expectt:", 1))))
    assert proc.returncode == 2
    assert "unknown field 'expectt'" in proc.stdout


def test_shipped_protocols_reach_full_rule_and_option_coverage() -> None:
    proc = run("test", "--coverage", "--min-coverage", "100", "--format", "json")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["failed"] == 0 and doc["summary"]["passed"] >= 200
    for cov in doc["coverage"]:
        assert cov["rules_percent"] == 100.0 and cov["options_percent"] == 100.0


def test_a_case_without_a_date_says_what_is_missing(tmp_path: Path) -> None:
    """Issue 14: ``"…: " + "; ".join(...) or exc.message`` printed just "invalid profile: "."""
    undated = BASE.replace("    assessed_on: 2026-11-21\n", "")
    proc = run("test", "--protocols", str(make(tmp_path, undated)))
    assert proc.returncode == 1
    assert (
        "invalid profile: no assessment date: give assessed_on in the profile (or as_of in a test case)" in proc.stdout
    )


def test_the_readme_test_case_example_passes_against_the_shipped_protocol(tmp_path: Path) -> None:
    """Issue 15: the README's example case expected eligible and got eligible_with_precautions."""
    import re
    import textwrap

    import yaml

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "tachycardia_near_miss_100" in b)
    shipped = yaml.safe_load((ROOT / "protocols" / "tests" / "kap_sud.cases.yaml").read_text(encoding="utf-8"))
    cases = {"bases": shipped["bases"], "cases": yaml.safe_load(textwrap.dedent(block))}
    shutil.copy(ROOT / "protocols" / "kap-sud.yaml", tmp_path / "kap-sud.yaml")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "kap_sud.cases.yaml").write_text(yaml.safe_dump(cases), encoding="utf-8")
    proc = run("test", "--protocols", str(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 case(s) in 1 file(s): 2 passed" in proc.stdout


def test_a_misspelt_rule_or_option_id_fails_with_a_did_you_mean(tmp_path: Path) -> None:
    """Issue 15: ``absent: [severe_bradicardia]`` passed silently (a rule that does not exist is never reported)."""
    misspelt = BASE.replace("absent: [bp_above_hold_threshold]", "absent: [bp_above_hold_threshhold]").replace(
        "offered: [iv_ketamine_clinic]", "offered: [iv_ketamine_clinik]"
    )
    proc = run("test", "--protocols", str(make(tmp_path, misspelt)))
    assert proc.returncode == 1
    assert "absent: no rule 'bp_above_hold_threshhold' in these protocols; did you mean 'bp_above_hold_threshold'?" in (
        proc.stdout
    )
    assert "offered: no option 'iv_ketamine_clinik'" in proc.stdout
