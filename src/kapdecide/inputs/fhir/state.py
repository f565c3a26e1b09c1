"""What an import gathers, resource by resource, and its log: provenance, warnings, unmapped codes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kapdecide.inputs.fhir.values import _label, _Reading, _When


class _State:
    """The typed accumulator every resource mapper writes to, and the import log."""

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self.prov: dict[str, set[str]] = {}
        self.unmapped: dict[tuple[str, str, str], dict[str, str | None]] = {}
        self.warnings: list[str] = []
        self.grouped: dict[str, list[str]] = {}
        self.read = 0
        # patient
        self.patient: dict[str, Any] = {}
        self.patient_id: str | None = None
        self.patient_keys: set[str] = set()
        self.patient_identifiers: set[str] = set()
        self.other_patient_keys: set[str] = set()
        self.sex_from_proxy = False
        # indexes
        self.by_url: dict[str, dict[str, Any]] = {}
        # observations
        self.bp: list[tuple[_When, int, int, list[str]]] = []
        self.bp_parts: dict[tuple[dt.datetime, str | None], tuple[_When, dict[str, tuple[float, str]]]] = {}
        self.hr: list[_Reading] = []
        self.weight: list[_Reading] = []
        self.phq9: list[_Reading] = []
        self.audit: list[_Reading] = []
        self.preg_obs: list[tuple[_When, str, str]] = []
        self.hcg: list[tuple[_When, bool, str]] = []
        self.bf_obs: list[tuple[_When, bool, str]] = []
        # conditions
        self.substances: dict[str, set[str]] = {}
        self.psychosis: str | None = None
        self.bipolar: str | None = None
        self.mania: str | None = None
        self.suicidal_ideation: str | None = None
        self.suicidal_behavior: bool | None = None
        self.last_suicidal_behavior: dt.date | None = None
        self.psych: set[str] = set()
        self.medical: dict[tuple[str, str | None], None] = {}
        self.unrecognised_conditions: dict[str, dict[str, str]] = {}
        self.coded_allergies: dict[str, dict[str, str]] = {}
        self.preg_conditions: list[tuple[_When | None, str]] = []
        self.bf_condition = False
        # medications, allergies
        self.meds: set[str] = set()
        self.proposed: set[str] = set()
        self.allergies: set[str] = set()
        self.nka: list[str] = []

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def group(self, message: str, ref: str) -> None:
        self.grouped.setdefault(message, []).append(ref)

    def cite(self, key: str, *refs: str) -> None:
        self.prov.setdefault(key, set()).update(refs)

    def report_unmapped(self, ref: str, codings: list[tuple[str, str, str | None]], cc: Any, reason: str) -> None:
        rtype = ref.split("/", 1)[0]
        if not codings:
            key = (rtype, "", _label(cc) or "")
            self.unmapped.setdefault(
                key, {"resource": ref, "system": None, "code": None, "display": _label(cc), "reason": reason}
            )
            return
        system, code, display = codings[0]
        self.unmapped.setdefault(
            (rtype, system, code),
            {"resource": ref, "system": system, "code": code, "display": display or _label(cc), "reason": reason},
        )

    def days_ago(self, when: _When) -> int:
        return (self.as_of - when.day).days
