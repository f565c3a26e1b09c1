"""The CDS Hooks JWT (``Authorization: Bearer``), verified with PyJWT as the specification asks.

A request is accepted only when its token is signed with an asymmetric algorithm the configuration
allows, by a key of an issuer it trusts (an inline JWK Set or PEM key, or the issuer's one JWK Set
URL, which must equal the token's ``jku`` when it has one), names this service's endpoint in
``aud``, carries ``iss``, ``exp``, ``iat`` and ``jti``, has not expired, was not issued in the future
(both within the configured leeway), is valid for no longer than ``max_token_lifetime_seconds``,
and its ``jti`` has not been seen from that issuer before (remembered until the token expires).
Anything else is 401 with a JSON error that says which check failed (never the token itself).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import jwt

from kapdecide.service.config import Issuer, ServiceConfig
from kapdecide.service.errors import ServiceError

#: jti values remembered at most; beyond that (after forgetting the expired) tokens are refused (503).
MAX_REMEMBERED = 200_000


def _denied(message: str) -> ServiceError:
    return ServiceError(401, message, code="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="cds-services"'})


class ReplayCache:
    """``(iss, jti)`` pairs seen, each forgotten when its token expires; safe across threads."""

    def __init__(self, limit: int = MAX_REMEMBERED) -> None:
        self.limit = limit
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def first_use(self, iss: str, jti: str, expires: float, now: float) -> bool:
        """Remember the pair; False when it was already seen (a replay)."""
        with self._lock:
            if len(self._seen) >= self.limit:
                self._seen = {k: v for k, v in self._seen.items() if v >= now}
                if len(self._seen) >= self.limit:
                    raise ServiceError(503, "too many live tokens to check for replay; retry later", code="busy")
            key = (iss, jti)
            if key in self._seen and self._seen[key] >= now:
                return False
            self._seen[key] = expires
            return True


class _Keys:
    """Where one issuer's verification keys come from."""

    def __init__(self, issuer: Issuer, timeout: float) -> None:
        self.issuer = issuer
        self.jwks = jwt.PyJWKSet.from_dict(issuer.jwks) if issuer.jwks is not None else None
        self.client = jwt.PyJWKClient(issuer.jwks_url, timeout=timeout) if issuer.jwks_url else None

    def key_for(self, header: dict[str, Any], token: str) -> Any:
        kid = header.get("kid")
        if self.issuer.public_key is not None:
            return self.issuer.public_key
        if self.client is not None:
            jku = header.get("jku")
            if jku is not None and jku != self.issuer.jwks_url:
                raise _denied("the token's jku is not the JWK Set URL configured for its issuer")
            try:
                return self.client.get_signing_key_from_jwt(token)
            except jwt.PyJWTError as exc:
                raise _denied(f"no key of the issuer's JWK Set verifies the token ({type(exc).__name__})") from None
        assert self.jwks is not None
        keys = [k for k in self.jwks.keys if kid is None or k.key_id == kid]
        if len(keys) != 1:
            raise _denied("the token's kid names no key (or no single key) of its issuer's JWK Set")
        return keys[0]


class Verifier:
    """Checks CDS Hooks JWTs against the configuration."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.keys = {i.iss: _Keys(i, config.fhir_timeout_seconds) for i in config.issuers}
        self.replay = ReplayCache()

    def verify(self, authorization: str | None, audiences: Sequence[str]) -> dict[str, Any]:
        """The token's claims, or ServiceError 401."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _denied("an Authorization: Bearer JWT is required (CDS Hooks 2.0, Trusting CDS Clients)")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _denied("the bearer token is not a JWT") from None
        alg = header.get("alg")
        if alg not in self.config.algorithms:
            raise _denied(f"JWT algorithm {alg!r} is not allowed (asymmetric algorithms only)")
        iss = unverified.get("iss")
        source = self.keys.get(iss) if isinstance(iss, str) else None
        if source is None or not isinstance(iss, str):
            raise _denied("the JWT's issuer is not trusted by this service")
        claims = self._decode(token, source.key_for(header, token), alg, iss, audiences)
        lifetime = float(claims["exp"]) - float(claims["iat"])
        if lifetime > self.config.max_token_lifetime_seconds:
            raise _denied(f"the JWT is valid for {lifetime:.0f} s, longer than this service accepts")
        jti = claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise _denied("the JWT's jti must be a non-empty string")
        expires = float(claims["exp"]) + self.config.leeway_seconds
        if not self.replay.first_use(iss, jti, expires, time.time()):
            raise _denied("the JWT was already used (jti replayed)")
        return claims

    def _decode(self, token: str, key: Any, alg: str, iss: str, audiences: Sequence[str]) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=list(audiences),
                issuer=iss,
                leeway=self.config.leeway_seconds,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise _denied("the JWT has expired") from None
        except jwt.InvalidAudienceError:
            raise _denied("the JWT's aud is not this service's endpoint URL") from None
        except jwt.ImmatureSignatureError:
            raise _denied("the JWT was issued in the future (iat) or is not valid yet (nbf)") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _denied(f"the JWT lacks the {exc.claim!r} claim") from None
        except jwt.PyJWTError as exc:
            raise _denied(f"the JWT does not verify ({type(exc).__name__})") from None
        return claims
