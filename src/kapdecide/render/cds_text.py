"""The words of CDS Hooks cards: summaries within the spec's 140 characters, Markdown escaping,
bullets, triggering values and evidence; status and kind labels, indicators; the default code-system
namespace, card topics and override reasons; and pruning of empty fields (the spec asks to omit them).

Every protocol text a clinician reads goes through ``plain.clinician_text`` here (no author tags, no
inline citation brackets, no slugs)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal
from urllib.parse import quote

from kapdecide.assessment.report import EvidenceRef, Trigger
from kapdecide.assessment.wording import show_value
from kapdecide.core.operators import OPERATORS
from kapdecide.render.plain import clinician_text, short_keys

SUMMARY_MAX = 139
"""The specification asks for a summary of fewer than 140 characters (counted as UTF-16 code units
here, as a JavaScript client would count them)."""

_SENTENCE_END = re.compile(r"(?<=[a-z0-9)%])[.!?]\s+(?=[A-Z])")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#])")


def summary_text(text: str, limit: int = SUMMARY_MAX) -> str:
    """One line of at most ``limit`` UTF-16 code units, cut at a word with "…" when too long."""
    text = " ".join(text.split())
    if units(text) <= limit:
        return text
    cut = text
    while cut and units(cut) > limit - 1:
        cut = cut[:-1]
    head, _, _ = cut.rpartition(" ")
    if len(head) >= len(cut) * 2 // 3:  # cut at a word unless that loses a third of the text
        cut = head
    return cut.rstrip(" ,;:—-–(") + "…"


def one_sentence(text: str) -> str:
    """The first sentence of ``text``, without its final full stop, as one summary line."""
    return _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0].rstrip(".")


def units(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def pick_summary(prefix: str, title: str, message: str) -> str:
    """The most specific summary that fits: title and first sentence, the sentence, else the title."""
    title, sentence = clinician_text(title), one_sentence(clinician_text(message))
    for candidate in (f"{prefix}: {title} — {sentence}", f"{prefix}: {sentence}"):
        if sentence and units(candidate) <= SUMMARY_MAX:
            return candidate
    return summary_text(f"{prefix}: {title}")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n noun(s)``, empty for zero."""
    return "" if n == 0 else f"{n} {noun if n == 1 else plural or noun + 's'}"


def md(text: str) -> str:
    """Plain text as inline GitHub-flavoured markdown: whitespace folded, markup characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def cmd(text: str) -> str:
    """Clinician text (``clinician_text``) as inline markdown."""
    return md(clinician_text(text))


def code(text: str) -> str:
    """Inline code (a profile path, a FHIR reference)."""
    text = " ".join(text.split())
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def bullets(items: Iterable[str]) -> str:
    """Clinician text as a markdown list."""
    return "\n".join(f"- {cmd(x)}" for x in items)


def trigger(t: Trigger) -> str:
    """A triggering value: the field, its value and the test it met."""
    op = OPERATORS[t["operator"]].sign if t["operator"] in OPERATORS else t["operator"]
    threshold = "" if t["threshold"] is None else f" {show_value(t['threshold'])}"
    return f"{code(t['field'])} = {md(show_value(t['value']))} (test: {md(op + threshold)} → {t['result']})"


def cite_keys(evidence: Sequence[EvidenceRef]) -> str:
    """The short citation key of a finding (``[ACC-AHA-2017+5]``), escaped for markdown."""
    return md(short_keys([e["id"] for e in evidence]))


def doi_url(doi: str) -> str:
    """The resolver URL of a DOI (https://doi.org/…, which resolves)."""
    return f"https://doi.org/{quote(doi, safe='/')}"


def evidence_md(evidence: Sequence[EvidenceRef]) -> list[str]:
    """The full citations, each with its DOI link (or identifier), one list; none when no evidence."""
    if not evidence:
        return []
    items = []
    for e in {e["id"]: e for e in evidence}.values():
        line = f"- **{md(e['id'])}**: {cmd(e['citation'])}"
        if e["doi"]:
            line += f" [doi:{md(e['doi'])}]({doi_url(e['doi'])})"
        elif e["identifier"]:
            line += f" ({md(e['identifier'])})"
        items.append(line)
    return ["**Sources:**\n" + "\n".join(items)]


def prune(value: Any) -> Any:
    """Drop None, "", [] and {} (recursively), as CDS Hooks asks for absent rather than empty fields."""
    if isinstance(value, dict):
        out = {k: prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _empty(v)}
    if isinstance(value, list | tuple):
        return [x for x in (prune(v) for v in value) if not _empty(x)]
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and len(value) == 0)


# ---------------------------------------------------------------- card words

DEFAULT_NAMESPACE = "https://kapdecide.org/fhir/CodeSystem"
"""Default base of kapdecide's code systems (card topics, override reasons): identifiers, never
fetched. A deploying organisation sets its own (``CardConfig.namespace``)."""
EXTENSION_KEY = "org.kapdecide"
"""Reverse-domain-name extension key (CDS Hooks 2.0 "Extensions")."""
TOPICS_PATH = "card-topics"
OVERRIDE_PATH = "override-reasons"

Indicator = Literal["info", "warning", "critical"]
SEVERITY: dict[Indicator, int] = {"info": 0, "warning": 1, "critical": 2}
"""The specification's order of increasing urgency."""
STATUS_INDICATOR: dict[str, Indicator] = {
    "contraindicated": "critical",
    "deferred": "critical",
    "incomplete": "warning",
    "eligible_with_precautions": "warning",
    "eligible": "info",
}
STATUS_LABEL = {
    "contraindicated": "Contraindicated",
    "deferred": "Deferred",
    "incomplete": "Incomplete",
    "eligible_with_precautions": "Eligible with precautions",
    "eligible": "Eligible",
}
KIND_LABEL = {
    "contraindication": "contraindication",
    "deferral": "deferral",
    "required_data": "missing data",
    "caution": "caution",
    "interaction": "interaction",
    "info": "note",
}
KIND_PREFIX = {"contraindication": "Contraindicated", "deferral": "Defer"}

Topic = Literal[
    "status", "contraindication", "deferral", "other-findings", "data-to-confirm", "import-warnings", "options"
]
TOPICS: dict[Topic, str] = {
    "status": "Ketamine-assisted therapy: overall status",
    "contraindication": "Contraindication",
    "deferral": "Deferral",
    "other-findings": "Other findings to review",
    "data-to-confirm": "Data to confirm",
    "import-warnings": "Record import warnings",
    "options": "Ketamine options offered",
}
"""The card-topics code system ({namespace}/card-topics): one code per card type."""

Reason = tuple[str, str]
"""(code, display) of an override reason."""
_DATA_VERIFIED: Reason = ("data-verified-outside-record", "Data verified outside the record")
_DATA_CORRECTED: Reason = ("record-data-incorrect", "Recorded data incorrect; record corrected, to reassess")
_SPECIALIST: Reason = ("specialist-review-documented", "Specialist review documented")
DEFAULT_OVERRIDE_REASONS: dict[str, tuple[Reason, ...]] = {
    # Conservative: a contraindication is only set aside after a documented specialist review.
    "status": (_SPECIALIST, _DATA_CORRECTED),
    "contraindication": (_SPECIALIST, _DATA_CORRECTED),
    "deferral": (("barrier-resolved", "Reassessed: barrier resolved"), _DATA_CORRECTED),
    "other-findings": (
        ("precaution-in-place", "Precaution in place and documented in the plan"),
        ("benefit-outweighs-risk", "Benefit judged to outweigh the risk (documented)"),
        _DATA_CORRECTED,
    ),
    "data-to-confirm": (_DATA_VERIFIED, ("data-collected", "Data collected; assessment to be re-run")),
    "import-warnings": (
        ("record-checked", "Record checked: right patient, warnings reviewed"),
        _DATA_CORRECTED,
    ),
}
"""The override-reasons code system ({namespace}/override-reasons), per card topic. The status card
offers them only when it carries a suggestion (a draft order to remove); options cards none."""
