"""profile: the input contract (absent/null/[]/false), located errors, strict types, contradictions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError

from kapdecide.core.errors import InvalidInputError, Problem
from kapdecide.inputs.consistency import check_consistency
from kapdecide.inputs.profile import Profile, load_profile_bytes
from kapdecide.inputs.yaml_source import load

AS_OF = dt.date(2026, 3, 1)


def problems(text: str, file: str = "p.yaml") -> list[Problem]:
    with pytest.raises(InvalidInputError) as info:
        load_profile_bytes(text.encode(), file)
    assert info.value.exit_code == 2
    return info.value.problems


def one(text: str, file: str = "p.yaml") -> Problem:
    probs = problems(text, file)
    assert len(probs) == 1, [p.format() for p in probs]
    return probs[0]


def profile(text: str) -> Profile:
    return load_profile_bytes(text.encode(), "p.yaml")[0]


def consistency(text: str, as_of: dt.date = AS_OF) -> list[Problem]:
    prof, smap = load_profile_bytes(text.encode(), "p.yaml")
    return check_consistency(prof, as_of, smap)


# ---------------------------------------------------------------- absent, null, [], false


def test_absent_and_null_sections_are_both_unknown() -> None:
    assert profile("patient: {age: 30}\n").medications is None
    assert profile("patient: {age: 30}\nmedications: null\n").medications is None
    assert profile("patient: {age: 30}\nmedications:\n").medications is None


def test_empty_list_is_a_recorded_answer() -> None:
    p = profile("medications: []\nsubstance_use: []\nallergies: []\nmedical_conditions: []\n")
    assert p.medications == []
    assert p.substance_use == []
    assert p.allergies == []
    assert p.medical_conditions == []


def test_false_is_kept_distinct_from_null_and_absent() -> None:
    p = profile("context:\n  secure_storage: false\n  support_person_available: null\n")
    assert p.context is not None
    assert p.context.secure_storage is False
    assert p.context.support_person_available is None
    assert p.context.prior_supervised_dose_tolerated is None
    assert "support_person_available" in p.context.model_fields_set
    assert "prior_supervised_dose_tolerated" not in p.context.model_fields_set


def test_string_shorthand_entries() -> None:
    p = profile(
        "medications: [lorazepam, {ingredient: sertraline, dose: 50 mg}]\n"
        "medical_conditions: [hypertension]\nallergies: [penicillin]\n"
    )
    assert p.medications is not None and [m.ingredient for m in p.medications] == ["lorazepam", "sertraline"]
    assert p.medications[1].dose == "50 mg"
    assert p.medical_conditions is not None and p.medical_conditions[0].condition == "hypertension"
    assert p.allergies is not None and p.allergies[0].agent == "penicillin"


def test_profile_is_frozen() -> None:
    p = profile("patient: {age: 30}\n")
    with pytest.raises(ValidationError):
        p.patient.age = 31  # type: ignore[misc,union-attr]


# ---------------------------------------------------------------- unknown keys


def test_unknown_field_with_did_you_mean_at_key_position() -> None:
    p = one("patient:\n  age: 42\n  sex_at_brith: male\n")
    assert p.code == "unknown-field"
    assert "did you mean 'sex_at_birth'" in p.message
    assert (p.line, p.col) == (3, 3)
    assert p.path == "patient.sex_at_brith"


def test_unknown_top_level_field() -> None:
    p = one("patient: {age: 1}\nvitalz: {}\n")
    assert (p.code, p.line, p.col, p.path) == ("unknown-field", 2, 1, "vitalz")
    assert "did you mean 'vitals'" in p.message


def test_unknown_field_inside_list_item() -> None:
    p = one("substance_use:\n  - substance: alcohol\n    sevrity: mild\n")
    assert (p.code, p.line, p.col, p.path) == ("unknown-field", 3, 5, "substance_use[0].sevrity")
    assert "did you mean 'severity'" in p.message


def test_unknown_field_inside_shorthand_list_item() -> None:
    p = one("medical_conditions:\n  - condition: arrhythmia\n    controled: true\n")
    assert (p.code, p.line, p.col) == ("unknown-field", 3, 5)
    assert "did you mean 'controlled'" in p.message


def test_unknown_field_in_json_profile_is_located() -> None:
    p = one('{"patient": {"age": 3},\n "pregnancyy": {}}', "p.json")
    assert (p.code, p.line) == ("unknown-field", 2)
    assert "did you mean 'pregnancy'" in p.message


def test_every_problem_reported() -> None:
    probs = problems("patient:\n  age: '42'\n  weight_kg: -1\n  foo: 1\nvitals:\n  heart_rate_bpm: 10\n")
    assert [(p.code, p.line) for p in probs] == [
        ("wrong-type", 2),
        ("out-of-range", 3),
        ("unknown-field", 4),
        ("out-of-range", 6),
    ]


# ---------------------------------------------------------------- strict types


@pytest.mark.parametrize("value", ["'42'", "42.5", "42.0", "true", "[42]"])
def test_strict_int_rejects_non_integers(value: str) -> None:
    p = one(f"patient:\n  age: {value}\n")
    assert p.code == "wrong-type"
    assert (p.line, p.col, p.path) == (2, 8, "patient.age")


def test_strict_int_accepts_integer() -> None:
    assert profile("patient: {age: 42}\n").patient.age == 42  # type: ignore[union-attr]


def test_weight_accepts_int_and_float_but_not_text() -> None:
    assert profile("patient: {weight_kg: 70}\n").patient.weight_kg == 70  # type: ignore[union-attr]
    assert profile("patient: {weight_kg: 70.5}\n").patient.weight_kg == 70.5  # type: ignore[union-attr]
    p = one("patient:\n  weight_kg: '70'\n")
    assert p.code in ("wrong-type", "invalid-value")
    assert (p.path, p.line, p.col) == ("patient.weight_kg", 2, 14)
    for bad in ("true", "[70]", ".nan"):
        assert one(f"patient:\n  weight_kg: {bad}\n").path == "patient.weight_kg"


@pytest.mark.parametrize("value", ["'yes'", "yes", "1", "'true'"])
def test_strict_bool(value: str) -> None:
    p = one(f"context:\n  secure_storage: {value}\n")
    assert p.code == "wrong-type"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("patient:\n  age: 121\n", "out-of-range"),
        ("patient:\n  age: -1\n", "out-of-range"),
        ("patient:\n  weight_kg: 0\n", "out-of-range"),
        ("vitals:\n  heart_rate_bpm: 251\n", "out-of-range"),
        ("patient:\n  sex_at_birth: m\n", "not-in-vocabulary"),
    ],
)
def test_ranges_and_vocabularies(text: str, code: str) -> None:
    p = one(text)
    assert p.code == code
    assert p.line == 2


def test_a_condition_outside_the_vocabulary_is_accepted_and_kept() -> None:
    # open-world words: the entry is kept (and reported by the assessment), never rejected
    p = profile("medical_conditions: [hypertensoin, asthma]\npsychiatric:\n  conditions: [ptsdd]\n")
    assert p.medical_conditions is not None
    assert [c.condition for c in p.medical_conditions] == ["hypertensoin", "asthma"]
    assert p.psychiatric is not None and p.psychiatric.conditions is not None
    assert p.psychiatric.conditions[0].condition == "ptsdd"


def test_coded_entries_need_system_and_code_together() -> None:
    p = one("medical_conditions: [{code: I63.9}]\n")
    assert "system and code together" in p.message
    ok = profile("medical_conditions: [{system: 'http://hl7.org/fhir/sid/icd-10-cm', code: I63.9}]\n")
    assert ok.medical_conditions is not None and ok.medical_conditions[0].system == "icd-10-cm"
    bad = one("medications: [{system: ndc, code: '0093-0058'}]\n")
    assert "unknown code system 'ndc'" in bad.message and "rxnorm" in bad.message


# ---------------------------------------------------------------- dates


def test_real_date_accepted() -> None:
    p = profile("substance_use:\n  - {substance: alcohol, last_use: 2024-02-29}\n")
    assert p.substance_use is not None and p.substance_use[0].last_use == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    "value",
    ["2026-02-30", "2025-02-29", "2026-13-01", "2026-1-1", "20260101", "'20260101'", "2026-01-01T10:00", "01/02/2026"],
)
def test_bad_dates_rejected(value: str) -> None:
    p = one(f"pregnancy:\n  last_negative_test: {value}\n")
    assert p.code in ("invalid-value", "wrong-type")
    assert (p.line, p.path) == (2, "pregnancy.last_negative_test")


def test_impossible_date_message() -> None:
    p = one("pregnancy:\n  last_negative_test: 2026-02-30\n")
    assert "not a real date" in p.message


def test_integer_date_rejected() -> None:
    p = one("pregnancy:\n  last_negative_test: 20260101\n")
    assert p.code == "invalid-value"
    assert "YYYY-MM-DD" in p.message


def test_bp_taken_at_accepts_date_or_datetime() -> None:
    p = profile(
        "vitals:\n  blood_pressure:\n"
        "    - {systolic_mmhg: 120, diastolic_mmhg: 80, taken_at: 2026-01-01}\n"
        "    - {systolic_mmhg: 120, diastolic_mmhg: 80, taken_at: '2026-01-02T23:30'}\n"
    )
    assert p.vitals is not None and p.vitals.blood_pressure is not None
    assert [r.taken_at for r in p.vitals.blood_pressure] == [dt.date(2026, 1, 1), dt.date(2026, 1, 2)]
    bad = one(
        "vitals:\n  blood_pressure:\n    - {systolic_mmhg: 120, diastolic_mmhg: 80, taken_at: '2026-01-02T25:00'}\n"
    )
    assert bad.code == "invalid-value" and bad.line == 3


def test_missing_required_field() -> None:
    p = one("vitals:\n  blood_pressure:\n    - {systolic_mmhg: 120, taken_at: 2026-01-01}\n")
    assert p.code == "missing-field"
    assert p.path == "vitals.blood_pressure[0].diastolic_mmhg"
    assert p.line == 3


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("[]\n", "not-a-mapping"),
        ("# nothing\n", "not-a-mapping"),
        ("42\n", "not-a-mapping"),
        ("a: 1\na: 2\n", "duplicate-key"),
        ("a: !!python/object:os.system x\n", "yaml-tag"),
    ],
)
def test_unreadable_profiles(text: str, code: str) -> None:
    assert one(text).code == code


# ---------------------------------------------------------------- consistency


def codes(probs: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in probs]


def test_consistent_profile_has_no_problems() -> None:
    text = (
        "patient: {age: 40, sex_at_birth: female}\n"
        "pregnancy: {can_become_pregnant: true, status: not_pregnant, last_negative_test: 2026-02-20}\n"
        "vitals:\n  blood_pressure:\n    - {systolic_mmhg: 130, diastolic_mmhg: 80, taken_at: 2026-03-01}\n"
        "substance_use:\n  - {substance: alcohol, last_use: 2026-02-28, intoxicated: true}\n"
        "  - {substance: opioids, last_use: 2025-03-01, remission: sustained}\n"
        "medical_conditions:\n  - {condition: myocardial_infarction, date: 2020-01-01}\n"
    )
    assert consistency(text) == []


def test_bp_systolic_not_above_diastolic() -> None:
    probs = consistency(
        "vitals:\n  blood_pressure:\n"
        "    - {systolic_mmhg: 120, diastolic_mmhg: 80, taken_at: 2026-03-01}\n"
        "    - {systolic_mmhg: 90, diastolic_mmhg: 90, taken_at: 2026-03-01}\n"
    )
    assert codes(probs) == [("invalid_bp_systolic_not_above_diastolic", "vitals.blood_pressure[1]")]
    assert probs[0].line == 4


@pytest.mark.parametrize(
    ("text", "path"),
    [
        (
            "vitals:\n  blood_pressure:\n    - {systolic_mmhg: 120, diastolic_mmhg: 80, taken_at: 2026-03-02}\n",
            "vitals.blood_pressure[0].taken_at",
        ),
        ("pregnancy:\n  last_negative_test: 2026-03-02\n", "pregnancy.last_negative_test"),
        ("substance_use:\n  - {substance: alcohol, last_use: 2026-03-02}\n", "substance_use[0].last_use"),
        (
            "medical_conditions:\n  - {condition: myocardial_infarction, date: 2026-03-02}\n",
            "medical_conditions[0].date",
        ),
    ],
)
def test_date_after_assessment(text: str, path: str) -> None:
    probs = consistency(text)
    assert codes(probs) == [("date-after-assessment", path)]
    assert probs[0].line is not None and probs[0].line >= 2
    # the same date is fine one day later
    assert consistency(text, AS_OF + dt.timedelta(days=1)) == []


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("pregnancy: {can_become_pregnant: false, status: pregnant}\n", "pregnancy.status"),
        ("pregnancy: {can_become_pregnant: false, test_pending: true}\n", "pregnancy.test_pending"),
        ("patient: {sex_at_birth: male}\npregnancy: {status: pregnant}\n", "pregnancy.status"),
    ],
)
def test_pregnancy_contradictions(text: str, path: str) -> None:
    assert codes(consistency(text)) == [("invalid_pregnancy_contradiction", path)]


def test_pregnancy_non_contradictions() -> None:
    assert consistency("pregnancy: {can_become_pregnant: false, test_pending: false, status: not_pregnant}\n") == []
    assert (
        consistency("pregnancy: {can_become_pregnant: true, status: pregnant, last_negative_test: 2026-01-01}\n") == []
    )
    assert consistency("patient: {sex_at_birth: intersex}\npregnancy: {status: pregnant}\n") == []


def test_duplicate_substance() -> None:
    probs = consistency(
        "substance_use:\n  - {substance: alcohol}\n  - {substance: cannabis}\n  - {substance: alcohol}\n"
    )
    assert codes(probs) == [("duplicate-substance", "substance_use[2].substance")]
    assert probs[0].line == 4


def test_sustained_remission_contradiction_boundary() -> None:
    base = "substance_use:\n  - {{substance: alcohol, remission: sustained, last_use: {d}}}\n"
    recent = (AS_OF - dt.timedelta(days=364)).isoformat()
    year = (AS_OF - dt.timedelta(days=365)).isoformat()
    assert codes(consistency(base.format(d=recent))) == [
        ("invalid_remission_contradiction", "substance_use[0].remission")
    ]
    assert consistency(base.format(d=year)) == []
    assert consistency("substance_use:\n  - {substance: alcohol, remission: early, last_use: 2026-02-01}\n") == []


def test_intoxication_contradiction_boundary() -> None:
    base = "substance_use:\n  - {{substance: alcohol, intoxicated: {i}, last_use: {d}}}\n"
    two_days = (AS_OF - dt.timedelta(days=2)).isoformat()
    yesterday = (AS_OF - dt.timedelta(days=1)).isoformat()
    assert codes(consistency(base.format(i="true", d=two_days))) == [
        ("invalid_intoxication_contradiction", "substance_use[0].intoxicated")
    ]
    assert consistency(base.format(i="true", d=yesterday)) == []
    assert consistency(base.format(i="false", d=two_days)) == []


def test_all_contradictions_reported_together() -> None:
    text = (
        "pregnancy: {can_become_pregnant: false, status: pregnant, test_pending: true}\n"
        "substance_use:\n  - {substance: alcohol, last_use: 2026-04-01}\n  - {substance: alcohol}\n"
    )
    found = {p.code for p in consistency(text)}
    assert found == {"invalid_pregnancy_contradiction", "date-after-assessment", "duplicate-substance"}
    assert len(consistency(text)) == 4


def test_model_validate_directly_from_loaded_data() -> None:
    data: Any = load("patient: {age: 3}\n", "p.yaml")[0]
    assert Profile.model_validate(data).patient.age == 3  # type: ignore[union-attr]


def test_profile_literals_match_the_documented_vocabulary() -> None:
    """The pydantic Literals repeat vocabulary.py (a Literal must be spelled out); keep them in step."""
    from typing import get_args

    from kapdecide.core import vocabulary as voc
    from kapdecide.inputs import profile as pm

    assert get_args(pm.Substance) == voc.SUBSTANCES
    assert get_args(pm.Severity) == voc.SEVERITIES
    assert get_args(pm.Withdrawal) == voc.WITHDRAWAL_STATES
    assert get_args(pm.Remission) == voc.REMISSION_STATES
    fields = {
        "sex_at_birth": voc.SEX_AT_BIRTH,
        "psychotic_disorder": voc.PSYCHOSIS_HISTORY,
        "bipolar_disorder": voc.BIPOLAR,
        "mania": voc.MANIA,
        "suicidal_ideation": voc.SUICIDAL_IDEATION,
        "cssrs_screen": voc.CSSRS_SCREEN,
        "prior_exposure": voc.KETAMINE_EXPOSURE,
        "setting_preference": voc.SETTINGS,
        "status": voc.PREGNANCY_STATUS,
    }
    models = [pm.Patient, pm.Psychiatric, pm.Screening, pm.KetamineHistory, pm.Context, pm.Pregnancy]
    for field, values in fields.items():
        (model,) = [m for m in models if field in m.model_fields]
        literal = next(a for a in get_args(model.model_fields[field].annotation) if a is not type(None))
        assert get_args(literal) == values, field


@pytest.mark.parametrize("written", ["21/11/2026", "11-21-2026", "21.11.26"])
def test_a_day_first_or_month_first_date_says_how_to_write_it(written: str) -> None:
    """Issue 15: say what to write; a local date is ambiguous, so it is never guessed."""
    with pytest.raises(InvalidInputError) as info:
        load_profile_bytes(f"assessed_on: '{written}'\n".encode(), "p.yaml")
    (p,) = info.value.problems
    assert p.code == "invalid-value" and "write dates as YYYY-MM-DD (e.g. 2026-11-21)" in p.message
