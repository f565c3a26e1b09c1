"""CDS Hooks 2.0 response: the report as cards for an EHR (https://cds-hooks.hl7.org/2.0/).

One document ``{"cards": [...]}``: the overall status first, then one card per finding, per rule that
could not be checked, per stale reading, for unchecked medications, per offered option and session
checklist, and one card saying which options are not offered and why. Layout only: every card
restates what the report says and decides nothing.

Deterministic: the same report gives byte-identical output, card uuids included (uuid5 of a hash of
the report's receipt and a stable card key). Empty and null fields are omitted, as the specification asks.

The ``kapdecide.invalid`` code systems and the ``org.kapdecide`` extension key are placeholders
(``.invalid`` is reserved by RFC 2606 and never resolves): replace them with a namespace the
deploying organisation controls. No card carries a ``url``: kapdecide has no site to link to.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from kapdecide import __version__
from kapdecide.assessment.options import STATUS_OPTION_REASON
from kapdecide.assessment.report import Finding, NotChecked, OptionOut, ProtocolRef, Report, SessionChecklist, StaleItem
from kapdecide.assessment.wording import show_value
from kapdecide.render.cds_text import (
    BASE,
    CARD_SYSTEM,
    EXTENSION_KEY,
    GRADE_LABEL,
    KIND_INDICATOR,
    KIND_ORDER,
    KIND_PREFIX,
    NAMESPACE,
    OVERRIDE_REASONS,
    OVERRIDE_SYSTEM,
    STATUS_INDICATOR,
    STATUS_LABEL,
    STATUS_SYSTEM,
    SUMMARY_MAX,
    Indicator,
    _bullets,
    _code,
    _count,
    _evidence_ext,
    _evidence_md,
    _first_sentence,
    _md,
    _pick_summary,
    _prune,
    _Reason,
    _trigger,
    _units,
    receipt_key,
    summary_text,
)

SPEC_VERSION = "2.0"


# ---------------------------------------------------------------- public


def render_cds_hooks(report: Report) -> str:
    """The report as a CDS Hooks 2.0 response (JSON text with a final newline)."""
    return json.dumps(build_response(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def build_response(report: Report) -> dict[str, Any]:
    """The response as data: ``{"cards": [...]}`` with every empty field left out."""
    builder = _Builder(report)
    return {"cards": builder.cards()}


# ---------------------------------------------------------------- cards


class _Builder:
    def __init__(self, report: Report) -> None:
        self.report = report
        self.key = receipt_key(report)
        self.protocols = {p.id: p for p in report.protocols}
        self.steps = {s.id: s.label for s in report.next_steps}
        self.seen: dict[str, int] = {}

    def cards(self) -> list[dict[str, Any]]:
        r = self.report
        out = [self.status_card()]
        findings = sorted(r.findings, key=lambda f: (KIND_ORDER.get(f.kind, 9), not f.urgent))
        safety = [f for f in findings if f.kind != "info"]
        out += [self.finding_card(f) for f in safety if KIND_ORDER.get(f.kind, 9) <= KIND_ORDER["required_data"]]
        out += [self.not_checked_card(n) for n in r.not_checked]
        out += [self.stale_card(s) for s in r.stale_data]
        if not r.medications.recorded or r.medications.not_checked:
            out.append(self.medications_card())
        if r.unrecognised:
            out.append(self.unrecognised_card())
        out += [self.finding_card(f) for f in safety if KIND_ORDER.get(f.kind, 9) > KIND_ORDER["required_data"]]
        out += [self.finding_card(f) for f in findings if f.kind == "info"]
        out += [self.option_card(o) for o in r.options if o.state == "offered"]
        out += [self.checklist_card(c) for c in r.session_checklists]
        not_offered = self.not_offered_card()
        if not_offered is not None:
            out.append(not_offered)
        return out

    # -- the overall status

    def status_card(self) -> dict[str, Any]:
        r = self.report
        counts = {k: sum(f.kind == k for f in r.findings) for k in KIND_INDICATOR}
        problems = [
            _count(counts["contraindication"], "contraindication"),
            _count(counts["deferral"], "deferral"),
            _count(counts["required_data"] + len(r.not_checked) + len(r.stale_data), "safety data item"),
            _count(counts["caution"] + counts["interaction"], "precaution"),
        ]
        found = ", ".join(p for p in problems if p) or "no safety finding in the data given"
        hypothetical = "HYPOTHETICAL (what-if) · " if r.what_if_overrides else ""
        summary = f"{hypothetical}Ketamine-assisted therapy: {STATUS_LABEL[r.status]} ({found})"
        lines = [f"**{_md(STATUS_LABEL[r.status])}.** {_md(r.status_summary)}"]
        if r.what_if_overrides:
            shown = ", ".join(f"{_code(k)} = {_md(show_value(v))}" for k, v in r.what_if_overrides.items())
            lines.append(
                f"**HYPOTHETICAL:** values replaced with --what-if ({shown}). This is not the patient's result."
            )
        offered = [o for o in r.options if o.state == "offered"]
        considered = sum(o.state != "not_applicable" for o in r.options)
        lines.append(
            f"**Ketamine regimens offered:** {len(offered)} of {considered} considered for this patient's "
            "indications (see the option cards)."
        )
        if r.next_steps:
            lines.append("**Next steps:**\n" + _bullets(s.label for s in r.next_steps))
        if r.missing_data:
            lines.append("**Data to collect:** " + ", ".join(_code(f) for f in r.missing_data))
        for care in r.standard_care:
            lines.append(f"**Standard care (always):** {_md(care)}")
        refs = ", ".join(f"{_md(p.id)} {_md(p.version)} (sha256 {_code(p.sha256[:12])})" for p in r.protocols)
        lines.append(f"Assessed for {_md(r.assessed_on)} against {refs or 'no protocol'}.")
        return self.card(
            key=f"status|{r.status}",
            summary=summary,
            indicator=STATUS_INDICATOR[r.status],
            detail=lines,
            topic=(STATUS_SYSTEM, r.status, STATUS_LABEL[r.status]),
            protocols=r.protocols,
            overrides=None,
            ext={
                "card": "status",
                "status": r.status,
                "assessed_on": r.assessed_on,
                "what_if_overrides": [{"field": k, "value": show_value(v)} for k, v in r.what_if_overrides.items()],
                "profile_sha256": r.receipt.profile_sha256,
            },
        )

    # -- findings

    def finding_card(self, f: Finding) -> dict[str, Any]:
        prefix = ("Urgent · " if f.urgent else "") + KIND_PREFIX.get(f.kind, f.kind)
        summary = _pick_summary(prefix, f.title, f.message)
        lines = [f"**{_md(f.title)}** ({_md(f.kind.replace('_', ' '))}{', urgent' if f.urgent else ''})"]
        lines.append(_md(f.message))
        lines.append(f"**Action:** {_md(f.action)}")
        if f.triggered_by:
            lines.append("**Triggered by:**\n" + "\n".join(f"- {_trigger(t)}" for t in f.triggered_by))
        if f.rationale:
            lines.append(f"**Rationale:** {_md(f.rationale)}")
        if f.next_steps:
            lines.append("**Next steps:** " + "; ".join(_md(self.steps.get(s, s)) for s in f.next_steps))
        if f.strengthens:
            lines.append("**Strengthens the case for:** " + ", ".join(_code(o) for o in f.strengthens))
        lines += _evidence_md(f.evidence)
        lines.append(f"Rule {_code(f.rule_id)} · {self.protocol_text(f.protocol_id)}")
        # Urgent findings (e.g. same-day evaluation) are critical whatever their kind.
        indicator: Indicator = "critical" if f.urgent else KIND_INDICATOR.get(f.kind, "warning")
        return self.card(
            key=f"finding|{f.protocol_id}|{f.kind}|{f.rule_id}",
            summary=summary,
            indicator=indicator,
            detail=lines,
            topic=(self.rule_system(f.protocol_id), f.rule_id, f.title),
            protocols=self.protocol_refs(f.protocol_id),
            overrides=OVERRIDE_REASONS.get(f.kind),
            ext={
                "card": "finding",
                "rule_id": f.rule_id,
                "kind": f.kind,
                "severity": f.severity,
                "urgent": f.urgent or None,
                "status": self.report.status,
                "evidence": _evidence_ext(f.evidence),
                "next_steps": f.next_steps,
            },
        )

    def not_checked_card(self, n: NotChecked) -> dict[str, Any]:
        lines = [
            f"**Could not check: {_md(n.title)}** (a {_md(n.kind.replace('_', ' '))} rule). "
            "Its data is missing or unusable, so it counts as missing safety data: no ketamine option "
            "is offered until it is checked.",
            "**Needs:** " + ", ".join(_code(x) for x in n.needs),
            f"Rule {_code(n.rule_id)} · {self.protocol_text(n.protocol_id)}",
        ]
        return self.card(
            key=f"not_checked|{n.protocol_id}|{n.kind}|{n.rule_id}",
            summary=f"Could not check: {n.title}",
            indicator="warning",
            detail=lines,
            topic=(self.rule_system(n.protocol_id), n.rule_id, n.title),
            protocols=self.protocol_refs(n.protocol_id),
            overrides=OVERRIDE_REASONS["not_checked"],
            ext={
                "card": "not_checked",
                "rule_id": n.rule_id,
                "kind": n.kind,
                "status": self.report.status,
                "needs": n.needs,
            },
        )

    def stale_card(self, s: StaleItem) -> dict[str, Any]:
        what = s.source.replace("_", " ")
        lines = [
            _md(s.message),
            f"**Age:** {s.days_old} days (the protocol allows {s.max_age_days}).",
            "**Fields not used:** " + ", ".join(_code(x) for x in s.fields),
        ]
        return self.card(
            key=f"stale|{s.source}|{s.max_age_days}",
            summary=f"Stale data: {what} is {s.days_old} days old (limit {s.max_age_days}); measure again",
            indicator="warning",
            detail=lines,
            topic=(f"{CARD_SYSTEM}/stale-data", s.source, f"Stale {what}"),
            protocols=self.report.protocols,
            overrides=OVERRIDE_REASONS["stale_data"],
            ext={"card": "stale_data", "status": self.report.status, "fields": s.fields},
        )

    def unrecognised_card(self) -> dict[str, Any]:
        items = self.report.unrecognised
        summary = "Not recognised, review by hand: " + ", ".join(u.entry for u in items)
        if len(summary) > 139:  # CDS Hooks: summary under 140 characters
            summary = summary[:138].rsplit(" ", 1)[0] + "…"
        return self.card(
            key="unrecognised",
            summary=summary,
            indicator="warning",
            detail=[
                "These entries are not in kapdecide's terminology tables: they were not checked. The status is at "
                "best eligible with precautions until a clinician reviews them.",
                _bullets([_md(f"{u.entry} ({u.path}): {u.message}") for u in items]),
            ],
            topic=(CARD_SYSTEM, "unrecognised-entries", "Entries not recognised"),
            protocols=self.report.protocols,
            overrides=OVERRIDE_REASONS["medications"],
            ext={"card": "unrecognised", "status": self.report.status, "entries": [u.entry for u in items]},
        )

    def medications_card(self) -> dict[str, Any]:
        m = self.report.medications
        if m.recorded:
            summary = "Medications not checked for interactions: " + ", ".join(m.not_checked)
        else:
            summary = "Medications not recorded: interactions could not be checked"
        lines = [_md(m.message)]
        if m.not_checked:
            lines.append("**Not checked:**\n" + _bullets(m.not_checked))
        return self.card(
            key="medications",
            summary=summary,
            indicator="warning",
            detail=lines,
            topic=(CARD_SYSTEM, "medications-not-checked", "Medications not checked"),
            protocols=self.report.protocols,
            overrides=OVERRIDE_REASONS["medications"],
            ext={"card": "medications", "status": self.report.status, "not_checked": m.not_checked},
        )

    # -- options

    def option_card(self, o: OptionOut) -> dict[str, Any]:
        grade = GRADE_LABEL.get(o.grade or "", "not graded")
        indication = (o.indication or "").replace("_", " ")
        dose = o.dose.text.split(" (weight ")[0] if o.dose else ""  # the weight is in the detail
        summary = f"Option offered · GRADE {grade} · for {indication}: {o.title}"
        if dose and _units(f"{summary} ({dose})") <= SUMMARY_MAX:
            summary = f"{summary} ({dose})"  # tells two regimens of one option apart
        lines = [
            f"**{_md(o.title)}** for {_md(indication)} — offered (no exclusion applies). "
            f"GRADE certainty of evidence: **{_md(grade)}**.",
            f"**Route and setting:** {_md(o.route)}, {_md(o.setting.replace('_', ' '))}",
            f"**Approach:** {_md(o.approach)}",
        ]
        if o.dose is not None:
            lines.append(f"**Dose:** {_md(dose)} ({_md(o.dose.description)})")
        if o.sessions:
            lines.append(f"**Sessions:** {_md(o.sessions)}")
        if o.psychotherapy:
            lines.append(f"**With:** {_md(o.psychotherapy)}")
        if o.outcome:
            lines.append(f"**Trial outcome:** {_md(o.outcome)}")
        if o.monitoring:
            lines.append("**Monitoring:**\n" + _bullets(o.monitoring))
        if o.supported_by:
            lines.append("**Strengthened by:** " + ", ".join(_code(x) for x in o.supported_by))
        if o.note:
            lines.append(f"**Note:** {_md(o.note)}")
        lines += _evidence_md(o.evidence)
        lines.append(f"Option {_code(o.option_id)} · {self.protocol_text(o.protocol_id)}")
        return self.card(
            key=f"option|{o.protocol_id}|{o.option_id}|{o.indication}",
            summary=summary,
            indicator="info",
            detail=lines,
            topic=(self.option_system(o.protocol_id), o.option_id, o.title),
            protocols=self.protocol_refs(o.protocol_id),
            overrides=None,
            ext={
                "card": "option",
                "option_id": o.option_id,
                "indication": o.indication,
                "state": o.state,
                "status": self.report.status,
                "grade": o.grade,
                "dose": dose,
                "evidence": _evidence_ext(o.evidence),
            },
        )

    def checklist_card(self, c: SessionChecklist) -> dict[str, Any]:
        lines = [f"For {', '.join(_code(x) for x in c.applies_to)}: on every session day, before dosing."]
        checks = [f"{p.do_not_dose_if} ({p.title})" for p in c.pre_dose] + list(c.pre_dose_checks)
        if checks:
            lines.append("**Do not dose if:**\n" + _bullets(checks))
        if c.in_session_holds:
            lines.append(
                "**Pause or stop dosing if:**\n" + _bullets(f"{h.when} → {h.action}" for h in c.in_session_holds)
            )
        lines.append(f"**Observe at least {c.observation_minutes} min:** {_md(c.observation)}")
        if c.discharge:
            lines.append("**Discharge:**\n" + _bullets(c.discharge))
        if c.follow_up:
            lines.append("**Follow-up:**\n" + _bullets(c.follow_up))
        lines += _evidence_md(c.evidence)
        lines.append(self.protocol_text(c.protocol_id))
        return self.card(
            key=f"checklist|{c.protocol_id}|{','.join(c.applies_to)}",
            summary=summary_text(
                f"Session checklist: {len(checks)} do-not-dose checks, {len(c.in_session_holds)} in-session holds, "
                f"observe ≥{c.observation_minutes} min"
            ),
            indicator="info",
            detail=lines,
            topic=(f"{CARD_SYSTEM}/session-checklist", c.protocol_id, "Session checklist"),
            protocols=self.protocol_refs(c.protocol_id),
            overrides=None,
            ext={
                "card": "session_checklist",
                "status": self.report.status,
                "applies_to": c.applies_to,
                "evidence": _evidence_ext(c.evidence),
            },
        )

    def not_offered_card(self) -> dict[str, Any] | None:
        r = self.report
        offered = [o for o in r.options if o.state == "offered"]
        excluded = [o for o in r.options if o.state == "excluded"]
        if offered and not excluded:
            return None
        shared = STATUS_OPTION_REASON.get(r.status)
        if offered:
            summary = f"{_count(len(excluded), 'other ketamine option')} not offered for this patient"
        elif shared and excluded:
            summary = f"No ketamine option offered. {shared}"
        elif excluded:
            summary = f"No ketamine option offered: {_first_sentence(excluded[0].reasons[0])}"
        else:
            summary = "No ketamine option applies to this patient's recorded indications"
        lines = []
        if shared and excluded:
            lines.append(f"**For every option:** {_md(shared)}")
        groups: dict[tuple[str, str, str | None], list[OptionOut]] = {}
        for o in excluded:  # regimens of one option for one indication share its exclusions
            groups.setdefault((o.protocol_id, o.option_id, o.indication), []).append(o)
        for rows in groups.values():
            o = rows[0]
            grade = "/".join(dict.fromkeys(GRADE_LABEL.get(x.grade or "", "not graded") for x in rows))
            regimens = f"; {len(rows)} regimens" if len(rows) > 1 else ""
            own = list(dict.fromkeys(x for row in rows for x in row.reasons if x != shared))
            head = (
                f"**{_md(o.title)}** for {_md((o.indication or '').replace('_', ' '))} (GRADE {_md(grade)}{regimens})"
            )
            lines.append(head + ("\n" + _bullets(own) if own else ""))
        if not excluded:
            lines.append(
                "None of the protocol's options has a regimen for the recorded substances or conditions:\n"
                + _bullets(f"{o.title}: {'; '.join(o.reasons)}" for o in r.options)
            )
        lines.append("Standard evidence-based care applies in every case (see the status card).")
        return self.card(
            key="options-not-offered",
            summary=summary,
            indicator="info",
            detail=lines,
            topic=(CARD_SYSTEM, "options-not-offered", "Options not offered"),
            protocols=r.protocols,
            overrides=None,
            ext={
                "card": "options_not_offered",
                "status": r.status,
                "options": [
                    _prune({"option_id": o.option_id, "indication": o.indication, "state": o.state, "grade": o.grade})
                    for o in r.options
                    if o.state != "offered"
                ],
            },
        )

    # -- the card itself

    def card(
        self,
        *,
        key: str,
        summary: str,
        indicator: Indicator,
        detail: list[str],
        topic: tuple[str, str, str],
        protocols: Sequence[ProtocolRef],
        overrides: Sequence[_Reason] | None,
        ext: dict[str, Any],
    ) -> dict[str, Any]:
        n = self.seen.get(key, 0)
        self.seen[key] = n + 1
        unique = key if n == 0 else f"{key}|{n + 1}"  # a second regimen of the same option and indication
        detail = [*detail, f"*{_md(self.report.disclaimer)}*"]
        label = f"kapdecide {__version__}"
        if protocols:
            label += " · " + ", ".join(f"{p.id} {p.version}" for p in protocols)
        ext = {
            **ext,
            "protocol": [{"id": p.id, "version": p.version, "sha256": p.sha256} for p in protocols],
            "receipt_key": self.key,
        }
        if len(protocols) == 1:
            ext["protocol"] = ext["protocol"][0]
        card = {
            "uuid": str(uuid.uuid5(NAMESPACE, f"{self.key}|{unique}")),
            "summary": summary_text(summary),
            "detail": "\n\n".join(detail),
            "indicator": indicator,
            "source": {
                "label": label,
                "topic": {"system": topic[0], "code": topic[1], "display": topic[2]},
            },
            "overrideReasons": [
                {"code": code, "system": OVERRIDE_SYSTEM, "display": display} for code, display in overrides or ()
            ],
            "extension": {EXTENSION_KEY: ext},
        }
        pruned = _prune(card)
        assert isinstance(pruned, dict)
        return pruned

    def protocol_refs(self, protocol_id: str) -> list[ProtocolRef]:
        p = self.protocols.get(protocol_id)
        return [p] if p is not None else []

    def protocol_text(self, protocol_id: str) -> str:
        p = self.protocols.get(protocol_id)
        return f"protocol {_md(protocol_id)}" + (f" {_md(p.version)}" if p else "")

    @staticmethod
    def rule_system(protocol_id: str) -> str:
        return f"{BASE}/protocols/{quote(protocol_id, safe='')}/rules"

    @staticmethod
    def option_system(protocol_id: str) -> str:
        return f"{BASE}/protocols/{quote(protocol_id, safe='')}/options"


# ---------------------------------------------------------------- helpers
