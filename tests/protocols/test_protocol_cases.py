"""The shipped protocols against their test cases (protocols/tests/*.cases.yaml).

Every rule must fire in at least one case and be expected absent in at least one near-miss case,
and every option must be offered in at least one case (an option marked insufficient_evidence never).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kapdecide.authoring.casefile import Case, load_cases
from kapdecide.authoring.cases import run_case
from kapdecide.protocol.loader import LoadedProtocol, load_protocols

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = ROOT / "protocols"
CASE_FILES = sorted((PROTOCOLS / "tests").glob("*.cases.yaml"))


def _cases() -> list[Case]:
    out: list[Case] = []
    for f in CASE_FILES:
        cases, problems = load_cases(f)
        assert not problems, "\n".join(p.format() for p in problems)
        out.extend(cases)
    return out


CASES = _cases()


@pytest.fixture(scope="module")
def protocols() -> list[LoadedProtocol]:
    return load_protocols([PROTOCOLS])


def test_there_are_cases() -> None:
    assert CASE_FILES, "no protocols/tests/*.cases.yaml"
    assert len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.model.name for c in CASES])
def test_case(case: Case, protocols: list[LoadedProtocol]) -> None:
    result = run_case(case, protocols)
    if case.model.todo and not result.passed:
        pytest.xfail(case.model.todo)
    assert result.error is None, result.error
    assert result.passed, f"{case.file}:{case.line}: {case.model.name}\n  " + "\n  ".join(result.failures)


def test_every_rule_fires_and_has_a_near_miss(protocols: list[LoadedProtocol]) -> None:
    fired: set[str] = set()
    offered: set[str] = set()
    for case in CASES:
        report = run_case(case, protocols).report
        assert report is not None, case.model.name
        fired |= {f["rule_id"] for f in report["findings"]}
        offered |= {o["option_id"] for o in report["options"] if o["state"] == "offered"}
    expected_absent = {rid for c in CASES for rid in c.model.expect.absent}
    expected_fired = {rid for c in CASES for rid in c.model.expect.findings}
    rules = {r.id for lp in protocols for r in lp.protocol.rules}
    options = {o.id for lp in protocols for o in lp.protocol.options if o.insufficient_evidence is None}
    unsupported = {o.id for lp in protocols for o in lp.protocol.options if o.insufficient_evidence is not None}
    assert sorted(rules - fired) == [], "rules that no case makes fire"
    assert sorted(offered & unsupported) == [], "an option marked insufficient_evidence was offered"
    assert sorted(rules - expected_fired) == [], "rules no case expects to fire"
    assert sorted(rules - expected_absent) == [], "rules without a near-miss case (expect.absent)"
    assert sorted(options - offered) == [], "options no case offers"
