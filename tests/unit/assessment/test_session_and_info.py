"""Issue-3 mechanics: info findings, insufficient-evidence options, structured trials, session checklist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kapdecide.assessment.assess import assess
from kapdecide.inputs.profile import Profile
from kapdecide.language.conditions import AnyOf, Leaf, describe
from kapdecide.protocol.loader import load_protocols, validate_paths

AS_OF = dt.date(2026, 11, 21)

PROTOCOL = """
id: session_demo
title: Session demo
version: 0.1.0
status: draft
last_reviewed: 2026-11-21
authors: [tests]
evidence:
  - {id: KARE-2022, citation: "Grabski M et al. Am J Psychiatry 2022", doi: 10.1176/appi.ajp.2021.21030277,
     design: rct, participants: 96}
rules:
  - id: bp_hold
    kind: deferral
    title: BP at or above 140/90
    when:
      any:
        - {field: vitals.bp_systolic_mmhg, op: ">=", value: 140}
        - {field: vitals.bp_diastolic_mmhg, op: ">=", value: 90}
    message: "BP {vitals.bp_systolic_mmhg}/{vitals.bp_diastolic_mmhg}"
    action: Defer.
    evidence: [KARE-2022]
  - id: depression_note
    kind: info
    title: Co-occurring depression
    when: {field: psychiatric.conditions, op: contains, value: major_depressive_disorder}
    message: Depression strengthens the case.
    action: Note.
    evidence: [KARE-2022]
    strengthens: [iv]
substances:
  - substance: alcohol
    grade: low
    insufficient_evidence: false
    summary: One RCT.
    evidence: [KARE-2022]
    trials:
      - {evidence: KARE-2022, design: "double-blind RCT, n=96", participants: 96, regimen: "0.8 mg/kg IV x3 weekly",
         adjunct: relapse-prevention therapy, outcome: "+10.1 % days abstinent at 6 months"}
options:
  - id: iv
    title: IV ketamine
    route: iv
    setting: clinic
    approach: sub-anaesthetic
    regimens:
      - {substance: alcohol, grade: low, evidence: [KARE-2022], dose: {mg_per_kg: 0.8, description: d},
         sessions: {count: 3, description: "3 weekly"}, psychotherapy: RP}
    monitoring: [BP every 10 min]
  - id: psycholytic
    title: Low-dose psycholytic
    route: sublingual
    setting: clinic
    approach: psycholytic
    insufficient_evidence: no trial shows benefit in any substance use disorder.
    regimens:
      - {substance: alcohol, grade: very_low, evidence: [KARE-2022], dose: {description: varies},
         sessions: {description: varies}, psychotherapy: talk therapy}
    monitoring: [BP]
session:
  pre_dose_rules: [bp_hold]
  pre_dose_checks: [Breath alcohol 0.00]
  holds:
    - {id: bp_in_session, when: "BP >=180/110 twice 5 min apart", action: Stop the infusion., evidence: [KARE-2022]}
  observation_minutes: 120
  observation: until stable
  discharge: [escort present]
  follow_up: [weekly for 90 days]
  evidence: [KARE-2022]
"""


@pytest.fixture()
def protocol_dir(tmp_path: Path) -> Path:
    (tmp_path / "p.yaml").write_text(PROTOCOL, encoding="utf-8")
    return tmp_path


def _profile(**overrides: object) -> Profile:
    data: dict[str, object] = {
        "patient": {"age": 40, "sex_at_birth": "male", "weight_kg": 70},
        "vitals": {"blood_pressure": [{"systolic_mmhg": 120, "diastolic_mmhg": 70, "taken_at": "2026-11-21"}]},
        "substance_use": [{"substance": "alcohol", "last_use": "2026-11-01"}],
        "psychiatric": {"conditions": ["major_depressive_disorder"]},
    }
    data.update(overrides)
    return Profile.model_validate(data)


def test_info_finding_does_not_change_status_and_strengthens_option(protocol_dir: Path) -> None:
    report = assess(_profile(), load_protocols([protocol_dir]), AS_OF)
    assert report["status"] == "eligible"
    assert [f["rule_id"] for f in report["findings"]] == ["depression_note"]
    iv = next(o for o in report["options"] if o["option_id"] == "iv")
    assert iv["state"] == "offered" and iv["supported_by"] == ["depression_note"]


def test_unknown_info_condition_is_neither_reported_nor_missing(protocol_dir: Path) -> None:
    report = assess(_profile(psychiatric=None), load_protocols([protocol_dir]), AS_OF)
    assert report["findings"] == [] and report["not_checked"] == [] and report["status"] == "eligible"


def test_insufficient_evidence_option_is_listed_never_offered(protocol_dir: Path) -> None:
    report = assess(_profile(), load_protocols([protocol_dir]), AS_OF)
    row = next(o for o in report["options"] if o["option_id"] == "psycholytic")
    assert row["state"] == "excluded"
    assert row["reasons"] == ["Insufficient evidence: no trial shows benefit in any substance use disorder."]


def test_session_checklist_prints_the_rules_own_thresholds(protocol_dir: Path) -> None:
    report = assess(_profile(), load_protocols([protocol_dir]), AS_OF)
    (checklist,) = report["session_checklists"]
    assert checklist["applies_to"] == ["iv"]
    (pre,) = checklist["pre_dose"]
    assert pre["rule_id"] == "bp_hold"
    assert pre["do_not_dose_if"] == "mean systolic BP (mmHg) ≥ 140 or mean diastolic BP (mmHg) ≥ 90"
    assert checklist["pre_dose_checks"] == ["Breath alcohol 0.00"]
    assert [h["id"] for h in checklist["in_session_holds"]] == ["bp_in_session"]
    assert checklist["observation_minutes"] == 120


def test_no_checklist_when_nothing_is_offered(protocol_dir: Path) -> None:
    high = {"blood_pressure": [{"systolic_mmhg": 150, "diastolic_mmhg": 80, "taken_at": "2026-11-21"}]}
    report = assess(_profile(vitals=high), load_protocols([protocol_dir]), AS_OF)
    assert report["status"] == "deferred"
    assert report["session_checklists"] == []


def test_trials_are_reported_per_substance(protocol_dir: Path) -> None:
    report = assess(_profile(), load_protocols([protocol_dir]), AS_OF)
    (alcohol,) = report["substances"]
    (trial,) = alcohol["trials"]
    assert (trial["evidence_id"], trial["participants"]) == ("KARE-2022", 96)


def test_describe_reads_like_a_checklist() -> None:
    cond = AnyOf(
        any=[Leaf(field="substance_use.alcohol.ciwa_ar", op=">=", value=8), Leaf(field="patient.age", op="is_unknown")]
    )
    assert describe(cond) == "alcohol CIWA-Ar ≥ 8 or age (years) not recorded"


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("pre_dose_rules: [bp_hold]", "pre_dose_rules: [bp_hodl]", "unknown-rule"),
        ("pre_dose_rules: [bp_hold]", "pre_dose_rules: [depression_note]", "unknown-rule"),
        ("strengthens: [iv]", "strengthens: [iv_typo]", "unknown-option"),
        ("{evidence: KARE-2022, design:", "{evidence: KARE-2O22, design:", "undefined-evidence"),
        ("action: Stop the infusion., evidence: [KARE-2022]", "action: Stop., evidence: [NOPE]", "undefined-evidence"),
    ],
)
def test_loader_checks_session_and_links(tmp_path: Path, old: str, new: str, code: str) -> None:
    assert old in PROTOCOL
    (tmp_path / "p.yaml").write_text(PROTOCOL.replace(old, new), encoding="utf-8")
    _, problems = validate_paths([tmp_path])
    assert code in {p.code for p in problems if p.severity == "error"}
