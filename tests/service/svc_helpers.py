"""Helpers of the service tests: FHIR data made here, hook requests, schemas, the audit log."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from kapdecide.service.definitions import SEARCH_TYPES

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
SCHEMAS = ROOT / "tests" / "schemas"
BASE = "https://cds.test.example"
ISS = "https://ehr.test.example"
PATIENT_ID = "pt-7f3a9c"
PATIENT_NAME = "Zebulon-Quixote"


def schema(name: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads((SCHEMAS / name).read_text(encoding="utf-8")))


def audit_lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# ---------------------------------------------------------------- FHIR data made here


def patient(birth: str = "1980-04-02", gender: str = "female") -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PATIENT_ID,
        "gender": gender,
        "birthDate": birth,
        "name": [{"family": PATIENT_NAME, "given": ["Ottilie"]}],
    }


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def condition(rid: str, code: str, display: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "clinicalStatus": {"coding": [{"code": "active"}]},
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
    }


def draft_order(
    rid: str = "draft-ket-1", code: str = "6130", text: str = "ketamine 50 mg/mL injection"
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{PATIENT_ID}"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code}],
            "text": text,
        },
    }


def hook_request(hook: str = "patient-view", prefetch: dict[str, Any] | None = None, **context: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr-1", "patientId": PATIENT_ID, **context},
        "prefetch": prefetch
        if prefetch is not None
        else {
            "patient": patient(),
            "conditions": searchset(condition("c-1", "7200002", "Alcoholism")),
            "medicationRequests": None,
            "allergies": None,
        },
    }
    return body


def minor_prefetch() -> dict[str, Any]:
    """A patient under 18: the shipped protocol contraindicates ketamine (age_under_18)."""
    return {"patient": patient(birth="2014-05-05"), "conditions": searchset(condition("c-1", "7200002", "Alcoholism"))}


def sample_prefetch(name: str) -> tuple[str, dict[str, Any]]:
    """A shared sample as a client would send it: the Patient, and a searchset per prefetch key."""
    path = SAMPLES / name
    if not path.exists():
        pytest.skip(f"shared FHIR sample {name} not present")
    text = path.read_text(encoding="utf-8")
    bundle = json.loads(text)
    # As a FHIR server answers a search: references as Type/id (the samples are transaction Bundles
    # whose references are the entries' urn:uuid fullUrls).
    local = {e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]
             if str(e.get("fullUrl", "")).startswith("urn:uuid:") and "id" in e["resource"]}  # fmt: skip
    text = re.sub(r'"(urn:uuid:[0-9a-fA-F-]+)"', lambda m: json.dumps(local.get(m.group(1), m.group(1))), text)
    resources = [e["resource"] for e in json.loads(text)["entry"]]
    pat = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": pat}
    for key, rtype in SEARCH_TYPES.items():
        found = [r for r in resources if r["resourceType"] == rtype]
        prefetch[key] = searchset(*found) if found else None
    medications = [r for r in resources if r["resourceType"] == "Medication"]
    if medications and prefetch["medicationRequests"] is not None:  # _include'd Medications
        prefetch["medicationRequests"]["entry"] += [{"resource": m} for m in medications]
    return pat["id"], prefetch
