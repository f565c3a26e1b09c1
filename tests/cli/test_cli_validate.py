"""`kapdecide validate --quiet / --select / --ignore` (issue 15): ruff's habits, failing safe."""

from __future__ import annotations

import json

import pytest
from helpers import run

LINT = "tests/fixtures/protocols/lint"
BROKEN = "tests/fixtures/protocols/invalid_cli"  # two errors: unknown-profile-field, undefined-evidence


def _codes(stdout: str) -> list[str]:
    return [line.split("[", 1)[1].split("]", 1)[0] for line in stdout.splitlines()]


def test_quiet_prints_the_problems_and_no_summary() -> None:
    loud = run("validate", BROKEN)
    quiet = run("validate", BROKEN, "-q")
    assert (quiet.returncode, loud.returncode) == (1, 1)
    assert quiet.stdout == loud.stdout and _codes(quiet.stdout) == ["unknown-profile-field", "undefined-evidence"]
    assert "2 error(s)" in loud.stderr and quiet.stderr == ""


def test_quiet_on_a_clean_protocol_prints_nothing() -> None:
    proc = run("validate", f"{LINT}/tier-gap.pass.yaml", "--quiet")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_select_lists_only_the_named_codes_repeatable_or_comma_separated() -> None:
    comma = run("validate", "protocols", "--select", "evidence-without-doi,review-overdue")
    repeated = run("validate", "protocols", "--select", "evidence-without-doi", "--select", "review-overdue")
    assert comma.returncode == repeated.returncode == 0
    assert comma.stdout == repeated.stdout
    assert set(_codes(comma.stdout)) == {"evidence-without-doi"}  # the shipped protocol is not overdue
    assert "listed (--select/--ignore)" in comma.stderr


def test_ignore_drops_warnings() -> None:
    everything = _codes(run("validate", "protocols").stdout)
    proc = run("validate", "protocols", "--ignore", "evidence-without-doi")
    assert proc.returncode == 0
    assert _codes(proc.stdout) == [c for c in everything if c != "evidence-without-doi"]
    assert "evidence-without-doi" in everything


@pytest.mark.parametrize(
    ("option", "wrong", "hint"),
    [("--select", "tier-gapp", "tier-gap"), ("--ignore", "unsued-evidence", "unused-evidence")],
)
def test_an_unknown_code_is_a_usage_error_with_a_suggestion(option: str, wrong: str, hint: str) -> None:
    proc = run("validate", "protocols", option, wrong)
    assert proc.returncode == 2 and proc.stdout == ""
    assert f"{wrong}: no such problem code; did you mean '{hint}'?" in proc.stderr
    assert "Try 'kapdecide validate --help'." in proc.stderr


def test_an_error_code_cannot_be_ignored() -> None:
    proc = run("validate", BROKEN, "--ignore", "undefined-evidence")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "undefined-evidence: an error cannot be ignored" in proc.stderr


@pytest.mark.parametrize("quiet", [[], ["-q"]])
def test_errors_left_unlisted_by_select_still_fail_and_are_counted(quiet: list[str]) -> None:
    """Fail safe: --select narrows what is listed, never the verdict."""
    proc = run("validate", BROKEN, "--select", "unused-evidence", *quiet)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "2 error(s) not listed (--select/--ignore): the protocols do not validate" in proc.stderr


def test_json_counts_every_problem_and_says_what_is_not_listed() -> None:
    proc = run("validate", BROKEN, "--select", "undefined-evidence", "--format", "json")
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1 and doc["status"] == "fail" and doc["errors"] == 2
    assert [p["code"] for p in doc["problems"]] == ["undefined-evidence"]
    assert doc["not_listed"] == {"errors": 1, "warnings": 0}
    plain = json.loads(run("validate", BROKEN, "--format", "json").stdout)
    assert "not_listed" not in plain and len(plain["problems"]) == 2


def test_help_says_how_filters_fail_safe() -> None:
    text = " ".join(run("validate", "--help").stdout.split())
    assert "--select" in text and "--ignore" in text and "--quiet" in text
    assert "never the exit code" in text and "Only warnings can be ignored" in text
