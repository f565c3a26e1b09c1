"""The CDS Hooks JWT: every way a token can be wrong is a 401 with a JSON error; a good one passes once."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient
from svc_helpers import BASE, ISS, hook_request

from kapdecide.service.auth import ReplayCache
from kapdecide.service.config import ServiceConfig
from kapdecide.service.errors import ServiceError

PV = "/cds-services/kapdecide-patient-view"
Client = Callable[..., TestClient]


def _post(client: TestClient, tok: str | None, path: str = PV) -> Any:
    headers = {"Authorization": f"Bearer {tok}"} if tok is not None else {}
    return client.post(path, json=hook_request(), headers=headers)


def _denied(response: Any, words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["error"]["code"] == "unauthorized"
    assert words in body["error"]["message"], body["error"]["message"]


def test_a_valid_token_passes_once_and_its_replay_is_refused(make_client: Client, token: Callable[..., str]) -> None:
    client = make_client()
    tok = token()
    assert _post(client, tok).status_code == 200
    _denied(_post(client, tok), "already used")


def test_aud_may_be_a_list(make_client: Client, token: Callable[..., str]) -> None:
    assert _post(make_client(), token(aud=["https://other.example", BASE + PV])).status_code == 200


@pytest.mark.parametrize(
    ("claims", "words"),
    [
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 400}, "expired"),
        ({"iat": int(time.time()) + 600, "exp": int(time.time()) + 900}, "future"),
        ({"aud": BASE + "/cds-services/kapdecide-order-sign"}, "aud"),
        ({"aud": BASE + "/cds-services"}, "aud"),
        ({"aud": "https://elsewhere.example" + PV}, "aud"),
        ({"iss": "https://intruder.example"}, "issuer is not trusted"),
        ({"jti": None}, "'jti'"),
        ({"exp": None}, "'exp'"),
        ({"iat": None}, "'iat'"),
        ({"aud": None}, "'aud'"),
        ({"exp": int(time.time()) + 7200}, "longer than"),
    ],
)
def test_bad_claims_are_refused(
    make_client: Client, token: Callable[..., str], claims: dict[str, Any], words: str
) -> None:
    _denied(_post(make_client(), token(**claims)), words)


def test_missing_or_malformed_authorization(make_client: Client) -> None:
    client = make_client()
    _denied(_post(client, None), "Bearer JWT is required")
    _denied(client.post(PV, json=hook_request(), headers={"Authorization": "Basic dXNlcjpwYXNz"}), "required")
    _denied(_post(client, "not-a-jwt"), "not a JWT")


def test_a_token_signed_by_another_key(make_client: Client, token: Callable[..., str]) -> None:
    stranger = ec.generate_private_key(ec.SECP384R1())
    _denied(_post(make_client(), token(key=stranger)), "does not verify")


def test_an_unknown_kid(make_client: Client, token: Callable[..., str]) -> None:
    _denied(_post(make_client(), token(kid="other-key")), "kid")


def test_symmetric_and_unsigned_tokens_are_refused(make_client: Client) -> None:
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + PV, "exp": now + 300, "iat": now, "jti": "j-1"}
    hs = jwt.encode(claims, "a-shared-secret-of-at-least-32-bytes!!", algorithm="HS256", headers={"kid": "test-key"})
    none = jwt.encode(claims, None, algorithm="none", headers={"kid": "test-key"})
    client = make_client()
    _denied(_post(client, hs), "'HS256' is not allowed")
    _denied(_post(client, none), "'none' is not allowed")


def test_a_pem_public_key_issuer(make_client: Client, token: Callable[..., str]) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    client = make_client(issuers=[{"iss": ISS, "public_key": pem.decode()}])
    assert _post(client, token(key=private, alg="RS384", kid=None)).status_code == 200
    _denied(_post(client, token(key=ec.generate_private_key(ec.SECP384R1()))), "does not verify")


def test_a_jwks_url_issuer_refuses_another_jku_without_fetching(
    make_client: Client, signing_key: ec.EllipticCurvePrivateKey
) -> None:
    client = make_client(issuers=[{"iss": ISS, "jwks_url": "https://ehr.test.example/jwks.json"}])
    now = int(time.time())
    claims = {"iss": ISS, "aud": BASE + PV, "exp": now + 300, "iat": now, "jti": "j-2"}
    headers = {"kid": "test-key", "jku": "https://attacker.example/jwks.json"}
    tok = jwt.encode(claims, signing_key, algorithm="ES384", headers=headers)
    _denied(_post(client, tok), "jku")


def test_feedback_needs_a_token_for_the_service_or_its_feedback_url(
    make_client: Client, token: Callable[..., str]
) -> None:
    client = make_client()
    path = PV + "/feedback"
    doc = {"feedback": [{"card": "c1", "outcome": "overridden", "outcomeTimestamp": "2026-12-01T10:00:00Z"}]}
    _denied(client.post(path, json=doc), "required")
    for aud in (BASE + PV, BASE + path):
        ok = client.post(path, json=doc, headers={"Authorization": f"Bearer {token(aud=aud)}"})
        assert ok.status_code == 200, ok.text
    other = client.post(path, json=doc, headers={"Authorization": f"Bearer {token(aud=BASE + '/cds-services')}"})
    _denied(other, "aud")


# ---------------------------------------------------------------- the pieces


def test_the_replay_cache_forgets_expired_tokens_and_refuses_when_full() -> None:
    cache = ReplayCache(limit=2)
    assert cache.first_use("i", "a", expires=100.0, now=50.0)
    assert not cache.first_use("i", "a", expires=100.0, now=60.0)
    assert cache.first_use("other-issuer", "a", expires=100.0, now=60.0)
    assert cache.first_use("i", "b", expires=200.0, now=150.0)  # full: both "a" (expired) forgotten first
    assert len(cache) == 1
    assert cache.first_use("i", "c", expires=300.0, now=150.0)
    with pytest.raises(ServiceError) as info:  # full of live tokens: refused, never a replay let through
        cache.first_use("i", "d", expires=300.0, now=150.0)
    assert info.value.status == 503


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"algorithms": ["HS256"]}, "asymmetric"),
        ({"issuers": [{"iss": "x"}]}, "exactly one of"),
        ({"issuers": [{"iss": "x", "jwks_url": "http://plain.example/jwks"}]}, "https"),
        ({"base_url": "cds.example.org"}, "absolute"),
        ({"cors_origin": ["x"]}, "cors_origin"),
    ],
)
def test_a_bad_configuration_is_refused(settings: dict[str, Any], words: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        ServiceConfig.model_validate(settings)
    assert words in str(info.value)


def test_the_configuration_file_is_read_with_its_problems_named(tmp_path: Any) -> None:
    from kapdecide.core.errors import InvalidInputError
    from kapdecide.service.config import load_config

    good = tmp_path / "service.yaml"
    good.write_text(f"base_url: {BASE}/\nissuers:\n  - iss: {ISS}\n    jwks: {json.dumps({'keys': []})}\n")
    assert load_config(str(good)).audience("/cds-services") == BASE + "/cds-services"
    bad = tmp_path / "bad.yaml"
    bad.write_text("base_url: x\nbase_url: y\n")
    with pytest.raises(InvalidInputError):
        load_config(str(bad))
    typo = tmp_path / "typo.yaml"
    typo.write_text("max_request_byte: 10\n")
    with pytest.raises(InvalidInputError) as info:
        load_config(str(typo))
    assert "max_request_byte" in str(info.value)
