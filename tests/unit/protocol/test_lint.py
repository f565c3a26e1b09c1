"""Each lint class has a failing fixture and a passing one (tests/fixtures/protocols/lint/)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kapdecide.language.conditions import All, AnyOf, Leaf
from kapdecide.protocol.lint import can_be_false, can_be_true
from kapdecide.protocol.loader import validate_paths

LINT = Path(__file__).resolve().parents[2] / "fixtures" / "protocols" / "lint"
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


# ---------------------------------------------------------------- shadowing: same answers, bounded work

ROOT = Path(__file__).resolve().parents[3]


def _brute_force_shadowed(path: Path) -> set[str]:
    """Every pair, every branch pair, no index and no budget: what the fast check must agree with."""
    from kapdecide.language.conditions import TooManyBranches, dnf, negate
    from kapdecide.protocol.lint import MAX_SHADOW_BRANCHES, SEVERITY, satisfiable
    from kapdecide.protocol.loader import read_protocol

    lp, _ = read_protocol(path)
    assert lp is not None
    rules = [r for r in lp.protocol.rules if r.kind in SEVERITY]
    out = set()
    for a in rules:
        for b in rules:
            if a.id == b.id or SEVERITY[b.kind] >= SEVERITY[a.kind]:
                continue
            try:
                xs, ys = dnf(a.when, MAX_SHADOW_BRANCHES), dnf(negate(b.when), MAX_SHADOW_BRANCHES)
                dnf(b.when, MAX_SHADOW_BRANCHES)
            except TooManyBranches:
                continue
            if any(satisfiable(x) for x in xs) and not any(satisfiable(x + y) for x in xs for y in ys):
                out.add(a.id)
    return out


SHADOW_CASES = [ROOT / "protocols" / "kap-sud.yaml", *sorted(LINT.glob("shadowed-rule.*.yaml"))]


@pytest.mark.parametrize("path", SHADOW_CASES, ids=lambda p: p.name)
def test_the_fast_shadow_check_finds_exactly_what_a_brute_force_check_finds(path: Path) -> None:
    _, problems = validate_paths([path], None)
    found = {p.message.split("'")[1] for p in problems if p.code == "shadowed-rule"}
    assert found == _brute_force_shadowed(path)
    assert "shadow-check-incomplete" not in {p.code for p in problems}


def _large_protocol(tmp_path: Path, rules: int) -> Path:
    import importlib.util

    spec = importlib.util.spec_from_file_location("large_protocol", ROOT / "benchmarks" / "large_protocol.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "large.yaml"
    path.write_text(module.build(rules, size=0), encoding="utf-8")
    return path


def test_the_shadow_check_is_bounded_and_says_what_it_left_unchecked(tmp_path: Path) -> None:
    """Issue 13 item 14: 1,998 rules took 57 s in validate, all in the pairwise shadowing check."""
    from kapdecide.protocol.lint import shadowing as lint
    from kapdecide.protocol.loader import read_protocol

    path = _large_protocol(tmp_path, 400)
    lp, _ = read_protocol(path)
    assert lp is not None
    calls = 0
    real = lint._compatible

    def counting(*args: object) -> bool:
        nonlocal calls
        calls += 1
        return real(*args)  # type: ignore[arg-type]

    lint._compatible = counting  # type: ignore[assignment]
    try:
        problems = list(lint._shadowed(lp, budget=20_000))
    finally:
        lint._compatible = real
    assert 0 < calls <= 20_000  # the work is bounded by the budget, whatever the protocol
    (incomplete,) = [p for p in problems if p.code == "shadow-check-incomplete"]
    assert incomplete.severity == "warning" and incomplete.line is not None
    assert incomplete.path.startswith("rules[") and "were not checked" in incomplete.message
    assert not [p for p in problems if p.code == "shadowed-rule"]  # no synthetic rule implies another


def test_a_small_protocol_is_checked_whole_within_the_default_budget(tmp_path: Path) -> None:
    _, problems = validate_paths([_large_protocol(tmp_path, 40)], None)
    assert "shadow-check-incomplete" not in {p.code for p in problems}
    assert not [p for p in problems if p.severity == "error"], [p.format() for p in problems]


def test_every_lint_rule_module_documents_its_codes() -> None:
    """yamllint's pattern: a rule is a module whose docstring names every code it gives."""
    from kapdecide.core.codes import PROBLEM_CODES
    from kapdecide.protocol.lint import RULES

    seen = set()
    for rule in RULES:
        assert rule.__doc__ and callable(rule.check)
        for code in rule.CODES:
            assert f"``{code}``" in rule.__doc__, (rule.__name__, code)
            assert PROBLEM_CODES[code].stage == "lint"
            seen.add(code)
    assert seen == {c for c, spec in PROBLEM_CODES.items() if spec.stage == "lint"}


def test_one_warning_per_evidence_entry_without_a_doi(tmp_path: Path) -> None:
    """Issue 15: evidence with neither a DOI nor an identifier had two warnings (one from the
    checks, one from lint); each entry now has one, and the shipped protocol holds to it."""
    text = (LINT / "evidence-without-doi.pass.yaml").read_text(encoding="utf-8")
    text = text.replace("doi: 10.1176/appi.ajp.2021.21030277, ", "")
    (tmp_path / "bare.yaml").write_text(text, encoding="utf-8")
    _, problems = validate_paths([tmp_path / "bare.yaml"], TODAY)
    about = [p for p in problems if p.code.startswith("evidence-without")]
    assert [(p.code, p.message.split(":")[0]) for p in about] == [
        ("evidence-without-identifier", "evidence 'KARE-2022' has no DOI and no other identifier")
    ]
    _, shipped = validate_paths([Path(__file__).resolve().parents[3] / "protocols"], TODAY)
    entries = [p.path.split(".")[0] for p in shipped if p.code.startswith("evidence-without")]
    assert entries and len(entries) == len(set(entries))
