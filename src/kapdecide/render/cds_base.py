"""The pieces every CDS Hooks card shares: the deploying organisation's settings (``CardConfig``), a
draft order to act on (``DraftOrder``), a card's content (``Card``) and the writer that turns it
into CDS Hooks data (uuid, source, topic, override reasons, links, extension, disclaimer)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kapdecide import __version__
from kapdecide.assessment.report import receipt_sha256
from kapdecide.render.cds_text import (
    DEFAULT_NAMESPACE,
    DEFAULT_OVERRIDE_REASONS,
    EXTENSION_KEY,
    OVERRIDE_PATH,
    SEVERITY,
    TOPICS,
    TOPICS_PATH,
    Indicator,
    Reason,
    Topic,
    md,
    prune,
    summary_text,
)

if TYPE_CHECKING:
    from kapdecide.assessment.report import ProtocolRef, Report

CARD_NAMESPACE = uuid.UUID("6f1c1c52-5a8e-5d0f-9d47-0c4a8b3e2a10")
"""uuid5 namespace of every card and suggestion uuid (fixed: changing it changes every uuid)."""


@dataclass(frozen=True)
class CardConfig:
    """What a deploying organisation sets about its cards (``kapdecide serve --config``).

    ``namespace``: the base URL of the code systems, ``{namespace}/card-topics`` and
    ``{namespace}/override-reasons`` (identifiers; README "For EHR integrators" lists the codes).
    ``docs_url``: an absolute http(s) URL where the protocol's documentation is published (e.g. the
    README's "What the shipped protocol covers" on the organisation's site); ``{protocol}`` in it is
    replaced by the protocol id. It becomes each card's ``source.url``; left out when not set
    (kapdecide has no public site, and a link that does not resolve is worse than none).
    ``override_reasons``: per card topic (``TOPICS``), the (code, display) pairs offered when a
    clinician dismisses a card; it replaces the defaults, so a topic left out offers none.
    """

    namespace: str = DEFAULT_NAMESPACE
    docs_url: str | None = None
    override_reasons: Mapping[str, Sequence[Reason]] = field(default_factory=lambda: dict(DEFAULT_OVERRIDE_REASONS))

    def __post_init__(self) -> None:
        _check_url(self.namespace, "namespace")
        if self.docs_url is not None:
            _check_url(self.docs_url.replace("{protocol}", "x"), "docs_url")
        for topic, reasons in self.override_reasons.items():
            if topic not in TOPICS:
                raise ValueError(f"override reasons for an unknown card topic {topic!r} (known: {', '.join(TOPICS)})")
            for reason in reasons:
                if len(reason) != 2 or not all(isinstance(x, str) and x.strip() for x in reason):
                    raise ValueError(f"override reason for {topic!r} must be a (code, display) pair of text")

    @property
    def topic_system(self) -> str:
        """The card-topics code system."""
        return f"{self.namespace.rstrip('/')}/{TOPICS_PATH}"

    @property
    def override_system(self) -> str:
        """The override-reasons code system."""
        return f"{self.namespace.rstrip('/')}/{OVERRIDE_PATH}"


def _check_url(url: str, name: str) -> None:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise ValueError(f"{name} must be an absolute http(s) URL, not {url!r}")
    if host in ("localhost", "127.0.0.1", "::1") or host.endswith((".invalid", ".localhost", ".example")):
        raise ValueError(f"{name} {url!r} names a host that does not resolve for an EHR user")


_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_FHIR_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


@dataclass(frozen=True)
class DraftOrder:
    """A draft order of the hook's context (order-select, order-sign): a contraindicated or deferred
    result suggests deleting it (``{resource_type}/{id}``)."""

    id: str
    resource_type: str = "MedicationRequest"
    display: str | None = None
    """What the order is, in words ("ketamine 50 mg/mL injection"), for the suggestion's label."""

    def __post_init__(self) -> None:
        if not _FHIR_ID.match(self.id) or not _FHIR_TYPE.match(self.resource_type):
            raise ValueError(f"not a FHIR resource type and id: {self.resource_type!r}, {self.id!r}")

    @property
    def reference(self) -> str:
        """The relative reference the delete action names."""
        return f"{self.resource_type}/{self.id}"


# ---------------------------------------------------------------- the card itself


@dataclass(frozen=True)
class Card:
    """One card's content before it is written out; ``key`` is stable for a report (uuid seed)."""

    key: str
    topic: Topic
    summary: str
    indicator: Indicator
    detail: list[str]
    protocols: Sequence[ProtocolRef]
    ext: dict[str, Any]
    links: list[tuple[str, str]] = field(default_factory=list)
    """(label, absolute URL) of links that resolve: DOIs."""
    overrides: bool = True
    suggestions: list[dict[str, Any]] = field(default_factory=list)


class Maker:
    """Writes cards out: uuid, source, topic, override reasons, links, extension, disclaimer."""

    def __init__(self, report: Report, hook_instance: str, config: CardConfig) -> None:
        self.report = report
        self.config = config
        self.hook_instance = hook_instance
        self.receipt = receipt_sha256(report["receipt"])

    def uuid(self, key: str) -> str:
        """uuid5 of (hookInstance, receipt sha256, key)."""
        return str(uuid.uuid5(CARD_NAMESPACE, f"{self.hook_instance}|{self.receipt}|{key}"))

    def write(self, card: Card) -> dict[str, Any]:
        """The card as CDS Hooks data."""
        r, cfg = self.report, self.config
        label = f"kapdecide {__version__}"
        if card.protocols:
            label += " · " + ", ".join(f"{p['id']} {p['version']}" for p in card.protocols)
        url = cfg.docs_url.replace("{protocol}", card.protocols[0]["id"]) if cfg.docs_url and card.protocols else None
        reasons = cfg.override_reasons.get(card.topic, ()) if card.overrides else ()
        ext = {
            "card": card.topic,
            "status": r["status"],
            **card.ext,
            "protocol": [{"id": p["id"], "version": p["version"], "sha256": p["sha256"]} for p in card.protocols],
            "receipt_sha256": self.receipt,
            "profile_sha256": r["receipt"]["profile_sha256"],
        }
        out = {
            "uuid": self.uuid(card.key),
            "summary": summary_text(card.summary),
            "detail": "\n\n".join([*card.detail, f"*{md(r['disclaimer'])}*"]),
            "indicator": card.indicator,
            "source": {
                "label": label,
                "url": url,
                "topic": {"system": cfg.topic_system, "code": card.topic, "display": TOPICS[card.topic]},
            },
            "suggestions": [  # a uuid each: feedback names an accepted suggestion by it
                {"label": x["label"], "uuid": self.uuid(f"{card.key}|suggestion|{i}"), **x}
                for i, x in enumerate(card.suggestions)
            ],
            "selectionBehavior": "at-most-one" if card.suggestions else None,
            "overrideReasons": [{"code": c, "system": cfg.override_system, "display": d} for c, d in reasons],
            "links": [{"label": summary_text(lbl, 80), "url": u, "type": "absolute"} for lbl, u in card.links],
            "extension": {EXTENSION_KEY: ext},
        }
        pruned = prune(out)
        assert isinstance(pruned, dict)
        return pruned


def most_severe(indicators: Sequence[Indicator]) -> Indicator:
    """The most urgent of ``indicators`` (info when none)."""
    return max(indicators, key=lambda i: SEVERITY[i], default="info")
