"""The one place the service turns a report into a CDS Hooks response (the card renderer's adapter).

The cards themselves are ``render/cds_hooks.py``'s, the same as ``kapdecide assess --format
cds-hooks``. For order hooks, a contraindicated result also carries a suggestion to remove the
unsigned ketamine or esketamine order(s): one ``delete`` action per draft, ``selectionBehavior``
``at-most-one`` (the clinician may take it or not), added to the status card.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report


@dataclass(frozen=True)
class DraftRef:
    """A draft order of a drug the order services act on."""

    reference: str
    """``MedicationRequest/<id>``, as the client knows it."""
    drug: str
    """The ingredient the importer read it as (``ketamine``, ``esketamine``)."""


def cds_cards(report: Report, *, hook_instance: str, drafts: Sequence[DraftRef] = (), namespace: str) -> dict[str, Any]:
    """The CDS Hooks response for ``report``."""
    from kapdecide.render.cds_hooks import build_response

    response = build_response(report)
    if drafts and report.status == "contraindicated" and response["cards"]:
        _suggest_removal(response["cards"][0], drafts)
    return response


def _suggest_removal(card: dict[str, Any], drafts: Sequence[DraftRef]) -> None:
    drugs = " and ".join(dict.fromkeys(d.drug for d in drafts))
    card["suggestions"] = [
        {
            "label": f"Remove the draft {drugs} order",
            "uuid": str(uuid.uuid4()),
            "isRecommended": True,
            "actions": [
                {
                    "type": "delete",
                    "description": f"Remove the unsigned {d.drug} order {d.reference}: kapdecide found a "
                    "contraindication (see the cards). Decision support for clinician review.",
                    "resourceId": d.reference,
                }
                for d in drafts
            ],
        }
    ]
    card["selectionBehavior"] = "at-most-one"
