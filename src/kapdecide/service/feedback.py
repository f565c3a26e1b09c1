"""``POST /cds-services/{id}/feedback``: the CDS Hooks 2.0 feedback document, checked, as log records.

Each item needs ``card`` (the card's uuid), ``outcome`` (``accepted`` or ``overridden``),
``outcomeTimestamp`` (RFC 3339 with a zone), ``acceptedSuggestions`` for accepted outcomes, and an
optional ``overrideReason`` (``reason``: a Coding with ``system`` and ``code``; ``userComment``).
The clinician's free-text ``userComment`` can name the patient: it is stored only when the
configuration says so (``feedback_store_comments``); otherwise the record says a comment was given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kapdecide.core.errors import Problem
from kapdecide.service.errors import ServiceError, located

_MAX_ITEMS = 100


def feedback_records(data: Any, service_id: str, store_comments: bool) -> list[dict[str, Any]]:
    """One record per feedback item, or ServiceError 400 listing every problem."""
    items = data.get("feedback") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or len(items) > _MAX_ITEMS:
        raise ServiceError(
            400,
            f"the body must be an object with a feedback array of 1 to {_MAX_ITEMS} items",
            code="feedback-invalid",
        )
    problems: list[Problem] = []
    records = [_record(item, f"feedback[{i}]", service_id, store_comments, problems) for i, item in enumerate(items)]
    if problems:
        raise ServiceError(400, "the feedback is not valid", code="feedback-invalid", problems=problems)
    return records


def _record(item: Any, at: str, service_id: str, store: bool, problems: list[Problem]) -> dict[str, Any]:
    def flag(path: str, message: str) -> None:
        problems.append(located(f"{at}.{path}" if path else at, message, code="feedback-invalid"))

    if not isinstance(item, dict):
        flag("", "each feedback item must be an object")
        return {}
    card, outcome, stamp = item.get("card"), item.get("outcome"), item.get("outcomeTimestamp")
    if not isinstance(card, str) or not card or len(card) > 128:
        flag("card", "card is required: the card's uuid")
    if outcome not in ("accepted", "overridden"):
        flag("outcome", "outcome must be 'accepted' or 'overridden'")
    if not _is_timestamp(stamp):
        flag("outcomeTimestamp", "outcomeTimestamp is required: an RFC 3339 date-time with a zone")
    accepted = item.get("acceptedSuggestions")
    ids: list[str] = []
    if accepted is not None or outcome == "accepted":
        if not isinstance(accepted, list) or not accepted or not all(_suggestion_id(s) for s in accepted):
            flag("acceptedSuggestions", "accepted feedback needs acceptedSuggestions: [{id: suggestion uuid}]")
        else:
            ids = [s["id"] for s in accepted]
    record: dict[str, Any] = {
        "service": service_id,
        "card": card,
        "outcome": outcome,
        "outcomeTimestamp": stamp,
        "acceptedSuggestions": ids,
    }
    reason = item.get("overrideReason")
    if reason is not None:
        record.update(_override(reason, store, lambda m: flag("overrideReason", m)))
    return record


def _override(reason: Any, store: bool, flag: Any) -> dict[str, Any]:
    if not isinstance(reason, dict):
        flag("overrideReason must be an object")
        return {}
    out: dict[str, Any] = {}
    coding = reason.get("reason")
    if coding is not None:
        if not isinstance(coding, dict) or not all(isinstance(coding.get(k), str) for k in ("system", "code")):
            flag("overrideReason.reason must be a Coding with system and code")
        else:
            out["overrideReason"] = {
                k: coding[k] for k in ("system", "code", "display") if isinstance(coding.get(k), str)
            }
    comment = reason.get("userComment")
    if comment is not None and not isinstance(comment, str):
        flag("overrideReason.userComment must be a string")
    elif isinstance(comment, str):
        out["userComment" if store else "userCommentGiven"] = comment[:2000] if store else True
    return out


def _suggestion_id(s: Any) -> bool:
    return isinstance(s, dict) and isinstance(s.get("id"), str) and bool(s["id"])


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return stamp.tzinfo is not None
