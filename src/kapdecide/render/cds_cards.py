"""The cards of a CDS Hooks response, at most six, in order (see ``render/cds_hooks.py``): status,
contraindications and deferrals one per card (up to three, urgent first), the rest of the findings,
the data to confirm, the FHIR import's warnings, the options offered. Layout only: every card
restates what the report says and decides nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kapdecide.assessment.report import receipt_sha256
from kapdecide.assessment.wording import show_value
from kapdecide.render.cds_base import Card, DraftOrder, Maker, most_severe
from kapdecide.render.cds_options import options_card
from kapdecide.render.cds_text import (
    KIND_LABEL,
    KIND_PREFIX,
    STATUS_INDICATOR,
    STATUS_LABEL,
    SUMMARY_MAX,
    Indicator,
    bullets,
    cite_keys,
    cmd,
    code,
    count,
    doi_url,
    evidence_md,
    md,
    one_sentence,
    pick_summary,
    summary_text,
    trigger,
    units,
)
from kapdecide.render.plain import clinician_text
from kapdecide.render.summary import Summary, patient_facts, summarise

if TYPE_CHECKING:
    from kapdecide.assessment.report import EvidenceRef, Finding, Report, UnmappedCode

MAX_CARDS = 6
MAX_FINDING_CARDS = 3
MAX_LINKS = 5
_BLOCKING = ("contraindication", "deferral")
_IDENTITY_PHRASES = (
    ("deceased", "the Patient is recorded as deceased"),
    ("Patients (", "the Bundle holds more than one Patient"),
    ("recorded as male", "pregnancy data on a patient recorded as male"),
    ("says male", "pregnancy evidence on a patient recorded as male"),
)
_NOTABLE = ("safety-relevant", "pregnan", "breastfeed", "suicid", "contraindication")
"""Import warnings that bear on a safety rule: listed right after the identity warnings."""
_REF_LEAD = re.compile(r"^[A-Za-z]+/[^\s:]+: ")
_REF_IN = re.compile(r"\s*\([A-Z][A-Za-z]+/[^)]*\)")
"""A resource reference leading a warning, or in parentheses within it: in the detail, not the summary."""
_IDENTITY = tuple(marker for marker, _ in _IDENTITY_PHRASES)
"""Import warnings about whose record this is: they come first and make the import card critical."""


def build_cards(report: Report, maker: Maker, draft_orders: Sequence[DraftOrder]) -> list[dict[str, Any]]:
    """The response's cards, written out."""
    s = summarise(report)
    tail = [c for c in (data_card(report, s), import_card(report), options_card(report, s)) if c is not None]
    blocking = s.blocking
    # missing-data findings are on the data card (summary.to_collect folds them in)
    others = [f for f in report["findings"] if f["kind"] not in (*_BLOCKING, "required_data")]
    room = MAX_CARDS - 1 - len(tail)  # >= 2: the tail holds at most three cards
    shown = min(len(blocking), MAX_FINDING_CARDS)
    if shown + (len(blocking) > shown or bool(others)) > room:
        shown = room - 1
    rest = blocking[shown:] + others
    middle = [finding_card(report, f) for f in blocking[:shown]]
    if rest:
        middle.append(rest_card(report, rest))
    cards = [*middle, *tail]
    status = status_card(report, s, draft_orders, most_severe([c.indicator for c in cards]))
    return [maker.write(c) for c in (status, *cards)]


# ---------------------------------------------------------------- status


def status_card(report: Report, s: Summary, drafts: Sequence[DraftOrder], floor: Indicator) -> Card:
    """The overall status with the single most important action; its indicator is never less severe
    than any other card's (``floor``), so it sorts first."""
    hypothetical = "HYPOTHETICAL (what-if) · " if report["what_if_overrides"] else ""
    summary = f"{hypothetical}{STATUS_LABEL[report['status']]} — {one_sentence(s.headline)}"
    lines = [f"**{md(STATUS_LABEL[report['status']])} — {md(s.headline)}.** {cmd(report['status_summary'])}"]
    if report["what_if_overrides"]:
        shown = ", ".join(f"{code(k)} = {md(show_value(v))}" for k, v in report["what_if_overrides"].items())
        lines.append(f"**HYPOTHETICAL:** values replaced with --what-if ({shown}). This is not the patient's result.")
    lines.append(_patient_line(report))
    if s.none_now:
        lines.append(f"**Ketamine now:** none offered: {cmd(s.none_now)}.")
    if s.next_steps:
        lines.append("**Next steps:**\n" + bullets(s.next_steps))
    for care in report["standard_care"]:
        lines.append(f"**Standard care (always):** {cmd(care)}")
    refs = ", ".join(f"{md(p['id'])} {md(p['version'])}" for p in report["protocols"])
    lines.append(
        f"Assessed for {md(report['assessed_on'])} against {refs or 'no protocol'}; receipt "
        f"{code(receipt_sha256(report['receipt'])[:12])} (`kapdecide replay` checks it)."
    )
    suggestions = _delete_drafts(report, drafts)
    return Card(
        key="status",
        topic="status",
        summary=summary,
        indicator=most_severe([STATUS_INDICATOR[report["status"]], floor]),
        detail=lines,
        protocols=report["protocols"],
        ext={
            "assessed_on": report["assessed_on"],
            "what_if_overrides": [{"field": k, "value": show_value(v)} for k, v in report["what_if_overrides"].items()],
            "draft_orders": [d.reference for d in drafts],
        },
        overrides=bool(suggestions),
        suggestions=suggestions,
    )


def _patient_line(report: Report) -> str:
    return " · ".join(patient_facts(report, ref=code, word=md))


def _delete_drafts(report: Report, drafts: Sequence[DraftOrder]) -> list[dict[str, Any]]:
    """For a contraindicated or deferred result with draft orders: one suggestion deleting them all."""
    if report["status"] not in ("contraindicated", "deferred") or not drafts:
        return []
    why = "a contraindication applies" if report["status"] == "contraindicated" else "a deferral applies"
    names = ", ".join(dict.fromkeys(d.display or d.reference for d in drafts))
    return [
        {
            "label": summary_text(f"Remove the draft order ({names}): {why}", 120),
            "isRecommended": True,
            "actions": [
                {
                    "type": "delete",
                    "description": f"Remove the draft order {d.display or d.reference} ({d.reference}): {why}.",
                    "resourceId": d.reference,
                }
                for d in drafts
            ],
        }
    ]


# ---------------------------------------------------------------- findings


def finding_card(report: Report, f: Finding) -> Card:
    """One contraindication or deferral: what, the action, the triggering values and their sources."""
    prefix = ("Urgent · " if f["urgent"] else "") + KIND_PREFIX.get(f["kind"], f["kind"])
    lines = [
        f"**{cmd(f['title'])}** ({KIND_LABEL[f['kind']]}{', urgent' if f['urgent'] else ''}) {cite_keys(f['evidence'])}"
    ]
    lines.append(cmd(f["message"]))
    lines.append(f"**Action:** {cmd(f['action'])}")
    lines += _values(f)
    if f["rationale"]:
        lines.append(f"**Why:** {cmd(f['rationale'])}")
    steps = _steps(report, f)
    if steps:
        lines.append("**Next steps:**\n" + bullets(steps))
    lines += evidence_md(f["evidence"])
    lines.append(f"Rule {code(f['rule_id'])} · protocol {md(f['protocol_id'])}")
    return Card(
        key=f"finding|{f['protocol_id']}|{f['rule_id']}",
        topic="contraindication" if f["kind"] == "contraindication" else "deferral",
        summary=pick_summary(prefix, f["title"], f["message"]),
        indicator=_finding_indicator(f),
        detail=lines,
        protocols=_protocols(report, [f["protocol_id"]]),
        ext=_finding_ext(f),
        links=_links(f["evidence"]),
    )


def rest_card(report: Report, rest: Sequence[Finding]) -> Card:
    """Every finding without a card of its own: further contraindications and deferrals, then
    cautions and interactions, then notes; each with its action, values and short citation key."""
    kinds = [f["kind"] for f in rest]
    blocking = sum(k in _BLOCKING for k in kinds)
    review = sum(k in ("caution", "interaction") for k in kinds)
    notes = sum(k == "info" for k in kinds)
    parts = [
        count(blocking, "more contraindication or deferral", "more contraindications or deferrals"),
        count(review, "precaution"),
        count(notes, "note"),
    ]
    if blocking or (review and report["status"] in ("contraindicated", "deferred")):
        head = "Also review"  # no session is planned yet
    else:
        head = "Review before the first session" if review else "Notes for the plan"
    summary = _listing(f"{head} ({', '.join(p for p in parts if p)})", [clinician_text(f["title"]) for f in rest])
    lines = [_compact(report, f) for f in rest]
    lines += evidence_md([e for f in rest for e in f["evidence"]])
    protocol_ids = list(dict.fromkeys(f["protocol_id"] for f in rest))
    return Card(
        key="rest",
        topic="other-findings",
        summary=summary,
        indicator=most_severe([_finding_indicator(f) for f in rest]),
        detail=lines,
        protocols=_protocols(report, protocol_ids),
        ext={"findings": [_finding_ext(f) for f in rest]},
        links=_links([e for f in rest for e in f["evidence"]]),
        overrides=review + blocking > 0,
    )


def _listing(head: str, titles: Sequence[str]) -> str:
    """``head: title; title; …`` with as many titles as fit in a summary."""
    out = f"{head}: {titles[0]}" if titles else head
    for n, title in enumerate(titles[1:], 2):
        more = "; …" if n < len(titles) else ""
        if units(f"{out}; {title}{more}") > SUMMARY_MAX:
            return f"{out}; …" if units(f"{out}; …") <= SUMMARY_MAX else out
        out = f"{out}; {title}"
    return out


def _compact(report: Report, f: Finding) -> str:
    urgent = ", urgent" if f["urgent"] else ""
    head = f"**{cmd(f['title'])}** ({KIND_LABEL[f['kind']]}{urgent}) {cite_keys(f['evidence'])}  \n"
    body = [cmd(f["message"])]
    if f["kind"] != "info":
        body.append(f"**Action:** {cmd(f['action'])}")
    values = "; ".join(trigger(t) for t in f["triggered_by"] if t["result"] == "true")
    if values:
        body.append(f"Values: {values}")
    if f["sources"]:
        body.append("From: " + ", ".join(code(x) for x in f["sources"]))
    return head + "\n".join(f"  {x}  " for x in body).rstrip()


def _values(f: Finding) -> list[str]:
    lines = []
    if f["triggered_by"]:
        lines.append("**Triggered by:**\n" + "\n".join(f"- {trigger(t)}" for t in f["triggered_by"]))
    if f["sources"]:
        lines.append("**From the record:** " + ", ".join(code(x) for x in f["sources"]))
    return lines


def _steps(report: Report, f: Finding) -> list[str]:
    labels = {s["id"]: s["label"] for s in report["next_steps"]}
    return [labels.get(x, x) for x in f["next_steps"]]


def _finding_indicator(f: Finding) -> Indicator:
    if f["kind"] == "contraindication" or f["urgent"]:
        return "critical"
    return "info" if f["kind"] == "info" else "warning"


def _finding_ext(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f["rule_id"],
        "protocol_id": f["protocol_id"],
        "kind": f["kind"],
        "urgent": f["urgent"] or None,
        "evidence": [e["id"] for e in f["evidence"]],
        "sources": f["sources"],
    }


def _links(evidence: Sequence[EvidenceRef]) -> list[tuple[str, str]]:
    """DOI links of the evidence (they resolve), the first MAX_LINKS distinct ones."""
    out: dict[str, tuple[str, str]] = {}
    for e in evidence:
        if e["doi"] and e["id"] not in out and len(out) < MAX_LINKS:
            out[e["id"]] = (f"{e['id']} (doi:{e['doi']})", doi_url(e["doi"]))
    return list(out.values())


def _protocols(report: Report, ids: Sequence[str]) -> list[Any]:
    return [p for p in report["protocols"] if p["id"] in ids]


# ---------------------------------------------------------------- data to confirm


def data_card(report: Report, s: Summary) -> Card | None:
    """Every missing or could-not-check item in plain words (profile path and question), checks that
    could not run, unrecognised entries and medications not checked; none when there is nothing."""
    meds = report["medications"]
    unchecked_meds = list(meds["not_checked"]) if meds["recorded"] else []
    items = len(s.to_collect) + len(report["unrecognised"]) + len(unchecked_meds)
    if not items and not report["not_checked"]:
        return None
    lines = []
    if s.to_collect:
        rows = []
        for c in s.to_collect:
            why = f" — {cmd(' '.join(c.why))}" if c.why else ""
            blocks = f" ({count(c.blocks, 'safety check')} waiting)" if c.blocks else ""
            rows.append(f"- {code(c.path)}: {cmd(c.ask)}{blocks}{why}")
        lines.append(f"**Record or confirm ({len(s.to_collect)}):**\n" + "\n".join(rows))
    if report["not_checked"]:
        lines.append(
            f"**Safety checks that could not run ({len(report['not_checked'])}):** "
            + "; ".join(cmd(n["title"]) for n in report["not_checked"])
        )
    if report["unrecognised"]:
        lines.append(
            f"**Not recognised, review by hand ({len(report['unrecognised'])}):**\n"
            + "\n".join(f"- {code(u['path'])}: {cmd(u['message'])}" for u in report["unrecognised"])
        )
    if unchecked_meds:
        lines.append("**Medications not checked for interactions:**\n" + bullets(unchecked_meds))
    if not meds["recorded"]:
        lines.append(f"**Medications:** {cmd(meds['message'])}")
    return Card(
        key="data-to-confirm",
        topic="data-to-confirm",
        summary=_data_summary(report, s, unchecked_meds),
        indicator="warning",
        detail=lines,
        protocols=report["protocols"],
        ext={
            "to_collect": [c.path for c in s.to_collect],
            "not_checked": [n["rule_id"] for n in report["not_checked"]],
            "unrecognised": [u["path"] for u in report["unrecognised"]],
            "medications_not_checked": unchecked_meds,
        },
    )


def _data_summary(report: Report, s: Summary, unchecked_meds: Sequence[str]) -> str:
    parts = [
        count(len(s.to_collect), "item"),
        count(len(report["unrecognised"]), "unrecognised entry", "unrecognised entries"),
        count(len(unchecked_meds), "medication not checked", "medications not checked"),
    ]
    listed = ", ".join(p for p in parts if p) or count(len(report["not_checked"]), "safety check")
    verb = "Collect before deciding" if report["status"] == "incomplete" else "Confirm in the record"
    first = f" (first: {s.to_collect[0].path})" if s.to_collect else ""
    candidate = f"{verb}: {listed}{first}"
    return candidate if units(candidate) <= SUMMARY_MAX else f"{verb}: {listed}"


# ---------------------------------------------------------------- import warnings


def import_card(report: Report) -> Card | None:
    """The FHIR import's warnings, identity first, and the codes it could not map; shown whenever
    there are warnings or unmapped condition, medication or allergy codes."""
    src = report["input_source"]
    if src is None:
        return None
    safety = [u for u in src["unmapped"] if (u["resource"] or "").split("/")[0] != "Observation"]
    if not src["warnings"] and not safety:
        return None
    identity = [w for w in src["warnings"] if any(x in w for x in _IDENTITY)]
    rest = [w for w in src["warnings"] if w not in identity]
    warnings = identity + sorted(rest, key=lambda w: not any(x in w for x in _NOTABLE))  # stable
    lines = [
        f"From a FHIR R4 Bundle (Patient {code(src['patient_id'] or '?')}, {src['resources_read']} resources read): "
        "what the record does not say is unknown."
    ]
    if warnings:
        lines.append(f"**Import warnings ({len(warnings)}):**\n" + "\n".join(f"- {md(w)}" for w in warnings))
    if safety:
        rows = [f"- {code(u['resource'] or '?')} {md(_coded(u))}: {md(u['reason'] or 'not mapped')}" for u in safety]
        lines.append(f"**Condition, medication and allergy codes not mapped ({len(safety)}):**\n" + "\n".join(rows))
    observations = len(src["unmapped"]) - len(safety)
    if observations:
        lines.append(f"{count(observations, 'other code')} (observations) not mapped and not used.")
    summary = _import_summary(identity, warnings, safety)
    return Card(
        key="import-warnings",
        topic="import-warnings",
        summary=summary,
        indicator="critical" if identity else "warning",
        detail=lines,
        protocols=[],
        ext={
            "patient_id": src["patient_id"],
            "warnings": len(src["warnings"]),
            "identity_warnings": len(identity),
            "unmapped": len(src["unmapped"]),
        },
    )


def _import_summary(identity: Sequence[str], warnings: Sequence[str], safety: Sequence[Any]) -> str:
    if identity:
        said = [phrase for marker, phrase in _IDENTITY_PHRASES if any(marker in w for w in identity)]
        more = len(warnings) - len(identity)
        return f"Check the record: {' and '.join(said)}" + (f" (+{count(more, 'more warning')})" if more else "")
    parts = [count(len(warnings), "warning"), count(len(safety), "code not mapped", "codes not mapped")]
    head = f"Check the FHIR import ({', '.join(p for p in parts if p)})"
    if not warnings:
        return head
    first = _REF_IN.sub("", _REF_LEAD.sub("", warnings[0]))
    return f"{head}: {first[0].lower()}{first[1:]}"


def _coded(u: UnmappedCode) -> str:
    system = (u["system"] or "").rstrip("/").rsplit("/", 1)[-1]
    coded = f"{system} {u['code']}" if u["code"] else ""
    return f"{u['display'] or '(no display)'}" + (f" ({coded})" if coded else "")
