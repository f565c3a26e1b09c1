"""CDS Hooks 2.0 response: the report as at most six cards for an EHR (https://cds-hooks.hl7.org/2.0/).

``cds_response(report, hook_instance=...)`` is the one entry point, for ``kapdecide serve`` and for
``kapdecide assess --format cds-hooks`` (through ``render_cds_hooks``). The cards, in this order
(``render/cds_cards.py`` writes them; each restates the report and decides nothing):

1. the status, with the single most important action as its summary;
2. one card per contraindication or deferral (urgent first), then one card listing the rest of
   the findings (further blocking findings, cautions, interactions, notes);
3. the data to confirm: every missing or could-not-check item in plain words, unrecognised
   entries, medications not checked;
4. the FHIR import's warnings (deceased patient, several Patients, pregnancy recorded on a male,
   unmapped safety-relevant codes), whenever there are any;
5. the options offered, with doses and the session checklist.

Never more than six: when the data, import and options cards leave fewer than four places for
findings, the findings shown one per card stop earlier and the "rest" card lists the others.

**The status card is first after any sort by indicator.** Its indicator is computed last, as the
most severe of its status's indicator and every other card's; it is first in the list, so a
client's stable sort by indicator (JavaScript's ``Array.prototype.sort`` is stable) keeps it first.

**uuids.** Each card's uuid is uuid5 of the call's ``hookInstance``, the receipt's sha256 and the
card's key: a fresh uuid per card per call (the spec's feedback endpoint pairs feedback with one
call's card), and the same bytes for the same input and hook instance. The receipt's sha256 (what
``replay`` checks) stays in every card's ``org.kapdecide`` extension.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kapdecide.render.cds_base import CardConfig, DraftOrder, Maker
from kapdecide.render.cds_cards import build_cards
from kapdecide.render.cds_text import (
    DEFAULT_NAMESPACE,
    DEFAULT_OVERRIDE_REASONS,
    EXTENSION_KEY,
    SUMMARY_MAX,
    TOPICS,
    summary_text,
)

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report

__all__ = [
    "DEFAULT_NAMESPACE",
    "DEFAULT_OVERRIDE_REASONS",
    "EXTENSION_KEY",
    "SPEC_VERSION",
    "SUMMARY_MAX",
    "TOPICS",
    "CardConfig",
    "DraftOrder",
    "build_response",
    "cds_response",
    "render_cds_hooks",
    "summary_text",
]

SPEC_VERSION = "2.0"


def cds_response(
    report: Report,
    *,
    hook_instance: str,
    config: CardConfig | None = None,
    draft_orders: Sequence[DraftOrder] = (),
) -> dict[str, Any]:
    """The CDS Hooks 2.0 response for ``report`` as data (``{"cards": [...]}``, empty fields left out).

    ``hook_instance`` is the call's hookInstance (fresh per EHR call): it seeds the card uuids.
    ``draft_orders`` are the hook's draft ketamine or esketamine orders; for a contraindicated or
    deferred result the status card suggests deleting them.
    """
    cards = build_cards(report, Maker(report, hook_instance, config or CardConfig()), draft_orders)
    return {"cards": cards}


def render_cds_hooks(report: Report, hook_instance: str | None = None) -> str:
    """The report as a CDS Hooks 2.0 response (JSON text with a final newline). Without
    ``hook_instance`` (the CLI's default) a random one is used, so card uuids differ per call."""
    return json.dumps(build_response(report, hook_instance), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def build_response(report: Report, hook_instance: str | None = None) -> dict[str, Any]:
    """``cds_response`` with the default configuration and no draft orders; a random hook instance
    when none is given (kept for callers of the earlier renderer; the service uses ``cds_response``)."""
    return cds_response(report, hook_instance=hook_instance if hook_instance is not None else str(uuid.uuid4()))
