"""The report's words and small parts: a value as a clinician reads it, filled placeholders, a rule's
triggering values, evidence references (built once per protocol and shared).

The report is plain JSON-ready data typed by the TypedDicts of ``assessment.report`` (its one
declaration); every renderer reads it as built (building ~30 models per report was a third of the
batch's time)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from kapdecide.assessment.compiled import CompiledProtocol
from kapdecide.core.operators import Truth
from kapdecide.core.vocabulary import value_label
from kapdecide.language.evaluator import LeafResult
from kapdecide.language.facts import Facts

if TYPE_CHECKING:
    from kapdecide.assessment.report import EvidenceRef, Trigger

#: ``{field}`` in a protocol text: replaced by the profile's value
PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")


def show_value(value: Any) -> str:
    """A fact value as a clinician reads it."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple | list):
        return (
            ", ".join(show_value(x) if isinstance(x, dict) else value_label(str(x)) for x in value) if value else "none"
        )
    if isinstance(value, dict):  # a what-if profile edit: a reading, or an entry
        if "systolic_mmhg" in value and "diastolic_mmhg" in value:
            when = f" on {value['taken_at']}" if value.get("taken_at") else ""
            return f"{value['systolic_mmhg']}/{value['diastolic_mmhg']} mmHg{when}"
        return " ".join(f"{k} {show_value(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return value_label(str(value))


def fill(text: str, facts: Facts) -> str:
    """Replace ``{field}`` placeholders with the profile's values ("unknown" where absent)."""
    return PLACEHOLDER.sub(lambda m: show_value(facts.get(m.group(1))), text)


def truth_word(t: Truth) -> Literal["true", "false", "unknown"]:
    """A three-valued result as a word."""
    return "unknown" if t is None else "true" if t else "false"


Data = dict[str, Any]


def trigger_data(r: LeafResult) -> Trigger:
    """One triggering test as report data."""
    value = list(r.value) if isinstance(r.value, tuple) else r.value
    return {
        "field": r.field,
        "value": value,
        "operator": r.op,
        "threshold": r.threshold,
        "result": truth_word(r.result),
    }


def evidence_list(cp: CompiledProtocol, ids: Sequence[str]) -> list[EvidenceRef]:
    """Evidence references for these ids (built once per protocol and shared)."""
    key = tuple(ids)
    found = cp.evidence_refs.get(key)
    if found is not None:
        return found
    out: list[EvidenceRef] = []
    for eid in ids:
        e = cp.evidence[eid]
        out.append(
            {
                "id": e.id,
                "citation": e.citation,
                "doi": e.doi,
                "identifier": e.identifier,
                "design": e.design,
                "participants": e.participants,
            }
        )
    cp.evidence_refs[key] = out
    return out
