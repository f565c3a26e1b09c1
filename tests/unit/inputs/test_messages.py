"""messages: each pydantic error a profile author can hit says what to write, with an example from the
model, in the input's own syntax; ``none`` is ``[]`` exactly where the list records "there is none"."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from kapdecide import pipeline
from kapdecide.core.errors import InvalidInputError, Problem
from kapdecide.inputs import profile as profile_module
from kapdecide.inputs.messages import RECORDED_NONE_LISTS, Slot, expected, members, model_example, slot_at
from kapdecide.inputs.profile import BloodPressureReading, NoneIsEmpty, Profile, load_profile_bytes
from kapdecide.inputs.yaml_source import SourceMap, format_path
from kapdecide.protocol.loader import default_protocol_dir, load_protocols

DAY = dt.date(2026, 11, 21)
ROOT = Path(__file__).resolve().parents[3]


def problem(text: str, file: str = "p.yaml") -> Problem:
    with pytest.raises(InvalidInputError) as info:
        load_profile_bytes(text.encode(), file)
    probs = info.value.problems
    assert len(probs) == 1, [p.format() for p in probs]
    return probs[0]


# ---------------------------------------------------------------- one plain message per error type

#: (profile YAML, the same in JSON, path, code, words the message must contain)
CASES: list[tuple[str, str, str, str, list[str]]] = [
    (
        "vitals: {blood_pressure: ['140/90']}",
        '{"vitals": {"blood_pressure": ["140/90"]}}',
        "vitals.blood_pressure[0]",
        "wrong-type",
        ["'140/90' is one piece of text", "systolic_mmhg", "140", "diastolic_mmhg", "90", "taken_at"],
    ),
    (
        "vitals: {blood_pressure: 124/78}",
        '{"vitals": {"blood_pressure": "124/78"}}',
        "vitals.blood_pressure",
        "wrong-type",
        ["a list of readings", "systolic_mmhg", "124", "78", "taken_at"],
    ),
    (
        "medications: sertraline",
        '{"medications": "sertraline"}',
        "medications",
        "wrong-type",
        ["write a list", "sertraline", "for one entry", "write [] or none when there are none"],
    ),
    (
        "assessed_on: 20261121",
        '{"assessed_on": 20261121}',
        "assessed_on",
        "invalid-value",
        ["YYYY-MM-DD", "2026-11-21", "(got 20261121)"],
    ),
    (
        "assessed_on: 21/11/2026",
        '{"assessed_on": "21/11/2026"}',
        "assessed_on",
        "invalid-value",
        ["day/month or month/day", "write dates as YYYY-MM-DD"],
    ),
    (
        "pregnancy: {breastfeeding: maybe}",
        '{"pregnancy": {"breastfeeding": "maybe"}}',
        "pregnancy.breastfeeding",
        "wrong-type",
        ["write true or false", "leave it out when not known", "(got 'maybe')"],
    ),
    (
        "pregnancy: {breastfeeding: 'no'}",
        '{"pregnancy": {"breastfeeding": "no"}}',
        "pregnancy.breastfeeding",
        "wrong-type",
        ["write false (not 'no')"],
    ),
    (
        "substance_use: [{substance: alcohol, severity: severee}]",
        '{"substance_use": [{"substance": "alcohol", "severity": "severee"}]}',
        "substance_use[0].severity",
        "not-in-vocabulary",
        ["one of mild, moderate, severe", "did you mean 'severe'?"],
    ),
    (
        "substance_use: [{substance: alcohl}]",
        '{"substance_use": [{"substance": "alcohl"}]}',
        "substance_use[0].substance",
        "not-in-vocabulary",
        ["did you mean 'alcohol'?", "`kapdecide vocab substances`"],
    ),
    (
        "patient: {age: 250}",
        '{"patient": {"age": 250}}',
        "patient.age",
        "out-of-range",
        ["must be from 0 to 120 years", "(got 250)"],
    ),
    (
        "vitals: {blood_pressure: [{systolic_mmhg: 1200, diastolic_mmhg: 90, taken_at: 2026-11-21}]}",
        '{"vitals": {"blood_pressure": [{"systolic_mmhg": 1200, "diastolic_mmhg": 90, "taken_at": "2026-11-21"}]}}',
        "vitals.blood_pressure[0].systolic_mmhg",
        "out-of-range",
        ["must be from 50 to 300 mmHg", "(got 1200)"],
    ),
    (
        "patient: {weight_kg: 0}",
        '{"patient": {"weight_kg": 0}}',
        "patient.weight_kg",
        "out-of-range",
        ["above 0 and at most 650 kg"],
    ),
    (
        "vitals: {blood_pressure: [{systolic_mmhg: 140, diastolic_mmhg: 90}]}",
        '{"vitals": {"blood_pressure": [{"systolic_mmhg": 140, "diastolic_mmhg": 90}]}}',
        "vitals.blood_pressure[0].taken_at",
        "missing-field",
        ["taken_at is required here", "a date or date-time"],
    ),
    (
        "patient: {sex: female}",
        '{"patient": {"sex": "female"}}',
        "patient.sex",
        "unknown-field",
        ["unknown field 'sex'", "sex_at_birth"],
    ),
    (
        "patient: {age: '42'}",
        '{"patient": {"age": "42"}}',
        "patient.age",
        "wrong-type",
        ["write 42 without quotes", "a whole number from 0 to 120"],
    ),
    (
        "vitals: {heart_rate_bpm: 70.0}",
        '{"vitals": {"heart_rate_bpm": 70.0}}',
        "vitals.heart_rate_bpm",
        "wrong-type",
        ["write 70, without a decimal point"],
    ),
    (
        "patient: {weight_kg: '68'}",
        '{"patient": {"weight_kg": "68"}}',
        "patient.weight_kg",
        "invalid-value",
        ["write a number without quotes"],
    ),
    (
        "psychiatric: {last_suicidal_behavior: never}",
        '{"psychiatric": {"last_suicidal_behavior": "never"}}',
        "psychiatric.last_suicidal_behavior",
        "invalid-value",
        ["a date as YYYY-MM-DD or none", "(got 'never')"],
    ),
    (
        "ketamine_history: [none]",
        '{"ketamine_history": ["none"]}',
        "ketamine_history",
        "wrong-type",
        ["the ketamine_history section as a mapping like", "prior_exposure", "misuse"],
    ),
    (
        "medications: [5]",
        '{"medications": [5]}',
        "medications[0]",
        "wrong-type",
        ["a name (e.g. ", "sertraline", "or a mapping like", "ingredient", "dose"],
    ),
    (
        "medical_conditions: ['']",
        '{"medical_conditions": [""]}',
        "medical_conditions[0]",
        "out-of-range",
        ["must not be empty"],
    ),
    (
        "medications: None",
        '{"medications": "None"}',
        "medications",
        "wrong-type",
        ["to record that there are none, write [] or none"],
    ),
    (
        "vitals: {blood_pressure: none}",
        '{"vitals": {"blood_pressure": "none"}}',
        "vitals.blood_pressure",
        "wrong-type",
        ["leave blood_pressure out when not known"],
    ),
]


@pytest.mark.parametrize(("yaml_text", "json_text", "path", "code", "words"), CASES, ids=[c[2] for c in CASES])
@pytest.mark.parametrize("syntax", ["yaml", "json"])
def test_each_error_says_what_to_write(
    syntax: str, yaml_text: str, json_text: str, path: str, code: str, words: list[str]
) -> None:
    p = problem(yaml_text + "\n") if syntax == "yaml" else problem(json_text, "p.json")
    assert (p.path, p.code) == (path, code)
    assert p.line is not None and p.col is not None
    for word in words:
        assert word in p.message, p.message
    assert "Input should" not in p.message and "Field required" not in p.message


def test_examples_are_written_in_the_inputs_own_syntax() -> None:
    yaml_msg = problem("vitals: {blood_pressure: ['140/90']}\n").message
    json_msg = problem('{"vitals": {"blood_pressure": ["140/90"]}}', "p.json").message
    assert "{systolic_mmhg: 140, diastolic_mmhg: 90, taken_at: 2026-11-21}" in yaml_msg
    assert '{"systolic_mmhg": 140, "diastolic_mmhg": 90, "taken_at": "2026-11-21"}' in json_msg


def test_a_batch_line_is_json_and_gets_json_examples() -> None:
    with pytest.raises(InvalidInputError) as info:
        pipeline.from_data({"medications": "x"}, SourceMap("line 1", syntax="json"), today=DAY)
    assert '["x"]' in info.value.problems[0].message


def test_the_patient_reference_is_never_echoed() -> None:
    p = problem("patient: {ref: 123456}\n")
    assert "123456" not in p.message and "not shown" in p.message


# ---------------------------------------------------------------- examples come from the model


def _models() -> list[type[BaseModel]]:
    return [
        m
        for m in vars(profile_module).values()
        if isinstance(m, type) and issubclass(m, BaseModel) and m.__module__ == profile_module.__name__
    ]


def test_every_example_a_message_shows_is_valid_where_it_is_shown() -> None:
    """A message's example is built from the models; each one validates, so they cannot drift."""
    for model in _models():
        if model.model_fields:
            model.model_validate(model_example(model))
        for name, info in model.model_fields.items():
            slot = slot_at(model, (info.alias or name,))
            assert slot is not None
            _, example = expected(slot)
            TypeAdapter(slot.annotation).validate_python(example)


def test_the_reading_example_names_the_models_fields() -> None:
    assert list(model_example(BloodPressureReading)) == list(BloodPressureReading.model_fields)


def test_slot_at_follows_lists_and_sections() -> None:
    slot = slot_at(Profile, ("vitals", "blood_pressure", 0, "taken_at"))
    assert slot is not None and slot.name == "taken_at"
    assert slot_at(Profile, ("vitals", "no_such_field")) is None
    assert expected(Slot(bool, "x", None))[0] == "true or false"


# ---------------------------------------------------------------- none is [] where [] records none


def _none_lists(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for name, info in model.model_fields.items():
        here = (*prefix, info.alias or name)
        if NoneIsEmpty in info.metadata:
            found.add(here)
        for t, _ in members(info.annotation):
            inner = [a for a, _ in members(t.__args__[0])] if getattr(t, "__origin__", None) is list else [t]
            for m in inner:
                if isinstance(m, type) and issubclass(m, BaseModel):
                    found |= _none_lists(m, (*here, "*") if inner != [t] else here)
    return found


def test_none_is_accepted_exactly_on_the_lists_that_record_none() -> None:
    assert _none_lists(Profile) == set(RECORDED_NONE_LISTS)


RECORDED = {
    "substance_use": ("substance_use",),
    "treatment": ("substance_use", 0, "treatment"),
    "psychiatric.conditions": ("psychiatric", "conditions"),
    "medical_conditions": ("medical_conditions",),
    "medications": ("medications",),
    "allergies": ("allergies",),
}


def _base() -> dict[str, Any]:
    text = (ROOT / "examples" / "eligible-cocaine.yaml").read_bytes()
    prof, _ = load_profile_bytes(text, "eligible-cocaine.yaml")
    return json.loads(prof.model_dump_json(exclude_none=True))


def _set(data: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return data


@pytest.mark.parametrize("name", list(RECORDED))
@pytest.mark.parametrize("syntax", ["yaml", "json"])
def test_none_means_exactly_the_same_as_an_empty_list(name: str, syntax: str) -> None:
    loaded = load_protocols([default_protocol_dir()])
    path = RECORDED[name]

    def report(value: Any) -> str:
        data = _set(_base(), path, value)
        if syntax == "yaml":
            import yaml

            raw = yaml.safe_dump(data, sort_keys=False).encode()
        else:
            raw = json.dumps(data).encode()
        checked = pipeline.from_bytes(raw, f"p.{syntax}", today=DAY)
        return json.dumps(pipeline.report(checked, loaded), sort_keys=True)

    written_none, empty = report("none"), report([])
    assert written_none == empty  # the same report, so the same receipt (profile_sha256) too
    assert json.loads(written_none)["receipt"]["profile_sha256"] == json.loads(empty)["receipt"]["profile_sha256"]


def test_a_missing_list_stays_unknown_and_none_in_a_list_stays_an_unrecognised_entry() -> None:
    assert load_profile_bytes(b"patient: {age: 40}\n", "p.yaml")[0].medications is None
    prof, _ = load_profile_bytes(b"allergies: [none]\npsychiatric: {conditions: [none]}\n", "p.yaml")
    assert prof.allergies is not None and prof.allergies[0].agent == "none"  # reviewed by hand, never "no allergy"
    assert prof.psychiatric is not None and prof.psychiatric.conditions is not None
    assert prof.psychiatric.conditions[0].condition == "none"


@pytest.mark.parametrize("field", ["proposed_medications", "incomplete_lists"])
def test_none_is_refused_where_a_list_records_no_answer(field: str) -> None:
    p = problem(f"{field}: none\n")
    assert p.code == "wrong-type" and "leave" in p.message


def test_a_none_entry_is_reviewed_by_hand_and_says_how_to_record_none() -> None:
    from kapdecide.inputs.resolution import resolve

    prof, _ = load_profile_bytes(b"allergies: [none]\nproposed_medications: [NKDA]\n", "p.yaml")
    messages = {format_path(r.path): r.message for r in resolve(prof).review}
    assert messages["allergies[0]"].endswith("to record that there are none, write allergies: [] (or none)")
    assert messages["proposed_medications[0]"].endswith("write proposed_medications: []")  # none is refused there
