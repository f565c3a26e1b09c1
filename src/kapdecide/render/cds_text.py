"""The words of CDS Hooks cards: summaries within the spec's 140 characters, Markdown escaping,
bullets, triggering values and evidence; status and kind labels, indicators and override reasons;
the code systems and the card uuid namespace; and pruning of empty fields (the spec asks to omit them)."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from kapdecide.assessment.report import EvidenceRef, Trigger
from kapdecide.assessment.wording import show_value
from kapdecide.core.operators import OPERATORS

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report

SUMMARY_MAX = 139
"""The specification asks for a summary of fewer than 140 characters (counted as UTF-16 code units
here, as a JavaScript client would count them)."""


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def summary_text(text: str, limit: int = SUMMARY_MAX) -> str:
    """One line of at most ``limit`` UTF-16 code units, cut at a word with "…" when too long."""
    text = " ".join(text.split())
    if _units(text) <= limit:
        return text
    cut = text
    while cut and _units(cut) > limit - 1:
        cut = cut[:-1]
    head, _, _ = cut.rpartition(" ")
    if len(head) >= len(cut) * 2 // 3:  # cut at a word unless that loses a third of the text
        cut = head
    return cut.rstrip(" ,;:—-–(") + "…"


def _units(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0].rstrip(".")


def _pick_summary(prefix: str, title: str, message: str) -> str:
    """The most specific summary that fits: title and first sentence, the sentence, else the title."""
    sentence = _first_sentence(message)
    for candidate in (f"{prefix}: {title} — {sentence}", f"{prefix}: {sentence}"):
        if sentence and _units(candidate) <= SUMMARY_MAX:
            return candidate
    return summary_text(f"{prefix}: {title}")


def _count(n: int, noun: str) -> str:
    return "" if n == 0 else f"{n} {noun}" + ("" if n == 1 else "s")


def _md(text: str) -> str:
    """Plain text as inline GitHub-flavoured markdown: whitespace folded, markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _code(text: str) -> str:
    text = " ".join(text.split())
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {_md(x)}" for x in items)


def _trigger(t: Trigger) -> str:
    op = OPERATORS[t.operator].sign if t.operator in OPERATORS else t.operator
    threshold = "" if t.threshold is None else f" {show_value(t.threshold)}"
    return f"{_code(t.field)} = {_md(show_value(t.value))} (test: {_md(op + threshold)} → {t.result})"


def _evidence_md(evidence: Sequence[EvidenceRef]) -> list[str]:
    if not evidence:
        return []
    items = []
    for e in evidence:
        line = f"- **{_md(e.id)}**: {_md(e.citation)}"
        if e.doi:
            line += f" [doi:{_md(e.doi)}](https://doi.org/{quote(e.doi, safe='/')})"
        elif e.identifier:
            line += f" ({_md(e.identifier)})"
        items.append(line)
    return ["**Evidence:**\n" + "\n".join(items)]


def _evidence_ext(evidence: Sequence[EvidenceRef]) -> list[dict[str, Any]]:
    return [_prune({"id": e.id, "doi": e.doi, "citation": e.citation}) for e in evidence]


def _prune(value: Any) -> Any:
    """Drop None, "", [] and {} (recursively), as CDS Hooks asks for absent rather than empty fields."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _empty(v)}
    if isinstance(value, list | tuple):
        return [x for x in (_prune(v) for v in value) if not _empty(x)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


# ---------------------------------------------------------------- card words

BASE = "https://kapdecide.invalid"
"""Namespace for code systems (RFC 2606 reserved TLD: an identifier, never fetched)."""
EXTENSION_KEY = "org.kapdecide"
"""Reverse-domain-name extension key (CDS Hooks 2.0 "Extensions")."""
OVERRIDE_SYSTEM = f"{BASE}/cds-hooks/override-reasons"
STATUS_SYSTEM = f"{BASE}/cds-hooks/status"
CARD_SYSTEM = f"{BASE}/cds-hooks/cards"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"{BASE}/cds-hooks/card")
"""uuid5 namespace of every card uuid (fixed: changing it changes every uuid)."""
Indicator = Literal["info", "warning", "critical"]
STATUS_INDICATOR: dict[str, Indicator] = {
    "contraindicated": "critical",
    "deferred": "warning",
    "incomplete": "warning",
    "eligible_with_precautions": "info",
    "eligible": "info",
}
KIND_INDICATOR: dict[str, Indicator] = {
    "contraindication": "critical",
    "deferral": "warning",
    "required_data": "warning",
    "caution": "warning",
    "interaction": "warning",
    "info": "info",
}
KIND_ORDER = {k: i for i, k in enumerate(KIND_INDICATOR)}
STATUS_LABEL = {
    "contraindicated": "Contraindicated",
    "deferred": "Deferred",
    "incomplete": "Incomplete",
    "eligible_with_precautions": "Eligible with precautions",
    "eligible": "Eligible",
}
KIND_PREFIX = {
    "contraindication": "Contraindicated",
    "deferral": "Defer",
    "required_data": "Missing data",
    "caution": "Caution",
    "interaction": "Interaction",
    "info": "Note",
}
GRADE_LABEL = {"high": "high", "moderate": "moderate", "low": "low", "very_low": "very low"}
_Reason = tuple[str, str]
"""(code, display) of an override reason."""
_DATA_VERIFIED: _Reason = ("data-verified-outside-record", "Data verified outside the record")
_DATA_CORRECTED: _Reason = ("record-data-incorrect", "Recorded data incorrect; record corrected, to reassess")
OVERRIDE_REASONS: dict[str, tuple[_Reason, ...]] = {
    # Conservative: a contraindication is only set aside after a documented specialist review.
    "contraindication": (("specialist-review-documented", "Specialist review documented"),),
    "deferral": (("barrier-resolved", "Reassessed: barrier resolved"), _DATA_CORRECTED),
    "required_data": (_DATA_VERIFIED, ("data-collected", "Data collected; assessment to be re-run")),
    "caution": (
        ("precaution-in-place", "Precaution in place and documented in the plan"),
        ("benefit-outweighs-risk", "Benefit judged to outweigh the risk (documented)"),
    ),
    "interaction": (
        ("precaution-in-place", "Precaution in place and documented in the plan"),
        ("interacting-use-not-current", "Interacting substance or medication no longer used (verified)"),
    ),
    "not_checked": (_DATA_VERIFIED, ("data-collected", "Data collected; assessment to be re-run")),
    "stale_data": (("data-verified-current", "Measured again or verified as current outside the record"),),
    "medications": (("medications-reviewed", "Medications reviewed by hand for interactions"),),
}
"""Per card type; none for the status, option, checklist and note cards (nothing to override)."""


def receipt_key(report: Report) -> str:
    """A stable key of what the report was computed from: sha256 of its receipt (canonical profile
    sha256, protocol sha256s, kapdecide version, date, what-if overrides). The assessment is a pure
    function of these, so the same inputs give the same key and uuids; ``--explain`` does not change it."""
    return hashlib.sha256(report.receipt.model_dump_json().encode("utf-8")).hexdigest()
