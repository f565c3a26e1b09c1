"""Issue 12 checks that protocol cases cannot express: next steps and derived values in the report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kapdecide.assessment.assess import assess
from kapdecide.inputs.profile import load_profile_bytes
from kapdecide.protocol.loader import default_protocol_dir, load_protocols

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = load_protocols([default_protocol_dir()])
CONTRAINDICATED = sorted((ROOT / "examples").glob("contraindicated-*.yaml"))


@pytest.mark.parametrize("path", CONTRAINDICATED, ids=lambda p: p.name)
def test_every_contraindicated_example_says_what_to_do_next(path: Path) -> None:
    profile, _ = load_profile_bytes(path.read_bytes(), path.name)
    r = assess(profile, PROTOCOLS, profile.assessed_on or dt.date(2026, 11, 21))
    assert r["status"] == "contraindicated"
    assert "next steps" in r["status_summary"]
    assert r["next_steps"], "the summary points to next steps: there must be some"
    assert all(step["label"] and step["label"] != step["id"] for step in r["next_steps"])


def test_severe_heart_failure_names_a_cardiology_review() -> None:
    text = b"""assessed_on: 2026-11-21
patient: {age: 50, sex_at_birth: male, weight_kg: 80}
medical_conditions: [{condition: heart_failure, nyha_class: IV}]
"""
    profile, _ = load_profile_bytes(text, "p.yaml")
    steps = [s["id"] for s in assess(profile, PROTOCOLS, dt.date(2026, 11, 21))["next_steps"]]
    assert "cardiology_review_then_reassess" in steps


def test_a_derived_remission_is_reported_and_a_recorded_one_is_not() -> None:
    base = b"""assessed_on: 2026-11-21
substance_use:
  - {substance: sedatives, severity: severe, last_use: 2026-11-21, withdrawal: none, intoxicated: false%s}
"""
    derived = assess(load_profile_bytes(base % b"", "p.yaml")[0], PROTOCOLS, dt.date(2026, 11, 21))["derived"]
    assert [(d["field"], d["value"]) for d in derived] == [("substance_use.sedatives.remission", "none")]
    assert "0 days ago" in derived[0]["reason"] and "Record remission to override" in derived[0]["reason"]
    recorded = load_profile_bytes(base % b", remission: early", "p.yaml")[0]
    assert assess(recorded, PROTOCOLS, dt.date(2026, 11, 21))["derived"] == []
