"""As an EHR uses it: ``kapdecide serve`` as a real process on 127.0.0.1, called over HTTP with
signed JWTs and hook requests built from the shared FHIR samples (skipped when they are absent)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from svc_helpers import BASE, ISS, ROOT, sample_prefetch, schema

from kapdecide.core.contract import DISCLAIMER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running ``kapdecide serve`` and what it wrote to standard error."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, stderr: Path) -> None:
        self.proc, self.url, self.stderr_path = proc, url, stderr

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8")


def _names(patient_id: str, log: str) -> bool:
    """Whether the log names the patient id as a token of its own (a short numeric id such as '355'
    also occurs inside hashes, uuids and timings, which is not a leak)."""
    return re.search(rf"(?<![\w.-]){re.escape(patient_id)}(?![\w.-])", log) is not None


def _start(tmp_path: Path, config: dict[str, Any], *args: str) -> Server:
    port = _free_port()
    cfg = tmp_path / "service.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    err = tmp_path / "stderr.txt"
    env = {**os.environ, "NO_COLOR": "1"}
    with open(err, "wb") as fh:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kapdecide", "serve", "--port", str(port), "--config", str(cfg), *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=fh,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"kapdecide serve exited {proc.returncode}: {err.read_text()}")
        try:
            httpx.get(url + "/cds-services", timeout=1)
            return Server(proc, url, err)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("kapdecide serve did not start within 60 s")


@pytest.fixture
def server(tmp_path: Path, jwks: dict[str, Any]) -> Iterator[Server]:
    config = {"base_url": BASE, "issuers": [{"iss": ISS, "jwks": jwks}], "feedback_log": str(tmp_path / "fb.jsonl")}
    srv = _start(tmp_path, config)
    yield srv
    srv.proc.send_signal(signal.SIGTERM)
    try:
        srv.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()


def _call(server: Server, token: Callable[..., str], service: str, body: dict[str, Any]) -> httpx.Response:
    path = f"/cds-services/{service}"
    headers = {"Authorization": f"Bearer {token(path)}"}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=30)


def test_patient_view_from_a_shared_sample(server: Server, token: Callable[..., str]) -> None:
    patient_id, prefetch = sample_prefetch("synthea2019-eliseo-cummings.json")
    instance = str(uuid.uuid4())
    body = {"hook": "patient-view", "hookInstance": instance, "context": {"userId": "Practitioner/1",
            "patientId": patient_id}, "prefetch": prefetch}  # fmt: skip
    discovery = httpx.get(server.url + "/cds-services", timeout=10).json()
    schema("cds-hooks-discovery.schema.json").validate(discovery)
    response = _call(server, token, "kapdecide-patient-view", body)
    assert response.status_code == 200, response.text
    doc = response.json()
    schema("cds-hooks-response.schema.json").validate(doc)
    assert 1 <= len(doc["cards"]) <= 6
    status = doc["cards"][0]
    assert status["source"]["topic"]["code"] == "status" and DISCLAIMER in status["detail"]
    # the wrong token is refused by the real server too
    bad = httpx.post(server.url + "/cds-services/kapdecide-patient-view", json=body, timeout=10)
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "unauthorized"
    log = server.stderr()
    lines = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    ok = next(x for x in lines if x.get("hookInstance") == instance)
    assert ok["http_status"] == 200
    assert ok["receipt_sha256"] == status["extension"]["org.kapdecide"]["receipt_sha256"]
    assert not _names(patient_id, log) and "Cummings" not in log and "Eliseo" not in log


def test_order_sign_with_a_ketamine_draft_for_a_contraindicated_sample(
    server: Server, token: Callable[..., str]
) -> None:
    patient_id, prefetch = sample_prefetch("inferno-uscore-patient-355.json")  # dementia: contraindicated
    draft = {
        "resourceType": "MedicationRequest",
        "id": "ket-draft-355",
        "status": "draft",
        "intent": "order",
        "subject": {"reference": f"Patient/{patient_id}"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "6130", "display": "ketamine"}]
        },
    }
    body = {
        "hook": "order-sign",
        "hookInstance": str(uuid.uuid4()),
        "context": {
            "userId": "Practitioner/1",
            "patientId": patient_id,
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]},
        },
        "prefetch": prefetch,
    }
    response = _call(server, token, "kapdecide-order-sign", body)
    assert response.status_code == 200, response.text
    doc = response.json()
    schema("cds-hooks-response.schema.json").validate(doc)
    status = doc["cards"][0]
    assert status["indicator"] == "critical" and "ontraindicated" in status["summary"]
    actions = [a for s in status["suggestions"] for a in s["actions"]]
    assert actions[0]["type"] == "delete" and actions[0]["resourceId"] == "MedicationRequest/ket-draft-355"
    # the clinician accepts the suggestion: the EHR sends feedback naming the card and the suggestion
    feedback = {"feedback": [{"card": status["uuid"], "outcome": "accepted",
                              "acceptedSuggestions": [{"id": status["suggestions"][0]["uuid"]}],
                              "outcomeTimestamp": "2026-12-01T10:05:31Z"}]}  # fmt: skip
    path = "/cds-services/kapdecide-order-sign/feedback"
    ack = httpx.post(server.url + path, json=feedback, headers={"Authorization": f"Bearer {token(path)}"}, timeout=10)
    assert ack.status_code == 200 and ack.json() == {"accepted": 1}
    (record,) = [json.loads(x) for x in (server.stderr_path.parent / "fb.jsonl").read_text().splitlines()]
    assert record["card"] == status["uuid"] and record["acceptedSuggestions"] == [status["suggestions"][0]["uuid"]]
    assert not _names(patient_id, server.stderr())


def test_the_server_says_when_it_runs_without_authentication(tmp_path: Path) -> None:
    srv = _start(tmp_path, {}, "--insecure-dev")
    try:
        assert "NO AUTHENTICATION" in srv.stderr()
        assert httpx.get(srv.url + "/cds-services", timeout=10).status_code == 200
    finally:
        srv.proc.send_signal(signal.SIGTERM)
        srv.proc.wait(timeout=20)
