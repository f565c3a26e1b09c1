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


def test_cases_run_against_the_protocols_beside_them_not_the_installed_ones(tmp_path: Path) -> None:
    """Issue 15: PROTOCOLS/tests/NAME.cases.yaml tests PROTOCOLS/, and the output says which files."""
    folder = make(tmp_path, BASE)
    proc = run("test", str(folder / "tests" / "mini.cases.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"Testing {folder / 'mini.yaml'}: mini 0.1.0 (sha256 ")
    assert "kap_sud" not in proc.stdout


def test_a_cases_file_elsewhere_names_its_protocols(tmp_path: Path) -> None:
    shutil.copy(MINI, tmp_path / "mini.yaml")
    (tmp_path / "cases").mkdir()
    cases = tmp_path / "cases" / "mini.cases.yaml"
    cases.write_text("protocols: ../mini.yaml\n" + BASE, encoding="utf-8")
    proc = run("test", str(cases), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tested,) = json.loads(proc.stdout)["protocols"]
    assert (tested["id"], tested["version"], tested["file"]) == ("mini", "0.1.0", str(tmp_path / "mini.yaml"))
    assert tested["cases_files"] == [str(cases)] and len(tested["sha256"]) == 64


def test_a_cases_file_with_no_protocols_beside_it_is_refused(tmp_path: Path) -> None:
    cases = tmp_path / "mini.cases.yaml"
    cases.write_text(BASE, encoding="utf-8")
    proc = run("test", str(cases))
    assert proc.returncode == 2
    assert f"{cases}: error [cases-without-protocols] no protocols beside this cases file" in proc.stdout
    assert run("test", str(cases), "--protocols", str(MINI)).returncode == 0  # --protocols names them


def test_protocols_option_overrides_the_protocols_beside(tmp_path: Path) -> None:
    folder = make(tmp_path, BASE)
    (folder / "mini.yaml").write_text("not: a protocol\n", encoding="utf-8")  # what is beside is broken
    assert run("test", str(folder / "tests")).returncode == 3
    proc = run("test", str(folder / "tests"), "--protocols", str(MINI))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"Testing {MINI}: mini 0.1.0")


def test_each_cases_file_runs_against_its_own_protocols_and_junit_names_them(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    one, two = make(tmp_path / "one", BASE), tmp_path / "two"
    (two / "tests").mkdir(parents=True)
    newer = MINI.read_text(encoding="utf-8").replace("version: 0.1.0", "version: 0.2.0")
    (two / "mini.yaml").write_text(newer, encoding="utf-8")
    (two / "tests" / "mini.cases.yaml").write_text(BASE, encoding="utf-8")
    proc = run("test", str(one / "tests"), str(two / "tests"), "--format", "junit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    suites = ET.fromstring(proc.stdout).findall("testsuite")
    versions = [{p.get("name"): p.get("value") for p in s.iter("property")} for s in suites]
    assert [v["protocol.mini.version"] for v in versions] == ["0.1.0", "0.2.0"]
    assert [v["protocol.mini.file"] for v in versions] == [str(one / "mini.yaml"), str(two / "mini.yaml")]
    text = run("test", str(one / "tests"), str(two / "tests"), "--coverage").stdout.splitlines()
    assert [line.split(": ")[1].split(" (")[0] for line in text[:2]] == ["mini 0.1.0", "mini 0.2.0"]
    assert sum(line.startswith("Coverage mini") for line in text) == 2


def test_cases_files_share_bases_through_extends(tmp_path: Path) -> None:
    """Issue 15: `extends:` a bases file (relative to the cases file); an unknown base names the nearest."""
    folder = make(tmp_path, "")
    (folder / "tests" / "mini.cases.yaml").unlink()
    shared, cases = BASE.split("cases:")
    (folder / "tests" / "common.bases.yaml").write_text(shared, encoding="utf-8")
    (folder / "tests" / "a.cases.yaml").write_text("extends: common.bases.yaml\ncases:" + cases, encoding="utf-8")
    proc = run("test", str(folder / "tests"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 case(s) in 1 file(s): 2 passed" in proc.stdout  # the bases file is not a cases file
    (folder / "tests" / "a.cases.yaml").write_text(
        "extends: common.bases.yaml\ncases:" + cases.replace("base: adult", "base: adlut", 1), encoding="utf-8"
    )
    proc = run("test", str(folder / "tests"))
    assert proc.returncode == 2
    assert "a.cases.yaml:4:11: error [unknown-base] cases[0].base: no base named 'adlut'; did you mean 'adult'?" in (
        proc.stdout
    )


def test_the_readme_shared_bases_example_passes_against_the_shipped_protocol(tmp_path: Path) -> None:
    """Issue 15: the README's `extends:` example is two files; both are written out and run."""
    import re
    import textwrap

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [textwrap.dedent(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.S)]
    files = {b.split("\n", 1)[0].removeprefix("# "): b for b in blocks if b.startswith("# protocols/tests/")}
    assert sorted(files) == ["protocols/tests/common.bases.yaml", "protocols/tests/heart-rate.cases.yaml"]
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    shutil.copy(ROOT / "protocols" / "kap-sud.yaml", tmp_path / "protocols" / "kap-sud.yaml")
    proc = run("test", str(tmp_path / "protocols" / "tests"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 case(s) in 1 file(s): 2 passed" in proc.stdout
