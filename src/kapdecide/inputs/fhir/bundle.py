"""The Bundle: index it, choose the Patient, read each resource once (its latest version), dispatch
it to its mapper, and assemble the profile."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from kapdecide.core.errors import InvalidInputError
from kapdecide.inputs.fhir.allergies import Allergies
from kapdecide.inputs.fhir.conditions import Conditions
from kapdecide.inputs.fhir.medications import Medications
from kapdecide.inputs.fhir.observations import Observations
from kapdecide.inputs.fhir.patient import Patients
from kapdecide.inputs.fhir.values import (
    AUDIT_MAX_AGE_DAYS,
    NO_PATIENT_MESSAGE,
    PHQ9_MAX_AGE_DAYS,
    READ_TYPES,
    WEIGHT_MAX_AGE_DAYS,
    _clean,
    _dict,
    _entered_in_error,
    _list,
    _s,
    _strip_history,
    _version_key,
)
from kapdecide.inputs.sniff import is_fhir_bundle


@dataclass(frozen=True)
class FhirImport:
    """The result of mapping one Bundle."""

    profile: dict[str, Any]
    """Plain data in the profile format (validates with ``profile.validate_profile_data``)."""
    provenance: dict[str, list[str]]
    """Profile item (e.g. ``medications.diazepam``) -> sorted unique ``ResourceType/id`` references."""
    unmapped: list[dict[str, str | None]]
    """Codes the tables do not know: ``{resource, system, code, display, reason}``, one per
    (resource type, system, code), naming the first resource that carried it."""
    warnings: list[str]
    resources_read: int
    """Resources of the types the importer reads that belong to the imported Patient (incl. it)."""
    patient_id: str | None


def map_bundle(bundle: dict[str, Any], as_of: dt.date) -> FhirImport:
    """Map a FHIR R4 Bundle to a profile for an assessment on ``as_of``.

    Raises :class:`InvalidInputError` when the Bundle has no Patient resource."""
    return _Mapper(as_of).run(bundle)


class _Mapper(Patients, Observations, Conditions, Medications, Allergies):
    def run(self, bundle: dict[str, Any]) -> FhirImport:
        entries = _list(bundle.get("entry")) if isinstance(bundle, dict) else []
        if not is_fhir_bundle(bundle):
            self.warn("input is not a FHIR Bundle: nothing imported")
        resources: list[tuple[int, str | None, dict[str, Any]]] = []
        patients: list[tuple[str | None, dict[str, Any]]] = []
        for i, entry in enumerate(entries):
            resource = _dict(entry).get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not _s(resource.get("resourceType")):
                self.warn(f"entry {i} skipped: no resource with a resourceType")
                continue
            url = _s(_dict(entry).get("fullUrl"))
            rtype = resource["resourceType"]
            rid = _s(resource.get("id"))
            if url:
                self.by_url[url] = resource
            if rid:
                self.by_url[f"{rtype}/{rid}"] = resource
            if rtype == "Patient":
                patients.append((url, resource))
            elif rtype in READ_TYPES:
                resources.append((i, url, resource))
        self.choose_patient([(url, p) for _, url, p in self.latest_versions([(0, url, p) for url, p in patients])])
        if self.patient_id is not None or self.patient_keys:
            for i, _url, resource in self.latest_versions(resources):
                ref = self.ref_of(resource, i)
                try:
                    self.dispatch(resource, ref)
                except Exception as exc:  # one malformed resource must not sink the import
                    self.warn(f"{ref} skipped: malformed resource ({type(exc).__name__}: {_clean(str(exc), 120)})")
        elif resources:
            self.warn(
                "the Patient has no id and no fullUrl: no resource can be attributed to it, only its demographics "
                "were imported"
            )
        return self.result()

    def latest_versions(
        self, items: list[tuple[int, str | None, dict[str, Any]]]
    ) -> list[tuple[int, str | None, dict[str, Any]]]:
        """One resource per type and id: the latest version (meta.versionId, then meta.lastUpdated,
        then the later entry) wins, and a latest version marked entered-in-error cancels the resource.
        The same reading twice in a Bundle would otherwise count twice (a blood-pressure mean)."""
        groups: dict[tuple[str, str], list[tuple[int, str | None, dict[str, Any]]]] = {}
        out: list[tuple[int, str | None, dict[str, Any]]] = []
        for item in items:
            rid = _s(item[2].get("id"))
            if rid is None:
                out.append(item)
            else:
                groups.setdefault((item[2]["resourceType"], rid), []).append(item)
        for (rtype, rid), versions in groups.items():
            if len(versions) > 1:
                self.group(
                    "resources that appeared more than once were read once (their latest version)", f"{rtype}/{rid}"
                )
            latest = max(enumerate(versions), key=lambda iv: (_version_key(iv[1][2]), iv[0]))[1]
            if _entered_in_error(latest[2]):
                if len(versions) > 1:
                    self.group("resources whose latest version is entered-in-error were cancelled", f"{rtype}/{rid}")
                continue
            out.append(latest)
        out.sort(key=lambda item: item[0])
        return out

    def ref_of(self, resource: dict[str, Any], index: int) -> str:
        rid = _s(resource.get("id"))
        return f"{resource['resourceType']}/{rid}" if rid else f"{resource['resourceType']}/(entry {index})"

    def choose_patient(self, patients: list[tuple[str | None, dict[str, Any]]]) -> None:
        if not patients:
            raise InvalidInputError(NO_PATIENT_MESSAGE, code="fhir-no-patient")
        if len(patients) > 1:
            ids = ", ".join(f"Patient/{_s(p.get('id')) or '?'}" for _, p in patients)
            self.warn(
                f"the bundle holds {len(patients)} Patients ({ids}); only the first was imported and the "
                "others' resources were ignored: check that this is the right patient"
            )
        for n, (url, p) in enumerate(patients):
            keys = {url} if url else set()
            pid = _s(p.get("id"))
            if pid:
                keys.add(f"Patient/{pid}")
            if n == 0:
                self.patient_id, self.patient_keys = pid, keys
                for ident in _list(p.get("identifier")):
                    ident = _dict(ident)
                    value, system = _s(ident.get("value")), _s(ident.get("system"))
                    if value:
                        self.patient_identifiers.add(value)
                        if system:
                            self.patient_identifiers.add(f"{system}|{value}")
            else:
                self.other_patient_keys |= keys
        self.read += 1
        try:
            self.map_patient(patients[0][1], f"Patient/{self.patient_id or '(entry)'}")
        except Exception as exc:
            self.warn(f"the Patient resource could not be read ({type(exc).__name__}); demographics left unknown")

    def belongs(self, reference: Any) -> bool:
        ref = _s(_dict(reference).get("reference"))
        if ref is None:
            return False
        ref = _strip_history(ref)
        if ref in self.patient_keys:
            return True
        pid = self.patient_id
        if pid and (ref == f"Patient/{pid}" or ref.endswith(f"/Patient/{pid}")):
            return True
        if ref.startswith("Patient?"):
            for part in ref[len("Patient?") :].split("&"):
                name, _, value = part.partition("=")
                if name == "identifier" and value in self.patient_identifiers:
                    return True
        return False

    def dispatch(self, r: dict[str, Any], ref: str) -> None:
        rtype = r["resourceType"]
        subject = r.get("patient") if rtype == "AllergyIntolerance" else r.get("subject")
        if not self.belongs(subject):
            target = _s(_dict(subject).get("reference"))
            if target is None:
                self.group(f"{rtype} resources without a subject were ignored", ref)
            else:
                self.group(f"{rtype} resources about another subject were ignored", ref)
            return
        self.read += 1
        handler = self.resource_handlers.get(rtype)
        if handler is not None:
            handler(r, ref)

    @cached_property
    def resource_handlers(self) -> dict[str, Callable[[dict[str, Any], str], None]]:
        """Resource type -> its mapper (the types in READ_TYPES besides Patient)."""
        return {
            "Observation": self.map_observation,
            "Condition": self.map_condition,
            "MedicationRequest": self.map_medication,
            "MedicationStatement": self.map_medication,
            "MedicationDispense": self.map_supply,
            "MedicationAdministration": self.map_supply,
            "AllergyIntolerance": self.map_allergy,
        }

    def result(self) -> FhirImport:
        profile: dict[str, Any] = {"assessed_on": self.as_of.isoformat()}
        incomplete: list[str] = []
        patient = self.patient_with_weight()
        pregnancy = self.pregnancy_section(patient)
        if patient:
            profile["patient"] = patient
        if pregnancy:
            profile["pregnancy"] = pregnancy
        vitals = self.vitals_section()
        if vitals:
            profile["vitals"] = vitals
        if self.substances:
            profile["substance_use"] = [{"substance": s} for s in sorted(self.substances)]
            incomplete.append("substance_use")
        psychiatric = self.psychiatric_section(incomplete)
        if psychiatric:
            profile["psychiatric"] = psychiatric
        self.list_sections(profile, incomplete)
        screening = self.screening_section()
        if screening:
            profile["screening"] = screening
        if incomplete:
            profile["incomplete_lists"] = incomplete
        for message, refs in self.grouped.items():
            shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            self.warn(f"{message} ({len(refs)}): {shown}")
        return FhirImport(
            profile=profile,
            provenance={k: sorted(refs) for k, refs in sorted(self.prov.items())},
            unmapped=list(self.unmapped.values()),
            warnings=list(self.warnings),
            resources_read=self.read,
            patient_id=self.patient_id,
        )

    def patient_with_weight(self) -> dict[str, Any]:
        patient = dict(self.patient)
        weight = self.latest(self.weight, WEIGHT_MAX_AGE_DAYS, "body weight", "patient.weight_kg")
        if weight is not None:
            if 0 < weight <= 650:
                patient["weight_kg"] = weight
                patient["weight_date"] = max(self.weight, key=lambda x: (x.when.key, x.ref)).when.day.isoformat()
            else:
                self.warn(f"implausible body weight {weight} kg: skipped")
                self.prov.pop("patient.weight_kg", None)
        return patient

    def psychiatric_section(self, incomplete: list[str]) -> dict[str, Any]:
        psychiatric: dict[str, Any] = {}
        last = self.last_suicidal_behavior
        for key, value in (
            ("psychotic_disorder", self.psychosis),
            ("bipolar_disorder", self.bipolar),
            ("mania", self.mania),
            ("suicidal_ideation", self.suicidal_ideation),
            ("suicidal_behavior_past_3_months", self.suicidal_behavior),
            ("last_suicidal_behavior", None if last is None else last.isoformat()),
        ):
            if value is not None:
                psychiatric[key] = value
        if self.psych:
            psychiatric["conditions"] = sorted(self.psych)
            incomplete.append("psychiatric.conditions")
        return psychiatric

    def list_sections(self, profile: dict[str, Any], incomplete: list[str]) -> None:
        """Medical conditions, medications, proposed medications and allergies: what the record lists."""
        if self.medical or self.unrecognised_conditions:
            profile["medical_conditions"] = [
                slug if date is None else {"condition": slug, "date": date}
                for slug, date in sorted(self.medical, key=lambda x: (x[0], x[1] or ""))
            ] + [self.unrecognised_conditions[k] for k in sorted(self.unrecognised_conditions)]
            incomplete.append("medical_conditions")
        if self.meds:
            profile["medications"] = sorted(self.meds)
            incomplete.append("medications")
        if self.proposed:
            profile["proposed_medications"] = sorted(self.proposed)  # what the record proposes: not a list to complete
        if self.allergies or self.coded_allergies:
            profile["allergies"] = sorted(self.allergies) + [
                self.coded_allergies[k] for k in sorted(self.coded_allergies)
            ]
            incomplete.append("allergies")
            if self.nka:
                self.warn(f"'no known allergy' ({', '.join(self.nka)}) contradicts active allergies: allergies listed")
        elif self.nka:
            profile["allergies"] = []  # an explicit "no known allergy" assertion: a recorded answer
            self.cite("allergies", *self.nka)

    def screening_section(self) -> dict[str, Any]:
        screening: dict[str, Any] = {}
        for name, readings, max_age, hi in (
            ("phq9", self.phq9, PHQ9_MAX_AGE_DAYS, 27),
            ("audit", self.audit, AUDIT_MAX_AGE_DAYS, 40),
        ):
            score = self.latest(readings, max_age, name.upper().replace("PHQ9", "PHQ-9"), f"screening.{name}")
            if score is None:
                continue
            if score != int(score) or not 0 <= score <= hi:
                self.warn(f"implausible {name} score {score}: skipped")
                self.prov.pop(f"screening.{name}", None)
                continue
            screening[name] = int(score)
        return screening
