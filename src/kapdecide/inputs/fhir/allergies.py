"""AllergyIntolerance: allergens, a ketamine allergy under any name, "no known allergy"."""

from __future__ import annotations

from typing import Any

from kapdecide.core import vocabulary as v
from kapdecide.inputs import fhir_codes as fc
from kapdecide.inputs.fhir import observation_codes as oc
from kapdecide.inputs.fhir.state import _State
from kapdecide.inputs.fhir.values import (
    _VER_DROP,
    _VER_UNCONFIRMED,
    _clean,
    _codings,
    _ingredients,
    _label,
    _status_code,
)


class Allergies(_State):
    """AllergyIntolerance resources: allergens, ketamine under any name, "no known allergy"."""

    def map_allergy(self, r: dict[str, Any], ref: str) -> None:
        """One AllergyIntolerance: an active, confirmed allergen; no known allergy noted apart."""
        verification = _status_code(r.get("verificationStatus"))
        if verification in _VER_DROP:
            return
        clinical = _status_code(r.get("clinicalStatus"))
        if clinical is not None and clinical != "active":
            return
        codings = _codings(r.get("code"))
        if any(s == fc.SNOMED and c in oc.NO_KNOWN_ALLERGY for s, c, _ in codings):
            if verification not in _VER_UNCONFIRMED:
                self.nka.append(ref)
            return
        agents, by_name = _ingredients(r.get("code"), {})
        if not agents:
            label = _label(r.get("code"))
            short = {fc.SNOMED: "snomed", fc.RXNORM: "rxnorm"}
            coded = next(((short[sy], co) for sy, co, _ in codings if sy in short and 0 < len(co) <= 40), None)
            if label:
                reason = "allergy code not in the tables: kept by its name"
            elif coded:
                reason = "allergy code not in the tables: kept as a coded entry, reported as not recognised"
            else:
                reason = "allergy with no usable code or name"
            self.report_unmapped(ref, codings, r.get("code"), reason)
            if not label:
                if coded:  # never dropped: the assessment lists it for review
                    self.coded_allergies[f"{coded[0]}|{coded[1]}"] = {"system": coded[0], "code": coded[1]}
                    self.cite(f"allergies.{coded[0]}|{coded[1]}", ref)
                return
            agents = (v.normalise_name(_clean(label)),)
        elif by_name and any(a not in v.KETAMINE_AGENTS for a in agents):
            self.warn(f"{ref}: allergy {_label(r.get('code'))!r} matched to {', '.join(agents)} by name")
        if verification in _VER_UNCONFIRMED:
            self.warn(f"{ref}: allergy {', '.join(agents)} is {verification}: included; confirm it")
        for agent in agents:
            self.allergies.add(agent)
            self.cite(f"allergies.{agent}", ref)
