"""Fixtures of the service tests: keys and tokens made here, the app with the test issuer trusted."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette")
pytest.importorskip("jwt")

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient
from svc_helpers import BASE, ISS

from kapdecide.protocol.loader import default_protocol_dir, load_protocols
from kapdecide.service import ServiceConfig, create_app


@pytest.fixture(scope="session")
def protocols() -> list[Any]:
    return load_protocols([default_protocol_dir()])


@pytest.fixture(scope="session")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture(scope="session")
def jwks(signing_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(signing_key.public_key()))
    return {"keys": [{**public, "kid": "test-key", "use": "sig", "alg": "ES384"}]}


@pytest.fixture
def token(signing_key: ec.EllipticCurvePrivateKey) -> Callable[..., str]:
    """A CDS Hooks JWT for a service path (claims and header can be changed or removed with None)."""

    def make(
        path: str = "/cds-services/kapdecide-patient-view",
        *,
        key: Any = None,
        alg: str = "ES384",
        kid: str | None = "test-key",
        **claims: Any,
    ) -> str:
        now = int(time.time())
        body = {"iss": ISS, "aud": BASE + path, "exp": now + 300, "iat": now, "jti": str(uuid.uuid4())}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        headers = {"typ": "JWT", **({"kid": kid} if kid else {})}
        return jwt.encode(body, key if key is not None else signing_key, algorithm=alg, headers=headers)

    return make


@pytest.fixture
def make_client(protocols: list[Any], jwks: dict[str, Any], tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A TestClient for an app with the test issuer trusted; settings override the config."""
    clients: list[TestClient] = []

    def make(*, insecure_dev: bool = False, allow_fhir_fetch: bool = False, **settings: Any) -> TestClient:
        data: dict[str, Any] = {
            "base_url": BASE,
            "issuers": [{"iss": ISS, "jwks": jwks}],
            "audit_log": str(tmp_path / "audit.jsonl"),
            "feedback_log": str(tmp_path / "feedback.jsonl"),
        }
        data.update(settings)
        config = ServiceConfig.model_validate(data)
        app = create_app(config, protocols, allow_fhir_fetch=allow_fhir_fetch, insecure_dev=insecure_dev)
        client = TestClient(app, raise_server_exceptions=True)
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()
