"""The report's sections on the patient's substances (with each substance's evidence, built once per
protocol and shared) and medications (what was checked for interactions, under which names)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kapdecide.assessment.compiled import CompiledProtocol
from kapdecide.assessment.wording import evidence_list
from kapdecide.core import vocabulary as v
from kapdecide.inputs import resolution as res_
from kapdecide.inputs import terminology as term
from kapdecide.language.facts import Facts, text_list

if TYPE_CHECKING:
    from kapdecide.assessment.report import CheckedMedication, Medications, SubstanceEvidenceOut


def substance_out(cp: CompiledProtocol, substance: str) -> SubstanceEvidenceOut:
    """A substance's evidence section (built once per protocol and shared)."""
    found = cp.substance_outs.get(substance)
    if found is None:
        found = cp.substance_outs[substance] = _build_substance_out(cp, substance)
    return found


def _build_substance_out(cp: CompiledProtocol, substance: str) -> SubstanceEvidenceOut:
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
        "evidence": evidence_list(cp, se.evidence),
    }


def patient_substances(facts: Facts, known: dict[str, SubstanceEvidenceOut]) -> list[SubstanceEvidenceOut]:
    """The evidence sections for the patient's substances."""
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


def medications_checked(facts: Facts, resolved: res_.Resolved) -> Medications:
    """The medications section: what was checked, under which names, and what could not be."""
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
    checked: list[CheckedMedication] = []
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
