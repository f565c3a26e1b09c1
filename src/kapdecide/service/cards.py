"""The one place the service turns a report into a CDS Hooks response: the card renderer's
``cds_response`` (``render/cds_hooks.py``), the same cards as ``kapdecide assess --format cds-hooks``.

The call's ``hookInstance`` seeds the card uuids (fresh per call); the deploying organisation's
namespace, documentation URL and override reasons come from the service's configuration; for the
order hooks, the draft ketamine or esketamine orders are passed on, and a contraindicated or
deferred result suggests deleting them (``actions`` of type ``delete``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kapdecide.core.errors import InvalidInputError
from kapdecide.render.cds_hooks import CardConfig, DraftOrder, cds_response

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report
    from kapdecide.service.config import ServiceConfig

__all__ = ["CardConfig", "DraftOrder", "card_config", "cds_cards"]


def card_config(config: ServiceConfig) -> CardConfig:
    """The cards' settings from the service configuration (checked at start: exit 2 when invalid)."""
    settings: dict[str, Any] = {"docs_url": config.docs_url}
    if config.namespace is not None:
        settings["namespace"] = config.namespace
    if config.override_reasons is not None:
        settings["override_reasons"] = {k: [tuple(r) for r in v] for k, v in config.override_reasons.items()}
    try:
        return CardConfig(**settings)
    except ValueError as exc:
        raise InvalidInputError(f"the service configuration's card settings: {exc}") from None


def cds_cards(
    report: Report, *, hook_instance: str, drafts: Sequence[DraftOrder] = (), config: CardConfig
) -> dict[str, Any]:
    """The CDS Hooks response for ``report``."""
    return cds_response(report, hook_instance=hook_instance, config=config, draft_orders=drafts)
