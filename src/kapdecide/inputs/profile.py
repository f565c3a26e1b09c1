"""The patient profile: pydantic models of the input contract, loading, and plausibility checks.

Absent or null means *unknown*; ``false``, ``none`` and ``[]`` are recorded answers. Unknown keys,
wrong types and implausible or contradictory values are rejected with file:line:col and the field
path. Plausibility limits follow the clinical reference, section 0.4; limits that section does not
give are marked DESIGN CHOICE below.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from kapdecide.core.clock import local_day
from kapdecide.core.errors import InvalidInputError
from kapdecide.core.vocabulary import Substance
from kapdecide.inputs.problems import pydantic_problems
from kapdecide.inputs.yaml_source import MAX_PROFILE_BYTES, SourceError, SourceMap, decode, load

# ---------------------------------------------------------------- typed scalars

LB_TO_KG = 0.45359237


#: 21/11/2026, 11-21-2026, 21.11.26: day-first or month-first, so never guessed.
_LOCAL_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")


def _iso_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _LOCAL_DATE.fullmatch(value.strip()):
        raise ValueError(f"{value!r} could be day/month or month/day: write dates as YYYY-MM-DD (e.g. 2026-11-21)")
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"write the date as YYYY-MM-DD, e.g. 2026-11-21 (got {value!r:.40})")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a real date (YYYY-MM-DD)") from None


def _iso_date_or_datetime(value: Any) -> dt.date:
    """A date, or a date-time of which only the calendar date is kept."""
    if isinstance(value, dt.date):
        return local_day(value) if isinstance(value, dt.datetime) else value
    if not isinstance(value, str) or not 8 <= len(value) <= 35:
        raise ValueError(
            f"write a date as YYYY-MM-DD or a date-time as YYYY-MM-DDTHH:MM, e.g. 2026-11-21T09:10 (got {value!r:.40})"
        )
    if len(value) <= 10:
        return _iso_date(value)
    try:
        return local_day(dt.datetime.fromisoformat(value))
    except ValueError:
        raise ValueError(f"{value!r} is not a real date-time (YYYY-MM-DDTHH:MM)") from None


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
IsoDateOrDateTime = Annotated[dt.date, BeforeValidator(_iso_date_or_datetime)]


def _number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = " without quotes" if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()) else ", e.g. 68.5"
        raise ValueError(f"write a number{hint} (got {value!r:.40})")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"write a finite number, e.g. 68.5 (got {value!r})")
    return value


_NUMBER_TEXT = re.compile(r"[-+]?\d+(\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _plain_text(value: str) -> str:
    # Control characters could rewrite the clinician's terminal (escape sequences) or hide text.
    if _CONTROL.search(value):
        raise ValueError("control characters (such as escape sequences or line breaks) are not allowed")
    return value


Number = Annotated[float | int, BeforeValidator(_number)]
ShortText = Annotated[StrictStr, Field(max_length=200), AfterValidator(_plain_text)]

Severity = Literal["mild", "moderate", "severe"]
Withdrawal = Literal["none", "active", "completed"]
Remission = Literal["none", "early", "sustained"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    NOUN: ClassVar[str] = ""
    """The model in words, for error messages ("a blood-pressure reading")."""
    EXAMPLE_FIELDS: ClassVar[tuple[str, ...]] = ()
    """The fields an error message's example shows (default: the required ones, else the first three)."""


def _recorded_list(example: list[Any]) -> Any:
    """A list field where ``[]`` and ``none`` record "there is none" (absent or null: unknown)."""

    def allow_word(schema: dict[str, Any]) -> None:
        schema.setdefault("anyOf", []).append({"const": "none", "description": "The same as []: there is none."})

    return Field(None, examples=[example], json_schema_extra=allow_word)


#: ``none`` on a recorded list is exactly ``[]`` (inputs.messages.RECORDED_NONE_LISTS names the same lists).
NoneIsEmpty = BeforeValidator(lambda value: [] if value == "none" else value)


# ---------------------------------------------------------------- sections


class Patient(_Model):
    """Who the patient is, as far as the protocols need: age, sex at birth, weight and its date."""

    NOUN = "the patient section"
    EXAMPLE_FIELDS = ("age", "sex_at_birth", "weight_kg")
    ref: ShortText | None = Field(None, examples=["MRN-000123"])
    """Optional, opaque patient reference, echoed back in the report."""
    age: Annotated[StrictInt, Field(ge=0, le=120)] | None = Field(None, examples=[42])
    """Age in years (0-120; reference 0.4)."""
    sex_at_birth: Literal["female", "male", "intersex"] | None = None
    weight_kg: Annotated[Number, Field(gt=0, le=650)] | None = Field(None, examples=[68.0])
    """Body weight in kg (>0; upper bound 650 kg is a DESIGN CHOICE above the heaviest recorded)."""
    weight_lb: Annotated[Number, Field(ge=0.5, le=1433)] | None = Field(None, examples=[150])
    """Body weight in pounds, for records kept in pounds: converted to kg (1 lb = 0.45359237 kg) and
    shown as both. Give weight_kg or weight_lb; both, when they disagree by more than 0.5 kg, is an
    error."""
    weight_date: IsoDate | None = None
    """Date the weight was measured (printed next to every computed dose)."""

    @model_validator(mode="after")
    def _one_weight(self) -> Self:
        if self.weight_kg is not None and self.weight_lb is not None:
            if abs(self.weight_kg - self.weight_lb * LB_TO_KG) > 0.5:
                raise ValueError(
                    f"weight_kg {self.weight_kg:g} and weight_lb {self.weight_lb:g} "
                    f"(= {self.weight_lb * LB_TO_KG:.1f} kg) disagree: give one of them"
                )
        return self

    @property
    def weight_in_kg(self) -> float | None:
        """The weight in kg, from weight_kg or converted from weight_lb (0.1 kg)."""
        if self.weight_kg is not None:
            return float(self.weight_kg)
        if self.weight_lb is not None:
            return round(self.weight_lb * LB_TO_KG, 1)
        return None


class Pregnancy(_Model):
    """Whether the patient is or could become pregnant, tests, breastfeeding."""

    NOUN = "the pregnancy section"
    EXAMPLE_FIELDS = ("can_become_pregnant", "status", "last_negative_test")

    can_become_pregnant: StrictBool | None = None
    status: Literal["pregnant", "not_pregnant", "unknown"] | None = Field(None, examples=["not_pregnant"])
    """``unknown`` is the same as not recorded."""
    last_negative_test: IsoDate | None = None
    test_pending: StrictBool | None = None
    breastfeeding: StrictBool | None = None


class BloodPressureReading(_Model):
    """One seated blood-pressure reading with the time it was taken."""

    NOUN = "a blood-pressure reading"
    systolic_mmhg: Annotated[StrictInt, Field(ge=50, le=300)] = Field(examples=[140])
    """Systolic mmHg (50-300; reference 0.4)."""
    diastolic_mmhg: Annotated[StrictInt, Field(ge=20, le=200)] = Field(examples=[90])
    """Diastolic mmHg (20-200: DESIGN CHOICE, physiological range; reference 0.4 gives no limit)."""
    taken_at: IsoDateOrDateTime
    """Date or date-time of the reading."""


class Vitals(_Model):
    """Heart rate and blood-pressure readings."""

    NOUN = "the vitals section"

    blood_pressure: Annotated[list[BloodPressureReading], Field(max_length=500)] | None = None
    heart_rate_bpm: Annotated[StrictInt, Field(ge=20, le=250)] | None = Field(None, examples=[78])
    """Resting heart rate, bpm (20-250; reference 0.4)."""


class SubstanceUse(_Model):
    """One substance use disorder: severity, last use, withdrawal, intoxication, remission, treatment."""

    NOUN = "a substance use disorder"
    EXAMPLE_FIELDS = ("substance", "severity", "last_use")

    substance: Substance
    severity: Severity | None = None
    last_use: IsoDate | None = None
    last_nonprescribed_use: IsoDate | None = None
    """Date of the last use NOT as prescribed (illicit, or a prescribed drug misused). For opioids and
    sedatives when the patient also takes a prescribed one (buprenorphine or methadone, a supervised
    benzodiazepine taper): last_use may then be today's prescribed dose. Not recorded while on a
    prescribed drug of the class means unknown."""
    withdrawal: Withdrawal | None = None
    intoxicated: StrictBool | None = None
    ciwa_ar: Annotated[StrictInt, Field(ge=0, le=67)] | None = Field(None, examples=[2])
    """CIWA-Ar score, 0-67 (alcohol withdrawal)."""
    cows: Annotated[StrictInt, Field(ge=0, le=48)] | None = Field(None, examples=[3])
    """COWS score, 0-48 (opioid withdrawal)."""
    remission: Remission | None = None
    treatment: Annotated[Annotated[list[ShortText], Field(max_length=50)] | None, NoneIsEmpty] = _recorded_list(
        ["naltrexone"]
    )
    """Current medication treatment for this disorder by ingredient; [] (or none) = none."""


#: Code systems a coded entry may name: short names, or the FHIR system URIs (normalised to short names).
CODE_SYSTEMS: dict[str, str] = {
    "icd-10-cm": "icd-10-cm",
    "icd10cm": "icd-10-cm",
    "http://hl7.org/fhir/sid/icd-10-cm": "icd-10-cm",
    "snomed": "snomed",
    "snomed-ct": "snomed",
    "http://snomed.info/sct": "snomed",
    "rxnorm": "rxnorm",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "rxnorm",
}


def _code_system(value: Any) -> Any:
    if isinstance(value, str):
        found = CODE_SYSTEMS.get(value.strip().lower()) or CODE_SYSTEMS.get(value.strip())
        if found is None and value.startswith("http://snomed.info/sct"):
            found = "snomed"
        if found is None:
            raise ValueError(
                f"unknown code system {value!r}; write icd-10-cm, snomed or rxnorm (or their FHIR system URIs)"
            )
        return found
    return value


CodeSystem = Annotated[Literal["icd-10-cm", "snomed", "rxnorm"], BeforeValidator(_code_system)]


def _code_text(value: Any) -> Any:
    # YAML reads an unquoted SNOMED or RxNorm code (58214004) as a number: it is still the code
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


CodeText = Annotated[
    StrictStr, BeforeValidator(_code_text), Field(min_length=1, max_length=40), AfterValidator(_plain_text)
]
#: A name in a condition, medication or allergy entry: never empty.
NameText = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(_plain_text)]


class _Coded(_Model):
    """Shared fields of an entry that may be coded: ``system`` and ``code`` go together."""

    system: CodeSystem | None = None
    """Code system of ``code``: icd-10-cm, snomed or rxnorm (FHIR system URIs are accepted)."""
    code: CodeText | None = Field(None, examples=["58214004"])
    """The code in ``system`` (ICD-10-CM with or without the dot)."""
    display: ShortText | None = None
    """The code's display text, as the record shows it (used when the code is not recognised)."""

    NAME_FIELD: ClassVar[str] = ""
    """The entry's name field (condition, ingredient, agent): a name, or a code, is required."""

    @model_validator(mode="after")
    def _name_or_code(self) -> Self:
        if (self.system is None) != (self.code is None):
            raise ValueError("give system and code together (for example {system: snomed, code: '58214004'})")
        if self.code is None and getattr(self, self.NAME_FIELD) is None:
            raise ValueError(f"give {self.NAME_FIELD} (a name) or a coded entry {{system, code, display}}")
        return self


def _named(field: str) -> Callable[[Any], Any]:
    """A plain string in a list stands for ``{field: string}``."""

    def entry(value: Any) -> Any:
        return {field: value} if isinstance(value, str) else value

    return entry


class PsychiatricEntry(_Coded):
    """A co-occurring psychiatric condition written as a mapping (a name, or a code)."""

    NAME_FIELD = "condition"
    EXAMPLE_FIELDS = ("condition",)
    condition: NameText | None = Field(None, examples=["major_depressive_disorder"])


class Psychiatric(_Model):
    """Psychiatric history: psychosis, bipolar disorder, mania, suicidality, co-occurring conditions."""

    NOUN = "the psychiatric section"
    EXAMPLE_FIELDS = ("psychotic_disorder", "bipolar_disorder", "suicidal_ideation")

    psychotic_disorder: Literal["none", "past", "active"] | None = None
    family_history_psychosis: StrictBool | None = None
    bipolar_disorder: Literal["none", "bipolar_i", "bipolar_ii"] | None = None
    mania: Literal["none", "past", "active"] | None = None
    suicidal_ideation: Literal["none", "passive", "active_without_plan", "active_with_plan"] | None = None
    suicidal_behavior_past_3_months: StrictBool | None = None
    last_suicidal_behavior: IsoDate | Literal["none"] | None = None
    """Date of the most recent suicidal behaviour (attempt, interrupted or aborted attempt, preparatory
    act), or none (never). Fills suicidal_behavior_past_3_months when that is not recorded."""
    conditions: Annotated[
        Annotated[list[Annotated[PsychiatricEntry, BeforeValidator(_named("condition"))]], Field(max_length=50)] | None,
        NoneIsEmpty,
    ] = _recorded_list(["major_depressive_disorder", "ptsd"])
    """Co-occurring conditions: vocabulary slugs, names or codes; [] (or none) = none. An entry the terminology
    does not recognise is kept and reported, and the status is never better than
    eligible_with_precautions."""


class MedicalCondition(_Coded):
    """A medical condition (slug, free text or code), with the details some rules need."""

    NAME_FIELD = "condition"
    EXAMPLE_FIELDS = ("condition", "date")
    condition: NameText | None = Field(None, examples=["myocardial_infarction"])
    """A vocabulary slug or a name as the record writes it (or give system and code)."""
    date: IsoDate | None = None
    """Date of the event or diagnosis, where it matters (e.g. myocardial infarction)."""
    detail: ShortText | None = None
    nyha_class: Literal["I", "II", "III", "IV"] | None = None
    child_pugh_class: Literal["A", "B", "C"] | None = None
    controlled: StrictBool | None = None
    haemodynamically_significant: StrictBool | None = None
    decompensated: StrictBool | None = None
    """Cirrhosis: ascites, variceal bleeding or hepatic encephalopathy, now or in the past (decompensated
    cirrhosis), when the Child-Pugh class is not recorded."""


class Medication(_Coded):
    """A current or proposed medication (ingredient, brand, free text or code)."""

    NAME_FIELD = "ingredient"
    EXAMPLE_FIELDS = ("ingredient", "dose")
    ingredient: NameText | None = Field(None, examples=["lorazepam"])
    """The medication as written: ingredient, brand, salt, dose or combination (e.g. "Suboxone 8/2 mg")."""
    dose: ShortText | None = Field(None, examples=["1 mg at night"])


class Allergy(_Coded):
    """An allergy (agent, free text or code)."""

    NAME_FIELD = "agent"
    EXAMPLE_FIELDS = ("agent", "reaction")
    agent: NameText | None = Field(None, examples=["ketamine"])
    """The allergen as written: ingredient, brand or salt (e.g. "Ketalar")."""
    reaction: ShortText | None = Field(None, examples=["rash"])


class KetamineHistory(_Model):
    """Prior ketamine exposure and misuse."""

    NOUN = "the ketamine_history section"

    prior_exposure: Literal["none", "medical", "nonmedical"] | None = None
    misuse: StrictBool | None = None
    """Any history of ketamine or PCP misuse."""


class Screening(_Model):
    """Screening scores: PHQ-9, AUDIT, C-SSRS screen."""

    NOUN = "the screening section"
    phq9: Annotated[StrictInt, Field(ge=0, le=27)] | None = Field(None, examples=[16])
    audit: Annotated[StrictInt, Field(ge=0, le=40)] | None = Field(None, examples=[27])
    cssrs_screen: Literal["negative", "positive_passive", "positive_active"] | None = None


class Context(_Model):
    """The setting and supports: preferred setting, support person, secure storage, a supervised dose tolerated."""

    NOUN = "the context section"

    setting_preference: Literal["clinic", "at_home"] | None = None
    support_person_available: StrictBool | None = None
    secure_storage: StrictBool | None = None
    prior_supervised_dose_tolerated: StrictBool | None = None


IncompleteList = Literal["substance_use", "psychiatric.conditions", "medical_conditions", "medications", "allergies"]


class Profile(_Model):
    """A patient profile. Every field may be absent: absent or null means unknown.

    Medications, allergies and conditions are open-world: a slug, free text as written, or a coded
    entry {system, code, display} (ICD-10-CM, SNOMED CT, RxNorm). An entry the terminology tables do
    not recognise is kept, reported as not recognised, and the status is never better than
    eligible_with_precautions while it is listed."""

    assessed_on: IsoDate | None = None
    patient: Patient | None = None
    pregnancy: Pregnancy | None = None
    vitals: Vitals | None = None
    substance_use: Annotated[Annotated[list[SubstanceUse], Field(max_length=20)] | None, NoneIsEmpty] = _recorded_list(
        [{"substance": "alcohol", "severity": "severe", "last_use": "2026-11-03"}]
    )
    """Each substance use disorder; [] (or none) = none."""
    psychiatric: Psychiatric | None = None
    medical_conditions: Annotated[
        Annotated[list[Annotated[MedicalCondition, BeforeValidator(_named("condition"))]], Field(max_length=100)]
        | None,
        NoneIsEmpty,
    ] = _recorded_list(["hypertension", {"condition": "myocardial_infarction", "date": "2025-06-21"}])
    """Medical conditions (slugs, names or codes); [] (or none) = none."""
    medications: Annotated[
        Annotated[list[Annotated[Medication, BeforeValidator(_named("ingredient"))]], Field(max_length=100)] | None,
        NoneIsEmpty,
    ] = _recorded_list(["sertraline", {"ingredient": "lorazepam", "dose": "1 mg at night"}])
    """Current medications (names, brands or codes); [] (or none) = none."""
    proposed_medications: (
        Annotated[list[Annotated[Medication, BeforeValidator(_named("ingredient"))]], Field(max_length=100)] | None
    ) = Field(None, examples=[["sertraline"]])
    """Medications ordered but not yet started (draft or proposed orders): checked for interactions
    like current medications and reported as proposed."""
    allergies: Annotated[
        Annotated[list[Annotated[Allergy, BeforeValidator(_named("agent"))]], Field(max_length=100)] | None,
        NoneIsEmpty,
    ] = _recorded_list(["penicillin", {"agent": "ketamine", "reaction": "rash"}])
    """Allergies (agents, brands or codes); [] (or none) = none."""
    ketamine_history: KetamineHistory | None = None
    screening: Screening | None = None
    context: Context | None = None
    incomplete_lists: Annotated[list[IncompleteList], Field(max_length=5)] | None = Field(
        None, examples=[["medications"]]
    )
    """Lists that hold what a source record shows rather than a complete answer (e.g. imported from
    FHIR): an item they do not list is unknown, not absent."""


# ---------------------------------------------------------------- loading


def load_profile_bytes(raw: bytes, file: str) -> tuple[Profile, SourceMap]:
    """Parse and validate a profile; raise InvalidInputError with every located problem."""
    try:
        data, smap = load(decode(raw, file, MAX_PROFILE_BYTES), file)
    except SourceError as exc:
        raise InvalidInputError("the profile could not be read", exc.problems) from None
    return validate_profile_data(data, smap), smap


def validate_profile_data(data: Any, smap: SourceMap) -> Profile:
    """Validate plain data against the Profile model, locating each error in the source."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise InvalidInputError(
            "the profile must be a mapping",
            [smap.problem((), "not-a-mapping", f"expected a mapping of profile sections, got {kind}")],
        )
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError("the profile is invalid", pydantic_problems(exc, data, smap, Profile)) from None


# ---------------------------------------------------------------- contradictions


#: A pregnancy named in a condition list is current when undated or dated within this many days
#: (about 43 weeks, as the FHIR importer reads a "current" pregnancy).
PREGNANCY_ENTRY_MAX_DAYS = 300
