"""Medications: requests, statements, dispenses and administrations; proposed (draft) orders."""

from __future__ import annotations

from typing import Any

from kapdecide.core import vocabulary as v
from kapdecide.inputs.fhir.state import _State
from kapdecide.inputs.fhir.values import (
    _MEDREQ_CURRENT,
    _MEDREQ_HISTORY,
    _MEDREQ_INTENT_OK,
    _MEDREQ_PROPOSAL_STATUS,
    _MEDSTMT_CURRENT,
    _SUPPLY_CURRENT,
    _SUPPLY_DROP,
    ADMINISTRATION_MAX_AGE_DAYS,
    DISPENSE_DEFAULT_DAYS,
    DISPENSE_GRACE_DAYS,
    _clean,
    _codings,
    _days_supply,
    _dict,
    _ingredients,
    _label,
    _list,
    _s,
    _strip_history,
    _When,
    _when,
)


class Medications(_State):
    """Medication requests, statements, dispenses and administrations; draft orders as proposed."""

    def map_medication(self, r: dict[str, Any], ref: str) -> None:
        """One MedicationRequest or MedicationStatement: current, history, or proposed (draft)."""
        rtype = r["resourceType"]
        status = _s(r.get("status"))
        if rtype == "MedicationRequest":
            intent = _s(r.get("intent"))
            if r.get("doNotPerform") is True:
                return
            when = _when(r.get("authoredOn"))
            proposed_order = status == "draft" and (intent is None or intent in _MEDREQ_INTENT_OK)
            if proposed_order or (intent == "proposal" and status in _MEDREQ_PROPOSAL_STATUS):
                self.map_proposed(r, ref, when)
                return
            if intent is not None and intent not in _MEDREQ_INTENT_OK:
                return
            current = status in _MEDREQ_CURRENT
            history = status in _MEDREQ_HISTORY
        else:
            current = status in _MEDSTMT_CURRENT
            history = status in ("completed", "stopped", "not-taken", "on-hold")
            period = _dict(r.get("effectivePeriod"))
            when = _when(r.get("effectiveDateTime")) or _when(period.get("start")) or _when(r.get("dateAsserted"))
        if not (current or history) and status != "unknown":
            return  # cancelled, entered-in-error
        if when is not None and when.day > self.as_of:
            self.group(f"medication records dated after the assessment date {self.as_of} were ignored", ref)
            return
        concept, ingredients, by_name = self.drug(r, ref)
        if not current and status != "unknown":
            return
        if status == "unknown":
            self.warn(f"{ref}: medication status unknown: listed as current (possible interaction)")
        self.add_current(self.drug_names(concept, ingredients, by_name, ref, "current medication"), ref)

    def map_proposed(self, r: dict[str, Any], ref: str, when: _When | None) -> None:
        """A draft or proposed MedicationRequest: a drug being considered, checked for interactions."""
        if when is not None and when.day > self.as_of:
            self.group(f"medication records dated after the assessment date {self.as_of} were ignored", ref)
            return
        concept, ingredients, by_name = self.drug(r, ref)
        names = self.drug_names(concept, ingredients, by_name, ref, "proposed medication")
        if not names:
            return
        self.warn(
            f"{ref}: draft/proposed order for {', '.join(names)}: reported as a proposed medication and checked "
            "for interactions"
        )
        for name in names:
            self.proposed.add(name)
            self.cite(f"proposed_medications.{name}", ref)

    def map_supply(self, r: dict[str, Any], ref: str) -> None:
        """MedicationDispense and MedicationAdministration: current when recent (module docstring)."""
        rtype = r["resourceType"]
        status = _s(r.get("status"))
        if status in _SUPPLY_DROP:
            return
        open_ended = False
        if rtype == "MedicationDispense":
            when = _when(r.get("whenHandedOver")) or _when(r.get("whenPrepared"))
            supply = _days_supply(r.get("daysSupply"))
            if supply is None and "daysSupply" in r:
                self.group(
                    f"MedicationDispense daysSupply not given in days: the {DISPENSE_DEFAULT_DAYS}-day window was used",
                    ref,
                )
            window = DISPENSE_DEFAULT_DAYS if supply is None else supply + DISPENSE_GRACE_DAYS
            rule = (
                f"{DISPENSE_DEFAULT_DAYS} days; no daysSupply in days"
                if supply is None
                else f"daysSupply + {DISPENSE_GRACE_DAYS} days"
            )
        else:
            period = _dict(r.get("effectivePeriod"))
            when = _when(r.get("effectiveDateTime")) or _when(period.get("end")) or _when(period.get("start"))
            open_ended = status == "in-progress" and "effectivePeriod" in r and _when(period.get("end")) is None
            window = ADMINISTRATION_MAX_AGE_DAYS
            rule = f"{ADMINISTRATION_MAX_AGE_DAYS} days"
        if when is not None and when.day > self.as_of:
            self.group(f"medication records dated after the assessment date {self.as_of} were ignored", ref)
            return
        concept, ingredients, by_name = self.drug(r, ref)
        if when is not None and not open_ended and self.days_ago(when) > window:
            self.group(f"{rtype} records older than their recency window ({rule}) were not listed as current", ref)
            return
        if status is not None and status not in _SUPPLY_CURRENT:
            self.warn(f"{ref}: {rtype} status {_clean(status, 40)}: listed as current (possible interaction)")
        if when is None:
            self.warn(f"{ref}: {rtype} with no usable date: listed as current (possible interaction); confirm it")
        self.add_current(self.drug_names(concept, ingredients, by_name, ref, "current medication"), ref)

    def drug(self, r: dict[str, Any], ref: str) -> tuple[Any, tuple[str, ...], bool]:
        """The drug's concept, its ingredient names and whether they were found by name; a drug the
        tables do not know is reported in ``unmapped``."""
        concept, where = self.medication_concept(r, ref)
        ingredients, by_name = _ingredients(concept, where)
        if not ingredients:
            self.report_unmapped(ref, _codings(concept), concept, "medication not in the importer's tables")
        elif by_name and _codings(concept):
            self.report_unmapped(ref, _codings(concept), concept, "medication code not in the tables: read by its name")
        return concept, ingredients, by_name

    def drug_names(self, concept: Any, ingredients: tuple[str, ...], by_name: bool, ref: str, what: str) -> list[str]:
        """The names to list: the ingredients, else the product's own name (kept, so that the report
        shows it as not checked for interactions)."""
        names = list(ingredients)
        if not names:
            label = _label(concept)
            if not label:
                self.warn(f"{ref}: {what} with no code the tables know and no name: not listed")
                return []
            names = [v.normalise_name(_clean(label))]
        elif by_name:
            self.warn(f"{ref}: {_label(concept)!r} matched to {', '.join(names)} by name (no known RxNorm code)")
        return names

    def add_current(self, names: list[str], ref: str) -> None:
        """List drug names as current medications, citing the resource."""
        for name in names:
            self.meds.add(name)
            self.cite(f"medications.{name}", ref)

    def medication_concept(self, r: dict[str, Any], ref: str) -> tuple[Any, dict[str, Any]]:
        """The drug's CodeableConcept, and the Medication resource it came from (or {})."""
        if "medicationCodeableConcept" in r:
            return r["medicationCodeableConcept"], {}
        target = _s(_dict(r.get("medicationReference")).get("reference"))
        med: dict[str, Any] | None = None
        if target:
            if target.startswith("#"):
                med = next(
                    (_dict(c) for c in _list(r.get("contained")) if _dict(c).get("id") == target[1:]),
                    None,
                )
            else:
                target = _strip_history(target)
                med = self.by_url.get(target)
                if med is None and "/Medication/" in target:
                    med = self.by_url.get("Medication/" + target.rsplit("/Medication/", 1)[1])
        if med is None:
            self.warn(f"{ref}: medicationReference {target!r} not found in the bundle: drug unknown")
            return {}, {}
        return med.get("code"), med
