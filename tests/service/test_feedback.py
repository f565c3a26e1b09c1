"""``POST /cds-services/{id}/feedback``: checked, appended to the feedback log, 400 when not valid."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from kapdecide.service.errors import ServiceError
from kapdecide.service.feedback import feedback_records

FB = "/cds-services/kapdecide-order-sign/feedback"
Client = Callable[..., TestClient]

ACCEPTED = {
    "card": "4e0a3a1e-3283-4575-ab82-028d55fe2719",
    "outcome": "accepted",
    "acceptedSuggestions": [{"id": "e56e1945-20b3-4393-8503-a1a20fd73152"}],
    "outcomeTimestamp": "2026-12-01T10:05:31Z",
}
OVERRIDDEN = {
    "card": "9368d37b-283f-44a0-93ea-547cebab93ed",
    "outcome": "overridden",
    "overrideReason": {
        "reason": {"code": "patient-declined", "system": "https://org.example/override-reasons", "display": "Declined"},
        "userComment": "Spoke with Mrs Example; she prefers to wait",
    },
    "outcomeTimestamp": "2026-12-01T10:06:00.52+01:00",
}


def _feedback_log(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]


def test_feedback_is_acknowledged_and_logged(make_client: Client, tmp_path: Path) -> None:
    client = make_client(insecure_dev=True)
    response = client.post(FB, json={"feedback": [ACCEPTED, OVERRIDDEN]})
    assert response.status_code == 200 and response.json() == {"accepted": 2}
    accepted, overridden = _feedback_log(tmp_path)
    assert accepted["card"] == ACCEPTED["card"] and accepted["outcome"] == "accepted"
    assert accepted["acceptedSuggestions"] == ["e56e1945-20b3-4393-8503-a1a20fd73152"]
    assert accepted["service"] == "kapdecide-order-sign" and accepted["time"].endswith("Z")
    assert overridden["overrideReason"] == OVERRIDDEN["overrideReason"]["reason"]  # type: ignore[index]
    assert overridden["outcomeTimestamp"] == OVERRIDDEN["outcomeTimestamp"]
    assert overridden["userCommentGiven"] is True
    assert "Mrs Example" not in (tmp_path / "feedback.jsonl").read_text(encoding="utf-8")  # not stored by default


def test_the_comment_is_stored_only_when_configured(make_client: Client, tmp_path: Path) -> None:
    client = make_client(insecure_dev=True, feedback_store_comments=True)
    assert client.post(FB, json={"feedback": [OVERRIDDEN]}).status_code == 200
    (record,) = _feedback_log(tmp_path)
    assert record["userComment"] == OVERRIDDEN["overrideReason"]["userComment"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("doc", "paths"),
    [
        ({"feedback": [{**ACCEPTED, "outcome": "ignored"}]}, ["feedback[0].outcome"]),
        ({"feedback": [{**ACCEPTED, "acceptedSuggestions": []}]}, ["feedback[0].acceptedSuggestions"]),
        ({"feedback": [{**ACCEPTED, "outcomeTimestamp": "2026-12-01"}]}, ["feedback[0].outcomeTimestamp"]),
        ({"feedback": [{**ACCEPTED, "outcomeTimestamp": "2026-12-01T10:00:00"}]}, ["feedback[0].outcomeTimestamp"]),
        ({"feedback": [{"outcome": "overridden", "outcomeTimestamp": "2026-12-01T10:00:00Z"}]}, ["feedback[0].card"]),
        ({"feedback": [{**OVERRIDDEN, "overrideReason": {"reason": {"code": "x"}}}]}, ["feedback[0].overrideReason"]),
        ({"feedback": [ACCEPTED, "x"]}, ["feedback[1]"]),
    ],
)
def test_invalid_feedback_is_400_with_every_problem(
    make_client: Client, tmp_path: Path, doc: dict[str, Any], paths: list[str]
) -> None:
    response = make_client(insecure_dev=True).post(FB, json=doc)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "feedback-invalid"
    assert [p["path"] for p in error["problems"]] == paths
    assert not (tmp_path / "feedback.jsonl").read_text(encoding="utf-8")  # nothing half-stored


@pytest.mark.parametrize("doc", [{}, {"feedback": []}, [ACCEPTED], {"feedback": [ACCEPTED] * 101}])
def test_a_body_without_a_feedback_array(doc: Any) -> None:
    with pytest.raises(ServiceError) as info:
        feedback_records(doc, "kapdecide-patient-view", store_comments=False)
    assert info.value.status == 400 and info.value.code == "feedback-invalid"


def test_feedback_for_an_unknown_service_is_404(make_client: Client) -> None:
    response = make_client(insecure_dev=True).post("/cds-services/nope/feedback", json={"feedback": [ACCEPTED]})
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown-service"


def test_feedback_that_cannot_be_stored_is_not_acknowledged(make_client: Client, tmp_path: Path) -> None:
    client = make_client(insecure_dev=True)
    log = tmp_path / "feedback.jsonl"
    log.unlink()
    log.mkdir()  # a folder where the file was: the write fails
    response = client.post(FB, json={"feedback": [ACCEPTED]})
    assert response.status_code == 503 and response.json()["error"]["code"] == "feedback-not-stored"
