"""The assessment: evaluate a profile against protocols and build the report (pure; no I/O).

Each rule is evaluated twice: by durable-rules (``engine.py``) and by the three-valued Python
evaluator. The evaluator supplies *unknown*; the engine's fired set must equal the evaluator's true
set, or no assessment is given (``EngineDisagreementError``, exit 4).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

from . import __version__
from . import resolution as res_
from . import terminology as term
from . import vocabulary as v
from .conditions import describe, dnf, fields_of
from .contract import DISCLAIMER, SCHEMA_VERSION, STATUS_ORDER, Status
from .engine import Engine, EngineRule
from .errors import EngineDisagreementError
from .evaluator import Compiled, LeafResult, compile_condition, reasons
from .fact_builder import build_facts
from .facts import Facts, FactSet, StaleData, Value, text_list
from .loader import LoadedProtocol
from .operators import Truth
from .protocol import GRADE_ORDER, Evidence, Option, Protocol, Regimen, Rule, SessionPlan

if TYPE_CHECKING:
    from .profile import Profile
    from .report import Report

__all__ = ["STATUS_ORDER", "Status", "assess", "assess_data", "compile_protocol"]

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


#: Why no option is offered while the status is not eligible (stated once per option row).
STATUS_OPTION_REASON: dict[str, str] = {
    "contraindicated": "Not offered: a contraindication applies.",
    "deferred": "Not offered now: a deferral applies; reassess when it resolves.",
    "incomplete": "Not offered until the missing safety data is collected and checked.",
}


# ---------------------------------------------------------------- compiled protocols


@dataclass
class CompiledProtocol:
    """A protocol with its engine rulesets and evaluator closures, built once per process.

    It also keeps the report parts that depend on the protocol alone (evidence lists, substance
    evidence, session checklists): report models are immutable, so every report can share them.
    """

    loaded: LoadedProtocol
    engine: Engine
    evidence: dict[str, Evidence]
    conditions: dict[str, Compiled]
    freshness: dict[str, int]
    rule_keys: list[tuple[Rule, str]]
    evidence_refs: dict[tuple[str, ...], list[dict[str, Any]]] = field(default_factory=dict)
    substance_outs: dict[str, dict[str, Any]] = field(default_factory=dict)
    checklists: dict[tuple[str, ...], dict[str, Any]] = field(default_factory=dict)

    @property
    def protocol(self) -> Protocol:
        return self.loaded.protocol


_COMPILED: dict[str, CompiledProtocol] = {}


def compile_protocol(lp: LoadedProtocol) -> CompiledProtocol:
    """Compile (or fetch the compiled) engine rulesets of a validated protocol."""
    found = _COMPILED.get(lp.sha256)
    if found is not None:
        return found
    p = lp.protocol
    conditions = {_rule_key(r.id): r.when for r in p.rules}
    conditions.update({_excl_key(o.id, x.id): x.when for o in p.options for x in o.exclude_when})
    rules = [EngineRule(name, tuple(dnf(cond))) for name, cond in conditions.items()]
    compiled = CompiledProtocol(
        lp,
        Engine(rules),
        {e.id: e for e in p.evidence},
        {name: compile_condition(cond) for name, cond in conditions.items()},
        {f.source: f.max_age_days for f in p.freshness},
        [(r, _rule_key(r.id)) for r in p.rules],
    )
    _COMPILED[lp.sha256] = compiled
    return compiled


def _rule_key(rule_id: str) -> str:
    return f"rule:{rule_id}"


def _excl_key(option_id: str, exclusion_id: str) -> str:
    return f"option:{option_id}:{exclusion_id}"


# ---------------------------------------------------------------- text


_PLACEHOLDER = re.compile(r"\{([a-z0-9_.]+)\}")


def show_value(value: Any) -> str:
    """A fact value as a clinician reads it."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple | list):
        return ", ".join(str(x) for x in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def fill(text: str, facts: Facts) -> str:
    """Replace ``{field}`` placeholders with the profile's values ("unknown" where absent)."""
    return _PLACEHOLDER.sub(lambda m: show_value(facts.get(m.group(1))), text)


def _truth(t: Truth) -> Literal["true", "false", "unknown"]:
    return "unknown" if t is None else "true" if t else "false"


# The report is built as plain JSON-ready data, in the models' field order, and becomes a ``Report``
# only for callers that want the models: a batch line or a JSON report is written straight from the
# data (building ~30 models per report was a third of the batch's time). tests/unit/test_assessment.py
# checks that the data validates as a Report and dumps back to the same bytes.
Data = dict[str, Any]


def _trigger(r: LeafResult) -> Data:
    value = list(r.value) if isinstance(r.value, tuple) else r.value
    return {"field": r.field, "value": value, "operator": r.op, "threshold": r.threshold, "result": _truth(r.result)}


def _evidence(cp: CompiledProtocol, ids: Sequence[str]) -> list[Data]:
    key = tuple(ids)
    found = cp.evidence_refs.get(key)
    if found is not None:
        return found
    out = []
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


# ---------------------------------------------------------------- assess


def assess(
    profile: Profile,
    protocols: Sequence[LoadedProtocol],
    as_of: dt.date,
    overrides: Mapping[str, Value | None] | None = None,
) -> Report:
    """Assess ``profile`` on ``as_of`` against validated protocols.

    ``overrides`` replaces fact values (None makes a fact unknown) for what-if questions; the report
    lists them, so a hypothetical result is never mistaken for the patient's.
    """
    from .report import Report

    return Report.model_validate(assess_data(profile, protocols, as_of, overrides))


def assess_data(
    profile: Profile,
    protocols: Sequence[LoadedProtocol],
    as_of: dt.date,
    overrides: Mapping[str, Value | None] | None = None,
) -> Data:
    """``assess`` as the report's JSON-ready data (what ``Report.model_dump(mode="json")`` gives).

    Parts that depend on the protocol alone are shared between reports: treat the result as read-only.
    """
    acc = _Results(profile, as_of, overrides or {}, res_.resolve(profile))
    for lp in protocols:
        acc.evaluate(compile_protocol(lp))
    unrecognised = [r.data() for r in acc.resolved.review]
    status = _status(acc.findings, acc.not_checked, acc.stale, bool(unrecognised))
    options, checklists = acc.options(status, _weight_text(profile, acc.overrides))
    acc.findings.sort(key=lambda x: (KIND_ORDER[x["kind"]], not x["urgent"], x["protocol_id"], x["rule_id"]))
    acc.not_checked.sort(key=lambda x: (KIND_ORDER[x["kind"]], x["protocol_id"], x["rule_id"]))
    missing = sorted(
        {fld for x in acc.not_checked for fld in x["needs"]}
        | {t["field"] for x in acc.findings if x["kind"] == "required_data" for t in x["triggered_by"]}
    )
    refs: list[Data] = [lp.ref_data() for lp in protocols]
    overrides_out = {k: list(v) if isinstance(v, tuple) else v for k, v in sorted(acc.overrides.items())}
    return {
        "schema_version": SCHEMA_VERSION,
        "kapdecide_version": __version__,
        "what_if_overrides": overrides_out,
        "disclaimer": DISCLAIMER,
        "assessed_on": as_of.isoformat(),
        "patient_ref": profile.patient.ref if profile.patient else None,
        "input_line": None,
        "status": status,
        "status_summary": STATUS_SUMMARY[status],
        "protocols": refs,
        "findings": acc.findings,
        "not_checked": acc.not_checked,
        "missing_data": missing,
        "stale_data": acc.stale,
        "medications": _medications(acc.facts, acc.resolved),
        "unrecognised": unrecognised,
        "derived": [acc.derived[k] for k in sorted(acc.derived)],
        "substances": _patient_substances(acc.facts, acc.substance_out),
        "options": options,
        "session_checklists": checklists,
        "standard_care": acc.standard_care,
        "next_steps": _next_steps(acc.findings, status),
        "receipt": {
            "profile_sha256": profile_sha256(profile),
            "protocols": refs,
            "kapdecide_version": __version__,
            "as_of": as_of.isoformat(),
            "what_if_overrides": overrides_out,
        },
        "input_source": None,
        "explanation": None,
        "what_would_change": None,
    }


def _next_steps(findings: list[Data], status: Status) -> list[Data]:
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
        self.findings: list[Data] = []
        self.not_checked: list[Data] = []
        self.stale: list[Data] = []
        self.substance_out: dict[str, Data] = {}
        self.standard_care: list[str] = []
        self.facts: Facts = {}
        self.derived: dict[str, Data] = {}
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
                self.derived.setdefault(d.field, {"field": d.field, "value": d.value, "reason": d.reason})
        truths = _guarded_truths(cp, fact_set.values)
        self._stale(fact_set.stale)
        self._unresolved(cp, fact_set)
        self._rules(cp, fact_set.values, truths)
        self.option_inputs.append((cp, fact_set.values, truths))
        for se in p.substances:
            self.substance_out.setdefault(se.substance, _substance_out(cp, se.substance))
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
                    self.findings.append(_finding(cp, rule, facts, True))
            elif rule.kind == "required_data" and t is not False:
                self.findings.append(_finding(cp, rule, facts, t))
            elif t is True:
                self.findings.append(_finding(cp, rule, facts, True))
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

    def options(self, status: Status, weight: str) -> tuple[list[Data], list[Data]]:
        """Every option's state (and dose where offered), and the session checklists of the offered ones."""
        support: dict[tuple[str, str], list[str]] = {}
        for finding in self.findings:
            for oid in finding["strengthens"] if finding["kind"] == "info" else []:
                support.setdefault((finding["protocol_id"], oid), []).append(finding["rule_id"])
        options: list[Data] = []
        checklists: list[Data] = []
        for cp, f, truths in self.option_inputs:
            rows = [
                row
                for option in cp.protocol.options
                for row in _options(cp, option, f, truths, status, support, weight)
            ]
            options.extend(rows)
            offered = sorted({o["option_id"] for o in rows if o["state"] == "offered"})
            if offered and cp.protocol.session is not None:
                checklists.append(_checklist(cp, cp.protocol.session, offered))
        options.sort(key=_option_order)
        return options, checklists


def canonical_profile(profile: Profile) -> str:
    """The profile's content as sorted, compact JSON: the same for any key order or file format."""
    import json

    return json.dumps(
        profile.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def profile_sha256(profile: Profile) -> str:
    """sha256 of the canonical profile (the receipt's profile fingerprint)."""
    import hashlib

    return hashlib.sha256(canonical_profile(profile).encode("utf-8")).hexdigest()


def _guarded_truths(cp: CompiledProtocol, facts: Facts) -> dict[str, Truth]:
    """Three-valued results per engine rule, after checking the engine agrees on what is true."""
    truths = {name: fn(facts) for name, fn in cp.conditions.items()}
    fired = cp.engine.fired(facts)
    expected = {name for name, t in truths.items() if t is True}
    if fired != expected:
        differ = sorted(fired ^ expected)
        raise EngineDisagreementError(
            f"the rules engine and the independent evaluator disagree on {', '.join(differ)}; "
            "no assessment is given rather than a possibly wrong one",
            hint="report this with the profile and `--debug` output",
        )
    return truths


def _finding(cp: CompiledProtocol, rule: Rule, facts: Facts, t: Truth) -> Data:
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
        "triggered_by": [_trigger(r) for r in reasons(rule.when, facts, t)],
        "evidence": _evidence(cp, rule.evidence),
        "next_steps": list(rule.next_steps),
        "strengthens": list(rule.strengthens),
        "sources": [],
    }


def _status(findings: list[Data], not_checked: list[Data], stale: list[Data], unrecognised: bool) -> Status:
    raised = {KIND_STATUS[f["kind"]] for f in findings if f["kind"] in KIND_STATUS}
    if not_checked or stale:
        raised.add("incomplete")
    if unrecognised:  # an entry nobody checked is a precaution, never a pass
        raised.add("eligible_with_precautions")
    return next((s for s in STATUS_ORDER if s in raised), "eligible")


def _substance_out(cp: CompiledProtocol, substance: str) -> Data:
    found = cp.substance_outs.get(substance)
    if found is None:
        found = cp.substance_outs[substance] = _build_substance_out(cp, substance)
    return found


def _build_substance_out(cp: CompiledProtocol, substance: str) -> Data:
    se = next(s for s in cp.protocol.substances if s.substance == substance)
    label = substance.replace("_", " ")
    if se.insufficient_evidence:
        statement = (
            f"Insufficient evidence for ketamine in {label} use disorder: no ketamine option is offered "
            "for it. Use standard evidence-based care."
        )
    else:
        statement = f"Ketamine in {label} use disorder: GRADE certainty {se.grade.replace('_', ' ')} (off-label)."
    return {
        "substance": substance,
        "grade": None if se.grade == "none" else se.grade,
        "insufficient_evidence": se.insufficient_evidence,
        "statement": statement,
        "summary": se.summary,
        "trials": [
            {
                "evidence_id": t.evidence,
                "design": t.design,
                "participants": t.participants,
                "regimen": t.regimen,
                "adjunct": t.adjunct,
                "outcome": t.outcome,
            }
            for t in se.trials
        ],
        "evidence": _evidence(cp, se.evidence),
    }


def _patient_substances(facts: Facts, known: dict[str, Data]) -> list[Data]:
    out = []
    for s in text_list(facts, "substance_use.substances") or ():
        s = str(s)
        out.append(
            known.get(s)
            or {
                "substance": s,
                "grade": None,
                "insufficient_evidence": True,
                "statement": f"No evidence review for {s.replace('_', ' ')} use disorder in these protocols: "
                "insufficient evidence; no ketamine option is offered for it.",
                "summary": None,
                "trials": [],
                "evidence": [],
            }
        )
    return out


def _medications(facts: Facts, resolved: res_.Resolved) -> Data:
    recorded = "medications.ingredients" in facts
    proposed = list(text_list(facts, "medications.proposed") or ())
    if not recorded and not proposed:
        return {
            "recorded": False,
            "checked": [],
            "not_checked": [],
            "message": "Medication list not recorded: interactions could not be checked.",
        }
    written: dict[str, list[str]] = {}
    for _, text, m in [
        *resolved.medications,
        *resolved.proposed,
        *(r for g in resolved.treatments.values() for r in g),
    ]:
        for i in m.ingredients:
            written.setdefault(i, [])
            if text not in written[i]:
                written[i].append(text)
    checked = []
    for n in [*(text_list(facts, "medications.ingredients") or ()), *proposed]:
        classes: list[str] = list(term.ingredient_classes(n))
        interacting = [c for c in classes if c not in v.RECOGNISED_ONLY_CLASSES]
        checked.append(
            {
                "ingredient": n,
                "drug_class": (interacting or classes)[0] if classes else None,
                "rxcui": term.ingredient_rxcui(n),
                "drug_classes": classes,
                "written_as": written.get(n, []),
                "proposed": n in proposed,
            }
        )
    unchecked = list(text_list(facts, "medications.unchecked") or ())
    if not recorded:
        msg = (
            "Current medication list not recorded: interactions with current drugs could not be checked; "
            f"proposed medications checked: {', '.join(proposed)}."
        )
    elif unchecked:
        msg = (
            f"Not recognised, so not checked for interactions: {', '.join(unchecked)}. Review them by hand; "
            "the status is at best eligible with precautions until they are."
        )
    else:
        msg = "Every recorded medication was recognised and checked for interactions."
    return {"recorded": recorded, "checked": checked, "not_checked": unchecked, "message": msg}


def _float(x: float | None) -> float | None:
    # The models hold floats: an integer from the protocol is written 5.0, as model_dump writes it.
    return None if x is None else float(x)


def weight_note(profile: Profile) -> str:
    """The weight a dose is computed from, as the clinician checks it: value, unit, date."""
    p = profile.patient
    kg = p.weight_in_kg if p else None
    if p is None or kg is None:
        return "weight not recorded"
    shown = f"{p.weight_lb:g} lb = {kg:g} kg" if p.weight_kg is None and p.weight_lb is not None else f"{kg:g} kg"
    when = f"measured {p.weight_date.isoformat()}" if p.weight_date else "date of weighing not recorded"
    return f"weight {shown}, {when}"


def _dose(reg: Regimen, facts: Facts, weight: str) -> Data:
    d = reg.dose
    weight_kg = facts.get("patient.weight_kg")
    computed: float | None = None
    capped = False
    if d.mg_per_kg is not None:
        if isinstance(weight_kg, int | float) and not isinstance(weight_kg, bool):
            computed = float(Decimal(repr(d.mg_per_kg * float(weight_kg))).quantize(Decimal("0.1"), ROUND_HALF_UP))
            if d.max_mg is not None and computed > d.max_mg:
                computed, capped = float(d.max_mg), True
            text = (
                f"{d.mg_per_kg:g} mg/kg x {float(weight_kg):g} kg = {computed:g} mg"
                + (f" (capped at {d.max_mg:g} mg)" if capped else "")
                + f" ({weight}: check it before dosing)"
            )
        else:
            text = f"{d.mg_per_kg:g} mg/kg: dose not computable, weight not recorded"
    elif d.fixed_mg is not None:
        computed = float(d.fixed_mg)
        text = f"{d.fixed_mg:g} mg fixed dose"
    else:
        text = "no fixed dose in the cited sources"
    return {
        "description": d.description,
        "mg_per_kg": _float(d.mg_per_kg),
        "fixed_mg": _float(d.fixed_mg),
        "max_mg": _float(d.max_mg),
        "weight_kg": float(weight_kg) if isinstance(weight_kg, int | float) else None,
        "weight": weight,
        "computed_mg": computed,
        "capped": capped,
        "text": text,
    }


def _checklist(cp: CompiledProtocol, plan: SessionPlan, offered: list[str]) -> Data:
    found = cp.checklists.get(tuple(offered))
    if found is None:
        found = cp.checklists[tuple(offered)] = _build_checklist(cp, plan, offered)
    return found


def _build_checklist(cp: CompiledProtocol, plan: SessionPlan, offered: list[str]) -> Data:
    rules = {r.id: r for r in cp.protocol.rules}
    return {
        "protocol_id": cp.protocol.id,
        "applies_to": offered,
        "pre_dose": [
            {
                "rule_id": rid,
                "title": rules[rid].title,
                "do_not_dose_if": describe(rules[rid].when),
                "action": rules[rid].action,
            }
            for rid in plan.pre_dose_rules
        ],
        "pre_dose_checks": list(plan.pre_dose_checks),
        "in_session_holds": [
            {"id": h.id, "when": h.when, "action": h.action, "evidence": list(h.evidence)} for h in plan.holds
        ],
        "observation_minutes": plan.observation_minutes,
        "observation": plan.observation,
        "discharge": list(plan.discharge),
        "follow_up": list(plan.follow_up),
        "evidence": _evidence(cp, plan.evidence),
    }


def _options(
    cp: CompiledProtocol,
    option: Option,
    facts: Facts,
    truths: dict[str, Truth],
    status: Status,
    support: dict[tuple[str, str], list[str]],
    weight: str,
) -> list[Data]:
    status_reason = STATUS_OPTION_REASON.get(status)
    exclusions: list[str] = []
    if option.insufficient_evidence is not None:
        exclusions.append(f"Insufficient evidence: {option.insufficient_evidence}")
    for x in option.exclude_when:
        t = truths[_excl_key(option.id, x.id)]
        if t is True:
            exclusions.append(fill(x.reason, facts))
        elif t is None:
            needs = list(dict.fromkeys(r.field for r in reasons(x.when, facts, None)))
            exclusions.append(f"Could not check ({', '.join(needs)}): {fill(x.reason, facts)}")
    substances = text_list(facts, "substance_use.substances")
    conditions = text_list(facts, "psychiatric.conditions")
    rows = []
    for reg in option.regimens:
        pool = substances if reg.substance is not None else conditions
        indication = reg.substance or reg.condition
        if pool is None or indication not in pool:
            continue
        reasons_: list[str] = ([status_reason] if status_reason else []) + exclusions
        row = _option_row(cp, option, reg, facts, weight, "excluded" if reasons_ else "offered", reasons_)
        supported = support.get((cp.protocol.id, option.id))
        if supported:
            row["supported_by"] = sorted(supported)
        rows.append(row)
    if rows:
        return rows
    if substances is None:
        why = "Substance use disorders not recorded: cannot match this option."
    else:
        wanted = sorted({str(r.substance or r.condition) for r in option.regimens})
        why = f"No regimen for this patient's indications (option studied for: {', '.join(wanted)})."
    return [_option_row(cp, option, None, facts, weight, "not_applicable", [why])]


def _option_row(
    cp: CompiledProtocol,
    option: Option,
    reg: Regimen | None,
    facts: Facts,
    weight: str,
    state: Literal["offered", "excluded", "not_applicable"],
    reasons_: list[str],
) -> Data:
    """One option row: for one regimen (indication) of the option, or, with no regimen, not applicable."""
    return {
        "option_id": option.id,
        "protocol_id": cp.protocol.id,
        "title": option.title,
        "route": option.route,
        "setting": option.setting,
        "approach": option.approach,
        "indication": None if reg is None else reg.substance or reg.condition,
        "grade": None if reg is None else reg.grade,
        "state": state,
        "reasons": reasons_,
        "dose": None if reg is None else _dose(reg, facts, weight),
        "sessions": None if reg is None else reg.sessions.description,
        "psychotherapy": None if reg is None else reg.psychotherapy,
        "outcome": None if reg is None else reg.outcome,
        "monitoring": list(option.monitoring),
        "evidence": [] if reg is None else _evidence(cp, reg.evidence),
        "note": option.note,
        "supported_by": [],
    }


def _option_order(o: Data) -> tuple[bool, int, str, str, str]:
    state = {"offered": 0, "excluded": 1, "not_applicable": 2}[o["state"]]
    grade = GRADE_ORDER.get(o["grade"] or "", 9)
    return (state == 2, grade, o["option_id"], o["indication"] or "", o["protocol_id"])
