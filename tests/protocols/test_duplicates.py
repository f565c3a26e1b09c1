"""Issue 13 item 1: a vaguer duplicate entry never erases a known contraindication or deferral.

For repeated entries the worst known entry decides; an entry without the detail adds "could not
check" (the status is at most incomplete) but never removes a finding.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from kapdecide.assessment.assess import assess as assess_report
from kapdecide.inputs.fhir import map_bundle
from kapdecide.inputs.profile import validate_profile_data
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.protocol.loader import default_protocol_dir, load_protocols

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "examples" / "eligible-cocaine.yaml").read_text(encoding="utf-8"))
AS_OF = dt.date(2026, 11, 21)
PROTOCOLS = load_protocols([default_protocol_dir()])


def assess(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return assess_report(validate_profile_data(data, SourceMap("case.yaml")), PROTOCOLS, AS_OF)


def rules(report: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in report["findings"]}


@pytest.mark.parametrize(
    ("entries", "rule", "status"),
    [
        ([{"condition": "myocardial_infarction", "date": "2026-11-01"}, "myocardial_infarction"],
         "recent_acute_coronary_event", "contraindicated"),
        ([{"condition": "heart_failure", "nyha_class": "IV"}, "heart_failure"], "severe_heart_failure",
         "contraindicated"),
        ([{"condition": "cirrhosis", "child_pugh_class": "C"}, "cirrhosis"], "severe_hepatic_impairment",
         "contraindicated"),
        ([{"condition": "hyperthyroidism", "controlled": False}, "hyperthyroidism"], "uncontrolled_hyperthyroidism",
         None),
        ([{"condition": "arrhythmia", "controlled": False}, "arrhythmia"], "arrhythmia_uncontrolled", "deferred"),
    ],
)  # fmt: skip
def test_a_vaguer_duplicate_keeps_the_finding(entries: list[Any], rule: str, status: str | None) -> None:
    alone = assess(medical_conditions=entries[:1])
    both = assess(medical_conditions=entries)
    assert rule in rules(alone), rules(alone)
    assert rule in rules(both), rules(both)  # the duplicate without detail used to erase it
    assert both["status"] == alone["status"]
    if status:
        assert both["status"] == status


def test_an_entry_that_could_be_worse_is_reported_as_could_not_check() -> None:
    r = assess(medical_conditions=[{"condition": "heart_failure", "nyha_class": "II"}, "heart_failure"])
    assert r["status"] == "incomplete"  # the unclassed entry could be class III or IV
    assert "entries:medical.heart_failure_nyha_class" in {n["rule_id"] for n in r["not_checked"]}


def test_a_stimulant_used_today_is_not_erased_by_another_without_a_date() -> None:
    base = copy.deepcopy(BASE["substance_use"][0])  # cocaine
    base["last_use"] = "2026-11-21"
    other = {"substance": "methamphetamine", "severity": "mild", "withdrawal": "none", "intoxicated": False}
    r = assess(substance_use=[base, other])
    assert "recent_stimulant_use" in rules(r)
    assert r["status"] == "deferred"


def test_fhir_a_recent_mi_and_an_old_inactive_undated_one() -> None:
    def mi(rid: str, status: str, onset: str | None) -> dict[str, Any]:
        r: dict[str, Any] = {
            "resourceType": "Condition",
            "id": rid,
            "subject": {"reference": "urn:uuid:p1"},
            "clinicalStatus": {"coding": [{"code": status}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": "22298006"}]},
        }
        if onset:
            r["onsetDateTime"] = onset
        return {"resource": r}

    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:p1", "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01"}},
            mi("c1", "active", "2026-11-10"),
            mi("c2", "inactive", None),
        ],
    }
    imported = map_bundle(bundle, AS_OF)
    profile = validate_profile_data(imported.profile, SourceMap("fhir"))
    r = assess_report(profile, PROTOCOLS, AS_OF)
    assert "recent_acute_coronary_event" in rules(r)
    assert r["status"] == "contraindicated"
