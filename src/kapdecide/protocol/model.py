"""Models of a protocol file: metadata, evidence, rules, substance evidence and treatment options.

These are the file format that protocol authors write; the loader (``loader.py``) reads and checks
them, and ``schema.py`` publishes their JSON Schema for editors.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from kapdecide.core.contract import RuleKind
from kapdecide.core.vocabulary import Substance
from kapdecide.inputs.profile import _iso_date
from kapdecide.language.conditions import Condition

Slug = Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
EvidenceId = Annotated[StrictStr, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]
Text = Annotated[StrictStr, Field(min_length=1, max_length=2000)]
ProtocolDate = Annotated[dt.date, BeforeValidator(_iso_date)]
Grade = Literal["high", "moderate", "low", "very_low"]

GRADE_ORDER: dict[str, int] = {"high": 0, "moderate": 1, "low": 2, "very_low": 3}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    """A published source that rules and options cite."""

    id: EvidenceId
    """Short id, cited as ``[ID]`` (e.g. ``KARE-2022``)."""
    citation: Text
    """Full citation: authors, title, journal or publisher, year."""
    doi: Annotated[StrictStr, Field(pattern=r"^10\.\d{4,9}/\S+$")] | None = None
    """DOI without the ``doi:`` prefix. Sources without a DOI (labels, registries) give ``identifier``."""
    identifier: Text | None = None
    """Another stable identifier: PMID, NCT number, label set id, URL."""
    design: Literal[
        "rct",
        "systematic_review",
        "meta_analysis",
        "non_randomised_controlled",
        "crossover",
        "open_label",
        "case_series",
        "cohort",
        "retrospective",
        "trial_registration",
        "label",
        "guideline",
        "consensus",
        "review",
        "other",
    ]
    participants: Annotated[StrictInt, Field(ge=1)] | None = None
    """Number of participants, for studies."""
    verify: bool = False
    """True where a detail could not be checked against the primary text."""


class Tier(_Model):
    """Membership of a rule in a group of numeric tiers on the same field(s) (e.g. blood pressure)."""

    group: Slug
    nested_in: Slug | None = None
    """The rule this tier lies inside on purpose (severe hypertension inside the hold tier)."""


class Rule(_Model):
    """A safety rule: when its condition is true, the finding applies."""

    id: Slug
    kind: RuleKind
    """contraindication (absolute), deferral (temporary), required_data (safety-critical data),
    caution (relative contraindication or precaution), interaction (concurrent medication),
    info (does not change the status: e.g. a co-occurring condition that strengthens the case)."""
    title: Text
    when: Condition
    """The condition; for required_data, the condition under which the data is missing."""
    message: Text
    """What the clinician reads; ``{field}`` placeholders show profile facts."""
    action: Text
    """What to do."""
    rationale: Text | None = None
    """Why, including source disagreements and the conservative choice."""
    evidence: Annotated[list[EvidenceId], Field(min_length=1)]
    severity: Literal["major", "moderate", "minor"] | None = None
    """For interactions."""
    urgent: bool = False
    """Needs same-day action (severe hypertension, acute suicide risk)."""
    next_steps: list[Slug] = []
    """Next-step actions this finding calls for, from the documented list (e.g. withdrawal_management)."""
    strengthens: list[Slug] = []
    """For info rules: option ids whose case this finding strengthens."""
    tier: Tier | None = None
    """Numeric tiers of one group must not leave gaps or overlap unless ``nested_in`` declares it."""


class Freshness(_Model):
    """How old dated data may be before it is stale (reported, never used)."""

    source: Literal["blood_pressure"]
    max_age_days: Annotated[StrictInt, Field(ge=0, le=3650)]
    rationale: Text
    evidence: Annotated[list[EvidenceId], Field(min_length=1)]


class Trial(_Model):
    """One study behind a substance's grade, as the report shows it."""

    evidence: EvidenceId
    design: Text
    """Design and size in words, e.g. ``double-blind RCT, n=96``."""
    participants: Annotated[StrictInt, Field(ge=1)] | None = None
    regimen: Text
    """Dose, route and schedule."""
    adjunct: Text | None = None
    """Adjunct psychotherapy."""
    outcome: Text


class SubstanceEvidence(_Model):
    """The body of evidence for ketamine in one substance use disorder."""

    substance: Substance
    grade: Grade | Literal["none"]
    """GRADE certainty for reduced use / abstinence; ``none`` when no study was found."""
    insufficient_evidence: bool
    """True: no ketamine option is offered for this substance; the report says so plainly."""
    summary: Text
    evidence: list[EvidenceId] = []
    trials: list[Trial] = []


class Dose(_Model):
    """The dose as used in the cited trials."""

    mg_per_kg: Annotated[StrictFloat | StrictInt, Field(gt=0, le=10)] | None = None
    fixed_mg: Annotated[StrictFloat | StrictInt, Field(gt=0, le=1000)] | None = None
    max_mg: Annotated[StrictFloat | StrictInt, Field(gt=0, le=1000)] | None = None
    """A cap, only where the source gives one."""
    description: Text
    """The regimen in words, e.g. ``0.8 mg/kg IV over 40 min``."""


class Sessions(_Model):
    """How many sessions and how often."""

    count: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    description: Text
    """Number and spacing, e.g. ``3 infusions, 1 week apart``."""


class Regimen(_Model):
    """How an option was used for one substance (or co-occurring condition), with its grade."""

    substance: Substance | None = None
    condition: Slug | None = None
    """A co-occurring psychiatric condition, for options whose indication is not the substance."""
    grade: Grade
    evidence: Annotated[list[EvidenceId], Field(min_length=1)]
    dose: Dose
    sessions: Sessions
    psychotherapy: Text
    outcome: Text | None = None


class Exclusion(_Model):
    """A reason an option is not offered to this patient."""

    id: Slug
    when: Condition
    reason: Text
    evidence: list[EvidenceId] = []


class Option(_Model):
    """A treatment option for the clinician to review."""

    id: Slug
    title: Text
    route: Literal["iv", "im", "intranasal", "sublingual", "oral", "subcutaneous"]
    setting: Literal["clinic", "at_home"]
    approach: Text
    regimens: Annotated[list[Regimen], Field(min_length=1)]
    exclude_when: list[Exclusion] = []
    monitoring: Annotated[list[Text], Field(min_length=1)]
    note: Text | None = None
    insufficient_evidence: Text | None = None
    """Set when no evidence supports this option for any SUD: it is listed, never offered, with this text."""


class Hold(_Model):
    """An in-session threshold at which dosing is paused or stopped."""

    id: Slug
    when: Text
    """The threshold in words, e.g. ``blood pressure >=180 systolic or >=110 diastolic on two readings 5 min apart``."""
    action: Text
    evidence: Annotated[list[EvidenceId], Field(min_length=1)]


class SessionPlan(_Model):
    """The session checklist printed with every offered option, built from this protocol's own rules."""

    pre_dose_rules: Annotated[list[Slug], Field(min_length=1)]
    """Rules re-checked on every session day before dosing; their thresholds are printed from the rules."""
    pre_dose_checks: list[Text] = []
    """Checks with no profile field (e.g. breath alcohol 0.00)."""
    holds: Annotated[list[Hold], Field(min_length=1)]
    observation_minutes: Annotated[StrictInt, Field(ge=0, le=1440)]
    observation: Text
    discharge: Annotated[list[Text], Field(min_length=1)]
    follow_up: list[Text] = []
    evidence: Annotated[list[EvidenceId], Field(min_length=1)]


class ChangelogEntry(_Model):
    """One version of the protocol and what changed in it."""

    version: Text
    date: ProtocolDate
    changes: Annotated[list[Text], Field(min_length=1)]


class Protocol(_Model):
    """A clinical protocol file."""

    schema_ref: StrictStr | None = Field(default=None, alias="$schema")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    id: Slug
    title: Text
    version: Annotated[StrictStr, Field(pattern=r"^\d+\.\d+\.\d+$")]
    status: Literal["draft", "active", "retired"]
    last_reviewed: ProtocolDate
    review_interval_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 365
    authors: Annotated[list[Text], Field(min_length=1)]
    description: Text | None = None
    changelog: list[ChangelogEntry] = []
    evidence: Annotated[list[Evidence], Field(min_length=1)]
    freshness: list[Freshness] = []
    rules: list[Rule] = []
    substances: list[SubstanceEvidence] = []
    options: list[Option] = []
    session: SessionPlan | None = None
    standard_care: Text | None = None
    """First-line evidence-based care, always listed so that no patient is left with no option."""
