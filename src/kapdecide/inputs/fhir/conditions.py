"""Conditions: substance use disorders, psychiatric and medical conditions, pregnancy, suicidality."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from kapdecide.inputs import fhir_codes as fc
from kapdecide.inputs import terminology as term
from kapdecide.inputs.fhir.state import _State
from kapdecide.inputs.fhir.values import (
    _COND_CURRENT,
    _COND_HISTORY,
    _VER_DROP,
    _VER_UNCONFIRMED,
    SUICIDAL_BEHAVIOR_DAYS,
    SUICIDAL_IDEATION_DAYS,
    _clean,
    _codings,
    _label,
    _onset,
    _status_code,
    _When,
)


class Conditions(_State):
    """Condition resources, each read by the kind of concept its codes name."""

    def map_condition(self, r: dict[str, Any], ref: str) -> None:
        """One Condition: clinical and verification status, onset, concepts (or kept as not recognised)."""
        verification = _status_code(r.get("verificationStatus"))
        if verification in _VER_DROP:
            return
        current = self.is_current(r, ref)
        codings = _codings(r.get("code"))
        concepts = self.concepts_of(codings, ref)
        if any(c.kind != "not_mapped" for c in concepts):  # one coding maps: the others' notes do not apply
            concepts = [c for c in concepts if c.kind != "not_mapped"]
        label = _label(r.get("code")) or (codings[0][1] if codings else "?")
        mapped = [c for c in concepts if c.kind != "not_mapped"]
        for c in concepts:
            if c.kind == "not_mapped":
                self.report_unmapped(ref, codings, r.get("code"), c.value)
        if not concepts:
            self.report_unmapped(ref, codings, r.get("code"), "condition code not in the importer's tables")
            if fc.ALERT_WORDS.search(label):
                self.warn(
                    f"{ref}: {label!r} is not in the code tables but its name suggests a safety-relevant "
                    "condition: review it"
                )
        onset = _onset(r)
        if onset is not None and onset.day > self.as_of:
            self.group(f"Conditions dated after the assessment date {self.as_of} were ignored", ref)
            return
        if not mapped:
            # kept as a coded entry, reported as not recognised, never read as absent: a current one,
            # or a past one whose name suggests a lifetime contraindication
            if current or fc.ALERT_WORDS.search(label):
                self.keep_unrecognised(codings, label, ref)
            return
        if verification in _VER_UNCONFIRMED:
            self.warn(f"{ref}: {label!r} is {verification}: included as a possible contraindication; confirm it")
        bipolar = [c.value for c in mapped if c.kind == "bipolar"]
        for c in mapped:
            self.apply_condition(c, current, onset, ref, label)
        if bipolar:  # the most specific code (longest ICD prefix) comes last; bipolar I wins across resources
            kind = bipolar[-1]
            self.bipolar = kind if self.bipolar in (None, kind) else "bipolar_i"
            self.cite("psychiatric.bipolar_disorder", ref)

    def is_current(self, r: dict[str, Any], ref: str) -> bool:
        """Current by clinicalStatus (active, recurrence, relapse); without one, current unless abated."""
        clinical = _status_code(r.get("clinicalStatus"))
        if clinical is None:
            return not any(k.startswith("abatement") for k in r)
        if clinical in _COND_CURRENT or clinical in _COND_HISTORY:
            return clinical in _COND_CURRENT
        self.warn(f"{ref}: unknown clinicalStatus {clinical!r}: treated as current")
        return True

    def concepts_of(self, codings: list[tuple[str, str, str | None]], ref: str) -> list[fc.Concept]:
        """What the codes mean (SNOMED CT, ICD-10-CM, WHO ICD-10 read as ICD-10-CM), each once."""
        concepts: list[fc.Concept] = []
        for system, code, _ in codings:
            if system == fc.SNOMED:
                concepts.extend(term.condition_code_concepts("snomed", code))
            elif system == fc.ICD10CM:
                concepts.extend(term.condition_code_concepts("icd-10-cm", code))
            elif system == fc.ICD10:
                found = fc.icd10_concepts(code)
                if found:
                    self.warn(f"{ref}: WHO ICD-10 code {code} read as ICD-10-CM (lower confidence)")
                concepts.extend(found)
        return list(dict.fromkeys(concepts))

    def keep_unrecognised(self, codings: list[tuple[str, str, str | None]], label: str, ref: str) -> None:
        """Keep a current condition the tables do not know as a coded entry (reported, never read as absent)."""
        short = {fc.SNOMED: "snomed", fc.ICD10CM: "icd-10-cm"}
        coded = next(((short[sy], co, d) for sy, co, d in codings if sy in short), None)
        if coded is not None and 0 < len(coded[1]) <= 40:
            entry: dict[str, str] = {"system": coded[0], "code": coded[1]}
            display = coded[2] or (label if label not in ("?", coded[1]) else None)
            if display:
                entry["display"] = _clean(display)
            key = f"{coded[0]}|{coded[1]}"
        elif label and label != "?":
            entry = {"condition": _clean(label)}
            key = f"text|{entry['condition']}"
        else:
            return
        self.unrecognised_conditions.setdefault(key, entry)
        self.cite(f"medical_conditions.{key}", ref)

    def apply_condition(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """Read one concept of a Condition into the accumulator, by its kind."""
        handler = self.condition_handlers.get(c.kind)
        if handler is not None:
            handler(c, current, onset, ref, label)

    @cached_property
    def condition_handlers(self) -> dict[str, Callable[[fc.Concept, bool, _When | None, str, str], None]]:
        """Concept kind (``fhir_codes.Concept.kind``) -> how a Condition of that kind is read."""
        return {
            "substance": self.substance_disorder,
            "psychosis": self.psychosis_history,
            "mania": self.mania_history,
            "psych": self.psych_condition,
            "medical": self.medical_condition,
            "pregnancy": self.pregnancy_condition,
            "breastfeeding": self.breastfeeding_condition,
            "suicidal_ideation": self.suicidal_ideation_condition,
            "suicidal_behavior": self.suicidal_behavior_condition,
        }

    def substance_disorder(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A substance use disorder, whatever its status."""
        self.substances.setdefault(c.value, set()).add(ref)
        self.cite(f"substance_use.{c.value}", ref)

    def psychosis_history(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A psychotic disorder: active while current, else past (lifetime)."""
        if self.psychosis != "active":
            self.psychosis = "active" if current else "past"
        self.cite("psychiatric.psychotic_disorder", ref)

    def mania_history(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A manic, hypomanic or mixed episode: active while current, else past."""
        if self.mania != "active":
            self.mania = "active" if current else "past"
        self.cite("psychiatric.mania", ref)

    def psych_condition(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A co-occurring psychiatric condition, while current."""
        if current:
            self.psych.add(c.value)
            self.cite(f"psychiatric.conditions.{c.value}", ref)

    def medical_condition(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A medical condition, while current (lifetime ones always), dated where the date decides a rule."""
        if not (current or c.value in fc.LIFETIME_MEDICAL):
            return
        date = onset.day.isoformat() if onset is not None and c.value in fc.DATED_MEDICAL else None
        self.medical[(c.value, date)] = None
        self.cite(f"medical_conditions.{c.value}", ref)
        if c.value == "interstitial_cystitis":
            self.warn(
                f"{ref}: {label!r} recorded as interstitial_cystitis; its cause is not coded: if it is "
                "ketamine-associated, record ketamine_uropathy"
            )

    def pregnancy_condition(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A current pregnancy Condition (its onset decides whether it is stale)."""
        if current:
            self.preg_conditions.append((onset, ref))

    def breastfeeding_condition(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        """A current breastfeeding Condition."""
        if current:
            self.bf_condition = True
            self.cite("pregnancy.breastfeeding", ref)

    def suicidal_ideation_condition(
        self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str
    ) -> None:
        """Suicidal ideation: imported (active_without_plan, conservatively) only if current and in the past month."""
        recent = onset is not None and self.days_ago(onset) <= SUICIDAL_IDEATION_DAYS
        if current and recent:
            self.suicidal_ideation = "active_without_plan"
            self.cite("psychiatric.suicidal_ideation", ref)
            self.warn(
                f"{ref}: suicidal ideation recorded on {onset.day if onset else '?'}; its severity is not "
                "coded: imported as active_without_plan (conservative); assess it now (C-SSRS)"
            )
        else:
            self.warn(
                f"{ref}: suicidal ideation recorded ({'current' if current else 'history'}, "
                f"{onset.day if onset else 'undated'}), not within the past month or not current: not "
                "imported; assess it now (C-SSRS)"
            )

    def suicidal_behavior_condition(
        self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str
    ) -> None:
        """A dated suicide attempt or self-harm: its date, and the 3-month flag."""
        if onset is None:
            self.warn(f"{ref}: suicidal behaviour recorded without a date: not imported; review it")
            return
        # the most recent dated behaviour (3-month flag and 12-month rules)
        if self.last_suicidal_behavior is None or onset.day > self.last_suicidal_behavior:
            self.last_suicidal_behavior = onset.day
        self.cite("psychiatric.last_suicidal_behavior", ref)
        if self.days_ago(onset) <= SUICIDAL_BEHAVIOR_DAYS:
            self.suicidal_behavior = True
            self.cite("psychiatric.suicidal_behavior_past_3_months", ref)
