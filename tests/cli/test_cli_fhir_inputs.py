"""Issue 11, FHIR import through real subprocesses: dispensed, administered and proposed drugs reach the
assessment; a Bundle without a Patient, FHIR XML and a CDS Hooks request are refused with exit 2 and a
message that says what the input is (single assess, import-fhir, and a batch line)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT, run

AS_OF = "2026-03-01"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SUBJECT = {"reference": "Patient/p1"}
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01", "gender": "male"}
NO_PATIENT = (
    "the FHIR Bundle has no Patient resource: kapdecide cannot tell whose record this is; "
    "export the Bundle with the Patient"
)
FHIR_XML = "FHIR XML is not supported; send the Bundle as FHIR JSON (application/fhir+json)"


def _drug(code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": RXNORM, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


SUBOXONE = _drug("1010600", "buprenorphine 2 MG / naloxone 0.5 MG Sublingual Film")


def dispense(rid: str, status: str, handed: str, days: int | None = 14) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": rid,
        "status": status,
        "subject": SUBJECT,
        "medicationCodeableConcept": SUBOXONE,
        "whenHandedOver": handed,
    }
    if days is not None:
        r["daysSupply"] = {"value": days, "unit": "days", "system": "http://unitsofmeasure.org", "code": "d"}
    return r


def bundle(*resources: dict[str, Any], patient: bool = True) -> dict[str, Any]:
    entries = [{"fullUrl": "urn:uuid:p1", "resource": PATIENT}] if patient else []
    entries += [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def as_bytes(data: Any) -> bytes:
    return json.dumps(data).encode()


def assess_json(data: Any, *extra: str) -> tuple[int, dict[str, Any], str]:
    proc = run("assess", "-", "--format", "json", "--as-of", AS_OF, *extra, stdin=as_bytes(data))
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def findings(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"]: f for f in doc["findings"]}


# ---------------------------------------------------------------- dispensed, administered, proposed


def test_dispensed_buprenorphine_fires_the_opioid_interaction() -> None:
    code, doc, err = assess_json(bundle(dispense("d1", "completed", "2026-02-20")))
    assert code == 0, err
    assert doc["input_source"]["format"] == "fhir-r4" and doc["input_source"]["resources_read"] == 2
    opioid = findings(doc)["opioid_interaction"]
    assert "MedicationDispense/d1" in opioid["sources"]
    assert "buprenorphine" in opioid["message"]


def test_old_and_entered_in_error_dispenses_are_not_current() -> None:
    old = dispense("d-old", "completed", "2026-01-01")  # 59 days ago, past 14 + 30 days
    wrong = dispense("d-err", "entered-in-error", "2026-02-28")
    code, doc, err = assess_json(bundle(old, wrong))
    assert code == 0, err
    assert "opioid_interaction" not in findings(doc)
    assert any("older than their recency window" in w for w in doc["input_source"]["warnings"])
    proc = run("import-fhir", "-", "--as-of", AS_OF, "--format", "json", stdin=as_bytes(bundle(old, wrong)))
    assert proc.returncode == 0, proc.stderr
    imported = json.loads(proc.stdout)
    assert "medications" not in imported["profile"]
    assert imported["resources_read"] == 2  # an entered-in-error resource is not read (it cancels itself)


def test_administered_lorazepam_is_a_current_benzodiazepine() -> None:
    admin = {
        "resourceType": "MedicationAdministration",
        "id": "a1",
        "status": "completed",
        "subject": SUBJECT,
        "medicationCodeableConcept": _drug("6470"),
        "effectiveDateTime": "2026-02-14T22:00:00Z",
    }
    code, doc, err = assess_json(bundle(admin))
    assert code == 0, err
    benzo = findings(doc)["benzodiazepine_interaction"]
    assert "MedicationAdministration/a1" in benzo["sources"]
    stale = {**admin, "id": "a2", "effectiveDateTime": "2026-01-20T22:00:00Z"}  # 40 days ago
    code, doc, err = assess_json(bundle(stale))
    assert code == 0, err
    assert "benzodiazepine_interaction" not in findings(doc)


def test_draft_order_is_imported_as_a_proposed_medication() -> None:
    draft = {
        "resourceType": "MedicationRequest",
        "id": "q1",
        "status": "draft",
        "intent": "order",
        "subject": SUBJECT,
        "medicationCodeableConcept": _drug("3322"),
    }
    proc = run("import-fhir", "-", "--as-of", AS_OF, "--format", "json", stdin=as_bytes(bundle(draft)))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["profile"]["proposed_medications"] == ["diazepam"]
    assert "medications" not in doc["profile"] and "incomplete_lists" not in doc["profile"]
    assert doc["provenance"]["proposed_medications.diazepam"] == ["MedicationRequest/q1"]
    assert (
        "MedicationRequest/q1: draft/proposed order for diazepam: reported as a proposed medication and checked "
        "for interactions"
    ) in doc["warnings"]
    yaml_out = run("import-fhir", "-", "--as-of", AS_OF, stdin=as_bytes(bundle(draft)))
    assert yaml_out.returncode == 0, yaml_out.stderr
    assert "proposed_medications:\n- diazepam\n" in yaml_out.stdout
    assert "# WARNING: MedicationRequest/q1: draft/proposed order for diazepam" in yaml_out.stdout


# ---------------------------------------------------------------- a Bundle without a Patient


NO_PATIENT_BUNDLE = bundle(dispense("d1", "completed", "2026-02-20"), patient=False)


def test_bundle_without_patient_is_invalid_for_assess() -> None:
    proc = run("assess", "-", "--as-of", AS_OF, stdin=as_bytes(NO_PATIENT_BUNDLE))
    assert proc.returncode == 2
    assert NO_PATIENT in proc.stderr
    assert proc.stdout == ""
    code, doc, _ = assess_json(NO_PATIENT_BUNDLE)
    assert code == 2
    assert doc["status"] == "error" and doc["error"]["code"] == "fhir-no-patient"
    assert doc["error"]["message"] == NO_PATIENT


def test_bundle_without_patient_is_invalid_for_import_fhir() -> None:
    proc = run("import-fhir", "-", "--as-of", AS_OF, stdin=as_bytes(NO_PATIENT_BUNDLE))
    assert proc.returncode == 2 and NO_PATIENT in proc.stderr and proc.stdout == ""


# ---------------------------------------------------------------- FHIR XML

XML_BUNDLE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Bundle xmlns="http://hl7.org/fhir">\n  <type value="collection"/>\n'
    b'  <entry><resource><Patient><id value="p1"/></Patient></resource></entry>\n</Bundle>\n'
)


@pytest.mark.parametrize(
    "raw",
    [
        XML_BUNDLE,
        b"\xef\xbb\xbf\n  " + XML_BUNDLE,
        b'<Bundle xmlns="http://hl7.org/fhir"><type value="batch"/></Bundle>',
    ],
    ids=["declaration", "bom-and-whitespace", "no-declaration"],
)
@pytest.mark.parametrize("command", ["assess", "import-fhir"])
def test_fhir_xml_is_refused_with_a_message(command: str, raw: bytes) -> None:
    proc = run(command, "-", "--as-of", AS_OF, stdin=raw)
    assert proc.returncode == 2
    assert FHIR_XML in proc.stderr


def test_fhir_xml_file_with_input_format_and_json_error_document(tmp_path: Path) -> None:
    path = tmp_path / "bundle.xml"
    path.write_bytes(XML_BUNDLE)
    for forced in ("fhir", "profile", "auto"):
        proc = run("assess", str(path), "--input-format", forced, "--format", "json", "--as-of", AS_OF)
        assert proc.returncode == 2
        error = json.loads(proc.stdout)["error"]
        assert error["code"] == "fhir-xml" and error["message"] == FHIR_XML


def test_yaml_profile_naming_the_fhir_namespace_still_loads(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "deferred-bp-alcohol.yaml").read_text(encoding="utf-8")
    path = tmp_path / "profile.yaml"
    path.write_text("# mapped by hand from http://hl7.org/fhir resources <Bundle>\n" + text, encoding="utf-8")
    proc = run("assess", str(path), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "deferred"


# ---------------------------------------------------------------- CDS Hooks requests

CDS_REQUEST = {
    "hook": "patient-view",
    "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
    "fhirServer": "https://ehr.example/fhir",
    "context": {"userId": "Practitioner/1", "patientId": "p1"},
    "prefetch": {"patient": PATIENT, "meds": bundle(dispense("d1", "completed", "2026-02-20"))},
}
CDS_MESSAGE = (
    "this is a CDS Hooks request (hook 'patient-view'), not a profile or a FHIR Bundle: pass its prefetch "
    "Bundle, or call the CDS Hooks service"
)


@pytest.mark.parametrize(
    "request_data",
    [CDS_REQUEST, {"hook": "patient-view", "hookInstance": "1"}, {"hook": "patient-view", "context": {}}],
    ids=["full", "hook-instance-only", "context-only"],
)
@pytest.mark.parametrize("command", ["assess", "import-fhir"])
def test_cds_hooks_request_is_refused_with_a_message(command: str, request_data: dict[str, Any]) -> None:
    proc = run(command, "-", "--as-of", AS_OF, stdin=as_bytes(request_data))
    assert proc.returncode == 2
    assert CDS_MESSAGE in proc.stderr


def test_cds_hooks_request_json_error_and_forced_input_formats() -> None:
    for forced in ("auto", "profile", "fhir"):
        code, doc, _ = assess_json(CDS_REQUEST, "--input-format", forced)
        assert code == 2
        assert doc["error"]["code"] == "cds-hooks-request" and doc["error"]["message"] == CDS_MESSAGE


def test_cds_hooks_hook_name_is_cleaned_and_truncated() -> None:
    hostile = {"hook": "patient-view\x1b[2J\r\n" + "a" * 300, "hookInstance": "1"}
    proc = run("assess", "-", "--as-of", AS_OF, stdin=as_bytes(hostile))
    assert proc.returncode == 2
    assert "this is a CDS Hooks request (hook 'patient-view [2J aaaa" in proc.stderr
    assert "\x1b" not in proc.stderr and "a" * 100 not in proc.stderr


# ---------------------------------------------------------------- the same inputs as batch lines


def test_batch_lines_without_patient_xml_or_cds_hooks_become_error_records() -> None:
    import yaml

    # --as-of applies to every line (it wins over assessed_on): a profile dated for that day
    example = yaml.safe_load((ROOT / "examples" / "deferred-bp-alcohol.yaml").read_text())
    profile = json.dumps({"assessed_on": AS_OF, "patient": example["patient"]}, default=str)
    lines = [
        profile,
        json.dumps(NO_PATIENT_BUNDLE),
        json.dumps(CDS_REQUEST),
        XML_BUNDLE.decode().replace("\n", ""),
        json.dumps(bundle(dispense("d1", "completed", "2026-02-20"))),
    ]
    proc = run("assess", "--batch", "-", "--as-of", AS_OF, stdin=("\n".join(lines) + "\n").encode())
    assert proc.returncode == 2, proc.stderr
    out = [json.loads(t) for t in proc.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["status"] == "incomplete" and out[0]["input_line"] == 1
    errors = {doc["line"]: doc["error"] for doc in out[1:4]}
    assert {n: (e["exit_code"], e["code"]) for n, e in errors.items()} == {
        2: (2, "fhir-no-patient"),
        3: (2, "cds-hooks-request"),
        4: (2, "fhir-xml"),
    }
    assert errors[2]["message"] == NO_PATIENT
    assert errors[3]["message"] == CDS_MESSAGE
    assert errors[4]["message"] == FHIR_XML
    assert "opioid_interaction" in {f["rule_id"] for f in out[4]["findings"]}  # the batch went on
    assert re.search(r"5 line\(s\): 2 assessed \([^)]+\), 3 invalid \(lines 2, 3, 4\)", proc.stderr)
