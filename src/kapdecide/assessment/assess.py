"""The assessment: evaluate a profile against protocols and build the report (pure; no I/O).

Each rule is evaluated twice: by durable-rules (``engine.py``) and by the three-valued Python
evaluator. The evaluator supplies *unknown*; the engine's fired set must equal the evaluator's true
set, or no assessment is given (``EngineDisagreementError``, exit 4).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from kapdecide import __version__
from kapdecide.assessment.compiled import CompiledProtocol, compile_protocol, guarded_truths
from kapdecide.assessment.options import checklist, option_order, option_rows, weight_note
from kapdecide.assessment.patient import data_to_collect, patient_data
from kapdecide.assessment.sections import medications_checked, patient_substances, substance_out
from kapdecide.assessment.wording import PLACEHOLDER, Data, evidence_list, fill, show_value, trigger_data
from kapdecide.core import vocabulary as v
from kapdecide.core.contract import DISCLAIMER, SCHEMA_VERSION, STATUS_ORDER, Status
from kapdecide.core.operators import Truth
from kapdecide.inputs import resolution as res_
from kapdecide.language.conditions import fields_of
from kapdecide.language.evaluator import reasons
from kapdecide.language.fact_builder import build_facts
from kapdecide.language.facts import Facts, FactSet, StaleData, Value
from kapdecide.protocol.loader import LoadedProtocol
from kapdecide.protocol.model import Rule

if TYPE_CHECKING:
    from kapdecide.assessment.report import (
        DerivedValue,
        Finding,
        NextStep,
        NotChecked,
        OptionOut,
        ProtocolRef,
        Receipt,
        Report,
        SessionChecklist,
        StaleItem,
        SubstanceEvidenceOut,
        UnrecognisedEntry,
    )
    from kapdecide.inputs.profile import Profile

__all__ = ["STATUS_ORDER", "Status", "assess", "compile_protocol"]

KIND_STATUS: dict[str, Status] = {
    "contraindication": "contraindicated",
    "deferral": "deferred",
    "required_data": "incomplete",
    "caution": "eligible_with_precautions",
    "interaction": "eligible_with_precautions",
}
KIND_ORDER = {k: i for i, k in enumerate([*KIND_STATUS, "info"])}
STATUS_SUMMARY: dict[Status, str] = {
    "contraindicated": "Ketamine-assisted therapy is contraindicated now: see the contraindications and next steps.",
    "deferred": "Defer: temporary barriers must resolve before any ketamine session; reassess after.",
    "incomplete": "Incomplete: safety-critical data is missing or could not be checked. No ketamine option "
    "can be offered until it is collected.",
    "eligible_with_precautions": "No contraindication or deferral found in the data given; precautions apply.",
    "eligible": "No contraindication, deferral or precaution found in the data given.",
}


# ---------------------------------------------------------------- compiled protocols


# ---------------------------------------------------------------- text


# ---------------------------------------------------------------- assess


def assess(
    profile: Profile,
    protocols: Sequence[LoadedProtocol],
    as_of: dt.date,
    overrides: Mapping[str, Value | None] | None = None,
    *,
    edits: Mapping[str, Any] | None = None,
) -> Report:
    """Assess ``profile`` on ``as_of`` against validated protocols: the report, as JSON-ready data.

    ``overrides`` replaces fact values (None makes a fact unknown) for what-if questions; the report
    lists them, so a hypothetical result is never mistaken for the patient's. ``edits`` are the
    what-if edits already applied to ``profile`` (path -> value), listed with them. Parts that depend
    on the protocol alone are shared between reports: treat the result as read-only.
    """
    acc = _Results(profile, as_of, overrides or {}, res_.resolve(profile))
    for lp in protocols:
        acc.evaluate(compile_protocol(lp))
    unrecognised = cast("list[UnrecognisedEntry]", [r.data() for r in acc.resolved.review])
    status = _status(acc.findings, acc.not_checked, acc.stale, bool(unrecognised))
    options, checklists = acc.options(status, _weight_text(profile, acc.overrides))
    acc.findings.sort(key=lambda x: (KIND_ORDER[x["kind"]], not x["urgent"], x["protocol_id"], x["rule_id"]))
    acc.not_checked.sort(key=lambda x: (KIND_ORDER[x["kind"]], x["protocol_id"], x["rule_id"]))
    missing = sorted(
        {fld for x in acc.not_checked for fld in x["needs"]}
        | {t["field"] for x in acc.findings if x["kind"] == "required_data" for t in x["triggered_by"]}
    )
    refs = cast("list[ProtocolRef]", [lp.ref_data() for lp in protocols])
    overrides_out = _shown_overrides(edits or {}, acc.overrides)
    return {
        "schema_version": SCHEMA_VERSION,
        "kapdecide_version": __version__,
        "what_if_overrides": overrides_out,
        "disclaimer": DISCLAIMER,
        "assessed_on": as_of.isoformat(),
        "patient_ref": profile.patient.ref if profile.patient else None,
        "patient": patient_data(profile, acc.facts, (x["source"] for x in acc.stale)),
        "input_line": None,
        "status": status,
        "status_summary": STATUS_SUMMARY[status],
        "protocols": refs,
        "findings": acc.findings,
        "not_checked": acc.not_checked,
        "missing_data": missing,
        "data_to_collect": data_to_collect(missing),
        "stale_data": acc.stale,
        "medications": medications_checked(acc.facts, acc.resolved),
        "unrecognised": unrecognised,
        "derived": [acc.derived[k] for k in sorted(acc.derived)],
        "substances": patient_substances(acc.facts, acc.substance_out),
        "options": options,
        "session_checklists": checklists,
        "standard_care": acc.standard_care,
        "next_steps": _next_steps(acc.findings, status),
        "receipt": _receipt(profile, refs, as_of, overrides_out),
        "input_source": None,
        "explanation": None,
        "what_would_change": None,
    }


def _receipt(profile: Profile, refs: list[ProtocolRef], as_of: dt.date, overrides: Data) -> Receipt:
    """What the report was computed from (``kapdecide replay`` re-runs it)."""
    return {
        "profile_sha256": profile_sha256(profile),
        "protocols": refs,
        "kapdecide_version": __version__,
        "as_of": as_of.isoformat(),
        "what_if_overrides": overrides,
    }


def _shown_overrides(edits: Mapping[str, Any], overrides: Mapping[str, Value | None]) -> Data:
    """The what-if overrides a report lists: fact fields and the profile edits already applied to it."""
    shown = {**edits, **overrides}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(shown.items())}


def _next_steps(findings: list[Finding], status: Status) -> list[NextStep]:
    step_ids = list(dict.fromkeys(step for x in findings for step in x["next_steps"]))
    if status == "incomplete" and "collect_missing_data" not in step_ids:
        step_ids.append("collect_missing_data")
    return [{"id": s, "label": v.NEXT_STEPS.get(s, s.replace("_", " "))} for s in step_ids]


def _weight_text(profile: Profile, overrides: Mapping[str, Value | None]) -> str:
    """How the doses name the weight they use (a what-if weight is the one the doses use)."""
    if "patient.weight_kg" not in overrides:
        return weight_note(profile)
    w = overrides["patient.weight_kg"]
    return "weight not recorded (what-if)" if w is None else f"weight {w:g} kg (what-if, HYPOTHETICAL)"


class _Results:
    """What the protocols find for one profile, gathered protocol by protocol."""

    def __init__(
        self, profile: Profile, as_of: dt.date, overrides: Mapping[str, Value | None], resolved: res_.Resolved
    ):
        self.profile, self.as_of, self.overrides, self.resolved = profile, as_of, overrides, resolved
        self.findings: list[Finding] = []
        self.not_checked: list[NotChecked] = []
        self.stale: list[StaleItem] = []
        self.substance_out: dict[str, SubstanceEvidenceOut] = {}
        self.standard_care: list[str] = []
        self.facts: Facts = {}
        self.derived: dict[str, DerivedValue] = {}
        self.option_inputs: list[tuple[CompiledProtocol, Facts, dict[str, Truth]]] = []

    def evaluate(self, cp: CompiledProtocol) -> None:
        """Run one protocol: its facts (with what-if overrides), then every rule's truth."""
        p = cp.protocol
        fact_set = build_facts(self.profile, self.as_of, cp.freshness, self.resolved)
        for name, value in self.overrides.items():
            if value is None:
                fact_set.values.pop(name, None)
            else:
                fact_set.values[name] = value
        self.facts = {**fact_set.values, **self.facts}
        for d in fact_set.derived:
            if d.field not in self.overrides:
                self.derived.setdefault(
                    d.field, {"field": d.field, "value": cast("str | int | float | bool", d.value), "reason": d.reason}
                )
        truths = guarded_truths(cp, fact_set.values)
        self._stale(fact_set.stale)
        self._unresolved(cp, fact_set)
        self._rules(cp, fact_set.values, truths)
        self.option_inputs.append((cp, fact_set.values, truths))
        for se in p.substances:
            self.substance_out.setdefault(se.substance, substance_out(cp, se.substance))
        if p.standard_care and p.standard_care not in self.standard_care:
            self.standard_care.append(p.standard_care)

    def _stale(self, items: Sequence[StaleData]) -> None:
        for s in items:
            if any(x["source"] == s.source and x["max_age_days"] == s.max_age_days for x in self.stale):
                continue  # several protocols with the same limit: report the stale reading once
            self.stale.append(
                {
                    "source": s.source,
                    "days_old": s.days_old,
                    "max_age_days": s.max_age_days,
                    "fields": list(s.fields),
                    "message": f"Latest {s.source.replace('_', ' ')} is {s.days_old} days old, older than the "
                    f"{s.max_age_days} days this protocol allows: it was not used. Measure again.",
                }
            )

    def _unresolved(self, cp: CompiledProtocol, fact_set: FactSet) -> None:
        for u in fact_set.unresolved:
            if u.field in self.overrides or not any(u.field in fields_of(r.when) for r in cp.protocol.rules):
                continue
            self.not_checked.append(
                {
                    "rule_id": f"entries:{u.field}",
                    "protocol_id": cp.protocol.id,
                    "kind": "required_data",
                    "title": f"Repeated entries: {u.reason}",
                    "needs": [u.field],
                    "message": f"Could not check every entry: {u.reason}. The worst recorded value was used "
                    f"({show_value(fact_set.values.get(u.field))}); record the missing detail.",
                }
            )

    def _rules(self, cp: CompiledProtocol, facts: Facts, truths: dict[str, Truth]) -> None:
        for rule, key in cp.rule_keys:
            t = truths[key]
            if rule.kind == "info":
                if t is True:  # information never changes the status, and unknown is not missing data
                    self.findings.append(finding_data(cp, rule, facts, True))
            elif rule.kind == "required_data" and t is not False:
                self.findings.append(finding_data(cp, rule, facts, t))
            elif t is True:
                self.findings.append(finding_data(cp, rule, facts, True))
            elif t is None:
                needs = [r.field for r in reasons(rule.when, facts, None)] or fields_of(rule.when)
                needs = list(dict.fromkeys(needs))
                self.not_checked.append(
                    {
                        "rule_id": rule.id,
                        "protocol_id": cp.protocol.id,
                        "kind": rule.kind,
                        "title": rule.title,
                        "needs": needs,
                        "message": f"Could not check: {rule.title}. Needs: {', '.join(needs)}.",
                    }
                )

    def options(self, status: Status, weight: str) -> tuple[list[OptionOut], list[SessionChecklist]]:
        """Every option's state (and dose where offered), and the session checklists of the offered ones."""
        support: dict[tuple[str, str], list[str]] = {}
        for finding in self.findings:
            for oid in finding["strengthens"] if finding["kind"] == "info" else []:
                support.setdefault((finding["protocol_id"], oid), []).append(finding["rule_id"])
        options: list[OptionOut] = []
        checklists: list[SessionChecklist] = []
        for cp, f, truths in self.option_inputs:
            rows = [
                row
                for option in cp.protocol.options
                for row in option_rows(cp, option, f, truths, status, support, weight)
            ]
            options.extend(rows)
            offered = sorted({o["option_id"] for o in rows if o["state"] == "offered"})
            if offered and cp.protocol.session is not None:
                checklists.append(checklist(cp, cp.protocol.session, offered))
        options.sort(key=option_order)
        return options, checklists


def canonical_profile(profile: Profile) -> str:
    """The profile's content as sorted, compact JSON: the same for any key order or file format."""
    return canonical_json(profile.model_dump(mode="json", exclude_none=True))


#: orjson writes a float below 1e-4 as 0.00001 or 1.5e-7 where json writes 1e-05 and 1.5e-07: such
#: text (rare in a profile, and harmless when it is in a string) goes to json, the reference.
_ORJSON_DIFFERS = re.compile(r"\de-\d|\b0\.0000\d")


def canonical_json(data: Any) -> str:
    """``json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, byte for byte
    (the receipts of earlier versions must still match), written by orjson where that is the same."""
    import json

    import orjson

    try:
        text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:  # an integer over 64 bits, a lone surrogate
        text = None
    if text is None or _ORJSON_DIFFERS.search(text):
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text


def profile_sha256(profile: Profile) -> str:
    """sha256 of the canonical profile (the receipt's profile fingerprint)."""
    import hashlib

    return hashlib.sha256(canonical_profile(profile).encode("utf-8")).hexdigest()


#: Findings already built, by (protocol, rule, truth, the values the finding reads): a batch meets
#: the same few shapes again and again. Bounded; the dicts are shared, so reports treat them as read-only.
_FINDINGS: dict[tuple[object, ...], Finding] = {}
_FINDINGS_MAX = 4096
_READS: dict[tuple[int, str], tuple[str, ...]] = {}


def _reads(cp: CompiledProtocol, rule: Rule) -> tuple[str, ...]:
    """Every fact field a finding's text or triggering values depend on."""
    key = (id(cp), rule.id)
    found = _READS.get(key)
    if found is None:
        placeholders = PLACEHOLDER.findall(rule.message) + PLACEHOLDER.findall(rule.action)
        found = _READS[key] = tuple(dict.fromkeys([*fields_of(rule.when), *placeholders]))
    return found


def finding_data(cp: CompiledProtocol, rule: Rule, facts: Facts, t: Truth) -> Finding:
    """A rule that fired, as report data (memoised on the values it reads)."""
    # the value's type is part of the key: an open list (OpenList) and a complete one are equal tuples
    key = (id(cp), rule.id, t, *((type(val := facts.get(f)), val) for f in _reads(cp, rule)))
    found = _FINDINGS.get(key)
    if found is None:
        if len(_FINDINGS) >= _FINDINGS_MAX:
            _FINDINGS.clear()
        found = _FINDINGS[key] = _build_finding(cp, rule, facts, t)
    return found


def _build_finding(cp: CompiledProtocol, rule: Rule, facts: Facts, t: Truth) -> Finding:
    return {
        "rule_id": rule.id,
        "protocol_id": cp.protocol.id,
        "kind": rule.kind,
        "title": rule.title,
        "message": fill(rule.message, facts),
        "action": fill(rule.action, facts),
        "severity": rule.severity,
        "urgent": rule.urgent,
        "rationale": rule.rationale,
        "triggered_by": [trigger_data(r) for r in reasons(rule.when, facts, t)],
        "evidence": evidence_list(cp, rule.evidence),
        "next_steps": list(rule.next_steps),
        "strengthens": list(rule.strengthens),
        "sources": [],
    }


def _status(
    findings: list[Finding], not_checked: list[NotChecked], stale: list[StaleItem], unrecognised: bool
) -> Status:
    raised = {KIND_STATUS[f["kind"]] for f in findings if f["kind"] in KIND_STATUS}
    if not_checked or stale:
        raised.add("incomplete")
    if unrecognised:  # an entry nobody checked is a precaution, never a pass
        raised.add("eligible_with_precautions")
    return next((s for s in STATUS_ORDER if s in raised), "eligible")
