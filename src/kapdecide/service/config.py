"""The service's configuration file (YAML or JSON): who may call, where logs go, the limits.

Read once at start with kapdecide's own safe loader (no aliases, tags or duplicate keys) and checked
by a pydantic model that refuses unknown keys, so a misspelt setting is an error at start, never a
security setting silently left at its default. README "Run as a CDS Hooks service" documents it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kapdecide.core.errors import InvalidInputError

#: Signing algorithms a CDS Client may use: asymmetric only (the specification forbids ``none`` and
#: every HMAC algorithm, which would need a shared secret).
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Issuer(_Strict):
    """One trusted CDS Client: its ``iss`` and where its public keys are (exactly one source)."""

    iss: str = Field(min_length=1)
    jwks: dict[str, Any] | None = None
    """An inline JWK Set (``{"keys": [...]}``)."""
    jwks_url: str | None = None
    """A JWK Set URL: the only ``jku`` accepted from this issuer, fetched (https) when a key is needed."""
    public_key: str | None = None
    """A PEM public key (the JWT's ``kid`` is not needed then)."""

    @model_validator(mode="after")
    def _one_key_source(self) -> Issuer:
        given = [x for x in (self.jwks, self.jwks_url, self.public_key) if x is not None]
        if len(given) != 1:
            raise ValueError(f"issuer {self.iss!r}: give exactly one of jwks, jwks_url, public_key")
        if self.jwks_url is not None and urlsplit(self.jwks_url).scheme != "https":
            raise ValueError(f"issuer {self.iss!r}: jwks_url must be an https URL")
        return self


class ServiceConfig(_Strict):
    """Every setting, with the default that is safe."""

    base_url: str | None = None
    """This service's public URL (``https://cds.example.org``): a JWT's ``aud`` must be
    ``{base_url}/cds-services/{id}``. Required unless --insecure-dev."""
    issuers: list[Issuer] = Field(default_factory=list)
    algorithms: list[str] = Field(default_factory=lambda: list(ASYMMETRIC))
    leeway_seconds: int = Field(default=30, ge=0, le=300)
    """Clock skew allowed on ``exp`` and ``iat``."""
    max_token_lifetime_seconds: int = Field(default=3600, ge=1, le=86400)
    """A JWT valid for longer (``exp - iat``) is refused: it bounds how long a ``jti`` is remembered."""
    discovery_requires_jwt: bool = False
    """Discovery lists no patient data; the CDS Hooks sandbox and most EHRs call it without a JWT."""
    namespace: str | None = None
    """The base URL of the cards' code systems (card topics, override reasons); default kapdecide's."""
    docs_url: str | None = None
    """Where the protocol's documentation is published (``{protocol}`` is replaced): the cards' ``source.url``."""
    override_reasons: dict[str, list[list[str]]] | None = None
    """Per card topic, the ``[code, display]`` pairs offered when a clinician dismisses a card."""
    cors_origins: list[str] = Field(default_factory=list)
    audit_log: str = "-"
    """``-`` for standard error, else a file (JSON Lines, appended)."""
    feedback_log: str | None = None
    """JSON Lines file for feedback; without it feedback is validated and acknowledged, not stored."""
    feedback_store_comments: bool = False
    """Store the clinician's free-text override comment (it can name the patient); off: only that one was given."""
    max_request_bytes: int = Field(default=16 << 20, ge=1024, le=64 << 20)
    request_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_concurrent: int = Field(default=8, ge=1, le=256)
    """Requests being assessed or waiting for the engine at once; more wait up to ``queue_seconds``."""
    queue_seconds: float = Field(default=2.0, gt=0, le=60)
    fhir_servers: list[str] = Field(default_factory=list)
    """With --allow-fhir-fetch: the FHIR base URLs the service may call (empty: any https server)."""
    fhir_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    fhir_max_pages: int = Field(default=10, ge=1, le=100)
    timezone: str = "UTC"
    """The zone of "today", the assessment date of every request."""
    log_format: Literal["json"] = "json"

    @field_validator("algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if a not in ASYMMETRIC]
        if bad or not value:
            raise ValueError(f"only asymmetric algorithms may be allowed ({', '.join(ASYMMETRIC)}); not {bad}")
        return value

    @field_validator("base_url")
    @classmethod
    def _plain_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"base_url {value!r} must be an absolute http(s) URL without query or fragment")
        return value.rstrip("/")

    def audience(self, path: str) -> str:
        """The ``aud`` a JWT must carry for ``path`` (``/cds-services/...``)."""
        return f"{self.base_url}{path}"


def load_config(path: str | None) -> ServiceConfig:
    """The configuration in ``path`` (YAML or JSON), or the defaults; invalid: exit 2 with the problems."""
    if path is None:
        return ServiceConfig()
    from kapdecide.inputs.yaml_source import SourceError, decode, load

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read --config {path}: {exc.strerror or exc}") from None
    try:
        data, _ = load(decode(raw, path, 1 << 20), path)
    except SourceError as exc:
        raise InvalidInputError(f"--config {path} could not be read", exc.problems) from None
    try:
        return ServiceConfig.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"--config {path} is not a valid service configuration: {lines}") from None
