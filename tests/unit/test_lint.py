"""Each lint class has a failing fixture and a passing one (tests/fixtures/protocols/lint/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kapdecide.conditions import All, AnyOf, Leaf
from kapdecide.lint import can_be_false, can_be_true
from kapdecide.loader import validate_paths

LINT = Path(__file__).resolve().parents[1] / "fixtures" / "protocols" / "lint"
TODAY = dt.date(2026, 11, 21)
CODES = sorted({p.name.split(".")[0] for p in LINT.glob("*.fail.yaml")})
ERRORS = {"tier-gap", "tier-overlap", "never-true"}


def _codes(path: Path) -> dict[str, str]:
    _, problems = validate_paths([path], TODAY)
    return {p.code: p.severity for p in problems}


def test_every_lint_class_has_fixtures() -> None:
    assert CODES == sorted(
        [
            "evidence-without-doi",
            "never-false",
            "never-true",
            "option-never-offered",
            "review-overdue",
            "rule-without-rationale",
            "shadowed-rule",
            "tier-gap",
            "tier-overlap",
        ]
    )


@pytest.mark.parametrize("code", CODES)
def test_failing_fixture_reports_the_code(code: str) -> None:
    found = _codes(LINT / f"{code}.fail.yaml")
    assert code in found
    assert found[code] == ("error" if code in ERRORS else "warning")


@pytest.mark.parametrize("code", CODES)
def test_passing_fixture_is_clean(code: str) -> None:
    found = _codes(LINT / f"{code}.pass.yaml")
    assert code not in found
    assert not [c for c, sev in found.items() if sev == "error"], found


def test_lint_problems_are_located() -> None:
    _, problems = validate_paths([LINT / "tier-gap.fail.yaml"], TODAY)
    (gap,) = [p for p in problems if p.code == "tier-gap"]
    assert gap.line is not None and gap.col is not None and gap.path.startswith("rules[1]")


def test_satisfiability_helpers() -> None:
    x = "vitals.bp_systolic_mmhg"
    assert not can_be_true(All(all=[Leaf(field=x, op=">", value=4), Leaf(field=x, op="<", value=5)]))
    assert can_be_true(
        All(all=[Leaf(field="patient.weight_kg", op=">", value=4), Leaf(field="patient.weight_kg", op="<", value=5)])
    )
    assert not can_be_true(All(all=[Leaf(field=x, op="is_unknown"), Leaf(field=x, op=">", value=1)]))
    assert not can_be_false(AnyOf(any=[Leaf(field=x, op="is_unknown"), Leaf(field=x, op="is_known")]))
    assert can_be_false(Leaf(field="psychiatric.mania", op="!=", value="active"))
    assert not can_be_true(
        All(
            all=[
                Leaf(field="medications.classes", op="contains", value="opioid"),
                Leaf(field="medications.classes", op="not_contains", value="opioid"),
            ]
        )
    )
