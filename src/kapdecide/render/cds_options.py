"""The options card of a CDS Hooks response: the ketamine options offered, each with its dose for
this patient, regimen and GRADE certainty, the session checklist, and what is not offered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kapdecide.render.cds_base import Card
from kapdecide.render.cds_text import (
    SUMMARY_MAX,
    bullets,
    cite_keys,
    cmd,
    count,
    doi_url,
    evidence_md,
    md,
    units,
)
from kapdecide.render.plain import GRADE_LABEL, clinician_text

if TYPE_CHECKING:
    from kapdecide.assessment.report import OptionOut, Report, SessionChecklist
    from kapdecide.render.summary import Summary


def options_card(report: Report, s: Summary) -> Card | None:
    """The options offered (none: no card; the status card says why none is)."""
    if not s.offered:
        return None
    first = s.offered[0]
    regimens = count(len(s.offered), "regimen")
    summary = f"Offered ({regimens}): {clinician_text(first['title'])}, GRADE {_grade(first)}"
    if first["dose"] is not None:
        dose = _dose(first)
        if units(f"{summary} ({dose})") <= SUMMARY_MAX:
            summary = f"{summary} ({dose})"
    lines = [_option(o) for o in s.offered]
    for c in report["session_checklists"]:
        lines.append(_checklist(c))
    excluded = [o for o in report["options"] if o["state"] == "excluded"]
    if excluded:
        lines.append(
            f"**Not offered ({len(excluded)}):**\n"
            + "\n".join(f"- {cmd(o['title'])} for {cmd(o['indication'] or '')}: {_first_reason(o)}" for o in excluded)
        )
    evidence = [e for o in s.offered for e in o["evidence"]]
    lines += evidence_md(evidence)
    links: dict[str, tuple[str, str]] = {}
    for e in evidence:
        if e["doi"] and e["id"] not in links and len(links) < 5:
            links[e["id"]] = (f"{e['id']} (doi:{e['doi']})", doi_url(e["doi"]))
    return Card(
        key="options",
        topic="options",
        summary=summary,
        indicator="info",
        detail=lines,
        protocols=[p for p in report["protocols"] if p["id"] in {o["protocol_id"] for o in s.offered}],
        ext={
            "options": [
                {
                    "option_id": o["option_id"],
                    "indication": o["indication"],
                    "grade": o["grade"],
                    "dose": _dose(o) or None,
                }
                for o in s.offered
            ],
        },
        links=list(links.values()),
        overrides=False,
    )


def _grade(o: OptionOut) -> str:
    return GRADE_LABEL.get(o["grade"] or "", "not graded")


def _dose(o: OptionOut) -> str:
    return o["dose"]["text"].split(" (weight ")[0] if o["dose"] is not None else ""


def _option(o: OptionOut) -> str:
    head = (
        f"**{cmd(o['title'])}** for {cmd(o['indication'] or '')} — GRADE certainty of evidence: **{md(_grade(o))}** "
        f"{cite_keys(o['evidence'])}"
    )
    rows = [f"Route and setting: {cmd(o['route'])}, {cmd(o['setting'])}"]
    if o["dose"] is not None:
        rows.append(f"**Dose for this patient:** {cmd(o['dose']['text'])} ({cmd(o['dose']['description'])})")
    if o["sessions"]:
        rows.append(f"Sessions: {cmd(o['sessions'])}")
    if o["psychotherapy"]:
        rows.append(f"With: {cmd(o['psychotherapy'])}")
    if o["outcome"]:
        rows.append(f"Trial outcome: {cmd(o['outcome'])}")
    if o["monitoring"]:
        rows.append("Monitoring: " + " ".join(cmd(m) for m in o["monitoring"]))
    if o["note"]:
        rows.append(f"Note: {cmd(o['note'])}")
    return head + "\n" + "\n".join(f"- {r}" for r in rows)


def _checklist(c: SessionChecklist) -> str:
    checks = [p["do_not_dose_if"] for p in c["pre_dose"]] + list(c["pre_dose_checks"])
    parts = [f"**Session checklist** (every session day, for {cmd(', '.join(c['applies_to']))})"]
    if checks:
        parts.append("Do not dose if:\n" + bullets(checks))
    if c["in_session_holds"]:
        parts.append(
            "Pause or stop dosing if:\n"
            + "\n".join(f"- {cmd(h['when'])} → {cmd(h['action'])}" for h in c["in_session_holds"])
        )
    parts.append(f"Observe at least {c['observation_minutes']} min: {cmd(c['observation'])}")
    if c["discharge"]:
        parts.append("Discharge:\n" + bullets(c["discharge"]))
    if c["follow_up"]:
        parts.append("Follow-up:\n" + bullets(c["follow_up"]))
    return "\n\n".join(parts)


def _first_reason(o: OptionOut) -> str:
    return cmd(o["reasons"][0]) if o["reasons"] else "excluded"
