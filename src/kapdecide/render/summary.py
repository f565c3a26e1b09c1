"""What one screen shows: the status with the single most important action, what blocks, what to
review, what to collect, what is offered and what to do next. Each item once.

The text report's default and the HTML report's first page read this; they lay it out, they do not
choose it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kapdecide.core.contract import Status
from kapdecide.render.plain import clinician_text

if TYPE_CHECKING:
    from kapdecide.assessment.report import DataToCollect, EvidenceRef, Finding, OptionOut, Report

#: How each status looks: its word, a symbol readable without colour, and its colour.
STATUS_LOOK: dict[Status, tuple[str, str, str]] = {
    "contraindicated": ("CONTRAINDICATED", "✖", "bold white on red"),
    "deferred": ("DEFERRED", "‖", "bold black on yellow"),
    "incomplete": ("INCOMPLETE", "?", "bold white on magenta"),
    "eligible_with_precautions": ("ELIGIBLE WITH PRECAUTIONS", "!", "bold black on cyan"),
    "eligible": ("ELIGIBLE", "✓", "bold black on green"),
}

_NONE_NOW: dict[Status, str] = {
    "contraindicated": "a contraindication applies",
    "deferred": "a deferral applies; reassess when it resolves",
    "incomplete": "the missing safety data must be collected and checked first",
}
_DEFAULT_ACTION: dict[Status, str] = {
    "incomplete": "collect the missing safety data, then reassess",
    "eligible_with_precautions": "review the cautions and interactions before the first session",
    "eligible": "review the options and the session checklist with the patient",
}


@dataclass(frozen=True)
class CollectItem:
    """A profile field to record, in plain words, with why it matters now."""

    path: str
    ask: str
    why: list[str] = field(default_factory=list)
    """What the missing value holds up: the required-data finding's message, stale-data notes."""
    blocks: int = 0
    """How many safety checks could not run without it."""


@dataclass(frozen=True)
class Summary:
    """One screen's content, chosen from a report."""

    status: Status
    headline: str
    """The single most important action ("URGENT: same-day suicide-risk assessment ...")."""
    urgent: bool
    blocking: list[Finding]
    """Contraindications and deferrals, urgent first."""
    review: list[Finding]
    """Cautions and interactions: what to act on before or at a session."""
    notes: list[Finding]
    to_collect: list[CollectItem]
    offered: list[OptionOut]
    not_offered: int
    """Options listed for planning but not offered now (shown under --details)."""
    none_now: str | None
    """Why no option is offered, when none is."""
    next_steps: list[str]


def summarise(report: Report) -> Summary:
    """Choose what one screen shows for ``report``."""
    blocking = [f for f in report["findings"] if f["kind"] in ("contraindication", "deferral")]
    blocking.sort(key=lambda f: not f["urgent"])  # stable: the report's order within each group
    urgent = [f for f in report["findings"] if f["urgent"]]
    offered = [o for o in report["options"] if o["state"] == "offered"]
    listed = [o for o in report["options"] if o["state"] == "excluded"]
    none_now = None if offered else _none_now(report, listed)
    headline = _headline(report, urgent, blocking)
    if none_now and report["status"] in ("eligible", "eligible_with_precautions"):
        headline = f"no ketamine option offered: {none_now}"  # eligible, yet nothing to offer: say why
    return Summary(
        status=report["status"],
        headline=headline,
        urgent=bool(urgent),
        blocking=blocking,
        review=[f for f in report["findings"] if f["kind"] in ("caution", "interaction")],
        notes=[f for f in report["findings"] if f["kind"] == "info"],
        to_collect=_to_collect(report),
        offered=offered,
        not_offered=len(listed),
        none_now=none_now,
        next_steps=[s["label"] for s in report["next_steps"]],
    )


def _headline(report: Report, urgent: list[Finding], blocking: list[Finding]) -> str:
    labels = {s["id"]: s["label"] for s in report["next_steps"]}
    first = urgent[0] if urgent else blocking[0] if blocking else None
    if first is not None:
        step = next((labels[s] for s in first["next_steps"] if s in labels), None)
        if first["urgent"] or step is None:  # the finding's own first instruction: "Same-day suicide risk ..."
            action = re.split(r"[;:]\s|\.\s", clinician_text(first["action"]), maxsplit=1)[0].rstrip(".")
        else:
            action = step.replace(" (see Standard care)", "")
        if first["kind"] == "contraindication" and not first["urgent"]:
            return f"no ketamine; {action[0].lower() + action[1:]}"
        return ("URGENT: " if first["urgent"] else "") + action[0].lower() + action[1:]
    if report["status"] == "incomplete" and report["data_to_collect"]:
        asks = [d["path"] for d in report["data_to_collect"][:2]]
        more = f" and {len(report['data_to_collect']) - 2} more" if len(report["data_to_collect"]) > 2 else ""
        return f"collect {', '.join(asks)}{more}, then reassess"
    return _DEFAULT_ACTION.get(report["status"], "review the findings")


def _to_collect(report: Report) -> list[CollectItem]:
    """data_to_collect, each with what it holds up: its required-data finding and stale-data note are
    folded in, so a stale reading is reported once."""
    why: dict[str, list[str]] = {}
    blocks: dict[str, int] = {}
    path_of = {f: d["path"] for d in report["data_to_collect"] for f in d["fields"]}
    for f in report["findings"]:
        if f["kind"] == "required_data":
            for path in dict.fromkeys(path_of.get(t["field"], t["field"]) for t in f["triggered_by"]):
                why.setdefault(path, []).append(clinician_text(f["message"]))
    for s in report["stale_data"]:  # said once: a required-data finding on the same field already says it
        for path in dict.fromkeys(path_of.get(x, x) for x in s["fields"]):
            if path not in why:
                why[path] = [f"Latest is {s['days_old']} days old (limit {s['max_age_days']} days): not used."]
    for n in report["not_checked"]:
        for path in dict.fromkeys(path_of.get(x, x) for x in n["needs"]):
            blocks[path] = blocks.get(path, 0) + 1
    items: list[DataToCollect] = list(report["data_to_collect"])
    return [CollectItem(d["path"], d["ask"], why.get(d["path"], []), blocks.get(d["path"], 0)) for d in items]


def _none_now(report: Report, listed: list[OptionOut]) -> str:
    if report["status"] in _NONE_NOW:
        return _NONE_NOW[report["status"]]
    if listed:
        reasons = [r for r in listed[0]["reasons"] if r]
        shared = reasons[0] if reasons and all(o["reasons"][:1] == reasons[:1] for o in listed) else None
        return clinician_text(shared) if shared else "each listed option is excluded for this patient (see --details)"
    weak = [clinician_text(s["substance"]) for s in report["substances"] if s["insufficient_evidence"]]
    if weak:
        return f"insufficient evidence for ketamine in {' or '.join(weak)} use disorder; standard care applies"
    return "no option applies to this patient's recorded indications; standard care applies"


def cited_evidence(report: Report) -> list[EvidenceRef]:
    """Every source the report cites (findings, substances, options that apply, checklists), once,
    in the order first cited."""
    seen: dict[str, EvidenceRef] = {}
    groups = [f["evidence"] for f in report["findings"]] + [s["evidence"] for s in report["substances"]]
    groups += [o["evidence"] for o in report["options"] if o["state"] != "not_applicable"]
    groups += [c["evidence"] for c in report["session_checklists"]]
    for group in groups:
        for e in group:
            seen.setdefault(e["id"], e)
    return list(seen.values())


def patient_facts(report: Report, ref: Callable[[str], str] = str, word: Callable[[str], str] = str) -> list[str]:
    """The header's facts in words: patient, age, sex, the weight the doses use and its date, the
    blood pressure the rules read (or why none). ``ref`` and ``word`` quote the free text and the
    recorded word for the output's markup."""
    p = report["patient"]
    who = [f"Patient {ref(report['patient_ref'])}" if report["patient_ref"] else "Patient (no reference)"]
    who.append(f"{p['age']} y" if p["age"] is not None else "age not recorded")
    who.append(word(p["sex_at_birth"]) if p["sex_at_birth"] else "sex at birth not recorded")
    if p["weight_kg"] is None:
        who.append("weight not recorded")
    else:
        weighed = f"weighed {p['weight_date']}" if p["weight_date"] else "no date"
        who.append(f"{p['weight_kg']:g} kg ({weighed})")
    bp = p["blood_pressure"]
    if bp is None:
        who.append("BP not recorded")
    else:
        mean = f" (mean of {bp['readings']})" if bp["readings"] > 1 else ""
        used = "" if bp["used"] else f", {bp['days_old']} days old: not used"
        who.append(f"BP {bp['systolic_mmhg']}/{bp['diastolic_mmhg']}{mean} on {bp['taken_on']}{used}")
    return who
