"""Name the FHIR resources behind each finding, from the importer's provenance map.

The importer records, per profile item (``medications.diazepam``, ``vitals.blood_pressure``…),
the resources it read; a finding's triggering fact fields are traced back to those items.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from kapdecide.assessment.report import Finding, InputSource, Report, UnmappedCode
from kapdecide.inputs.terminology import ingredient_classes


def _keys(field: str, threshold: object, provenance: Mapping[str, list[str]]) -> Iterator[str]:
    parts = field.split(".")
    value = threshold if isinstance(threshold, str) else None
    if field.startswith("vitals.bp_"):
        yield "vitals.blood_pressure"
    elif parts[0] in ("patient", "screening") or field == "vitals.heart_rate_bpm":
        yield field
    elif parts[0] == "pregnancy":
        yield from ("pregnancy.status", "pregnancy.last_negative_test", "pregnancy.breastfeeding")
    elif parts[0] == "substance_use":
        if len(parts) == 3:
            yield f"substance_use.{parts[1]}"
        elif field == "substance_use.substances" and value:
            yield f"substance_use.{value}"
        else:
            yield from (k for k in provenance if k.startswith("substance_use."))
    elif field == "psychiatric.conditions" and value:
        yield f"psychiatric.conditions.{value}"
    elif parts[0] == "psychiatric":
        yield field
    elif field == "medical.conditions" and value:
        yield f"medical_conditions.{value}"
    elif parts[0] == "medical":
        yield from (k for k in provenance if k.startswith("medical_conditions."))
    elif parts[0] == "medications":
        cls = value if field == "medications.classes" and value else parts[2] if parts[1] == "by_class" else None
        if cls is not None:  # the imported drugs of that class, by the same tables the facts used
            for key in provenance:
                if key.startswith(("medications.", "proposed_medications.")):
                    if str(cls) in ingredient_classes(key.split(".", 1)[1]):
                        yield key
        elif value:
            yield f"medications.{value}"
        else:
            yield from (k for k in provenance if k.startswith(("medications.", "proposed_medications.")))
    elif parts[0] == "allergies":
        yield from (k for k in provenance if k == "allergies" or k.startswith("allergies."))


def sources_for(finding: Finding, provenance: Mapping[str, list[str]]) -> list[str]:
    """Resources behind a finding's triggering values (sorted, unique)."""
    refs: set[str] = set()
    for t in finding["triggered_by"]:
        for key in _keys(t["field"], t["threshold"], provenance):
            refs.update(provenance.get(key, ()))
    return sorted(refs)


def annotate(report: Report, provenance: Mapping[str, list[str]], source: InputSource) -> Report:
    """The report with each finding's FHIR sources and the input summary."""
    findings: list[Finding] = [{**f, "sources": sources_for(f, provenance)} for f in report["findings"]]
    return {**report, "findings": findings, "input_source": source}


def input_source(
    patient_id: str | None, resources_read: int, warnings: list[str], unmapped: list[dict[str, str | None]]
) -> InputSource:
    """The report's summary of a FHIR import."""
    return InputSource(
        format="fhir-r4",
        patient_id=patient_id,
        resources_read=resources_read,
        warnings=list(warnings),
        unmapped=[
            UnmappedCode(
                resource=u.get("resource"),
                system=u.get("system"),
                code=u.get("code"),
                display=u.get("display"),
                reason=u.get("reason"),
            )
            for u in unmapped
        ],
    )
