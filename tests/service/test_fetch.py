"""--allow-fhir-fetch against a stub FHIR server on 127.0.0.1; without the flag, no connection at all."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from starlette.testclient import TestClient
from svc_helpers import PATIENT_ID, condition, hook_request, patient, searchset

PV = "/cds-services/kapdecide-patient-view"
Client = Callable[..., TestClient]


class StubFhir:
    """A tiny FHIR server: Patient read, a two-page Condition search, empty searches; records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []
        self.patient_status = 200
        self.delay = 0.0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.calls.append((self.path, self.headers.get("Authorization")))
                if stub.delay:
                    time.sleep(stub.delay)
                status, body = stub.answer(self.path)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> tuple[int, Any]:
        if path == f"/fhir/Patient/{PATIENT_ID}":
            return self.patient_status, patient() if self.patient_status == 200 else {
                "resourceType": "OperationOutcome"
            }
        if path.startswith("/fhir/Condition?"):
            page2 = f"{self.base}/Condition?patient={PATIENT_ID}&page=2"
            if "page=2" in path:
                return 200, searchset(condition("c-2", "7200002", "Alcoholism"))
            first = searchset(condition("c-1", "38341003", "Hypertension"))
            first["link"] = [{"relation": "next", "url": page2}]
            return 200, first
        if path.startswith("/fhir/Observation?"):
            away = searchset()
            away["link"] = [{"relation": "next", "url": "https://other-server.invalid/fhir/Observation?page=2"}]
            return 200, away
        return 200, searchset()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fhir() -> Iterator[StubFhir]:
    stub = StubFhir()
    yield stub
    stub.close()


def _with_server(base: str, prefetch: dict[str, Any] | None = None) -> dict[str, Any]:
    body = hook_request(prefetch=prefetch if prefetch is not None else {})
    body["fhirServer"] = base
    body["fhirAuthorization"] = {
        "access_token": "opaque-fhir-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "user/Patient.read",
        "subject": "kapdecide",
    }
    return body


def test_missing_keys_are_fetched_with_the_clients_token(make_client: Client, fhir: StubFhir) -> None:
    client = make_client(insecure_dev=True, allow_fhir_fetch=True)
    response = client.post(PV, json=_with_server(fhir.base, {"allergies": None}))
    assert response.status_code == 200, response.text
    paths = [p for p, _ in fhir.calls]
    assert paths[0] == f"/fhir/Patient/{PATIENT_ID}"
    assert f"/fhir/Condition?patient={PATIENT_ID}&page=2" in paths  # the next page was read
    assert not any(p.startswith("/fhir/AllergyIntolerance") for p in paths)  # null is an answer: not fetched
    assert all(auth == "Bearer opaque-fhir-token" for _, auth in fhir.calls)
    assert "Alcohol" in response.text  # the condition on page 2 reached the assessment


def test_a_next_link_to_another_server_is_not_followed(make_client: Client, fhir: StubFhir) -> None:
    client = make_client(insecure_dev=True, allow_fhir_fetch=True, fhir_timeout_seconds=2)
    assert client.post(PV, json=_with_server(fhir.base)).status_code == 200
    assert sum(p.startswith("/fhir/Observation") for p, _ in fhir.calls) == 1


def test_without_the_flag_no_connection_is_made(make_client: Client, fhir: StubFhir) -> None:
    response = make_client(insecure_dev=True).post(PV, json=_with_server(fhir.base))
    assert response.status_code == 412
    assert "does not fetch" in response.json()["error"]["message"]
    assert fhir.calls == []


def test_a_patient_the_server_cannot_give_is_412(make_client: Client, fhir: StubFhir) -> None:
    fhir.patient_status = 404
    response = make_client(insecure_dev=True, allow_fhir_fetch=True).post(PV, json=_with_server(fhir.base))
    assert response.status_code == 412 and response.json()["error"]["code"] == "prefetch-missing"


def test_a_slow_server_is_504(make_client: Client, fhir: StubFhir) -> None:
    fhir.delay = 1.0
    client = make_client(insecure_dev=True, allow_fhir_fetch=True, fhir_timeout_seconds=0.2)
    response = client.post(PV, json=_with_server(fhir.base))
    assert response.status_code == 504 and response.json()["error"]["code"] == "fhir-timeout"


def test_only_https_or_loopback_and_only_allowed_servers(make_client: Client, fhir: StubFhir) -> None:
    client = make_client(insecure_dev=True, allow_fhir_fetch=True)
    plain = client.post(PV, json=_with_server("http://fhir.example.invalid/r4"))
    assert plain.status_code == 400 and plain.json()["error"]["code"] == "fhir-server-refused"
    listed = make_client(insecure_dev=True, allow_fhir_fetch=True, fhir_servers=["https://fhir.example.invalid/r4"])
    other = listed.post(PV, json=_with_server(fhir.base))
    assert other.status_code == 400 and other.json()["error"]["code"] == "fhir-server-refused"
    assert fhir.calls == []


def test_a_full_prefetch_needs_no_fetch(make_client: Client, fhir: StubFhir) -> None:
    from kapdecide.service.definitions import PREFETCH

    prefetch: dict[str, Any] = dict.fromkeys(PREFETCH)
    prefetch["patient"] = patient()
    response = make_client(insecure_dev=True, allow_fhir_fetch=True).post(PV, json=_with_server(fhir.base, prefetch))
    assert response.status_code == 200 and fhir.calls == []
