"""Fail-safe properties of the shipped protocol, over generated valid profiles (hypothesis).

Statuses from least to most permissive: contraindicated, deferred, incomplete,
eligible_with_precautions, eligible.

- Less data is never more permissive: making a field unknown can lower the status to `incomplete`
  at most; it never yields a status more permissive than both the original and `incomplete`. (It
  cannot keep `contraindicated` when the contraindicating fact itself is removed: that fact is
  then unknown, which is `incomplete`.)
- A worse fact is never more permissive: a higher blood pressure, an added contraindicating
  condition, an added interacting medication or allergy, or a last use closer to the assessment.
  "Worse" conditions and medication classes are those the protocol only ever counts against the
  patient (tested with `contains`, never with `not_contains`).
- Determinism: any key order of the input gives byte-identical JSON.
- Contract: every report validates against the published schema; an offered option has a grade
  and a citation; nothing is offered unless the status is eligible or eligible with precautions.

Examples are derandomized (the same each run); hypothesis prints a reproducible blob on failure.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapdecide.assessment.assess import STATUS_ORDER, assess
from kapdecide.assessment.report import Report
from kapdecide.core.errors import InvalidInputError
from kapdecide.core.vocabulary import MEDICATIONS
from kapdecide.inputs.consistency import check_consistency
from kapdecide.inputs.profile import validate_profile_data
from kapdecide.inputs.terminology import ingredient_classes, match_drug_text
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.language.conditions import walk_leaves
from kapdecide.protocol.loader import load_protocols
from kapdecide.render.json import render_report

from .profile_strategies import AS_OF, near_eligible_profiles, profiles

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = load_protocols([ROOT / "protocols"])
SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILES = st.one_of(profiles(), near_eligible_profiles())


def _leaf_values(field: str, op: str) -> set[str]:
    return {
        str(leaf.value)
        for lp in PROTOCOLS
        for cond in [r.when for r in lp.protocol.rules]
        for _, leaf in walk_leaves(cond)
        if leaf.field == field and leaf.op == op
    }


#: What the protocol only ever counts against a patient.
WORSE_CONDITIONS = sorted(
    _leaf_values("medical.conditions", "contains") - _leaf_values("medical.conditions", "not_contains")
)
_WORSE_CLASSES = _leaf_values("medications.classes", "contains") - _leaf_values("medications.classes", "not_contains")
_PROTECTIVE = {
    str(leaf.value)
    for lp in PROTOCOLS
    for r in lp.protocol.rules
    for _, leaf in walk_leaves(r.when)
    if leaf.op == "not_contains"
}
WORSE_MEDICATIONS = sorted(
    m.name for m in MEDICATIONS.values() if m.drug_class in _WORSE_CLASSES and m.name not in _PROTECTIVE
)
#: The same, as records write them (brands, doses, salts): read as their ingredients, just as worse.
WORSE_AS_WRITTEN = [
    w
    for w in ("Nardil 15 mg", "Adderall XR 20 mg", "Theo-24", "Lamictal 100mg", "meperidine 50 mg tablet", "Paxlovid")
    if (m := match_drug_text(w)).recognised
    and not set(m.ingredients) & _PROTECTIVE
    and any(set(ingredient_classes(i)) & _WORSE_CLASSES for i in m.ingredients)
]
#: Entries the terminology does not recognise, one per open list.
UNRECOGNISED = {
    "medications": ["Frobnicol 20 mg", "herbal tea blend"],
    "allergies": ["mystery dye"],
    "medical_conditions": ["asthma", "complex_regional_pain_syndrome"],
}


def _assess(data: dict[str, Any]) -> Report | None:
    """The report, or None when the (mutated) profile is invalid or contradictory."""
    smap = SourceMap("<generated>")
    try:
        profile = validate_profile_data(data, smap)
    except InvalidInputError:
        return None
    if check_consistency(profile, AS_OF, smap):
        return None
    return assess(profile, PROTOCOLS, AS_OF)


def _rank(status: str) -> int:
    return STATUS_ORDER.index(status)  # 0 = contraindicated … 4 = eligible


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in a profile (lists as a whole: removing one item is not 'less data')."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "assessed_on":
                continue
            out.append((*prefix, k))
            if isinstance(v, dict):
                out.extend(_paths(v, (*prefix, k)))
            elif isinstance(v, list):
                for i, item in enumerate(v):
                    if isinstance(item, dict):
                        out.extend(p for p in _paths(item, (*prefix, k, i)) if p[-1] != "substance")
    return out


def _remove(data: dict[str, Any], path: tuple[Any, ...], null: bool) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node: Any = out
    for step in path[:-1]:
        node = node[step]
    if null:
        node[path[-1]] = None
    else:
        del node[path[-1]]
    return out


@SETTINGS
@given(data=PROFILES, choice=st.data())
def test_less_data_is_never_more_permissive(data: dict[str, Any], choice: st.DataObject) -> None:
    before = _assess(data)
    assert before is not None
    paths = _paths(data)
    if not paths:
        return
    path = choice.draw(st.sampled_from(paths))
    after = _assess(_remove(data, path, null=choice.draw(st.booleans())))
    if after is None:
        return
    bound = max(_rank(before["status"]), _rank("incomplete"))
    assert _rank(after["status"]) <= bound, (path, before["status"], after["status"])


@st.composite
def _worse(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    kind = draw(
        st.sampled_from(
            [
                "bp",
                "condition",
                "medication",
                "allergy",
                "last_use",
                "unrecognised",
                "nonprescribed",
                "behaviour",
                "duplicate",
            ]
        )
    )
    if kind == "bp":
        readings = (out.get("vitals") or {}).get("blood_pressure") or []
        if readings:
            latest = max(r["taken_at"] for r in readings)
            up = draw(st.integers(min_value=1, max_value=60))
            for r in readings:
                if r["taken_at"] == latest:
                    r["systolic_mmhg"] = min(300, r["systolic_mmhg"] + up)
                    r["diastolic_mmhg"] = min(r["systolic_mmhg"] - 1, r["diastolic_mmhg"] + up)
    elif kind == "condition" and isinstance(out.get("medical_conditions"), list):
        out["medical_conditions"].append(draw(st.sampled_from(WORSE_CONDITIONS)))
    elif kind == "medication" and isinstance(out.get("medications"), list):
        out["medications"].append(draw(st.sampled_from(WORSE_MEDICATIONS + WORSE_AS_WRITTEN)))
    elif kind == "allergy" and isinstance(out.get("allergies"), list):
        out["allergies"].append(draw(st.sampled_from(["ketamine", "Ketalar", "KETAMINE HCL", "Spravato"])))
    elif kind == "nonprescribed":  # non-prescribed opioid or sedative use closer to the assessment
        for s in out.get("substance_use") or []:
            if "last_nonprescribed_use" in s:
                days = (AS_OF - dt.date.fromisoformat(s["last_nonprescribed_use"])).days
                s["last_nonprescribed_use"] = (AS_OF - dt.timedelta(days=draw(st.integers(0, days)))).isoformat()
    elif kind == "behaviour":  # suicidal behaviour more recent (a contradiction it creates is skipped)
        psy = out.get("psychiatric") or {}
        last = psy.get("last_suicidal_behavior")
        if last is not None:
            days = 3650 if last == "none" else (AS_OF - dt.date.fromisoformat(last)).days
            psy["last_suicidal_behavior"] = (AS_OF - dt.timedelta(days=draw(st.integers(0, days)))).isoformat()
    elif kind == "duplicate" and out.get("medical_conditions"):  # the same condition again, with less detail
        entry = draw(st.sampled_from(out["medical_conditions"]))
        if isinstance(entry, dict) and "condition" in entry:
            out["medical_conditions"].append(entry["condition"])
        else:
            out["medical_conditions"].append(entry)
    elif kind == "unrecognised":
        key = draw(st.sampled_from(sorted(UNRECOGNISED)))
        if isinstance(out.get(key), list):
            out[key].append(draw(st.sampled_from(UNRECOGNISED[key])))
    elif kind == "last_use":
        for s in out.get("substance_use") or []:
            if "last_use" in s:
                days = (AS_OF - dt.date.fromisoformat(s["last_use"])).days
                closer = draw(st.integers(min_value=0, max_value=days))
                # a contradiction this creates (e.g. sustained remission) is rejected and skipped
                s["last_use"] = (AS_OF - dt.timedelta(days=closer)).isoformat()
    return out


@SETTINGS
@given(data=PROFILES, choice=st.data())
def test_a_worse_fact_is_never_more_permissive(data: dict[str, Any], choice: st.DataObject) -> None:
    before = _assess(data)
    assert before is not None
    after = _assess(choice.draw(_worse(data)))
    if after is None:
        return
    assert _rank(after["status"]) <= _rank(before["status"]), (before["status"], after["status"])


def _shuffled(value: Any, rnd: st.DataObject) -> Any:
    if isinstance(value, dict):
        keys = rnd.draw(st.permutations(list(value)))
        return {k: _shuffled(value[k], rnd) for k in keys}
    if isinstance(value, list):
        return [_shuffled(v, rnd) for v in value]
    return value


@SETTINGS
@given(data=PROFILES, rnd=st.data())
def test_key_order_never_changes_the_output(data: dict[str, Any], rnd: st.DataObject) -> None:
    first = _assess(data)
    second = _assess(_shuffled(data, rnd))
    assert first is not None and second is not None
    assert render_report(first) == render_report(second)


@SETTINGS
@given(data=PROFILES)
def test_report_contract(data: dict[str, Any]) -> None:
    report = _assess(data)
    assert report is not None
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(render_report(report)))
    offered = [o for o in report["options"] if o["state"] == "offered"]
    for o in offered:
        assert o["grade"] and o["evidence"], o["option_id"]
    if report["status"] not in ("eligible", "eligible_with_precautions"):
        assert offered == []
    assert "decision support for clinician review" in report["disclaimer"].lower()


@SETTINGS
@given(data=PROFILES, choice=st.data())
def test_an_unrecognised_entry_never_yields_eligible(data: dict[str, Any], choice: st.DataObject) -> None:
    out = copy.deepcopy(data)
    key = choice.draw(st.sampled_from(sorted(UNRECOGNISED)))
    out[key] = [*(out.get(key) or []), choice.draw(st.sampled_from(UNRECOGNISED[key]))]
    report = _assess(out)
    if report is None:
        return
    assert report["status"] != "eligible"
    assert report["unrecognised"], key


def test_worse_sets_are_not_empty() -> None:
    assert len(WORSE_AS_WRITTEN) >= 4, WORSE_AS_WRITTEN
    assert "arteriovenous_malformation" in WORSE_CONDITIONS
    assert "phenelzine" in WORSE_MEDICATIONS
    # buprenorphine stabilises opioid use and a benzodiazepine can be a supervised taper: not "worse" facts
    assert "buprenorphine" not in WORSE_MEDICATIONS and "lorazepam" not in WORSE_MEDICATIONS
