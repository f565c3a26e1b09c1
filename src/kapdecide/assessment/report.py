"""The report: the JSON a program reads, declared once (``kapdecide schema report`` publishes its schema).

The report is plain JSON-ready data typed by these TypedDicts: ``assessment.assess`` builds it (mypy
holds the builder to the keys and types here), every renderer reads it, and its JSON Schema is
generated from the same classes through pydantic. There is no second copy to keep in step, and no
validation or model building on the way out. Parts that depend on the protocol alone are shared
between reports: treat a report as read-only and copy (``{**report, ...}``) to change it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired, cast

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict

from kapdecide.core.contract import ExplainedKind, RuleKind, Status

if TYPE_CHECKING:
    from kapdecide.protocol.loaded import LoadedProtocol


_CLOSED = ConfigDict(extra="forbid")


@with_config(_CLOSED)
class Trigger(TypedDict):
    """A profile value behind a finding: the field, its value, the test and the result."""

    field: str
    value: Any
    operator: str
    threshold: Any
    result: Literal["true", "false", "unknown"]


@with_config(_CLOSED)
class EvidenceRef(TypedDict):
    """A cited source: citation, DOI or identifier, design and size."""

    id: str
    citation: str
    doi: str | None
    identifier: str | None
    design: str
    participants: int | None


@with_config(_CLOSED)
class Finding(TypedDict):
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
    sources: NotRequired[Annotated[list[str], Field(default=[])]]
    """For FHIR input: the resources (``ResourceType/id``) the triggering values came from."""


@with_config(_CLOSED)
class BloodPressureUsed(TypedDict):
    """The blood pressure the assessment read: the mean of the latest day's readings."""

    systolic_mmhg: int
    diastolic_mmhg: int
    taken_on: str
    readings: int
    """How many readings that day were averaged."""
    days_old: int | None
    used: bool
    """False when the reading is too old for the protocol (stale) and was not used."""


@with_config(_CLOSED)
class BloodPressureReadingOut(TypedDict):
    """One recorded blood-pressure reading."""

    systolic_mmhg: int
    diastolic_mmhg: int
    taken_on: str


@with_config(_CLOSED)
class PatientSummary(TypedDict):
    """The header facts a clinician checks first: who, and on which weight and blood pressure."""

    age: int | None
    sex_at_birth: str | None
    weight_kg: float | None
    """The weight the doses use (kg; converted from lb where recorded in lb; a --what-if weight wins)."""
    weight_date: str | None
    blood_pressure: BloodPressureUsed | None
    blood_pressure_readings: list[BloodPressureReadingOut]
    """Every recorded reading, oldest first."""


@with_config(_CLOSED)
class DataToCollect(TypedDict):
    """A missing or could-not-check item, as the profile field to record and the question to ask."""

    path: str
    """The profile path to record (``[]`` means each entry of the list)."""
    ask: str
    fields: list[str]
    """The fact fields it supplies (as in missing_data)."""


@with_config(_CLOSED)
class NotChecked(TypedDict):
    """A safety rule whose condition is unknown: it could not be checked, and counts as missing data."""

    rule_id: str
    protocol_id: str
    kind: RuleKind
    title: str
    needs: list[str]
    message: str


@with_config(_CLOSED)
class StaleItem(TypedDict):
    """Dated data too old for the protocol: not used."""

    source: str
    days_old: int
    max_age_days: int
    fields: list[str]
    message: str


@with_config(_CLOSED)
class CheckedMedication(TypedDict):
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


@with_config(_CLOSED)
class DerivedValue(TypedDict):
    """A value the profile did not record but kapdecide derived (e.g. remission none when the last use
    is within 90 days): recording the field overrides it."""

    field: str
    value: str | int | float | bool
    reason: str


@with_config(_CLOSED)
class UnrecognisedEntry(TypedDict):
    """A medication, allergy or condition the terminology tables do not recognise: kept, reported, and
    never read as absent. While any is listed the status is at best eligible_with_precautions."""

    list: str
    path: str
    entry: str
    message: str
    suggestion: str | None


@with_config(_CLOSED)
class Medications(TypedDict):
    """The medications section: what was checked for interactions, and what could not be."""

    recorded: bool
    checked: list[CheckedMedication]
    not_checked: list[str]
    message: str


@with_config(_CLOSED)
class TrialOut(TypedDict):
    """A trial behind a substance statement."""

    evidence_id: str
    design: str
    participants: int | None
    regimen: str
    adjunct: str | None
    outcome: str


@with_config(_CLOSED)
class SubstanceEvidenceOut(TypedDict):
    """The evidence for ketamine in one of the patient's substances."""

    substance: str
    grade: str | None
    insufficient_evidence: bool
    statement: str
    summary: str | None
    trials: list[TrialOut]
    evidence: list[EvidenceRef]


@with_config(_CLOSED)
class DoseOut(TypedDict):
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


@with_config(_CLOSED)
class OptionOut(TypedDict):
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
    supported_by: NotRequired[Annotated[list[str], Field(default=[])]]
    """Info findings (rule ids) that strengthen the case for this option, e.g. treatment-resistant depression."""


@with_config(_CLOSED)
class PreDoseCheck(TypedDict):
    """A check before each dose, from the protocol's own rules."""

    rule_id: str
    title: str
    do_not_dose_if: str
    action: str


@with_config(_CLOSED)
class HoldOut(TypedDict):
    """A reason to hold a dose on the day."""

    id: str
    when: str
    action: str
    evidence: list[str]


@with_config(_CLOSED)
class SessionChecklist(TypedDict):
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


@with_config(_CLOSED)
class NextStep(TypedDict):
    """A next step with its plain label."""

    id: str
    label: str


@with_config(_CLOSED)
class LeafExplanation(TypedDict):
    """One test of a condition with the profile's value and its result."""

    path: str
    field: str
    label: str
    value: Any
    operator: str
    threshold: Any
    result: Literal["true", "false", "unknown"]


@with_config(_CLOSED)
class RuleExplanation(TypedDict):
    """Why a rule (or an option exclusion) did or did not fire."""

    protocol_id: str
    rule_id: str
    kind: ExplainedKind
    title: str
    result: Literal["true", "false", "unknown"]
    fired: bool
    leaves: list[LeafExplanation]


@with_config(_CLOSED)
class Scenario(TypedDict):
    """One value of unknown data and the status it would give."""

    values: dict[str, Any]
    status: str
    findings: list[str]
    """Findings (rule ids) this scenario adds to those of the profile as given."""


@with_config(_CLOSED)
class WhatIf(TypedDict):
    """What would change the answer if an unknown field (or field group) were known."""

    fields: list[str]
    label: str
    scenarios: list[Scenario]


@with_config(_CLOSED)
class ProtocolRef(TypedDict):
    """Id, version, title and sha256 of a protocol used."""

    id: str
    version: str
    title: str
    sha256: str


@with_config(_CLOSED)
class UnmappedCode(TypedDict):
    """A FHIR code the importer does not know: reported, never guessed."""

    resource: str | None
    system: str | None
    code: str | None
    display: str | None
    reason: str | None


@with_config(_CLOSED)
class InputSource(TypedDict):
    """Where the profile came from when it was not given directly (FHIR R4 Bundle)."""

    format: Literal["fhir-r4"]
    patient_id: str | None
    resources_read: int
    warnings: list[str]
    unmapped: list[UnmappedCode]
    """Codes the FHIR mapping does not know: reported, never guessed."""


@with_config(_CLOSED)
class Receipt(TypedDict):
    """What the report was computed from, so that it can be replayed and audited."""

    profile_sha256: str
    """sha256 of the canonical profile: its validated content as sorted, compact JSON (key order,
    formatting and YAML vs JSON do not change it)."""
    protocols: list[ProtocolRef]
    kapdecide_version: str
    as_of: str
    what_if_overrides: dict[str, Any]


@with_config(_CLOSED)
class Report(TypedDict):
    """The assessment report (``kapdecide schema report`` publishes its JSON Schema)."""

    schema_version: str
    kapdecide_version: str
    what_if_overrides: dict[str, Any]
    """Fact values replaced with --what-if (null: made unknown). Non-empty means a HYPOTHETICAL result."""
    disclaimer: str
    assessed_on: str
    patient_ref: str | None
    patient: PatientSummary
    input_line: NotRequired[Annotated[int | None, Field(default=None)]]
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
    input_source: NotRequired[Annotated[InputSource | None, Field(default=None)]]
    """Set for FHIR input: the Bundle's patient, mapping warnings and unmapped codes."""
    explanation: NotRequired[Annotated[list[RuleExplanation] | None, Field(default=None)]]
    """With --explain: every rule and option exclusion, each condition leaf with value, operator, threshold, result."""
    what_would_change: NotRequired[Annotated[list[WhatIf] | None, Field(default=None)]]
    """With --explain: for each unknown that blocks the decision, the status under representative values."""


def protocol_ref(lp: LoadedProtocol) -> ProtocolRef:
    """Id, version, title and sha256 of a loaded protocol, as reports and receipts carry them."""
    return cast("ProtocolRef", lp.ref_data())


def receipt_sha256(receipt: Receipt) -> str:
    """sha256 of the receipt as sorted, compact JSON: one id for "this profile, these protocols,
    this date", printed short in the text and HTML headers and in the service's audit log."""
    import hashlib
    import json

    data = json.dumps(receipt, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


_ADAPTER: Any = None


def validate_report(data: Any) -> Report:
    """``data`` checked against the report's declaration (extra keys refused, defaults filled): for
    reports read back from outside (``replay``) and for the contract tests, never on the way out."""
    global _ADAPTER
    if _ADAPTER is None:
        from pydantic import TypeAdapter

        _ADAPTER = TypeAdapter(Report)
    return cast("Report", _ADAPTER.validate_python(data))
