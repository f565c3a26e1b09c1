"""Protocol words made fit for a clinician's eyes: no author tags, no slugs, citations as short keys.

The protocol keeps its authors' notes ("DESIGN CHOICE", "CONSERVATIVE") and ids for review and for
``explain``; what a clinician reads (text, HTML, CDS Hooks) goes through ``clinician_text``. A
vocabulary value reads through ``plain_word`` (a fact value through ``plain_value``), a rule's test
through ``rule_test_words`` and a printed rule condition through ``condition_words``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from kapdecide.assessment.wording import show_value
from kapdecide.core.operators import OPERATORS
from kapdecide.core.vocabulary import value_label

#: The certainty of evidence (GRADE) in words.
GRADE_LABEL = {"high": "high", "moderate": "moderate", "low": "low", "very_low": "very low"}

_TAGS = r"(?:DESIGN CHOICE|CONSERVATIVE|APPROXIMATION|VERIFY)"
_TAG_ALONE = re.compile(rf"\s*\({_TAGS}\)")
_TAG_LEAD = re.compile(rf"\b{_TAGS}\s*[:;,-]\s*(\w?)")
_TAG_BARE = re.compile(rf"\s*\b{_TAGS}\b")
#: where sources disagree the clinician is told so; only the tag's shouting goes
_DISAGREEMENT = re.compile(r"\bDISAGREEMENT\b\s*[:;,]?\s*")
_INLINE_CITES = re.compile(r"\s*((?:\[[A-Z][A-Z0-9-]*\])+)")
#: a slug standing alone; inside a profile path (vitals.blood_pressure) it names a field and stays
_SLUG = re.compile(r"(?<![.\w\[])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w.\]])")


@lru_cache(maxsize=4096)  # protocol texts recur in every report: the CDS Hooks cards word ~150 per call
def clinician_text(text: str) -> str:
    """``text`` without author tags or inline citation brackets, with slugs in plain words."""
    text = _TAG_ALONE.sub("", text)
    text = _TAG_LEAD.sub(lambda m: m.group(1).upper(), text)
    text = _TAG_BARE.sub("", text)
    text = _DISAGREEMENT.sub(
        lambda m: (
            "Sources disagree: " if m.start() == 0 or text[: m.start()].rstrip().endswith(".") else "sources disagree: "
        ),
        text,
    )
    text = _INLINE_CITES.sub("", text)
    return _SLUG.sub(lambda m: plain_word(m.group(0)), text).strip()


def inline_citations(text: str) -> list[str]:
    """The ids a protocol text cites inline (``[KARE-REG][SPRAVATO-US]``), in order."""
    return [cite for group in _INLINE_CITES.findall(text) for cite in re.findall(r"\[([^\]]+)\]", group)]


def plain_word(slug: str) -> str:
    """One vocabulary value in words (``active_with_plan`` -> "active, with a plan",
    ``other_stimulants`` -> "other stimulants")."""
    label = value_label(slug)
    return label if label != slug else slug.replace("_", " ")


def short_keys(ids: Sequence[str]) -> str:
    """Citations as a short key at the end of a finding: ``[SPRAVATO-US+3]`` (empty when none; no space,
    so a wrapped line never splits a key)."""
    if not ids:
        return ""
    return f"[{ids[0]}{f'+{len(ids) - 1}' if len(ids) > 1 else ''}]"


def plain_value(value: Any) -> str:
    """A fact value as a clinician reads it: yes or no, a list joined, each vocabulary value in words
    (``["cyp_inhibitor"]`` -> "cyp inhibitor"), a missing value "unknown"."""
    return clinician_text(show_value(value))


def rule_test_words(operator: str, threshold: Any) -> str:
    """A rule's test in words, as it follows the field: "≥ 140", "includes cyp inhibitor", "is recorded"."""
    sign = OPERATORS[operator].sign if operator in OPERATORS else operator
    return sign if threshold is None else f"{sign} {plain_value(threshold)}"


_IS_YES = re.compile(r" is yes\b")


def condition_words(text: str) -> str:
    """A printed rule condition in plainer words (``acutely intoxicated is yes`` -> "acutely
    intoxicated")."""
    return _IS_YES.sub("", clinician_text(text))
