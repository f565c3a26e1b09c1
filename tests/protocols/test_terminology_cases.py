"""Issue 11's records, as clinicians write them, through the shipped protocol.

Base: examples/eligible-cocaine.yaml (status eligible, IV ketamine offered). Each case changes one
list to what a real record holds (brands, doses in names, combinations, salts, codes, conditions
outside the vocabulary) and checks the status, the findings and what the report says.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kapdecide.assessment.assess import assess as assess_report
from kapdecide.core.errors import InvalidInputError
from kapdecide.inputs.consistency import check_consistency
from kapdecide.inputs.profile import validate_profile_data
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.protocol.loader import default_protocol_dir, load_protocols

ROOT = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((ROOT / "examples" / "eligible-cocaine.yaml").read_text(encoding="utf-8"))
AS_OF = dt.date(2026, 11, 21)
PROTOCOLS = load_protocols([default_protocol_dir()])


def assess(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for key, value in changes.items():
        if key == "psychiatric_conditions":
            data["psychiatric"]["conditions"] = value
        else:
            data[key] = value
    smap = SourceMap("case.yaml")
    profile = validate_profile_data(data, smap)
    problems = check_consistency(profile, AS_OF, smap)
    if problems:
        raise InvalidInputError("contradiction", problems)
    return assess_report(profile, PROTOCOLS, AS_OF)


def rules(report: dict[str, Any]) -> set[str]:
    return {f["rule_id"] for f in report["findings"]}


def offered(report: dict[str, Any]) -> set[str]:
    return {o["option_id"] for o in report["options"] if o["state"] == "offered"}


def finding(report: dict[str, Any], rule: str) -> dict[str, Any]:
    return next(f for f in report["findings"] if f["rule_id"] == rule)


def test_the_base_profile_is_eligible() -> None:
    r = assess()
    assert r["status"] == "eligible" and "iv_ketamine_clinic" in offered(r)


def test_brands_doses_and_combinations_fire_the_interactions() -> None:
    r = assess(medications=["Xanax", "Ativan 1mg", "buprenorphine/naloxone"])
    assert {"benzodiazepine_interaction", "opioid_interaction"} <= rules(r)
    assert r["status"] == "eligible_with_precautions"
    assert "sublingual_at_home_supervised" not in offered(r)
    # each message names only the patient's drugs in that rule's class
    assert "(alprazolam, lorazepam)" in finding(r, "benzodiazepine_interaction")["message"]
    assert "(buprenorphine)" in finding(r, "opioid_interaction")["message"]
    assert r["unrecognised"] == []


@pytest.mark.parametrize(
    ("medication", "rule"),
    [
        ("dextromethorphan/bupropion", "memantine_interaction"),
        ("oxycodone and acetaminophen", "opioid_interaction"),
        ("Suboxone 8/2 mg", "opioid_interaction"),
        ("flurazepam 30 mg at night", "benzodiazepine_interaction"),
        ("meperidine", "opioid_interaction"),
        ("carbamazepine", "cyp_interaction"),
        ("verapamil ER 240 mg", "cyp_interaction"),
        ("Paxlovid", "cyp_interaction"),
        ("Nardil 15 mg", "maoi_interaction"),
        ("Adderall XR", "psychostimulant_interaction"),
        ("Lamictal", "lamotrigine_interaction"),
        ({"system": "rxnorm", "code": "1010600"}, "opioid_interaction"),
    ],
)
def test_real_medication_entries_fire_their_class_rule(medication: Any, rule: str) -> None:
    assert rule in rules(assess(medications=[medication]))


def test_an_opioid_message_names_only_the_opioid() -> None:
    r = assess(medications=["hydrocodone", "sertraline"])
    assert "(hydrocodone)" in finding(r, "opioid_interaction")["message"]
    assert "sertraline" not in finding(r, "opioid_interaction")["message"]


@pytest.mark.parametrize(
    "allergy",
    ["Ketalar", "KETALAR", "Spravato", "ketamine hydrochloride", {"system": "rxnorm", "code": "6130"}],
)
def test_an_allergy_under_a_brand_or_salt_is_a_ketamine_contraindication(allergy: Any) -> None:
    r = assess(allergies=[allergy])
    assert r["status"] == "contraindicated"
    assert "ketamine_hypersensitivity" in rules(r)
    assert offered(r) == set()


@pytest.mark.parametrize("condition", ["asthma", "hiv", "complex_regional_pain_syndrome"])
def test_a_condition_outside_the_vocabulary_is_kept_reported_and_caps_the_status(condition: str) -> None:
    r = assess(medical_conditions=[condition])
    assert r["status"] == "eligible_with_precautions"  # never eligible with an unchecked entry
    assert [u["entry"] for u in r["unrecognised"]] == [condition]
    assert r["unrecognised"][0]["path"] == "medical_conditions[0]"
    assert "review by hand" in r["unrecognised"][0]["message"]


def test_an_unrecognised_medication_or_allergy_never_leaves_eligible() -> None:
    for change in ({"medications": ["Frobnicol 20 mg"]}, {"allergies": ["mystery dye"]}):
        r = assess(**change)
        assert r["status"] == "eligible_with_precautions", change
        assert r["unrecognised"], change


def test_schizophrenia_in_the_conditions_is_a_psychotic_disorder() -> None:
    data_psych = copy.deepcopy(BASE["psychiatric"])
    data_psych["psychotic_disorder"] = None
    data_psych["conditions"] = ["schizophrenia"]
    r = assess(psychiatric=data_psych)
    assert r["status"] == "contraindicated"
    assert "psychotic_disorder" in rules(r)


def test_schizophrenia_with_psychotic_disorder_none_is_a_located_contradiction() -> None:
    with pytest.raises(InvalidInputError) as exc:
        assess(psychiatric_conditions=["schizophrenia"])
    (p,) = exc.value.problems
    assert p.code == "invalid_diagnosis_contradiction"
    assert p.path == "psychiatric.conditions[0]"
    assert "psychotic_disorder is none" in p.message


@pytest.mark.parametrize(
    "entry",
    [
        "denies psychosis",
        "No history of psychosis",
        "negative for bipolar disorder",
        "schizophrenia ruled out",
        "no longer psychotic",  # a past episode is possible: never read as none either
        "family history of schizophrenia",
        "FHx bipolar disorder",
        "Mother has bipolar disorder",
        "Paternal uncle with schizophrenia",
    ],
)
def test_a_negated_or_a_relatives_diagnosis_is_neither_read_nor_a_contradiction(entry: str) -> None:
    # As clinicians write them: before, each was read as the patient's psychosis or bipolar disorder
    # and, beside psychotic_disorder: none, refused as a contradiction (exit 2).
    r = assess(psychiatric_conditions=[entry])
    assert r["status"] == "eligible_with_precautions"  # kept for review by hand, never eligible
    (u,) = r["unrecognised"]
    assert u["entry"] == entry and u["path"] == "psychiatric.conditions[0]"
    assert ("relative" in u["message"]) is (entry.lower().startswith(("family", "fhx", "mother", "paternal")))
    assert "review by hand" in u["message"]


@pytest.mark.parametrize(
    "entry",
    ["r/o psychosis", "rule out bipolar disorder", "schizophrenia (mother also)", "history of psychosis",
     "Major depressive disorder, recurrent, severe, with psychotic features"],
)  # fmt: skip
def test_a_suspected_or_own_diagnosis_with_a_relative_mentioned_is_still_read(entry: str) -> None:
    # "r/o" is "to be ruled out" (suspected); a relative named after the diagnosis does not make it theirs
    with pytest.raises(InvalidInputError) as exc:
        assess(psychiatric_conditions=[entry])  # beside psychotic_disorder / bipolar_disorder: none
    assert exc.value.problems[0].code == "invalid_diagnosis_contradiction"


@pytest.mark.parametrize(
    ("entry", "slug"),
    [
        ("MDD recurrent severe without psychotic features", "major_depressive_disorder"),
        ("Major depressive disorder, recurrent severe without psychotic features", "major_depressive_disorder"),
        ("recurrent major depression", "major_depressive_disorder"),
        ("Depression NOS", "major_depressive_disorder"),
        ("Depressive disorder", "major_depressive_disorder"),
        ("post traumatic stress disorder, chronic", "ptsd"),
        ("C-PTSD", "ptsd"),
    ],
)
def test_course_and_specifiers_do_not_hide_the_diagnosis(entry: str, slug: str) -> None:
    r = assess(psychiatric_conditions=[entry])
    assert r["unrecognised"] == [] and r["status"] == "eligible"


def test_bpd_is_ambiguous_and_asks_for_the_diagnosis_in_full() -> None:
    r = assess(psychiatric_conditions=["BPD"])
    (u,) = r["unrecognised"]
    assert "borderline personality disorder and bipolar disorder" in u["message"]
    assert r["status"] == "eligible_with_precautions"


@pytest.mark.parametrize(
    ("entry", "rule"),
    [
        ({"system": "snomed", "code": "35252006"}, "psychotic_disorder"),  # psychotic disorder set
        ({"system": "icd-10-cm", "code": "F31.2"}, "psychotic_disorder"),  # bipolar I with psychotic features
        ({"system": "snomed", "code": "230690007", "display": "Stroke"}, "stroke_or_tia_history"),
        ({"system": "icd-10-cm", "code": "I63.9"}, "stroke_or_tia_history"),
    ],
)
def test_coded_conditions(entry: dict[str, str], rule: str) -> None:
    psych = copy.deepcopy(BASE["psychiatric"])
    psych["psychotic_disorder"] = None
    psych["bipolar_disorder"] = None
    psych["mania"] = None
    r = assess(psychiatric=psych, medical_conditions=[entry])
    assert rule in rules(r), rules(r)
    assert r["status"] == "contraindicated"


def test_the_cli_warns_with_file_line_col_and_still_assesses(tmp_path: Path) -> None:
    path = ROOT / "tests/fixtures/profiles/unrecognised/misspelt-psychiatric-condition.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", "assess", str(path), "--format", "json", "--as-of", "2026-11-21"],
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "misspelt-psychiatric-condition.yaml:26:16: warning [unrecognised-entry]" in proc.stderr
    assert "did you mean 'major_depressive_disorder'?" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] in ("eligible_with_precautions", "incomplete", "deferred", "contraindicated")
    assert doc["status"] != "eligible"
    assert doc["unrecognised"][0]["suggestion"] == "major_depressive_disorder"


# ---------------------------------------------------------------- review findings (fail-open cases)


@pytest.mark.parametrize(
    "entry",
    ["manic episode", "bipolar affective disorder, current episode manic", {"system": "icd-10-cm", "code": "F30.10"}],
)
def test_a_mania_entry_without_timing_is_current_mania(entry: Any) -> None:
    psych = copy.deepcopy(BASE["psychiatric"])
    psych.update({"mania": None, "bipolar_disorder": None, "conditions": [entry]})
    r = assess(psychiatric=psych)
    assert r["status"] == "contraindicated"
    assert "current_mania_or_mixed_episode" in rules(r)


def test_a_mania_entry_written_as_history_is_past_mania() -> None:
    psych = copy.deepcopy(BASE["psychiatric"])
    psych.update({"mania": None, "conditions": ["history of hypomania"]})
    r = assess(psychiatric=psych)
    assert "past_mania_without_bipolar" in rules(r)
    assert "current_mania_or_mixed_episode" not in rules(r)


@pytest.mark.parametrize("written", ["Tylenol (with codeine)", "Tylenol #3", "hydrocodone-APAP 5/325"])
def test_opioids_inside_brackets_numbered_brands_and_abbreviations(written: str) -> None:
    assert "opioid_interaction" in rules(assess(medications=[written]))


#: An opioid use disorder with use 3 days ago and no MOUD: deferred (opioid_use_unstabilized).
OPIOIDS_USED_3_DAYS_AGO = {
    "substance": "opioids",
    "severity": "severe",
    "last_use": "2026-11-18",
    "withdrawal": "none",
    "intoxicated": False,
    "remission": "none",
    "treatment": [],
}


def test_a_discontinued_moud_does_not_count_as_stabilisation() -> None:
    r = assess(
        substance_use=[OPIOIDS_USED_3_DAYS_AGO],
        medications=["methadone (discontinued)"],
    )
    assert r["status"] == "deferred"
    assert "opioid_use_unstabilized" in rules(r)
    assert r["unrecognised"][0]["entry"] == "methadone (discontinued)"


def test_a_proposed_moud_is_checked_for_interactions_but_is_not_stabilisation() -> None:
    r = assess(
        substance_use=[OPIOIDS_USED_3_DAYS_AGO],
        proposed_medications=["buprenorphine"],
    )
    assert r["status"] == "deferred"
    assert {"opioid_use_unstabilized", "opioid_interaction"} <= rules(r)
    assert "(buprenorphine (proposed))" in finding(r, "opioid_interaction")["message"]


def test_proposed_medications_are_checked_without_a_current_list() -> None:
    r = assess(medications=None, proposed_medications=["Nardil 15 mg"])
    assert "maoi_interaction" in rules(r)
    assert r["status"] == "incomplete"  # the current list is still missing
    assert "missing_medication_list" in rules(r)
    assert [m["ingredient"] for m in r["medications"]["checked"]] == ["phenelzine"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"medical_conditions": ["pregnant"]}, "invalid_pregnancy_contradiction"),
        ({"psychiatric_conditions": ["suicidal ideation"]}, "invalid_suicidality_contradiction"),
    ],
)
def test_named_pregnancy_or_suicidality_against_a_recorded_no_is_a_contradiction(
    change: dict[str, Any], code: str
) -> None:
    with pytest.raises(InvalidInputError) as exc:
        assess(**change)
    assert exc.value.problems[0].code == code
