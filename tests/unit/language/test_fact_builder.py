"""facts: a profile becomes flat typed facts; absent means unknown and is never defaulted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kapdecide.core import vocabulary as v
from kapdecide.inputs.profile import Profile
from kapdecide.language.fact_builder import build_facts
from kapdecide.language.facts import DATED_SOURCES, FIELDS, FactSet, StaleData, round_half_up

AS_OF = dt.date(2026, 3, 1)


def facts(data: dict[str, Any], freshness: dict[str, int] | None = None, as_of: dt.date = AS_OF) -> FactSet:
    return build_facts(Profile.model_validate(data), as_of, freshness)


def bp(*readings: tuple[int, int, str]) -> dict[str, Any]:
    return {
        "vitals": {"blood_pressure": [{"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": t} for s, d, t in readings]}
    }


def ago(days: int) -> str:
    return (AS_OF - dt.timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- schema


def test_field_schema_is_consistent() -> None:
    assert len(FIELDS) > 100
    for name, f in FIELDS.items():
        assert f.name == name
        assert f.type in ("bool", "int", "number", "enum", "enum_list", "text_list")
        assert f.description
        if f.type in ("enum", "enum_list"):
            assert f.vocabulary, name
            assert len(set(f.vocabulary)) == len(f.vocabulary)
        else:
            assert f.vocabulary == (), name
    # no field is a dotted prefix of another (the engine treats a dotted key as a nested path)
    names = sorted(FIELDS)
    assert not [(a, b) for a in names for b in names if b.startswith(a + ".")]
    # the engine allows about 252 data fields per fact
    assert len(FIELDS) + 3 < 250
    for fields in DATED_SOURCES.values():
        assert all(f in FIELDS for f in fields)


def test_empty_profile_has_no_facts() -> None:
    fs = facts({})
    assert fs.values == {}
    assert fs.stale == []


def test_every_built_fact_is_in_the_schema_with_the_right_type() -> None:
    full = {
        "patient": {"age": 40, "sex_at_birth": "female", "weight_kg": 70},
        "pregnancy": {
            "can_become_pregnant": True,
            "status": "not_pregnant",
            "last_negative_test": ago(3),
            "test_pending": False,
            "breastfeeding": False,
        },
        **bp((130, 80, ago(1))),
        "substance_use": [
            {
                "substance": s,
                "severity": "mild",
                "last_use": ago(10),
                "withdrawal": "none",
                "intoxicated": False,
                "ciwa_ar": 1,
                "cows": 1,
                "remission": "none",
                "treatment": ["naltrexone"],
            }
            for s in v.SUBSTANCES
        ],
        "psychiatric": {
            "psychotic_disorder": "none",
            "family_history_psychosis": False,
            "bipolar_disorder": "none",
            "mania": "none",
            "suicidal_ideation": "none",
            "suicidal_behavior_past_3_months": False,
            "conditions": ["ptsd"],
        },
        "medical_conditions": [
            {"condition": "myocardial_infarction", "date": ago(400)},
            {"condition": "heart_failure", "nyha_class": "II"},
            {"condition": "cirrhosis", "child_pugh_class": "A"},
            {"condition": "hyperthyroidism", "controlled": True},
            {"condition": "arrhythmia", "controlled": True},
            {"condition": "valvular_heart_disease", "haemodynamically_significant": False},
        ],
        "medications": ["lorazepam", "unknownium"],
        "allergies": ["Penicillin"],
        "ketamine_history": {"prior_exposure": "none", "misuse": False},
        "screening": {"phq9": 10, "audit": 5, "cssrs_screen": "negative"},
        "context": {
            "setting_preference": "clinic",
            "support_person_available": True,
            "secure_storage": True,
            "prior_supervised_dose_tolerated": True,
        },
    }
    values = facts(full).values
    assert len(values) > 140
    pytypes = {"bool": bool, "int": int, "number": float, "enum": str, "enum_list": tuple, "text_list": tuple}
    for name, value in values.items():
        spec = FIELDS[name]
        assert type(value) is pytypes[spec.type], (name, value)
        if spec.type == "enum":
            assert value in spec.vocabulary, name
        if spec.type == "enum_list":
            assert set(value) <= set(spec.vocabulary), name  # type: ignore[arg-type]
        if isinstance(value, tuple):
            assert list(value) == sorted(value), name


# ---------------------------------------------------------------- blood pressure


def test_round_half_up() -> None:
    assert round_half_up(135.5) == 136
    assert round_half_up(134.5) == 135  # Python's round() would give 134
    assert round_half_up(135.49) == 135
    assert round_half_up(2.675) == 3
    assert round_half_up(0.5) == 1
    assert round_half_up(120.0) == 120


def test_bp_mean_of_latest_date_rounded_half_up() -> None:
    v_ = facts(bp((135, 85, ago(1)), (136, 86, ago(1)), (200, 120, ago(5)))).values
    assert v_["vitals.bp_systolic_mmhg"] == 136  # mean 135.5
    assert v_["vitals.bp_diastolic_mmhg"] == 86  # mean 85.5
    assert v_["vitals.bp_readings"] == 2
    assert v_["vitals.bp_days_since"] == 1


def test_bp_mean_of_three_rounds_down_below_half() -> None:
    v_ = facts(bp((140, 90, ago(0)), (140, 90, ago(0)), (141, 91, ago(0)))).values
    assert v_["vitals.bp_systolic_mmhg"] == 140  # 140.33
    assert v_["vitals.bp_readings"] == 3
    assert v_["vitals.bp_days_since"] == 0


def test_bp_datetime_readings_group_by_calendar_date() -> None:
    v_ = facts(bp((150, 95, f"{ago(2)}T08:00"), (140, 85, f"{ago(2)}T20:30"), (120, 70, ago(3)))).values
    assert v_["vitals.bp_systolic_mmhg"] == 145
    assert v_["vitals.bp_diastolic_mmhg"] == 90
    assert v_["vitals.bp_readings"] == 2


def test_latest_reading_wins_even_if_listed_first_or_lower() -> None:
    v_ = facts(bp((120, 80, ago(1)), (180, 110, ago(40)))).values
    assert v_["vitals.bp_systolic_mmhg"] == 120


def test_stale_bp_is_absent_and_reported() -> None:
    fs = facts(bp((180, 110, ago(31))), {"blood_pressure": 30})
    assert "vitals.bp_systolic_mmhg" not in fs.values
    assert "vitals.bp_diastolic_mmhg" not in fs.values
    assert fs.values["vitals.bp_days_since"] == 31
    assert fs.values["vitals.bp_readings"] == 1
    assert fs.stale == [StaleData("blood_pressure", 31, 30, ("vitals.bp_systolic_mmhg", "vitals.bp_diastolic_mmhg"))]


def test_bp_at_exactly_max_age_is_not_stale() -> None:
    fs = facts(bp((180, 110, ago(30))), {"blood_pressure": 30})
    assert fs.stale == []
    assert fs.values["vitals.bp_systolic_mmhg"] == 180
    assert fs.values["vitals.bp_days_since"] == 30


def test_bp_zero_freshness_allows_only_today() -> None:
    assert facts(bp((130, 80, ago(0))), {"blood_pressure": 0}).stale == []
    assert len(facts(bp((130, 80, ago(1))), {"blood_pressure": 0}).stale) == 1


def test_bp_without_freshness_limit_is_never_stale() -> None:
    fs = facts(bp((130, 80, ago(4000))))
    assert fs.stale == []
    assert fs.values["vitals.bp_systolic_mmhg"] == 130


def test_empty_bp_list_gives_no_bp_facts() -> None:
    values = facts({"vitals": {"blood_pressure": [], "heart_rate_bpm": 70}}).values
    assert values == {"vitals.heart_rate_bpm": 70}


# ---------------------------------------------------------------- days since


def test_days_since_last_use() -> None:
    values = facts(
        {
            "substance_use": [
                {"substance": "alcohol", "last_use": ago(0)},
                {"substance": "cocaine", "last_use": ago(12)},
                {"substance": "methamphetamine", "last_use": ago(5)},
                {"substance": "cannabis"},
            ]
        }
    ).values
    assert values["substance_use.alcohol.days_since_last_use"] == 0
    assert values["substance_use.cocaine.days_since_last_use"] == 12
    assert "substance_use.cannabis.days_since_last_use" not in values
    assert values["substance_use.days_since_stimulant_use"] == 5
    assert values["substance_use.all_last_use_recorded"] is False
    assert values["substance_use.count"] == 4
    assert values["substance_use.substances"] == ("alcohol", "cannabis", "cocaine", "methamphetamine")


def test_days_since_crosses_leap_day() -> None:
    values = facts(
        {"substance_use": [{"substance": "alcohol", "last_use": "2024-02-28"}]}, as_of=dt.date(2024, 3, 1)
    ).values
    assert values["substance_use.alcohol.days_since_last_use"] == 2


def test_stimulant_days_from_the_most_recent_known_use() -> None:
    # an undated stimulant never erases a known recent use (its missing date has a rule of its own)
    values = facts(
        {"substance_use": [{"substance": "cocaine", "last_use": ago(3)}, {"substance": "other_stimulants"}]}
    ).values
    assert values["substance_use.days_since_stimulant_use"] == 3
    assert values["substance_use.all_last_use_recorded"] is False


def test_pregnancy_days_since_negative_test_and_unknown_status() -> None:
    values = facts({"pregnancy": {"last_negative_test": ago(7), "status": "unknown"}}).values
    assert values == {"pregnancy.days_since_negative_test": 7}


def test_coronary_event_days() -> None:
    values = facts(
        {
            "medical_conditions": [
                {"condition": "myocardial_infarction", "date": ago(100)},
                {"condition": "coronary_revascularization", "date": ago(30)},
            ]
        }
    ).values
    assert values["medical.coronary_event"] is True
    assert values["medical.days_since_coronary_event"] == 30
    undated = facts(
        {"medical_conditions": [{"condition": "myocardial_infarction", "date": ago(100)}, "acute_coronary_syndrome"]}
    )
    # the dated event decides; the undated one could be more recent: reported as unresolved
    assert undated.values["medical.days_since_coronary_event"] == 100
    assert [u.field for u in undated.unresolved] == ["medical.days_since_coronary_event"]
    assert facts({"medical_conditions": []}).values["medical.coronary_event"] is False


# ---------------------------------------------------------------- pregnancy defaults


def test_male_without_pregnancy_section_cannot_be_pregnant() -> None:
    values = facts({"patient": {"sex_at_birth": "male"}}).values
    assert values["pregnancy.possible"] is False
    assert values["pregnancy.breastfeeding"] is False


@pytest.mark.parametrize("sex", ["female", "intersex", None])
def test_others_without_pregnancy_section_are_unknown(sex: str | None) -> None:
    data: dict[str, Any] = {"patient": {"sex_at_birth": sex}} if sex else {}
    values = facts(data).values
    assert "pregnancy.possible" not in values
    assert "pregnancy.breastfeeding" not in values


def test_pregnancy_section_wins_over_sex_default() -> None:
    values = facts({"patient": {"sex_at_birth": "male"}, "pregnancy": {"breastfeeding": True}}).values
    assert "pregnancy.possible" not in values
    assert values["pregnancy.breastfeeding"] is True
    values = facts({"patient": {"sex_at_birth": "female"}, "pregnancy": {"can_become_pregnant": False}}).values
    assert values["pregnancy.possible"] is False


# ---------------------------------------------------------------- medications


def test_medication_classes_from_medications_and_substance_treatments() -> None:
    values = facts(
        {
            "medications": [" Lorazepam ", {"ingredient": "SERTRALINE", "dose": "50 mg"}, "Fancy Herb"],
            "substance_use": [
                {"substance": "alcohol", "treatment": ["Naltrexone", "mystery pill"]},
                {"substance": "opioids", "treatment": ["buprenorphine"]},
            ],
        }
    ).values
    assert values["medications.classes"] == (
        "antidepressant",
        "benzodiazepine",
        "opioid",
        "opioid_antagonist",
        "ssri_snri",
    )
    assert values["medications.ingredients"] == ("buprenorphine", "lorazepam", "naltrexone", "sertraline")
    assert values["medications.by_class.benzodiazepine"] == ("lorazepam",)
    assert values["medications.by_class.opioid"] == ("buprenorphine",)
    assert values["medications.by_class.maoi"] == ()
    assert values["medications.unchecked"] == ("fancy herb", "mystery pill")
    assert values["substance_use.alcohol.treatment"] == ("mystery pill", "naltrexone")


def test_empty_medication_list_is_known_and_empty() -> None:
    values = facts({"medications": []}).values
    assert values["medications.classes"] == ()
    assert values["medications.ingredients"] == ()
    assert values["medications.unchecked"] == ()
    assert all(values[f"medications.by_class.{c}"] == () for c in v.DRUG_CLASSES)


def test_medications_none_means_no_medication_facts_even_with_treatments() -> None:
    values = facts({"substance_use": [{"substance": "alcohol", "treatment": ["naltrexone"]}]}).values
    assert not [k for k in values if k.startswith("medications.")]
    assert values["substance_use.alcohol.treatment"] == ("naltrexone",)
    assert not [k for k in facts({"medications": None}).values if k.startswith("medications.")]


def test_allergies() -> None:
    values = facts({"allergies": ["Esketamine", {"agent": "penicillin", "reaction": "rash"}]}).values
    assert values["allergies.agents"] == ("esketamine", "penicillin")
    assert values["allergies.ketamine"] is True
    values = facts({"allergies": []}).values
    assert values == {"allergies.agents": (), "allergies.ketamine": False, "allergies.unrecognised": ()}
    assert "allergies.ketamine" not in facts({}).values


# ---------------------------------------------------------------- three-valued aggregates


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([True, None], True),
        ([False, True], True),
        ([False, False], False),
        ([False, None], None),
        ([None, None], None),
        ([], False),
    ],
)
def test_any_intoxicated_is_three_valued(flags: list[bool | None], expected: bool | None) -> None:
    subs = list(v.SUBSTANCES)[: len(flags)]
    data = {"substance_use": [{"substance": s, "intoxicated": f} for s, f in zip(subs, flags, strict=True)]}
    values = facts(data).values
    if expected is None:
        assert "substance_use.any_intoxicated" not in values
    else:
        assert values["substance_use.any_intoxicated"] is expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        (["active", None], True),
        (["none", "completed"], False),
        (["none", None], None),
    ],
)
def test_any_active_withdrawal_is_three_valued(states: list[str | None], expected: bool | None) -> None:
    data = {
        "substance_use": [
            {"substance": s, "withdrawal": w} for s, w in zip(("alcohol", "opioids"), states, strict=True)
        ]
    }
    assert facts(data).values.get("substance_use.any_active_withdrawal") is expected


def test_all_state_recorded() -> None:
    both = {"substance": "alcohol", "withdrawal": "none", "intoxicated": False}
    assert facts({"substance_use": [both]}).values["substance_use.all_state_recorded"] is True
    half = {"substance": "opioids", "withdrawal": "none"}
    assert facts({"substance_use": [both, half]}).values["substance_use.all_state_recorded"] is False
    assert "substance_use.all_state_recorded" not in facts({}).values


def test_worst_class_and_flags() -> None:
    values = facts(
        {
            "medical_conditions": [
                {"condition": "heart_failure", "nyha_class": "II"},
                {"condition": "heart_failure", "nyha_class": "IV"},
                {"condition": "cirrhosis", "child_pugh_class": "B"},
                {"condition": "cirrhosis"},
                {"condition": "arrhythmia", "controlled": True},
                {"condition": "arrhythmia", "controlled": False},
                {"condition": "hyperthyroidism"},
                {"condition": "valvular_heart_disease", "haemodynamically_significant": False},
                {"condition": "valvular_heart_disease"},
            ]
        }
    ).values
    assert values["medical.heart_failure_nyha_class"] == "IV"
    # the worst known class decides; the unclassed entry could be worse (C): reported as unresolved
    assert values["medical.cirrhosis_child_pugh_class"] == "B"
    assert values["medical.arrhythmia_controlled"] is False
    assert "medical.hyperthyroidism_controlled" not in values
    assert "medical.valve_disease_significant" not in values  # False and unknown -> unknown
    assert "medical.arrhythmia_controlled" not in facts({"medical_conditions": []}).values


def test_psychiatric_and_simple_sections() -> None:
    values = facts(
        {
            "psychiatric": {"conditions": ["ptsd", "adhd", "ptsd"], "mania": "past"},
            "screening": {"phq9": 0},
            "context": {"secure_storage": False},
            "ketamine_history": {"misuse": False},
            "patient": {"weight_kg": 70},
        }
    ).values
    assert values["psychiatric.conditions"] == ("adhd", "ptsd")
    assert values["psychiatric.mania"] == "past"
    assert values["screening.phq9"] == 0
    assert values["context.secure_storage"] is False
    assert values["ketamine_history.misuse"] is False
    assert values["patient.weight_kg"] == 70.0 and isinstance(values["patient.weight_kg"], float)
    assert "psychiatric.conditions" not in facts({"psychiatric": {"mania": "none"}}).values


def test_incomplete_lists_make_unlisted_items_unknown() -> None:
    from kapdecide.language.evaluator import evaluate_leaf
    from kapdecide.language.facts import OpenList

    profile = Profile.model_validate(
        {
            "substance_use": [{"substance": "alcohol", "intoxicated": False, "withdrawal": "none"}],
            "medical_conditions": ["hypertension"],
            "medications": ["sertraline"],
            "allergies": [],
            "incomplete_lists": ["substance_use", "medical_conditions", "medications", "allergies"],
        }
    )
    facts = build_facts(profile, dt.date(2026, 11, 21)).values
    assert isinstance(facts["medical.conditions"], OpenList)
    assert isinstance(facts["medications.classes"], OpenList)
    assert isinstance(facts["substance_use.substances"], OpenList)
    # "none found" in an incomplete list is not "none": those aggregates become unknown
    for name in (
        "substance_use.count",
        "substance_use.any_intoxicated",
        "substance_use.any_active_withdrawal",
        "medical.coronary_event",
        "allergies.ketamine",
    ):
        assert name not in facts, name
    assert facts["substance_use.alcohol.intoxicated"] is False  # what is listed stays known
    from kapdecide.language.conditions import Leaf

    avm = Leaf(field="medical.conditions", op="contains", value="arteriovenous_malformation")
    assert evaluate_leaf(avm, facts) is None


def test_complete_lists_stay_closed() -> None:
    from kapdecide.language.facts import OpenList

    profile = Profile.model_validate({"medical_conditions": ["hypertension"], "allergies": []})
    facts = build_facts(profile, dt.date(2026, 11, 21)).values
    assert not isinstance(facts["medical.conditions"], OpenList)
    assert facts["medical.coronary_event"] is False and facts["allergies.ketamine"] is False
