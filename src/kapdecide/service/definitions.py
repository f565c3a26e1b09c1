"""The CDS Services kapdecide offers, and the discovery document that lists them.

Each service asks for the same prefetch: the Patient, their Conditions, medications (requests,
statements, dispenses), AllergyIntolerance, and the Observations the FHIR importer reads, by the
LOINC codes it reads them by (``inputs/fhir/observation_codes.py``), so the client sends no
Observation kapdecide would ignore. The Patient is the one key without which no assessment is made
(412 when it is missing and cannot be fetched).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kapdecide.inputs.fhir import observation_codes as oc

#: Observation codes the importer reads: blood pressure panels and components, heart rate, weight,
#: PHQ-9 total, pregnancy status and qualitative hCG (sorted, so discovery is byte-stable).
OBSERVATION_CODES: tuple[str, ...] = tuple(
    sorted(
        oc.BP_PANELS
        | oc.SYSTOLIC
        | oc.DIASTOLIC
        | oc.HEART_RATE
        | oc.WEIGHT
        | oc.PHQ9_TOTAL
        | {oc.PREGNANCY_STATUS}
        | oc.HCG_QUALITATIVE
    )
)

PATIENT_KEY = "patient"
PREFETCH: dict[str, str] = {
    PATIENT_KEY: "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationDispenses": "MedicationDispense?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}&code=" + ",".join(OBSERVATION_CODES),
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
REQUIRED_KEYS = frozenset({PATIENT_KEY})
#: The resource type each search key of PREFETCH asks for ("conditions" -> "Condition").
SEARCH_TYPES: dict[str, str] = {k: t.partition("?")[0] for k, t in PREFETCH.items() if k != PATIENT_KEY}

USAGE = (
    "Decision support for clinician review, never a decision. Prefetch (or --allow-fhir-fetch with "
    "fhirAuthorization) must include the Patient; without it the service answers 412. Every other key "
    "that is missing leaves its data unknown, which kapdecide reports as could not be checked, never as absent. "
    "Requests carry a CDS Hooks JWT signed by an issuer the deployment trusts."
)

#: Drugs whose draft orders the order services act on (names as the FHIR importer reads them).
ORDER_DRUGS = frozenset({"ketamine", "esketamine"})


@dataclass(frozen=True)
class Service:
    """One CDS Service: its id (the URL path), the hook it answers, and what it says about itself."""

    id: str
    hook: str
    title: str
    description: str

    @property
    def orders(self) -> bool:
        """Whether the hook carries ``context.draftOrders``."""
        return self.hook in ("order-select", "order-sign")

    def discovery(self) -> dict[str, Any]:
        """The service's entry in the discovery document."""
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(PREFETCH),
            "usageRequirements": USAGE,
        }


_ORDER_TEXT = (
    "Checks a draft ketamine or esketamine order against the ketamine-assisted therapy protocol for "
    "substance use disorders: the drafted drug is added to the patient's medications as proposed and "
    "checked for interactions; a contraindication carries a suggestion to remove the draft."
)

SERVICES: dict[str, Service] = {
    s.id: s
    for s in (
        Service(
            "kapdecide-patient-view",
            "patient-view",
            "Ketamine-assisted therapy screening (kapdecide)",
            "Screens the patient against the ketamine-assisted therapy protocol for substance use disorders: "
            "status (eligible, with precautions, incomplete, deferred, contraindicated), contraindications, "
            "data to confirm, and the options offered, each traced to its source data and evidence.",
        ),
        Service(
            "kapdecide-order-select",
            "order-select",
            "Ketamine order check at selection (kapdecide)",
            _ORDER_TEXT,
        ),
        Service("kapdecide-order-sign", "order-sign", "Ketamine order check before signing (kapdecide)", _ORDER_TEXT),
    )
}


def discovery_document() -> dict[str, Any]:
    """``GET /cds-services``: every service, in a fixed order."""
    return {"services": [s.discovery() for s in SERVICES.values()]}
