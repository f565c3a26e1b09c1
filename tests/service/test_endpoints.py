"""The service in process (Starlette's TestClient): every endpoint, and every error path as JSON."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from svc_helpers import (
    BASE,
    PATIENT_ID,
    PATIENT_NAME,
    audit_lines,
    draft_order,
    hook_request,
    minor_prefetch,
    patient,
    schema,
    searchset,
)

from kapdecide.assessment.report import receipt_sha256
from kapdecide.core.contract import DISCLAIMER
from kapdecide.core.errors import InvalidInputError
from kapdecide.inputs.fhir import observation_codes as oc

PV = "/cds-services/kapdecide-patient-view"
SIGN = "/cds-services/kapdecide-order-sign"
SELECT = "/cds-services/kapdecide-order-select"
Client = Callable[..., TestClient]


def _auth(token: Callable[..., str], path: str = PV) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(path)}"}


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "error" and body["error"]["code"] == code and body["error"]["http_status"] == status
    assert body["disclaimer"] == DISCLAIMER
    assert "Traceback" not in response.text
    return body


# ---------------------------------------------------------------- discovery


def test_discovery_lists_the_three_services_and_validates(make_client: Client) -> None:
    doc = make_client().get("/cds-services").json()
    schema("cds-hooks-discovery.schema.json").validate(doc)
    hooks = {s["id"]: s["hook"] for s in doc["services"]}
    assert hooks == {
        "kapdecide-patient-view": "patient-view",
        "kapdecide-order-select": "order-select",
        "kapdecide-order-sign": "order-sign",
    }
    for s in doc["services"]:
        assert s["title"] and s["description"] and "clinician review" in s["usageRequirements"]
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert s["prefetch"]["allergies"] == "AllergyIntolerance?patient={{context.patientId}}"
        assert {"conditions", "medicationRequests", "medicationStatements", "medicationDispenses"} <= set(s["prefetch"])


def test_discovery_asks_for_every_observation_code_the_importer_reads(make_client: Client) -> None:
    doc = make_client().get("/cds-services").json()
    template = doc["services"][0]["prefetch"]["observations"]
    assert template.startswith("Observation?patient={{context.patientId}}&code=")
    codes = set(template.split("&code=")[1].split(","))
    expected = (
        oc.BP_PANELS | oc.SYSTOLIC | oc.DIASTOLIC | oc.HEART_RATE | oc.WEIGHT | oc.PHQ9_TOTAL | oc.HCG_QUALITATIVE
    )
    assert codes == expected | {oc.PREGNANCY_STATUS}
    assert {"85354-9", "8480-6", "8462-4", "8867-4", "29463-7", "44261-6", "82810-3", "2106-3"} <= codes


def test_discovery_can_require_a_jwt(make_client: Client, token: Callable[..., str]) -> None:
    client = make_client(discovery_requires_jwt=True)
    _error(client.get("/cds-services"), 401, "unauthorized")
    ok = client.get("/cds-services", headers={"Authorization": f"Bearer {token('/cds-services')}"})
    assert ok.status_code == 200


# ---------------------------------------------------------------- a hook call


def test_patient_view_gives_cards_that_validate(make_client: Client, token: Callable[..., str]) -> None:
    response = make_client().post(PV, json=hook_request(), headers=_auth(token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    doc = response.json()
    schema("cds-hooks-response.schema.json").validate(doc)
    assert 1 <= len(doc["cards"]) <= 6
    status = doc["cards"][0]
    assert status["source"]["topic"]["code"] == "status"
    assert all(DISCLAIMER in card["detail"] for card in doc["cards"])


def test_the_report_is_the_pipelines(make_client: Client, token: Callable[..., str], protocols: list[Any]) -> None:
    """The same report as ``assess`` of the assembled Bundle: same receipt hash in the audit line."""
    import datetime as dt

    from kapdecide import pipeline
    from kapdecide.inputs.yaml_source import SourceMap
    from kapdecide.service.prefetch import assemble

    body = hook_request()
    client = make_client()
    assert client.post(PV, json=body, headers=_auth(token)).status_code == 200
    bundle = assemble(body["prefetch"], PATIENT_ID).bundle
    checked = pipeline.from_data(bundle, SourceMap("x"), today=dt.datetime.now(dt.UTC).date())
    expected = receipt_sha256(pipeline.report(checked, protocols)["receipt"])
    line = audit_lines(Path(client.app.state.service.config.audit_log).parent)[-1]  # type: ignore[attr-defined]
    assert line["receipt_sha256"] == expected and line["report_status"] == pipeline.report(checked, protocols)["status"]


def test_order_sign_with_a_ketamine_draft_for_a_minor_suggests_removing_it(
    make_client: Client, token: Callable[..., str]
) -> None:
    drafts = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft_order()}]}
    body = hook_request("order-sign", minor_prefetch(), draftOrders=drafts)
    doc = make_client().post(SIGN, json=body, headers=_auth(token, SIGN)).json()
    schema("cds-hooks-response.schema.json").validate(doc)
    status = doc["cards"][0]
    assert status["indicator"] == "critical"
    assert status["selectionBehavior"] == "at-most-one"
    (suggestion,) = status["suggestions"]
    assert suggestion["actions"] == [
        {
            "type": "delete",
            "description": suggestion["actions"][0]["description"],
            "resourceId": "MedicationRequest/draft-ket-1",
        }
    ]
    assert "ketamine 50 mg/mL injection" in suggestion["label"]


def test_order_select_reads_the_draft_as_a_proposed_medication(make_client: Client, token: Callable[..., str]) -> None:
    drafts = {"resourceType": "Bundle", "entry": [{"resource": {**draft_order(), "status": "active"}}]}
    body = hook_request("order-select", draftOrders=drafts, selections=["MedicationRequest/draft-ket-1"])
    client = make_client()
    response = client.post(SELECT, json=body, headers=_auth(token, SELECT))
    assert response.status_code == 200, response.text
    assert "ketamine" in response.text  # the proposed drug is named in the cards
    cards = response.json()["cards"]
    assert cards[0]["extension"]["org.kapdecide"]["status"] not in ("contraindicated", "deferred")
    assert not any("suggestions" in c for c in cards)


def test_no_suggestion_for_a_draft_of_another_drug(make_client: Client, token: Callable[..., str]) -> None:
    other = draft_order("draft-ser", "36437", "sertraline 50 mg tablet")
    drafts = {"resourceType": "Bundle", "entry": [{"resource": other}]}
    doc = make_client().post(SIGN, json=hook_request("order-sign", minor_prefetch(), draftOrders=drafts),
                             headers=_auth(token, SIGN)).json()  # fmt: skip
    assert not any("suggestions" in c for c in doc["cards"])


# ---------------------------------------------------------------- refusals


def test_400_bad_json(make_client: Client, token: Callable[..., str]) -> None:
    headers = {**_auth(token), "Content-Type": "application/json"}
    body = _error(make_client().post(PV, content=b'{"hook": ', headers=headers), 400, "not-json")
    assert body["error"]["problems"][0]["code"] == "json-syntax"


def test_400_duplicate_keys_and_nan_are_not_json_kapdecide_reads(
    make_client: Client, token: Callable[..., str]
) -> None:
    client = make_client()
    for raw in (b'{"hook": "patient-view", "hook": "x"}', b'{"a": NaN}'):
        headers = {**_auth(token), "Content-Type": "application/json"}
        _error(client.post(PV, content=raw, headers=headers), 400, "not-json")


def test_400_invalid_hook_request_lists_every_problem(make_client: Client, token: Callable[..., str]) -> None:
    bad = {"hook": "order-sign", "context": {"userId": "Practitioner/1"}, "prefetch": []}
    body = _error(make_client().post(PV, json=bad, headers=_auth(token)), 400, "hook-request-invalid")
    paths = {p["path"]: p["code"] for p in body["error"]["problems"]}
    assert paths == {
        "hook": "hook-mismatch",
        "hookInstance": "hook-request-invalid",
        "context.patientId": "hook-request-invalid",
        "prefetch": "hook-request-invalid",
    }


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"null"])
def test_400_a_body_that_is_not_an_object(make_client: Client, token: Callable[..., str], body: bytes) -> None:
    headers = {**_auth(token), "Content-Type": "application/json"}
    _error(make_client().post(PV, content=body, headers=headers), 400, "hook-request-invalid")


def test_400_order_hook_without_draft_orders(make_client: Client, token: Callable[..., str]) -> None:
    body = _error(make_client().post(SIGN, json=hook_request("order-sign"), headers=_auth(token, SIGN)), 400,
                  "hook-request-invalid")  # fmt: skip
    assert [p["path"] for p in body["error"]["problems"]] == ["context.draftOrders"]


def test_400_fhir_authorization_without_server(make_client: Client, token: Callable[..., str]) -> None:
    body = hook_request()
    body["fhirAuthorization"] = {"access_token": "t", "token_type": "Bearer", "expires_in": 300, "scope": "x"}
    problems = _error(make_client().post(PV, json=body, headers=_auth(token)), 400, "hook-request-invalid")
    assert [p["path"] for p in problems["error"]["problems"]] == ["fhirServer"]


def test_400_prefetch_of_another_patient(make_client: Client, token: Callable[..., str]) -> None:
    body = hook_request(prefetch={"patient": {**patient(), "id": "someone-else"}})
    problems = _error(make_client().post(PV, json=body, headers=_auth(token)), 400, "prefetch-invalid")
    assert problems["error"]["problems"][0]["code"] == "prefetch-wrong-patient"


def test_400_prefetch_value_that_is_not_fhir(make_client: Client, token: Callable[..., str]) -> None:
    body = hook_request(prefetch={"patient": patient(), "conditions": ["not", "fhir"]})
    problems = _error(make_client().post(PV, json=body, headers=_auth(token)), 400, "prefetch-invalid")
    assert problems["error"]["problems"][0]["path"] == "prefetch.conditions"


def test_404_unknown_service_and_path(make_client: Client, token: Callable[..., str]) -> None:
    client = make_client()
    _error(client.post("/cds-services/nope", json=hook_request(), headers=_auth(token)), 404, "unknown-service")
    _error(client.get("/elsewhere"), 404, "unknown-service")
    _error(client.get(PV), 405, "method-not-allowed")


@pytest.mark.parametrize(
    "patient_value",
    ["absent", None, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}],
)
def test_412_when_the_patient_is_not_prefetched(
    make_client: Client, token: Callable[..., str], patient_value: Any
) -> None:
    prefetch: dict[str, Any] = {"conditions": searchset()}
    if patient_value != "absent":
        prefetch["patient"] = patient_value
    body = _error(make_client().post(PV, json=hook_request(prefetch=prefetch), headers=_auth(token)), 412,
                  "prefetch-missing")  # fmt: skip
    assert "patient" in body["error"]["message"] and "no assessment" in body["error"]["message"]


def test_413_by_content_length_and_by_streamed_size(make_client: Client, token: Callable[..., str]) -> None:
    client = make_client(max_request_bytes=4096)
    big = hook_request()
    big["prefetch"]["conditions"] = searchset(*[{"resourceType": "Basic", "id": f"b{i}"} for i in range(400)])
    _error(client.post(PV, json=big, headers=_auth(token)), 413, "request-too-large")

    def chunks() -> Any:  # no Content-Length: the limit is counted while reading
        yield b'{"hook": "patient-view", "pad": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    headers = {**_auth(token), "Content-Type": "application/json"}
    _error(client.post(PV, content=chunks(), headers=headers), 413, "request-too-large")


def test_415_a_body_that_is_not_declared_json(make_client: Client, token: Callable[..., str]) -> None:
    headers = {**_auth(token), "Content-Type": "text/plain"}
    _error(make_client().post(PV, content=b"{}", headers=headers), 415, "not-json")


def test_400_when_the_pipeline_refuses_the_input(
    make_client: Client, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise InvalidInputError("the profile has contradictory or impossible values")

    monkeypatch.setattr(client.app.state.service.assessor, "assess", refuse)  # type: ignore[attr-defined]
    body = _error(client.post(PV, json=hook_request(), headers=_auth(token)), 400, "invalid-input")
    assert "contradictory" in body["error"]["message"]


def test_500_is_json_without_the_exception_text(
    make_client: Client, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client = make_client()

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom for {PATIENT_NAME}")

    monkeypatch.setattr(client.app.state.service.assessor, "assess", crash)  # type: ignore[attr-defined]
    response = client.post(PV, json=hook_request(), headers=_auth(token))
    body = _error(response, 500, "internal-error")
    assert PATIENT_NAME not in response.text and body["error"]["message"] == "internal error: no assessment was made"
    line = audit_lines(tmp_path)[-1]
    assert line["error_code"] == "internal-error:RuntimeError" and PATIENT_NAME not in str(line)


def test_503_when_busy_and_when_the_assessment_is_too_slow(
    make_client: Client, token: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    client = make_client(queue_seconds=0.05, request_timeout_seconds=0.2)
    state = client.app.state.service  # type: ignore[attr-defined]
    real = state.slots
    state.slots = asyncio.Semaphore(0)  # every slot taken
    busy = client.post(PV, json=hook_request(), headers=_auth(token))
    _error(busy, 503, "busy")
    assert busy.headers["retry-after"] == "1"
    state.slots = real
    slow = state.assessor.assess

    def sleepy(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return slow(*args, **kwargs)

    monkeypatch.setattr(state.assessor, "assess", sleepy)
    _error(client.post(PV, json=hook_request(), headers=_auth(token)), 503, "timeout")
    time.sleep(0.5)  # the thread ends and frees its slot
    monkeypatch.setattr(state.assessor, "assess", slow)
    assert client.post(PV, json=hook_request(), headers=_auth(token)).status_code == 200


# ---------------------------------------------------------------- CORS, logs


def test_cors_only_for_configured_origins(make_client: Client) -> None:
    preflight = {"Origin": "https://ehr.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type"}  # fmt: skip
    closed = make_client().options(PV, headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    opened = make_client(cors_origins=["https://ehr.example"])
    ok = opened.options(PV, headers=preflight)
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "https://ehr.example"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    other = opened.options(PV, headers={**preflight, "Origin": "https://evil.example"})
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"
    discovery = opened.get("/cds-services", headers={"Origin": "https://ehr.example"})
    assert discovery.headers["access-control-allow-origin"] == "https://ehr.example"


def test_insecure_dev_needs_no_jwt_and_allows_any_origin(make_client: Client) -> None:
    client = make_client(insecure_dev=True)
    response = client.post(PV, json=hook_request(), headers={"Origin": "http://localhost:3000"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"


def test_one_audit_line_per_request_and_no_patient_identifiers(
    make_client: Client, token: Callable[..., str], tmp_path: Path
) -> None:
    client = make_client()
    body = hook_request()
    client.get("/cds-services")
    client.post(PV, json=body, headers=_auth(token))
    client.post(PV, json=hook_request(prefetch={}), headers=_auth(token))
    client.post(PV, json=body)
    client.post(f"/cds-services/{PATIENT_NAME}", json=body, headers=_auth(token))  # a made-up path
    client.get(f"/patients/{PATIENT_ID}")
    lines = audit_lines(tmp_path)
    assert [x["http_status"] for x in lines] == [200, 200, 412, 401, 404, 404]
    assert [x["path"] for x in lines] == ["/cds-services", *["/cds-services/{id}"] * 4, "(other)"]
    ok = lines[1]
    assert ok["hook"] == "patient-view" and ok["hookInstance"] == body["hookInstance"]
    assert ok["service"] == "kapdecide-patient-view" and len(ok["receipt_sha256"]) == 64
    assert ok["report_status"] and ok["cards"] >= 1 and ok["duration_ms"] >= 0 and ok["iss"]
    text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    for identifier in (PATIENT_ID, PATIENT_NAME, "Ottilie", "1980-04-02", "c-1", "Alcoholism", "Practitioner/dr-1"):
        # as a token: "c-1" occurs by chance inside a uuid (hookInstance, jti), e.g. "…7c-1b2…"
        assert not re.search(rf"(?<![0-9A-Za-z-]){re.escape(identifier)}(?![0-9A-Za-z-])", text), identifier
    assert BASE not in text  # not even the audience


def test_missing_prefetch_keys_reach_the_import_warnings_card(make_client: Client, token: Callable[..., str]) -> None:
    body = hook_request(prefetch={"patient": patient(), "conditions": None})
    cards = make_client().post(PV, json=body, headers=_auth(token)).json()["cards"]
    (warnings,) = [c for c in cards if c["source"]["topic"]["code"] == "import-warnings"]
    assert "prefetch not provided for medicationRequests" in warnings["detail"]


def test_missing_prefetch_keys_are_named_in_the_import_warnings(protocols: list[Any]) -> None:
    from kapdecide.service.assessor import Assessor
    from kapdecide.service.prefetch import assemble

    assembled = assemble({"patient": patient(), "conditions": None}, PATIENT_ID)
    assert assembled.missing == [
        "medicationRequests",
        "medicationStatements",
        "medicationDispenses",
        "observations",
        "allergies",
    ]
    report = Assessor(protocols).assess(assembled.bundle, assembled.notes).report
    assert report["input_source"] is not None
    (note,) = [w for w in report["input_source"]["warnings"] if w.startswith("prefetch not provided")]
    assert "medicationRequests" in note and "conditions" not in note  # null is an answer: no data
