"""casefile: shared bases (``extends``), unknown bases, cycles, and where a cases file's protocols are."""

from __future__ import annotations

import os
from pathlib import Path

from kapdecide.authoring.casefile import read_cases
from kapdecide.authoring.cases import run_case
from kapdecide.protocol.loader import load_protocols

MINI = Path(__file__).resolve().parents[2] / "fixtures" / "protocols" / "valid" / "mini.yaml"

SHARED = """bases:
  adult:
    assessed_on: 2026-11-21
    patient: {age: 40, sex_at_birth: male, weight_kg: 70}
    vitals: {blood_pressure: [{systolic_mmhg: 120, diastolic_mmhg: 70, taken_at: 2026-11-21}]}
    substance_use: [{substance: alcohol, last_use: 2026-11-01}]
    medications: []
"""
CASE = """extends: {extends}
cases:
  - name: hold
    base: {base}
    profile: {{vitals: {{blood_pressure: [{{systolic_mmhg: 150, diastolic_mmhg: 70, taken_at: 2026-11-21}}]}}}}
    expect: {{status: deferred, findings: [bp_above_hold_threshold]}}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_case_builds_on_a_base_from_an_extended_file(tmp_path: Path) -> None:
    write(tmp_path, "common.bases.yaml", SHARED)
    doc = read_cases(write(tmp_path, "tests/a.cases.yaml", CASE.format(extends="../common.bases.yaml", base="adult")))
    assert doc.problems == []
    (case,) = doc.cases
    assert case.data["patient"]["age"] == 40  # from the base
    assert case.data["vitals"]["blood_pressure"][0]["systolic_mmhg"] == 150  # the list is replaced
    result = run_case(case, load_protocols([MINI]))
    assert result.passed, result.failures


def test_extends_takes_a_list_and_bases_files_extend_others_read_once(tmp_path: Path) -> None:
    write(tmp_path, "root.bases.yaml", SHARED)
    write(tmp_path, "b.bases.yaml", "extends: root.bases.yaml\nbases: {b_only: {patient: {age: 50}}}\n")
    write(tmp_path, "c.bases.yaml", "extends: [root.bases.yaml]\n")  # a diamond: root is reached twice
    doc = read_cases(write(tmp_path, "x.cases.yaml", CASE.format(extends="[b.bases.yaml, c.bases.yaml]", base="adult")))
    assert doc.problems == [] and [c.model.name for c in doc.cases] == ["hold"]


def test_an_unknown_base_is_located_with_a_suggestion(tmp_path: Path) -> None:
    write(tmp_path, "common.bases.yaml", SHARED)
    path = write(tmp_path, "x.cases.yaml", CASE.format(extends="common.bases.yaml", base="adlut"))
    (problem,) = read_cases(path).problems
    assert (problem.code, problem.file, problem.line, problem.col) == ("unknown-base", str(path), 4, 11)
    assert problem.message == "no base named 'adlut'; did you mean 'adult'?"


def test_a_base_defined_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "common.bases.yaml", SHARED)
    text = CASE.format(extends="common.bases.yaml", base="adult") + "bases: {adult: {patient: {age: 30}}}\n"
    (problem,) = read_cases(write(tmp_path, "x.cases.yaml", text)).problems
    assert problem.code == "duplicate-id" and problem.line == 7
    assert f"base 'adult' is also defined in {tmp_path / 'common.bases.yaml'}" in problem.message


def test_a_cycle_of_extends_is_refused_with_the_loop(tmp_path: Path) -> None:
    a = write(tmp_path, "a.bases.yaml", "extends: b.bases.yaml\n" + SHARED)
    b = write(tmp_path, "b.bases.yaml", "extends: a.bases.yaml\n")
    doc = read_cases(write(tmp_path, "x.cases.yaml", CASE.format(extends="a.bases.yaml", base="adult")))
    (problem,) = doc.problems
    assert (problem.code, problem.file, problem.line) == ("extends-cycle", str(b), 1)
    assert f"extends cycle: {a} → {b} → {a}" in problem.message
    assert [c.model.name for c in doc.cases] == ["hold"]  # the bases that were read still serve


def test_a_file_that_extends_itself_is_a_cycle(tmp_path: Path) -> None:
    path = tmp_path / "x.cases.yaml"
    write(tmp_path, "x.cases.yaml", CASE.format(extends="x.cases.yaml", base="adult") + SHARED)
    codes = [p.code for p in read_cases(path).problems]
    assert codes == ["extends-cycle"]


def test_a_missing_extended_file_is_located_at_its_extends_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "x.cases.yaml", CASE.format(extends="[gone.bases.yaml]", base="adult"))
    problems = read_cases(path).problems
    assert [(p.code, p.file, p.line) for p in problems] == [
        ("unreadable", str(path), 1),
        ("unknown-base", str(path), 4),
    ]
    assert f"cannot read {tmp_path / 'gone.bases.yaml'}" in problems[0].message


def test_an_extended_file_holds_bases_only(tmp_path: Path) -> None:
    write(tmp_path, "common.bases.yaml", SHARED + "cases: []\n")
    problems = read_cases(write(tmp_path, "x.cases.yaml", CASE.format(extends="common.bases.yaml", base="x"))).problems
    assert problems[0].code == "unknown-field" and problems[0].file == str(tmp_path / "common.bases.yaml")


def test_an_invalid_value_in_an_extended_base_is_located_in_its_file(tmp_path: Path) -> None:
    shared = write(tmp_path, "common.bases.yaml", SHARED.replace("age: 40", "age: 400"))
    (case,) = read_cases(write(tmp_path, "x.cases.yaml", CASE.format(extends="common.bases.yaml", base="adult"))).cases
    result = run_case(case, load_protocols([MINI]))
    assert result.error is not None and f"{shared}:4:" in result.error and "out-of-range" in result.error


def test_the_protocols_beside_a_cases_file(tmp_path: Path) -> None:
    body = CASE.format(extends="[]", base="adult") + SHARED
    in_tests = read_cases(write(tmp_path, "protos/tests/a.cases.yaml", body))
    assert in_tests.protocols == str(tmp_path / "protos")
    named = read_cases(write(tmp_path, "cases/b.cases.yaml", "protocols: ../protos/p.yaml\n" + body))
    assert named.protocols == os.path.normpath(tmp_path / "protos" / "p.yaml")
    assert read_cases(write(tmp_path, "cases/c.cases.yaml", body)).protocols is None
