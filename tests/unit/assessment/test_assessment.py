"""assessment: status precedence, unknown never read as "no", options, doses, determinism, engine guard."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import to_json

from kapdecide.assessment import compiled
from kapdecide.assessment.assess import assess
from kapdecide.assessment.report import Report
from kapdecide.core.errors import EngineDisagreementError
from kapdecide.engine import Engine
from kapdecide.inputs.profile import Profile
from kapdecide.language.facts import Facts
from kapdecide.protocol.loader import LoadedProtocol, default_protocol_dir, load_protocols

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "protocols"
AS_OF = dt.date(2026, 3, 1)


@pytest.fixture(scope="module")
def mini() -> list[LoadedProtocol]:
    return load_protocols([FIXTURES / "valid" / "mini.yaml"])


@pytest.fixture(scope="module")
def extended() -> list[LoadedProtocol]:
    return load_protocols([FIXTURES / "unit" / "assess.yaml"])


def ago(days: int) -> str:
    return (AS_OF - dt.timedelta(days=days)).isoformat()


def make(**sections: Any) -> Profile:
    """A complete profile (eligible under both test protocols), with sections replaced or removed (None)."""
    data: dict[str, Any] = {
        "patient": {"ref": "P-1", "age": 40, "weight_kg": 70},
        "vitals": {"blood_pressure": [{"systolic_mmhg": 120, "diastolic_mmhg": 80, "taken_at": ago(1)}]},
        "medications": [],
        "substance_use": [{"substance": "alcohol", "last_use": ago(10)}],
        "psychiatric": {"psychotic_disorder": "none", "family_history_psychosis": False},
        "context": {"secure_storage": True},
    }
    for key, value in sections.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return Profile.model_validate(data)


def bp(s: int, d: int, days_ago: int = 1) -> dict[str, Any]:
    return {"blood_pressure": [{"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": ago(days_ago)}]}


def step_ids(report: Report) -> list[str]:
    return [s["id"] for s in report["next_steps"]]


def rule_ids(report: Report) -> list[str]:
    return [f["rule_id"] for f in report["findings"]]


# ---------------------------------------------------------------- status


def test_complete_profile_is_eligible(mini: list[LoadedProtocol]) -> None:
    r = assess(make(), mini, AS_OF)
    assert r["status"] == "eligible"
    assert r["findings"] == [] and r["not_checked"] == [] and r["missing_data"] == [] and r["stale_data"] == []
    assert r["patient_ref"] == "P-1"
    assert r["assessed_on"] == "2026-03-01"
    assert [p["id"] for p in r["protocols"]] == ["mini"]
    assert [(o["option_id"], o["state"], o["indication"]) for o in r["options"]] == [
        ("iv_ketamine_clinic", "offered", "alcohol")
    ]
    assert step_ids(r) == []


def test_deferral_with_triggers_and_message(mini: list[LoadedProtocol]) -> None:
    r = assess(make(vitals=bp(150, 85)), mini, AS_OF)
    assert r["status"] == "deferred"
    (f,) = r["findings"]
    assert (f["rule_id"], f["kind"], f["protocol_id"]) == ("bp_above_hold_threshold", "deferral", "mini")
    assert f["message"] == "Mean BP 150/85 mmHg, at or above 140/90."
    assert [(t["field"], t["value"], t["operator"], t["threshold"], t["result"]) for t in f["triggered_by"]] == [
        ("vitals.bp_systolic_mmhg", 150, ">=", 140, "true")
    ]
    assert [e["id"] for e in f["evidence"]] == ["KARE-2022"]


def test_threshold_is_inclusive(mini: list[LoadedProtocol]) -> None:
    assert assess(make(vitals=bp(140, 80)), mini, AS_OF)["status"] == "deferred"
    assert assess(make(vitals=bp(139, 89)), mini, AS_OF)["status"] == "eligible"


def test_unknown_safety_rule_is_not_checked_and_incomplete(mini: list[LoadedProtocol]) -> None:
    r = assess(make(medications=None), mini, AS_OF)  # medication list not recorded
    assert r["status"] == "incomplete"
    assert r["findings"] == []
    (nc,) = r["not_checked"]
    assert (nc["rule_id"], nc["kind"], nc["needs"]) == (
        "benzodiazepine_interaction",
        "interaction",
        ["medications.classes"],
    )
    assert "Could not check" in nc["message"]
    assert r["missing_data"] == ["medications.classes"]
    assert r["medications"]["recorded"] is False
    assert step_ids(r) == ["collect_missing_data"]


def test_missing_bp_is_required_data_and_unknown_deferral(mini: list[LoadedProtocol]) -> None:
    r = assess(make(vitals=None), mini, AS_OF)
    assert r["status"] == "incomplete"
    assert rule_ids(r) == ["missing_bp"]
    assert [nc["rule_id"] for nc in r["not_checked"]] == ["bp_above_hold_threshold"]
    assert r["not_checked"][0]["needs"] == ["vitals.bp_systolic_mmhg", "vitals.bp_diastolic_mmhg"]
    assert r["missing_data"] == ["vitals.bp_diastolic_mmhg", "vitals.bp_systolic_mmhg"]


def test_stale_bp_is_reported_and_not_used(mini: list[LoadedProtocol]) -> None:
    r = assess(make(vitals=bp(180, 110, days_ago=31)), mini, AS_OF)
    assert r["status"] == "incomplete"  # not deferred: the stale high reading is not used
    assert [(s["source"], s["days_old"], s["max_age_days"]) for s in r["stale_data"]] == [("blood_pressure", 31, 30)]
    assert "not used" in r["stale_data"][0]["message"]
    assert rule_ids(r) == ["missing_bp"]
    assert assess(make(vitals=bp(180, 110, days_ago=30)), mini, AS_OF)["status"] == "deferred"


def test_interaction_gives_precautions(mini: list[LoadedProtocol]) -> None:
    r = assess(make(medications=["Lorazepam", "mystery"]), mini, AS_OF)
    assert r["status"] == "eligible_with_precautions"
    (f,) = r["findings"]
    assert (f["rule_id"], f["severity"]) == ("benzodiazepine_interaction", "moderate")
    assert f["message"] == "On lorazepam."
    assert [c["ingredient"] for c in r["medications"]["checked"]] == ["lorazepam"]
    assert r["medications"]["not_checked"] == ["mystery"]
    assert [o["state"] for o in r["options"]] == ["offered"]  # precautions do not exclude


@pytest.mark.parametrize(
    ("changes", "status", "kinds"),
    [
        (
            {
                "psychiatric": {"psychotic_disorder": "active", "family_history_psychosis": True},
                "vitals": bp(150, 95),
                "medications": None,
            },
            "contraindicated",
            ["contraindication", "deferral", "caution"],
        ),
        (
            {
                "vitals": bp(150, 95),
                "substance_use": [{"substance": "alcohol"}],
                "psychiatric": {"psychotic_disorder": "none", "family_history_psychosis": True},
            },
            "deferred",
            ["deferral", "required_data", "caution"],
        ),
        (
            {"substance_use": [{"substance": "alcohol"}], "medications": ["diazepam"]},
            "incomplete",
            ["required_data", "interaction"],
        ),
        (
            {
                "psychiatric": {"psychotic_disorder": "none", "family_history_psychosis": True},
                "medications": ["diazepam"],
            },
            "eligible_with_precautions",
            ["caution", "interaction"],
        ),
        ({}, "eligible", []),
    ],
)
def test_status_precedence(
    extended: list[LoadedProtocol], changes: dict[str, Any], status: str, kinds: list[str]
) -> None:
    r = assess(make(**changes), extended, AS_OF)
    assert r["status"] == status
    assert [f["kind"] for f in r["findings"]] == kinds  # every finding is reported, most severe kind first


def test_contraindication_reports_missing_data_too(extended: list[LoadedProtocol]) -> None:
    r = assess(make(psychiatric={"psychotic_disorder": "active"}, vitals=None), extended, AS_OF)
    assert r["status"] == "contraindicated"
    assert "bp_missing" in rule_ids(r)
    assert "vitals.bp_systolic_mmhg" in r["missing_data"]
    assert r["findings"][0]["urgent"] is True
    # collect_missing_data only when the status is incomplete
    assert step_ids(r) == ["psychiatric_stabilisation_then_reassess"]


def test_required_data_rule_with_unknown_condition_counts_as_missing(extended: list[LoadedProtocol]) -> None:
    r = assess(make(substance_use=None), extended, AS_OF)
    assert r["status"] == "incomplete"
    (f,) = [f for f in r["findings"] if f["rule_id"] == "last_use_not_recorded"]
    assert f["kind"] == "required_data"
    assert [(t["field"], t["result"]) for t in f["triggered_by"]] == [
        ("substance_use.all_last_use_recorded", "unknown")
    ]
    assert "substance_use.all_last_use_recorded" in r["missing_data"]
    assert "last_use_not_recorded" not in [nc["rule_id"] for nc in r["not_checked"]]


def test_required_data_rule_that_is_false_is_silent(extended: list[LoadedProtocol]) -> None:
    r = assess(make(), extended, AS_OF)
    assert r["status"] == "eligible"
    assert "last_use_not_recorded" not in rule_ids(r)


# ---------------------------------------------------------------- options and doses


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"vitals": bp(160, 100)}, "Not offered now: a deferral applies"),
        ({"vitals": None}, "Not offered until the missing safety data is collected"),
        (
            {"psychiatric": {"psychotic_disorder": "active", "family_history_psychosis": False}},
            "Not offered: a contraindication applies",
        ),
    ],
)
def test_options_excluded_with_reasons_when_not_eligible(
    extended: list[LoadedProtocol], changes: dict[str, Any], reason: str
) -> None:
    r = assess(make(**changes), extended, AS_OF)
    assert r["status"] in ("deferred", "incomplete", "contraindicated")
    assert r["options"]
    for o in r["options"]:
        assert o["state"] == "excluded", o
        assert o["reasons"] and o["reasons"][0].startswith(reason)
        assert o["dose"] is None  # no computed dose beside a reason not to dose (issue 15)


def test_option_exclusion_true_and_unknown(extended: list[LoadedProtocol]) -> None:
    r = assess(make(context={"secure_storage": False}), extended, AS_OF)
    assert r["status"] == "eligible"
    iv = [o for o in r["options"] if o["option_id"] == "iv_ketamine"]
    assert [(o["state"], o["reasons"]) for o in iv] == [("excluded", ["No secure storage (secure storage: no)."])]
    im = [o for o in r["options"] if o["option_id"] == "im_ketamine_capped"]
    assert [o["state"] for o in im] == ["offered"]
    r = assess(make(context=None), extended, AS_OF)
    iv = [o for o in r["options"] if o["option_id"] == "iv_ketamine"]
    assert iv[0]["state"] == "excluded"
    assert iv[0]["reasons"][0].startswith("Could not check (context.secure_storage)")


def test_options_sort_applicable_first_then_by_grade(extended: list[LoadedProtocol]) -> None:
    r = assess(make(substance_use=[{"substance": "opioids", "last_use": ago(3)}]), extended, AS_OF)
    assert {o["state"] for o in r["options"]} == {"not_applicable"}
    assert all("option studied for" in o["reasons"][0] for o in r["options"])
    r = assess(
        make(
            psychiatric={"psychotic_disorder": "none", "family_history_psychosis": False, "conditions": ["ptsd"]},
            context={"secure_storage": False},
        ),
        extended,
        AS_OF,
    )
    # offered and excluded rows are ordered together by grade (only not_applicable rows go last)
    assert [(o["option_id"], o["indication"], o["state"]) for o in r["options"]] == [
        ("im_ketamine_capped", "alcohol", "offered"),
        ("iv_ketamine", "alcohol", "excluded"),
        ("im_ketamine_capped", "ptsd", "offered"),
    ]


def test_dose_is_mg_per_kg_times_weight(mini: list[LoadedProtocol]) -> None:
    (o,) = assess(make(patient={"age": 40, "weight_kg": 72.5}), mini, AS_OF)["options"]
    assert o["dose"] is not None
    assert o["dose"]["computed_mg"] == 58.0
    assert o["dose"]["weight_kg"] == 72.5
    assert o["dose"]["capped"] is False
    assert o["dose"]["text"] == (
        "0.8 mg/kg x 72.5 kg = 58 mg (weight 72.5 kg, date of weighing not recorded: check it before dosing)"
    )


def test_weight_in_pounds_is_converted_and_shown_with_its_date(mini: list[LoadedProtocol]) -> None:
    (o,) = assess(make(patient={"age": 40, "weight_lb": 186, "weight_date": "2026-11-20"}), mini, AS_OF)["options"]
    assert o["dose"] is not None
    assert o["dose"]["weight_kg"] == 84.4  # 186 lb x 0.45359237, not 186 kg
    assert o["dose"]["computed_mg"] == 67.5
    assert o["dose"]["weight"] == "weight 186 lb = 84.4 kg, measured 2026-11-20"
    assert "(weight 186 lb = 84.4 kg, measured 2026-11-20: check it before dosing)" in o["dose"]["text"]


def test_weight_in_both_units_must_agree() -> None:
    from kapdecide.core.errors import InvalidInputError
    from kapdecide.inputs.profile import load_profile_bytes

    load_profile_bytes(b"patient: {weight_kg: 84.4, weight_lb: 186}\n", "p.yaml")  # within 0.5 kg
    with pytest.raises(InvalidInputError) as exc:
        load_profile_bytes(b"patient: {weight_kg: 186, weight_lb: 186}\n", "p.yaml")
    assert "disagree" in exc.value.problems[0].message


def test_dose_not_computable_without_weight_and_status_unaffected(mini: list[LoadedProtocol]) -> None:
    r = assess(make(patient={"age": 40}), mini, AS_OF)
    assert r["status"] == "eligible"
    (o,) = r["options"]
    assert o["state"] == "offered"
    assert o["dose"] is not None
    assert o["dose"]["computed_mg"] is None and o["dose"]["weight_kg"] is None
    assert "not computable" in o["dose"]["text"]


def test_dose_cap_and_fixed_dose(extended: list[LoadedProtocol]) -> None:
    r = assess(
        make(
            patient={"age": 40, "weight_kg": 100},
            psychiatric={"psychotic_disorder": "none", "family_history_psychosis": False, "conditions": ["ptsd"]},
        ),
        extended,
        AS_OF,
    )
    doses = {(o["option_id"], o["indication"]): o["dose"] for o in r["options"]}
    capped = doses[("im_ketamine_capped", "alcohol")]
    assert capped is not None and (capped["computed_mg"], capped["capped"]) == (50.0, True)
    assert "capped at 50 mg" in capped["text"]
    fixed = doses[("im_ketamine_capped", "ptsd")]
    assert fixed is not None and (fixed["computed_mg"], fixed["text"]) == (28.0, "28 mg fixed dose")
    uncapped = assess(make(patient={"age": 40, "weight_kg": 60}), extended, AS_OF)
    dose = next(o["dose"] for o in uncapped["options"] if o["option_id"] == "im_ketamine_capped")
    assert dose is not None and (dose["computed_mg"], dose["capped"]) == (42.6, False)


def test_substance_evidence(mini: list[LoadedProtocol]) -> None:
    r = assess(
        make(
            substance_use=[
                {"substance": "alcohol", "last_use": ago(5)},
                {"substance": "nicotine", "last_use": ago(1)},
                {"substance": "cannabis", "last_use": ago(1)},
            ]
        ),
        mini,
        AS_OF,
    )
    by = {s["substance"]: s for s in r["substances"]}
    assert [s["substance"] for s in r["substances"]] == ["alcohol", "cannabis", "nicotine"]
    assert by["alcohol"]["grade"] == "low" and not by["alcohol"]["insufficient_evidence"]
    assert by["nicotine"]["insufficient_evidence"] and "Insufficient evidence" in by["nicotine"]["statement"]
    assert by["cannabis"]["insufficient_evidence"] and by["cannabis"]["evidence"] == []
    assert r["standard_care"] == ["Naltrexone, acamprosate."]


# ---------------------------------------------------------------- determinism and the engine guard


def test_determinism(extended: list[LoadedProtocol], monkeypatch: pytest.MonkeyPatch) -> None:
    profile = make(vitals=None, medications=["diazepam", "zzz"], psychiatric={"family_history_psychosis": True})
    first = assess(profile, extended, AS_OF)
    assert assess(profile, extended, AS_OF) == first
    monkeypatch.setattr(compiled, "_COMPILED", {})  # a freshly compiled engine gives the same report
    assert assess(profile, extended, AS_OF) == first
    again = Profile.model_validate(profile.model_dump(mode="json", exclude_unset=True))
    assert assess(again, extended, AS_OF) == first


def test_engine_disagreement_extra_rule(mini: list[LoadedProtocol], monkeypatch: pytest.MonkeyPatch) -> None:
    real = Engine.fired

    def wrong(self: Engine, facts: Facts) -> set[str]:
        return real(self, facts) | {"rule:missing_bp"}

    monkeypatch.setattr(Engine, "fired", wrong)
    with pytest.raises(EngineDisagreementError) as info:
        assess(make(), mini, AS_OF)
    assert "rule:missing_bp" in str(info.value)
    assert info.value.exit_code == 4


def test_engine_disagreement_missing_rule(mini: list[LoadedProtocol], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Engine, "fired", lambda self, facts: set())
    assess(make(), mini, AS_OF)  # nothing true: an empty fired set agrees
    with pytest.raises(EngineDisagreementError) as info:
        assess(make(vitals=bp(170, 100)), mini, AS_OF)
    assert "rule:bp_above_hold_threshold" in str(info.value)


def test_several_protocols() -> None:
    both = load_protocols([FIXTURES / "valid" / "mini.yaml", FIXTURES / "unit" / "assess.yaml"])
    r = assess(make(vitals=bp(150, 80)), both, AS_OF)
    assert [p["id"] for p in r["protocols"]] == ["mini", "assess_unit"]
    assert r["status"] == "deferred"
    assert sorted((f["protocol_id"], f["rule_id"]) for f in r["findings"]) == [
        ("assess_unit", "bp_high"),
        ("mini", "bp_above_hold_threshold"),
    ]
    assert r["standard_care"] == ["Naltrexone, acamprosate."]  # the same text is listed once
    assert {(o["protocol_id"], o["option_id"]) for o in r["options"]} == {
        ("mini", "iv_ketamine_clinic"),
        ("assess_unit", "iv_ketamine"),
        ("assess_unit", "im_ketamine_capped"),
    }


def test_stale_data_listed_once_for_several_protocols() -> None:
    both = load_protocols([FIXTURES / "valid" / "mini.yaml", FIXTURES / "unit" / "assess.yaml"])
    r = assess(make(vitals=bp(120, 80, days_ago=59)), both, AS_OF)
    assert r["status"] == "incomplete"
    assert len(r["stale_data"]) == 1  # today: two identical StaleItems (they carry no protocol id)


def _generated_profiles(count: int) -> list[dict[str, object]]:
    import importlib.util

    path = Path(__file__).resolve().parents[3] / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("kapdecide_bench_generate_t", path)
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return [json.loads(json.dumps(p)) for p in gen.generate(count, 7)]


def test_every_report_is_exactly_what_its_declaration_says() -> None:
    # The report is plain data declared once (assessment/report.py). Checked against that declaration
    # (pydantic, extra keys refused), it comes back unchanged: no key missing, added or reordered, no
    # value of another type (an int where the schema says float would come back 5.0).
    from kapdecide.assessment.report import validate_report
    from kapdecide.inputs.profile import validate_profile_data
    from kapdecide.inputs.yaml_source import SourceMap
    from kapdecide.render.json import one_line

    protocols = load_protocols([default_protocol_dir()])
    statuses = set()
    for data in _generated_profiles(400):
        profile = validate_profile_data(data, SourceMap("generated"))
        out = assess(profile, protocols, dt.date(2026, 11, 21))
        assert json.dumps(validate_report(out)) == json.dumps(out)
        compact = json.dumps(out, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        assert one_line(out) == to_json(out).decode("utf-8") == compact  # how batch lines are written
        statuses.add(out["status"])
    assert len(statuses) == 5


@pytest.mark.parametrize(
    "example", sorted((Path(__file__).resolve().parents[3] / "examples").glob("*.yaml")), ids=lambda p: p.stem
)
def test_explained_reports_match_their_declaration_too(example: Path) -> None:
    from kapdecide import pipeline
    from kapdecide.assessment.report import validate_report

    checked = pipeline.from_bytes(example.read_bytes(), str(example), today=dt.date(2026, 11, 21))
    out = pipeline.report(checked, load_protocols([default_protocol_dir()]), explain=True)
    assert out["explanation"] and json.dumps(validate_report(out)) == json.dumps(out)


def test_a_what_if_weight_is_the_weight_the_dose_names(mini: list[LoadedProtocol]) -> None:
    profile = make(patient={"age": 40, "weight_lb": 186, "weight_date": "2026-11-01"})
    (o,) = assess(profile, mini, AS_OF, {"patient.weight_kg": 50.0})["options"]
    assert o["dose"] is not None and o["dose"]["computed_mg"] == 40.0
    assert o["dose"]["weight"] == "weight 50 kg (what-if, HYPOTHETICAL)"  # not the recorded 186 lb


@pytest.mark.parametrize(
    ("typo", "hint"),
    [
        ("weight_lbs", "weight_lb"),
        ("weight_pounds", "weight_lb"),
        ("weight_kilo", "weight_kg"),
        ("wieght_kg", "weight_kg"),
        ("weight_oz", None),  # no field in ounces: no hint, never one in another unit
        ("weight", None),  # the bare quantity: the clinician picks kg or lb
        ("body_weight", None),
    ],
)
def test_field_hints_never_change_the_unit(typo: str, hint: str | None) -> None:
    from kapdecide.core.vocabulary import suggest

    assert suggest(typo, ["weight_kg", "weight_lb", "weight_date", "age", "ref", "sex_at_birth"]) == hint
