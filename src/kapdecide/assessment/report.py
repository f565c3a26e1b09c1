"""The report model: the JSON a program reads (``kapdecide schema report`` publishes its schema).

``assessment.assess_data`` builds the report as plain data in these models' field order;
``assessment.assess`` validates it into a ``Report`` for callers that want the models. This module
is imported only by them: a JSON report is written without building the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict

from kapdecide.core.contract import ExplainedKind, RuleKind, Status

if TYPE_CHECKING:
    from kapdecide.protocol.loaded import LoadedProtocol


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Out):
    """A profile value behind a finding: the field, its value, the test and the result."""

    field: str
    value: Any
    operator: str
    threshold: Any
    result: Literal["true", "false", "unknown"]


class EvidenceRef(_Out):
    """A cited source: citation, DOI or identifier, design and size."""

    id: str
    citation: str
    doi: str | None
    identifier: str | None
    design: str
    participants: int | None


class Finding(_Out):
    """A rule whose condition is true for this profile."""

    rule_id: str
    protocol_id: str
    kind: RuleKind
    title: str
    message: str
    action: str
    severity: str | None
    urgent: bool
    rationale: str | None
    triggered_by: list[Trigger]
    evidence: list[EvidenceRef]
    next_steps: list[str]
    strengthens: list[str]
    sources: list[str] = []
    """For FHIR input: the resources (``ResourceType/id``) the triggering values came from."""


class BloodPressureUsed(_Out):
    """The blood pressure the assessment read: the mean of the latest day's readings."""

    systolic_mmhg: int
    diastolic_mmhg: int
    taken_on: str
    readings: int
    """How many readings that day were averaged."""
    days_old: int | None
    used: bool
    """False when the reading is too old for the protocol (stale) and was not used."""


class BloodPressureReadingOut(_Out):
    """One recorded blood-pressure reading."""

    systolic_mmhg: int
    diastolic_mmhg: int
    taken_on: str


class PatientSummary(_Out):
    """The header facts a clinician checks first: who, and on which weight and blood pressure."""

    age: int | None
    sex_at_birth: str | None
    weight_kg: float | None
    """The weight the doses use (kg; converted from lb where recorded in lb; a --what-if weight wins)."""
    weight_date: str | None
    blood_pressure: BloodPressureUsed | None
    blood_pressure_readings: list[BloodPressureReadingOut]
    """Every recorded reading, oldest first."""


class DataToCollect(_Out):
    """A missing or could-not-check item, as the profile field to record and the question to ask."""

    path: str
    """The profile path to record (``[]`` means each entry of the list)."""
    ask: str
    fields: list[str]
    """The fact fields it supplies (as in missing_data)."""


class NotChecked(_Out):
    """A safety rule whose condition is unknown: it could not be checked, and counts as missing data."""

    rule_id: str
    protocol_id: str
    kind: RuleKind
    title: str
    needs: list[str]
    message: str


class StaleItem(_Out):
    """Dated data too old for the protocol: not used."""

    source: str
    days_old: int
    max_age_days: int
    fields: list[str]
    message: str


class CheckedMedication(_Out):
    """A recorded medication as read: its ingredients and interaction classes."""

    ingredient: str
    drug_class: str | None
    """The ingredient's first interaction class (None: a recognised ingredient with no interaction class)."""
    rxcui: str | None
    drug_classes: list[str]
    """Every class the terminology tables give the ingredient."""
    written_as: list[str]
    """The profile entries that named it (brand, salt, dose, combination or code, as written)."""
    proposed: bool
    """Named only by a proposed medication (draft or proposed order)."""


class DerivedValue(_Out):
    """A value the profile did not record but kapdecide derived (e.g. remission none when the last use
    is within 90 days): recording the field overrides it."""

    field: str
    value: str | int | float | bool
    reason: str


class UnrecognisedEntry(_Out):
    """A medication, allergy or condition the terminology tables do not recognise: kept, reported, and
    never read as absent. While any is listed the status is at best eligible_with_precautions."""

    list: str
    path: str
    entry: str
    message: str
    suggestion: str | None


class Medications(_Out):
    """The medications section: what was checked for interactions, and what could not be."""

    recorded: bool
    checked: list[CheckedMedication]
    not_checked: list[str]
    message: str


class TrialOut(_Out):
    """A trial behind a substance statement."""

    evidence_id: str
    design: str
    participants: int | None
    regimen: str
    adjunct: str | None
    outcome: str


class SubstanceEvidenceOut(_Out):
    """The evidence for ketamine in one of the patient's substances."""

    substance: str
    grade: str | None
    insufficient_evidence: bool
    statement: str
    summary: str | None
    trials: list[TrialOut]
    evidence: list[EvidenceRef]


class DoseOut(_Out):
    """A regimen's dose for this patient."""

    description: str
    mg_per_kg: float | None
    fixed_mg: float | None
    max_mg: float | None
    weight_kg: float | None
    weight: str
    """The weight the dose uses, with its unit as recorded and the date it was measured."""
    computed_mg: float | None
    capped: bool
    text: str


class OptionOut(_Out):
    """One option for one indication: offered or excluded, with the reasons and the evidence."""

    option_id: str
    protocol_id: str
    title: str
    route: str
    setting: str
    approach: str
    indication: str | None
    grade: str | None
    state: Literal["offered", "excluded", "not_applicable"]
    reasons: list[str]
    dose: DoseOut | None
    """Worked out from the weight only when the option is offered; null otherwise."""
    sessions: str | None
    psychotherapy: str | None
    outcome: str | None
    monitoring: list[str]
    evidence: list[EvidenceRef]
    note: str | None
    supported_by: list[str] = []
    """Info findings (rule ids) that strengthen the case for this option, e.g. treatment-resistant depression."""


class PreDoseCheck(_Out):
    """A check before each dose, from the protocol's own rules."""

    rule_id: str
    title: str
    do_not_dose_if: str
    action: str


class HoldOut(_Out):
    """A reason to hold a dose on the day."""

    id: str
    when: str
    action: str
    evidence: list[str]


class SessionChecklist(_Out):
    """Generated from the protocol's session plan and its own rules, so decision and monitoring agree."""

    protocol_id: str
    applies_to: list[str]
    pre_dose: list[PreDoseCheck]
    pre_dose_checks: list[str]
    in_session_holds: list[HoldOut]
    observation_minutes: int
    observation: str
    discharge: list[str]
    follow_up: list[str]
    evidence: list[EvidenceRef]


class NextStep(_Out):
    """A next step with its plain label."""

    id: str
    label: str


class LeafExplanation(_Out):
    """One test of a condition with the profile's value and its result."""

    path: str
    field: str
    label: str
    value: Any
    operator: str
    threshold: Any
    result: Literal["true", "false", "unknown"]


class RuleExplanation(_Out):
    """Why a rule (or an option exclusion) did or did not fire."""

    protocol_id: str
    rule_id: str
    kind: ExplainedKind
    title: str
    result: Literal["true", "false", "unknown"]
    fired: bool
    leaves: list[LeafExplanation]


class Scenario(_Out):
    """One value of unknown data and the status it would give."""

    values: dict[str, Any]
    status: str
    findings: list[str]
    """Findings (rule ids) this scenario adds to those of the profile as given."""


class WhatIf(_Out):
    """What would change the answer if an unknown field (or field group) were known."""

    fields: list[str]
    label: str
    scenarios: list[Scenario]


class ProtocolRef(_Out):
    """Id, version, title and sha256 of a protocol used."""

    id: str
    version: str
    title: str
    sha256: str


class UnmappedCode(_Out):
    """A FHIR code the importer does not know: reported, never guessed."""

    resource: str | None
    system: str | None
    code: str | None
    display: str | None
    reason: str | None


class InputSource(_Out):
    """Where the profile came from when it was not given directly (FHIR R4 Bundle)."""

    format: Literal["fhir-r4"]
    patient_id: str | None
    resources_read: int
    warnings: list[str]
    unmapped: list[UnmappedCode]
    """Codes the FHIR mapping does not know: reported, never guessed."""


def protocol_ref(lp: LoadedProtocol) -> ProtocolRef:
    """Id, version, title and sha256 of a loaded protocol, as reports and receipts carry them."""
    return ProtocolRef.model_validate(lp.ref_data())


class Receipt(_Out):
    """What the report was computed from, so that it can be replayed and audited."""

    profile_sha256: str
    """sha256 of the canonical profile: its validated content as sorted, compact JSON (key order,
    formatting and YAML vs JSON do not change it)."""
    protocols: list[ProtocolRef]
    kapdecide_version: str
    as_of: str
    what_if_overrides: dict[str, Any]

    def sha256(self) -> str:
        """sha256 of the receipt as sorted, compact JSON: one id for "this profile, these protocols,
        this date", printed short in the text and HTML headers and in the service's audit log."""
        import hashlib
        import json

        data = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(data.encode()).hexdigest()


class Report(_Out):
    """The assessment report (``kapdecide schema report`` publishes its JSON Schema)."""

    schema_version: str
    kapdecide_version: str
    what_if_overrides: dict[str, Any]
    """Fact values replaced with --what-if (null: made unknown). Non-empty means a HYPOTHETICAL result."""
    disclaimer: str
    assessed_on: str
    patient_ref: str | None
    patient: PatientSummary
    input_line: int | None = None
    """In a batch: the input line this report answers (1-based; lines are framed on LF only), so that a
    caller can always pair reports with patients. None for a single report."""
    status: Status
    status_summary: str
    protocols: list[ProtocolRef]
    findings: list[Finding]
    not_checked: list[NotChecked]
    missing_data: list[str]
    data_to_collect: list[DataToCollect]
    """missing_data as the profile fields to record, one per field, with the question in plain words."""
    stale_data: list[StaleItem]
    medications: Medications
    unrecognised: list[UnrecognisedEntry]
    """Entries not recognised: review by hand (the status is never better than eligible_with_precautions)."""
    derived: list[DerivedValue]
    """Values derived rather than recorded, with the reason; each is shown to the clinician."""
    substances: list[SubstanceEvidenceOut]
    options: list[OptionOut]
    session_checklists: list[SessionChecklist]
    """For offered options: pre-dose checks (printed from the protocol's own rules), in-session holds,
    observation, discharge and follow-up."""
    standard_care: list[str]
    next_steps: list[NextStep]
    receipt: Receipt
    input_source: InputSource | None = None
    """Set for FHIR input: the Bundle's patient, mapping warnings and unmapped codes."""
    explanation: list[RuleExplanation] | None = None
    """With --explain: every rule and option exclusion, each condition leaf with value, operator, threshold, result."""
    what_would_change: list[WhatIf] | None = None
    """With --explain: for each unknown that blocks the decision, the status under representative values."""
