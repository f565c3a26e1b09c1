"""Observations: blood pressure, heart rate, weight, PHQ-9, AUDIT, pregnancy status, hCG, breastfeeding."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from kapdecide.inputs import fhir_codes as fc
from kapdecide.inputs.fhir import observation_codes as oc
from kapdecide.inputs.fhir.state import _State
from kapdecide.inputs.fhir.values import (
    _OBS_DROP,
    _OBS_USE,
    HR_MAX_AGE_DAYS,
    _codings,
    _dict,
    _effective,
    _hcg_result,
    _list,
    _number,
    _obs_kind,
    _quantity,
    _Reading,
    _round,
    _s,
    _When,
)


class Observations(_State):
    """Observations: blood pressure, heart rate, weight, PHQ-9, AUDIT, pregnancy status, hCG, breastfeeding."""

    def map_observation(self, r: dict[str, Any], ref: str) -> None:
        """One Observation: its kind by LOINC code, status and date checked, then its reader."""
        status = _s(r.get("status"))
        if status in _OBS_DROP:
            return
        codings = _codings(r.get("code"))
        loinc = [code for system, code, _ in codings if system == fc.LOINC]
        components = [_dict(c) for c in _list(r.get("component"))]
        comp_codes = {code for c in components for system, code, _ in _codings(c.get("code")) if system == fc.LOINC}
        is_bp_panel = any(c in oc.BP_PANELS for c in loinc) or bool(
            comp_codes & oc.SYSTOLIC and comp_codes & oc.DIASTOLIC
        )
        kind = "bp_panel" if is_bp_panel else next((k for c in loinc if (k := _obs_kind(c))), None)
        if kind is None:
            reason = next((oc.OBSERVATION_NOT_MAPPED[c] for c in loinc if c in oc.OBSERVATION_NOT_MAPPED), None)
            self.report_unmapped(ref, codings, r.get("code"), reason or "observation code not in the importer's tables")
            return
        if status not in _OBS_USE:
            self.warn(f"{ref}: status {status or 'missing'} (not final): used with low confidence")
        when = _effective(r)
        if when is None or not when.precise:
            self.group("Observations without a usable effective date were skipped", ref)
            return
        if when.day > self.as_of:
            self.group(f"Observations dated after the assessment date {self.as_of} were skipped", ref)
            return
        if kind == "bp_panel":
            self.bp_panel(r, components, when, ref)
            return
        if "dataAbsentReason" in r and not any(k.startswith("value") for k in r):
            self.group("Observations with no value (dataAbsentReason) were not used", ref)
            return
        self.observation_handlers[kind](r, ref, when)

    @cached_property
    def observation_handlers(self) -> dict[str, Callable[[dict[str, Any], str, _When], None]]:
        """Observation kind (``values._obs_kind``) -> its reader."""
        return {
            "systolic": lambda r, ref, when: self.bp_part(r, ref, when, "systolic"),
            "diastolic": lambda r, ref, when: self.bp_part(r, ref, when, "diastolic"),
            "hr": lambda r, ref, when: self.numeric(r, ref, when, self.hr, oc.PER_MIN_UNITS, "heart rate"),
            "weight": self.map_weight,
            "phq9": lambda r, ref, when: self.numeric(r, ref, when, self.phq9, None, "PHQ-9"),
            "audit": lambda r, ref, when: self.numeric(r, ref, when, self.audit, None, "AUDIT"),
            "pregnancy_status": self.pregnancy_status,
            "hcg": self.hcg_test,
            "breastfeeding": self.breastfeeding,
            "phq9_item9": self.phq9_item9,
        }

    def bp_part(self, r: dict[str, Any], ref: str, when: _When, part: str) -> None:
        """A systolic or diastolic reading on its own, paired later with its other half."""
        value, unit = _quantity(r)
        if value is None:
            self.group("Observations with no usable value were skipped", ref)
            return
        if unit is not None and unit not in oc.MMHG_UNITS:
            self.warn(f"{ref}: blood pressure in unit {unit!r}, not mm[Hg]: skipped")
            return
        enc = _s(_dict(r.get("encounter")).get("reference"))
        _, slot = self.bp_parts.setdefault((when.key, enc), (when, {}))
        if part in slot:
            self.warn(f"{ref}: a second {part} reading at the same time: skipped")
        else:
            slot[part] = (value, ref)

    def pregnancy_status(self, r: dict[str, Any], ref: str, when: _When) -> None:
        """A pregnancy-status answer (SNOMED): pregnant or not pregnant."""
        answer = next((oc.PREGNANCY_STATUS_ANSWERS[c] for s, c, _ in _codings(r.get("valueCodeableConcept"))
                       if s == fc.SNOMED and c in oc.PREGNANCY_STATUS_ANSWERS), None)  # fmt: skip
        if answer is None:
            self.report_unmapped(ref, _codings(r.get("valueCodeableConcept")), r.get("valueCodeableConcept"),
                                 "pregnancy status answer not recognised")  # fmt: skip
        elif answer != "unknown":
            self.preg_obs.append((when, answer, ref))

    def hcg_test(self, r: dict[str, Any], ref: str, when: _When) -> None:
        """A qualitative hCG result: positive or negative."""
        result = _hcg_result(r)
        if result is None:
            self.warn(f"{ref}: hCG result not recognised as positive or negative: not used")
        else:
            self.hcg.append((when, result, ref))

    def breastfeeding(self, r: dict[str, Any], ref: str, when: _When) -> None:
        """A breastfeeding-status answer."""
        answer = next((oc.BREASTFEEDING_ANSWERS[c] for _, c, _ in _codings(r.get("valueCodeableConcept"))
                       if c in oc.BREASTFEEDING_ANSWERS), None)  # fmt: skip
        if answer is None:
            self.warn(f"{ref}: breastfeeding answer not recognised: not used")
        else:
            self.bf_obs.append((when, answer, ref))

    def phq9_item9(self, r: dict[str, Any], ref: str, when: _When) -> None:
        """PHQ-9 item 9 (thoughts of self-harm): warned, never imported as ideation."""
        answers = {c for _, c, _ in _codings(r.get("valueCodeableConcept"))}
        score = _number(r.get("valueInteger", _dict(r.get("valueQuantity")).get("value")))
        if answers & oc.PHQ9_ITEM9_POSITIVE or (score is not None and score > 0):
            self.warn(
                f"{ref}: PHQ-9 item 9 (thoughts of self-harm) positive on {when.day}: suicidal ideation is not "
                "imported from it; assess it now (C-SSRS)"
            )

    def numeric(
        self,
        r: dict[str, Any],
        ref: str,
        when: _When,
        into: list[_Reading],
        units: frozenset[str] | None,
        what: str,
    ) -> None:
        """A numeric reading in an accepted unit, kept with its date and reference."""
        value, unit = _quantity(r)
        if value is None:
            self.group("Observations with no usable value were skipped", ref)
            return
        if units is not None and unit is not None and unit not in units:
            self.warn(f"{ref}: {what} in unit {unit!r}: skipped")
            return
        into.append(_Reading(when, value, ref))

    def map_weight(self, r: dict[str, Any], ref: str, when: _When) -> None:
        """A body weight, converted to kg."""
        value, unit = _quantity(r)
        if value is None:
            self.group("Observations with no usable value were skipped", ref)
            return
        factor = oc.WEIGHT_UNITS.get(unit or "")
        if factor is None:
            self.warn(f"{ref}: body weight with unit {unit!r} (expected kg, g or [lb_av]): skipped")
            return
        self.weight.append(_Reading(when, round(value * factor, 1), ref))

    def bp_panel(self, r: dict[str, Any], components: list[dict[str, Any]], when: _When, ref: str) -> None:
        """A blood-pressure panel: its systolic and diastolic components."""
        systolic = diastolic = None
        for comp in components:
            codes = {code for system, code, _ in _codings(comp.get("code")) if system == fc.LOINC}
            part = "s" if codes & oc.SYSTOLIC else "d" if codes & oc.DIASTOLIC else None
            if part is None:
                continue
            value, unit = _quantity(comp)
            if value is None:  # dataAbsentReason, or no value: never read as 0
                continue
            if unit is not None and unit not in oc.MMHG_UNITS:
                self.warn(f"{ref}: blood pressure component in unit {unit!r}, not mm[Hg]: skipped")
                continue
            if part == "s" and systolic is None:
                systolic = value
            elif part == "d" and diastolic is None:
                diastolic = value
        if systolic is None or diastolic is None:
            self.group("blood pressure panels without both a systolic and a diastolic value were skipped", ref)
            return
        self.add_bp(systolic, diastolic, when, [ref])

    def add_bp(self, systolic: float, diastolic: float, when: _When, refs: list[str]) -> None:
        """One usable blood-pressure reading (both values plausible)."""
        s, d = _round(systolic), _round(diastolic)
        if not 50 <= s <= 300 or not 20 <= d <= 200 or s <= d:
            self.warn(f"{', '.join(refs)}: implausible blood pressure {s}/{d} mmHg on {when.day}: skipped")
            return
        self.bp.append((when, s, d, refs))

    def latest(self, readings: list[_Reading], max_age: int, what: str, key: str) -> float | None:
        """The latest reading if recent enough (older ones warned), cited."""
        if not readings:
            return None
        best = max(readings, key=lambda x: (x.when.key, x.ref))
        age = self.days_ago(best.when)
        if age > max_age:
            self.warn(
                f"latest {what} ({best.ref}, {best.when.day}) is {age} days old, older than {max_age} days: "
                "not imported"
            )
            return None
        self.cite(key, best.ref)
        return best.value

    def vitals_section(self) -> dict[str, Any]:
        """The profile's vitals: heart rate and every usable blood-pressure reading."""
        for when, parts in self.bp_parts.values():
            sys_part, dia_part = parts.get("systolic"), parts.get("diastolic")
            if sys_part and dia_part:
                self.add_bp(sys_part[0], dia_part[0], when, [sys_part[1], dia_part[1]])
            else:
                for _, ref in parts.values():
                    self.group("standalone systolic/diastolic Observations without a matching pair were skipped", ref)
        vitals: dict[str, Any] = {}
        if self.bp:
            readings = sorted(self.bp, key=lambda x: (x[0].key, x[3]))
            vitals["blood_pressure"] = [
                {"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": w.day.isoformat()} for w, s, d, _ in readings
            ][-500:]
            for _, _, _, refs in readings[-500:]:
                self.cite("vitals.blood_pressure", *refs)
        hr = self.latest(self.hr, HR_MAX_AGE_DAYS, "heart rate", "vitals.heart_rate_bpm")
        if hr is not None:
            rate = _round(hr)
            if 20 <= rate <= 250:
                vitals["heart_rate_bpm"] = rate
            else:
                self.warn(f"implausible heart rate {rate}/min: skipped")
                self.prov.pop("vitals.heart_rate_bpm", None)
        return vitals
