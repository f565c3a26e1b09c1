"""FHIR R4 import: a patient Bundle (JSON) becomes a kapdecide profile, with provenance.

Plain ``json`` data and dict access, one indexing pass and one mapping pass over the entries (no
typed FHIR model: importing one costs about a second per call, see ``shared/fhir-samples/README.md``).
Code tables live in :mod:`kapdecide.fhir_codes`; FHIR patterns follow ``shared/fhir-mapping.md``.

Fail safe. What the bundle does not say stays unknown: nothing is set to ``none``, ``false`` or ``[]``
from absence. Every list the importer fills is named in ``incomplete_lists``, because a record's list
is not a complete answer. Codes the tables do not know are reported in ``unmapped``, never guessed;
a *current* Condition whose codes map to nothing is also kept in ``medical_conditions`` as a coded
entry, so the assessment lists it as not recognised and never reads it as absent. Codes are read
through :mod:`kapdecide.terminology` (value-set tables, ICD-10-CM structure, curated codes); a
medication or allergy with no known code is read by its text or display like a clinician's free
text (brands, salts, doses, combinations).
Skipped data (implausible, dated after the assessment, malformed) is reported in ``warnings``.

Conservative choices (DESIGN CHOICE, documented here and in the importer's report):

- Age: from a full ``birthDate``. A partial one (``1988`` or ``1988-10``) that leaves the age
  ambiguous on the assessment date gives *no* age (warned): either end of the range can cross a
  protocol threshold (under 18, 65 or over), so neither end is conservative for every rule.
- Sex at birth: the US Core birthsex extension (F/M); otherwise administrative ``gender`` (male or
  female only) as a proxy, with a warning. Positive evidence of pregnancy or breastfeeding in a
  patient recorded as male drops ``sex_at_birth`` (warned) and keeps the pregnancy evidence.
- Pregnancy: ``pregnant`` from a current pregnancy Condition, a pregnancy-status Observation or a
  positive qualitative hCG, if dated within 300 days (an older "current" pregnancy is a stale record:
  status left unknown, warned); ``not_pregnant`` only from a pregnancy-status Observation "Not
  pregnant" within 30 days and never against positive evidence. ``last_negative_test`` is the latest
  negative qualitative hCG not followed by a positive one. For a male patient without positive
  evidence the pregnancy section is left out (so the profile's male default applies), warned.
- Point-in-time values are taken from the latest usable reading and only if recent: heart rate and
  PHQ-9 within 30 days, weight within 90 days, AUDIT within 365 days. Blood pressure: every usable
  reading is kept; kapdecide itself applies the protocol's freshness limit.
- Conditions: clinicalStatus active/recurrence/relapse is current; inactive/remission/resolved is
  history; absent falls back to ``abatement[x]``. refuted and entered-in-error are dropped;
  unconfirmed, provisional and differential are *used* (a possible contraindication is not dropped)
  and warned. Psychosis, aneurysm, haemorrhage, stroke, MI and similar are lifetime history
  (``fhir_codes.LIFETIME_MEDICAL``); other medical and psychiatric co-occurring conditions are listed
  only while current. A substance use disorder is listed whatever its status (remission is history of
  the disorder) with severity, remission, last use and withdrawal left unknown.
- Suicidality: a current suicidal-ideation Condition dated within 30 days is recorded as
  ``active_without_plan`` (severity is never coded; the conservative reading), otherwise it is only
  warned. A suicide attempt dated within 90 days sets ``suicidal_behavior_past_3_months: true``.
- Medications: MedicationRequest active/on-hold and MedicationStatement active/intended are current;
  completed/stopped are history (not listed); cancelled and entered-in-error are ignored; ``unknown``
  is listed with a warning. A product the tables do not know keeps its name, so that the report shows
  it as "not checked for interactions".
- Dispensed and administered drugs are current medications when recent (the record of a supply is
  evidence of use; an interaction is flagged rather than missed):

  - MedicationDispense with status completed, in-progress or on-hold (or no status) is current if
    ``whenHandedOver`` (else ``whenPrepared``) is at most ``daysSupply`` + 30 days
    (``DISPENSE_GRACE_DAYS``) before the assessment date when ``daysSupply`` is a Quantity in days
    (unit ``d``, ``day`` or ``days``), else at most 90 days (``DISPENSE_DEFAULT_DAYS``) before it.
  - MedicationAdministration with status completed, in-progress or on-hold is current if
    ``effectiveDateTime`` (or ``effectivePeriod``: its end, else its start) is at most 30 days
    (``ADMINISTRATION_MAX_AGE_DAYS``) before the assessment date; an in-progress administration with
    an open period (no end) is ongoing, so current whatever its start.
  - entered-in-error, cancelled, declined, not-done and stopped are ignored. Any other status
    (``preparation``, ``unknown``, unrecognised) and a record with no date are listed as current with
    a warning. Older records are not current (grouped in a warning); records dated after the
    assessment date are ignored (grouped in a warning), as for requests and statements.
- Proposed medications: a MedicationRequest with status ``draft``, or intent ``proposal`` with status
  active, draft or on-hold, is a drug being considered, not taken: its names go to
  ``proposed_medications`` (provenance ``proposed_medications.<name>``, not in ``incomplete_lists``),
  with a warning, so that the report checks it for interactions instead of silently dropping it.
- The input must say whose record it is: a Bundle with no Patient resource is invalid input
  (``InvalidInputError``, exit 2), never an empty profile. FHIR XML (:func:`is_fhir_xml`) and a
  CDS Hooks request (:func:`cds_hooks_hook`) are recognised by the callers and refused with a message
  that says what the input is.
- Allergies: active and not refuted/entered-in-error. "No known allergy" (716186003) never becomes an
  allergy; alone, it gives ``allergies: []`` as a recorded answer (the one list not marked incomplete).
"""

from __future__ import annotations

from kapdecide.inputs.fhir.bundle import FhirImport, map_bundle
from kapdecide.inputs.fhir.values import (
    ADMINISTRATION_MAX_AGE_DAYS,
    AUDIT_MAX_AGE_DAYS,
    BREASTFEEDING_TRUE_MAX_AGE_DAYS,
    DISPENSE_DEFAULT_DAYS,
    DISPENSE_GRACE_DAYS,
    HR_MAX_AGE_DAYS,
    NO_PATIENT_MESSAGE,
    NOT_PREGNANT_MAX_AGE_DAYS,
    PHQ9_MAX_AGE_DAYS,
    PREGNANT_MAX_AGE_DAYS,
    READ_TYPES,
    SUICIDAL_BEHAVIOR_DAYS,
    SUICIDAL_IDEATION_DAYS,
    WEIGHT_MAX_AGE_DAYS,
)
from kapdecide.inputs.sniff import (
    FHIR_NAMESPACE,
    FHIR_XML_MESSAGE,
    cds_hooks_hook,
    cds_hooks_message,
    is_fhir_bundle,
    is_fhir_xml,
)

__all__ = [
    "ADMINISTRATION_MAX_AGE_DAYS",
    "AUDIT_MAX_AGE_DAYS",
    "BREASTFEEDING_TRUE_MAX_AGE_DAYS",
    "DISPENSE_DEFAULT_DAYS",
    "DISPENSE_GRACE_DAYS",
    "FHIR_NAMESPACE",
    "FHIR_XML_MESSAGE",
    "HR_MAX_AGE_DAYS",
    "NOT_PREGNANT_MAX_AGE_DAYS",
    "NO_PATIENT_MESSAGE",
    "PHQ9_MAX_AGE_DAYS",
    "PREGNANT_MAX_AGE_DAYS",
    "READ_TYPES",
    "SUICIDAL_BEHAVIOR_DAYS",
    "SUICIDAL_IDEATION_DAYS",
    "WEIGHT_MAX_AGE_DAYS",
    "FhirImport",
    "cds_hooks_hook",
    "cds_hooks_message",
    "is_fhir_bundle",
    "is_fhir_xml",
    "map_bundle",
]
