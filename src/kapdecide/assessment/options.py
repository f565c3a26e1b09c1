"""Treatment options in the report: each option's state for this patient (offered, not offered and
why), its regimens with doses worked out from the weight, and the session checklist of offered ones."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Literal

from kapdecide.assessment.compiled import CompiledProtocol, exclusion_key
from kapdecide.assessment.wording import evidence_list, fill
from kapdecide.core.contract import Status
from kapdecide.core.operators import Truth
from kapdecide.language.conditions import describe
from kapdecide.language.evaluator import reasons
from kapdecide.language.facts import Facts, text_list
from kapdecide.protocol.model import GRADE_ORDER, Option, Regimen, SessionPlan

if TYPE_CHECKING:
    from kapdecide.assessment.report import DoseOut, OptionOut, SessionChecklist
    from kapdecide.inputs.profile import Profile

#: Why no option is offered while the status is not eligible (stated once per option row).
STATUS_OPTION_REASON: dict[str, str] = {
    "contraindicated": "Not offered: a contraindication applies.",
    "deferred": "Not offered now: a deferral applies; reassess when it resolves.",
    "incomplete": "Not offered until the missing safety data is collected and checked.",
}


def _float(x: float | None) -> float | None:
    # The report declares floats: an integer from the protocol is written 5.0 (the contract test checks it).
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


def _dose(reg: Regimen, facts: Facts, weight: str) -> DoseOut:
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


def checklist(cp: CompiledProtocol, plan: SessionPlan, offered: list[str]) -> SessionChecklist:
    """The session checklist for the offered options (built once per protocol and set of options)."""
    found = cp.checklists.get(tuple(offered))
    if found is None:
        found = cp.checklists[tuple(offered)] = build_checklist(cp, plan, offered)
    return found


def build_checklist(cp: CompiledProtocol, plan: SessionPlan, offered: list[str]) -> SessionChecklist:
    """The session checklist of a protocol for the options ``offered``."""
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
        "evidence": evidence_list(cp, plan.evidence),
    }


def option_rows(
    cp: CompiledProtocol,
    option: Option,
    facts: Facts,
    truths: dict[str, Truth],
    status: Status,
    support: dict[tuple[str, str], list[str]],
    weight: str,
) -> list[OptionOut]:
    """An option's rows for this patient: offered or not, why, and doses."""
    status_reason = STATUS_OPTION_REASON.get(status)
    exclusions: list[str] = []
    if option.insufficient_evidence is not None:
        exclusions.append(f"Insufficient evidence: {option.insufficient_evidence}")
    for x in option.exclude_when:
        t = truths[exclusion_key(option.id, x.id)]
        if t is True:
            exclusions.append(fill(x.reason, facts))
        elif t is None:
            needs = list(dict.fromkeys(r.field for r in reasons(x.when, facts, None)))
            exclusions.append(f"Could not check ({', '.join(needs)}): {fill(x.reason, facts)}")
    substances = text_list(facts, "substance_use.substances")
    conditions = text_list(facts, "psychiatric.conditions")
    rows: list[OptionOut] = []
    for reg in option.regimens:
        pool = substances if reg.substance is not None else conditions
        indication = reg.substance or reg.condition
        if pool is None or indication not in pool:
            continue
        reasons_: list[str] = ([status_reason] if status_reason else []) + exclusions
        row = option_row(cp, option, reg, facts, weight, "excluded" if reasons_ else "offered", reasons_)
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
    return [option_row(cp, option, None, facts, weight, "not_applicable", [why])]


def option_row(
    cp: CompiledProtocol,
    option: Option,
    reg: Regimen | None,
    facts: Facts,
    weight: str,
    state: Literal["offered", "excluded", "not_applicable"],
    reasons_: list[str],
) -> OptionOut:
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
        # a dose is worked out only for an option offered now: a computed mg beside a contraindication
        # reads as an order
        "dose": None if reg is None or state != "offered" else _dose(reg, facts, weight),
        "sessions": None if reg is None else reg.sessions.description,
        "psychotherapy": None if reg is None else reg.psychotherapy,
        "outcome": None if reg is None else reg.outcome,
        "monitoring": list(option.monitoring),
        "evidence": [] if reg is None else evidence_list(cp, reg.evidence),
        "note": option.note,
        "supported_by": [],
    }


def option_order(o: OptionOut) -> tuple[bool, int, str, str, str]:
    """Offered first, then by grade and id."""
    state = {"offered": 0, "excluded": 1, "not_applicable": 2}[o["state"]]
    grade = GRADE_ORDER.get(o["grade"] or "", 9)
    return (state == 2, grade, o["option_id"], o["indication"] or "", o["protocol_id"])
