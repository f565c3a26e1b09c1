"""CDS Hooks 2.0 cards: every example and every real FHIR sample against the response schema, at most
six cards in the documented order, the status card first after any sort by indicator, uuids per hook
instance, the import-warnings card, the delete suggestion for a draft ketamine order, the card
configuration, the golden file.

Regenerate the golden file: KAPDECIDE_UPDATE_GOLDEN=1 pytest tests/render/test_cds_hooks.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kapdecide import pipeline
from kapdecide.assessment.report import Finding, InputSource, Report, receipt_sha256
from kapdecide.core.contract import DISCLAIMER
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.protocol.loader import LoadedProtocol, load_protocols
from kapdecide.render.cds_hooks import (
    EXTENSION_KEY,
    SUMMARY_MAX,
    CardConfig,
    DraftOrder,
    build_response,
    cds_response,
    render_cds_hooks,
    summary_text,
)
from unit.inputs.test_fhir import bundle, cond, medreq, patient

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
SCHEMAS = ROOT / "tests" / "schemas"
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.yaml"))
SAMPLE_FILES = sorted(p.name for p in SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []
UPDATE = os.environ.get("KAPDECIDE_UPDATE_GOLDEN") == "1"
AS_OF = dt.date(2026, 11, 21)
HOOK = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
SEVERITY = {"info": 0, "warning": 1, "critical": 2}
STATUS_INDICATOR = {
    "contraindicated": "critical",
    "deferred": "critical",
    "incomplete": "warning",
    "eligible_with_precautions": "warning",
    "eligible": "info",
}
#: The documented order: one status card, blocking findings, the rest, data, import warnings, options.
ORDER = re.compile(
    r"^status( (contraindication|deferral))*( other-findings)?( data-to-confirm)?( import-warnings)?( options)?$"
)
AUTHOR_TAGS = re.compile(r"DESIGN CHOICE|CONSERVATIVE|APPROXIMATION|VERIFY|\[[A-Z][A-Z0-9-]+\]\[")


@cache
def _protocols() -> list[LoadedProtocol]:
    return load_protocols([ROOT / "protocols"])


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads((SCHEMAS / "cds-hooks-response.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _report_of(path: Path) -> Report:
    checked = pipeline.from_bytes(path.read_bytes(), str(path), as_of=AS_OF, today=None)
    return pipeline.report(checked, _protocols())


def _bundle_report(data: dict[str, Any]) -> Report:
    checked = pipeline.from_data(data, SourceMap("constructed bundle"), as_of=AS_OF, today=None)
    return pipeline.report(checked, _protocols())


def _ext(card: dict[str, Any]) -> dict[str, Any]:
    ext: dict[str, Any] = card["extension"][EXTENSION_KEY]
    return ext


def _topics(cards: list[dict[str, Any]]) -> str:
    return " ".join(c["source"]["topic"]["code"] for c in cards)


def _empties(value: Any, path: str = "$") -> list[str]:
    if value is None or (isinstance(value, str | list | dict) and len(value) == 0):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _empties(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _empties(v, f"{path}[{i}]")]
    return []


def check_response(report: Report, doc: dict[str, Any], validator: Draft202012Validator) -> None:
    """What every response must be: valid, at most six cards in order, the status card the most severe."""
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert _empties(doc) == []
    cards = doc["cards"]
    assert 1 <= len(cards) <= 6
    assert ORDER.match(_topics(cards)), _topics(cards)
    status = cards[0]
    assert _ext(status)["card"] == "status" and _ext(status)["status"] == report["status"]
    assert SEVERITY[status["indicator"]] >= SEVERITY[STATUS_INDICATOR[report["status"]]]
    assert all(SEVERITY[status["indicator"]] >= SEVERITY[c["indicator"]] for c in cards)
    # the first card after a client's (stable) sort by indicator, most urgent first
    assert sorted(cards, key=lambda c: -SEVERITY[c["indicator"]])[0] is status
    assert len({c["uuid"] for c in cards}) == len(cards)
    text = json.dumps(doc)
    assert ".invalid" not in text and "localhost" not in text and "127.0.0.1" not in text
    for card in cards:
        assert len(card["summary"].encode("utf-16-le")) // 2 <= SUMMARY_MAX < 140
        assert "\n" not in card["summary"] and ". " not in card["summary"].rstrip(".")
        assert DISCLAIMER in card["detail"].replace("\\", "")
        assert not AUTHOR_TAGS.search(card["summary"] + card["detail"])
        assert card["source"]["label"].startswith("kapdecide ")
        assert "url" not in card["source"]  # no docs_url configured: no source.url
        assert all(link["url"].startswith("https://doi.org/10.") for link in card.get("links", []))
        assert _ext(card)["receipt_sha256"] == receipt_sha256(report["receipt"])
    # every finding has a place: its own card, or the rest card (missing-data findings: the data card)
    placed = {_ext(c).get("rule_id") for c in cards} | {
        f["rule_id"] for c in cards for f in _ext(c).get("findings", [])
    }
    assert {f["rule_id"] for f in report["findings"] if f["kind"] != "required_data"} <= placed


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_response(name: str, validator: Draft202012Validator) -> None:
    report = _report_of(ROOT / "examples" / name)
    doc = cds_response(report, hook_instance=HOOK)
    check_response(report, doc, validator)
    assert cds_response(report, hook_instance=HOOK) == doc
    assert render_cds_hooks(report, HOOK) == render_cds_hooks(report, HOOK)  # byte-identical


@pytest.mark.skipif(not SAMPLE_FILES, reason="the shared FHIR samples are not here")
@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_real_fhir_sample_response(name: str, validator: Draft202012Validator) -> None:
    report = _report_of(SAMPLES / name)
    doc = cds_response(report, hook_instance=HOOK)
    check_response(report, doc, validator)
    src = report["input_source"]
    assert src is not None
    has_import_card = any(_ext(c)["card"] == "import-warnings" for c in doc["cards"])
    assert has_import_card is bool(
        src["warnings"] or [u for u in src["unmapped"] if "Observation/" not in str(u["resource"])]
    )


def test_examples_and_samples_found() -> None:
    assert len(EXAMPLES) >= 10
    if SAMPLES.is_dir():
        assert len(SAMPLE_FILES) >= 10


def test_uuids_differ_across_hook_instances_and_repeat_within_one() -> None:
    report = _report_of(ROOT / "examples" / "precautions-alcohol.yaml")
    a1 = [c["uuid"] for c in cds_response(report, hook_instance=HOOK)["cards"]]
    a2 = [c["uuid"] for c in cds_response(report, hook_instance=HOOK)["cards"]]
    b = [c["uuid"] for c in cds_response(report, hook_instance="a4bd0a46-1c5e-4bd8-9d5e-2d4b0fa2b7c1")["cards"]]
    assert a1 == a2
    assert not set(a1) & set(b)
    other = _report_of(ROOT / "examples" / "precautions-alcohol-benzodiazepine.yaml")
    assert not set(a1) & {c["uuid"] for c in cds_response(other, hook_instance=HOOK)["cards"]}
    # the CLI's default: a random hook instance per call, so fresh uuids; the receipt stays
    assert build_response(report, HOOK) == cds_response(report, hook_instance=HOOK)
    r1, r2 = build_response(report), json.loads(render_cds_hooks(report))
    assert r1["cards"][0]["uuid"] != r2["cards"][0]["uuid"]
    assert (
        _ext(r1["cards"][0])["receipt_sha256"]
        == _ext(r2["cards"][0])["receipt_sha256"]
        == receipt_sha256(report["receipt"])
    )


def test_status_card_raised_to_the_most_severe_card() -> None:
    report = _report_of(ROOT / "examples" / "eligible-cocaine.yaml")
    assert report["status"] == "eligible"
    calm = cds_response(report, hook_instance=HOOK)["cards"]
    assert calm[0]["indicator"] == "info"
    warned: Report = {
        **report,
        "input_source": InputSource(
            format="fhir-r4",
            patient_id="p1",
            resources_read=3,
            warnings=["the Patient is recorded as deceased: this record cannot describe a patient to assess"],
            unmapped=[],
        ),
    }
    cards = cds_response(warned, hook_instance=HOOK)["cards"]
    assert [c["indicator"] for c in cards if _ext(c)["card"] == "import-warnings"] == ["critical"]
    assert cards[0]["indicator"] == "critical"
    assert sorted(cards, key=lambda c: -SEVERITY[c["indicator"]])[0] is cards[0]


def test_many_findings_still_six_cards(validator: Draft202012Validator) -> None:
    report = _report_of(ROOT / "examples" / "contraindicated-pregnancy.yaml")
    blocking = [f for f in report["findings"] if f["kind"] == "contraindication"]
    extra: list[Finding] = [{**blocking[0], "rule_id": f"extra_{i}", "title": f"Extra {i}"} for i in range(5)]
    source = InputSource(format="fhir-r4", patient_id="p", resources_read=1, warnings=["a warning"], unmapped=[])
    crowded: Report = {**report, "findings": [*report["findings"], *extra], "input_source": source}
    doc = cds_response(crowded, hook_instance=HOOK)
    check_response(crowded, doc, validator)
    topics = _topics(doc["cards"])
    assert topics == "status contraindication contraindication other-findings data-to-confirm import-warnings"
    rest = next(c for c in doc["cards"] if _ext(c)["card"] == "other-findings")
    assert rest["indicator"] == "critical" and rest["summary"].startswith("Also review (4 more contraindications")
    without_tail: Report = {
        **report,
        "findings": [*blocking, *extra],
        "unrecognised": [],
        "medications": {**report["medications"], "not_checked": []},
    }
    cards = cds_response(without_tail, hook_instance=HOOK)["cards"]
    assert _topics(cards) == "status contraindication contraindication contraindication other-findings"


def test_status_summary_is_the_headline_under_140() -> None:
    from kapdecide.render.summary import summarise

    for name in EXAMPLES:
        report = _report_of(ROOT / "examples" / name)
        summary = cds_response(report, hook_instance=HOOK)["cards"][0]["summary"]
        label = {"eligible_with_precautions": "Eligible with precautions"}.get(
            report["status"], report["status"].title()
        )
        assert summary.startswith(f"{label} — ")
        assert summarise(report).headline.startswith(summary[len(label) + 3 :].rstrip("…"))
        assert len(summary) < 140
    urgent = cds_response(_report_of(ROOT / "examples" / "deferred-suicidality-alcohol.yaml"), hook_instance=HOOK)
    assert urgent["cards"][0]["summary"] == "Deferred — URGENT: same-day suicide risk assessment and safety plan"


def test_hypothetical_report_is_flagged() -> None:
    path = ROOT / "examples" / "deferred-bp-alcohol.yaml"
    checked = pipeline.from_bytes(path.read_bytes(), str(path), as_of=AS_OF, today=None)
    what_if = pipeline.report(checked, _protocols(), {"vitals.bp_systolic_mmhg": 120})
    card = cds_response(what_if, hook_instance=HOOK)["cards"][0]
    assert card["summary"].startswith("HYPOTHETICAL") and "HYPOTHETICAL" in card["detail"]
    assert _ext(card)["what_if_overrides"] == [{"field": "vitals.bp_systolic_mmhg", "value": "120"}]
    unknown = pipeline.report(checked, _protocols(), {"vitals.heart_rate_bpm": None})
    card = cds_response(unknown, hook_instance=HOOK)["cards"][0]
    assert _ext(card)["what_if_overrides"] == [{"field": "vitals.heart_rate_bpm", "value": "unknown"}]
    assert "`vitals.heart_rate_bpm` = unknown" in card["detail"]


def test_blocking_card_content() -> None:
    cards = cds_response(_report_of(ROOT / "examples" / "deferred-bp-alcohol.yaml"), hook_instance=HOOK)["cards"]
    bp = next(c for c in cards if _ext(c).get("rule_id") == "bp_above_hold_threshold")
    assert bp["indicator"] == "warning" and bp["summary"].startswith("Defer:") and "152/94" in bp["summary"]
    assert bp["source"]["topic"] == {
        "system": "https://kapdecide.org/fhir/CodeSystem/card-topics",
        "code": "deferral",
        "display": "Deferral",
    }
    detail = bp["detail"]
    assert "**Action:**" in detail and "**Why:**" in detail
    assert "`vitals.bp_systolic_mmhg` = 152 (test: ≥ 140 → true)" in detail
    assert "\\[SPRAVATO-US+9\\]" in detail  # the short citation key
    assert "[doi:10.1161/HYP.0000000000000065](https://doi.org/10.1161/HYP.0000000000000065)" in detail
    assert {"label": "ACC-AHA-2017 (doi:10.1161/HYP.0000000000000065)", "type": "absolute"}.items() <= next(
        link for link in bp["links"] if link["label"].startswith("ACC-AHA-2017")
    ).items()
    assert [r["code"] for r in bp["overrideReasons"]] == ["barrier-resolved", "record-data-incorrect"]
    assert all(r["system"] == "https://kapdecide.org/fhir/CodeSystem/override-reasons" for r in bp["overrideReasons"])
    assert "overrideReasons" not in cards[0]  # no draft order: nothing on the status card to override


def test_data_card_lists_every_item_in_plain_words() -> None:
    from kapdecide.render.summary import summarise

    report = _report_of(ROOT / "examples" / "incomplete-female-no-pregnancy-section.yaml")
    card = next(c for c in cds_response(report, hook_instance=HOOK)["cards"] if _ext(c)["card"] == "data-to-confirm")
    items = summarise(report).to_collect
    assert items and _ext(card)["to_collect"] == [i.path for i in items]
    for item in items:
        assert f"`{item.path}`" in card["detail"]
    assert card["indicator"] == "warning" and card["summary"].startswith("Collect before deciding: 3 items")
    pregnancy = _report_of(ROOT / "examples" / "contraindicated-pregnancy.yaml")
    cards = cds_response(pregnancy, hook_instance=HOOK)["cards"]
    data = next(c for c in cards if _ext(c)["card"] == "data-to-confirm")
    assert [u["path"] for u in pregnancy["unrecognised"]] == _ext(data)["unrecognised"]
    assert "Not recognised, review by hand" in data["detail"]


def test_options_card_has_doses_and_checklist() -> None:
    report = _report_of(ROOT / "examples" / "precautions-alcohol.yaml")
    card = cds_response(report, hook_instance=HOOK)["cards"][-1]
    assert _ext(card)["card"] == "options" and card["indicator"] == "info"
    offered = [o for o in report["options"] if o["state"] == "offered"]
    assert [o["option_id"] for o in _ext(card)["options"]] == [o["option_id"] for o in offered]
    for o in offered:
        assert o["dose"] is not None and o["dose"]["text"].split(" (weight ")[0] in card["detail"]
    assert "**Session checklist**" in card["detail"] and "Do not dose if:" in card["detail"]
    assert "GRADE low" in card["summary"] and "mg)" in card["summary"]
    assert "overrideReasons" not in card


def test_import_warnings_card_for_a_deceased_patient(validator: Draft202012Validator) -> None:
    report = _bundle_report(bundle(cond("35489007"), pat=patient(deceasedDateTime="2020-01-01")))
    doc = cds_response(report, hook_instance=HOOK)
    check_response(report, doc, validator)
    card = next(c for c in doc["cards"] if _ext(c)["card"] == "import-warnings")
    assert card["indicator"] == "critical" == doc["cards"][0]["indicator"]
    assert card["summary"].startswith("Check the record: the Patient is recorded as deceased")
    assert "recorded as deceased (2020-01-01)" in card["detail"]
    assert _ext(card)["identity_warnings"] == 1
    assert [r["code"] for r in card["overrideReasons"]] == ["record-checked", "record-data-incorrect"]


def test_import_warnings_card_for_two_patients_and_pregnancy_on_a_male() -> None:
    two = bundle(cond("35489007"), patient(pid="p2"))
    card = next(
        c
        for c in cds_response(_bundle_report(two), hook_instance=HOOK)["cards"]
        if _ext(c)["card"] == "import-warnings"
    )
    assert "more than one Patient" in card["summary"] and "2 Patients" in card["detail"]
    male = bundle(cond("77386006"), pat=patient(sex="M"))
    cards = cds_response(_bundle_report(male), hook_instance=HOOK)["cards"]
    card = next(c for c in cards if _ext(c)["card"] == "import-warnings")
    assert "recorded as male" in card["summary"] and card["indicator"] == "critical"


def test_delete_suggestion_for_a_draft_ketamine_order(validator: Draft202012Validator) -> None:
    draft = medreq("6130", "draft", display="ketamine 50 MG/ML Injectable Solution", id="draft-ket")
    report = _bundle_report(bundle(cond("77386006"), draft))  # pregnant: contraindicated
    assert report["status"] == "contraindicated"
    order = DraftOrder(id="draft-ket", display="ketamine 50 MG/ML Injectable Solution")
    doc = cds_response(report, hook_instance=HOOK, draft_orders=[order])
    check_response(report, doc, validator)
    status = doc["cards"][0]
    assert status["selectionBehavior"] == "at-most-one"
    [suggestion] = status["suggestions"]
    assert suggestion["isRecommended"] is True and "ketamine" in suggestion["label"]
    assert suggestion["uuid"] not in {c["uuid"] for c in doc["cards"]}  # feedback's acceptedSuggestions id
    again = cds_response(report, hook_instance=HOOK, draft_orders=[order])["cards"][0]["suggestions"][0]["uuid"]
    other = cds_response(report, hook_instance=str(uuid.uuid4()), draft_orders=[order])["cards"][0]
    assert again == suggestion["uuid"] != other["suggestions"][0]["uuid"]
    assert suggestion["actions"] == [
        {
            "type": "delete",
            "description": "Remove the draft order ketamine 50 MG/ML Injectable Solution "
            "(MedicationRequest/draft-ket): a contraindication applies.",
            "resourceId": "MedicationRequest/draft-ket",
        }
    ]
    assert [r["code"] for r in status["overrideReasons"]] == ["specialist-review-documented", "record-data-incorrect"]
    assert _ext(status)["draft_orders"] == ["MedicationRequest/draft-ket"]
    assert all("suggestions" not in c for c in doc["cards"][1:])
    # an eligible result, or none given: no suggestion, no selectionBehavior
    eligible = _report_of(ROOT / "examples" / "eligible-cocaine.yaml")
    for card in cds_response(eligible, hook_instance=HOOK, draft_orders=[order])["cards"]:
        assert "suggestions" not in card and "selectionBehavior" not in card
    assert "suggestions" not in cds_response(report, hook_instance=HOOK)["cards"][0]


def test_card_config_namespace_docs_url_and_reasons(validator: Draft202012Validator) -> None:
    report = _report_of(ROOT / "examples" / "deferred-bp-alcohol.yaml")
    config = CardConfig(
        namespace="https://cds.hospital.example.org/fhir/CodeSystem/",
        docs_url="https://intranet.hospital.org/kapdecide/README.html#what-the-shipped-protocol-covers",
        override_reasons={"deferral": [("local-1", "Discussed at the MDT")]},
    )
    doc = cds_response(report, hook_instance=HOOK, config=config)
    assert not list(validator.iter_errors(doc))
    for card in doc["cards"]:
        assert card["source"]["topic"]["system"] == "https://cds.hospital.example.org/fhir/CodeSystem/card-topics"
    deferral = doc["cards"][1]
    assert deferral["source"]["url"] == config.docs_url
    assert deferral["overrideReasons"] == [
        {
            "code": "local-1",
            "system": "https://cds.hospital.example.org/fhir/CodeSystem/override-reasons",
            "display": "Discussed at the MDT",
        }
    ]
    assert "overrideReasons" not in doc["cards"][2]  # a topic the organisation gave no reasons for
    per_protocol = CardConfig(docs_url="https://docs.hospital.org/protocols/{protocol}.html")
    card = cds_response(report, hook_instance=HOOK, config=per_protocol)["cards"][0]
    assert card["source"]["url"] == "https://docs.hospital.org/protocols/kap_sud.html"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"namespace": "https://kapdecide.invalid"},
        {"namespace": "urn:kapdecide"},
        {"namespace": "/relative"},
        {"docs_url": "http://localhost:8080/docs"},
        {"docs_url": "https://127.0.0.1/docs"},
        {"docs_url": "ftp://docs.hospital.org/x"},
        {"override_reasons": {"deferral": [("code", "")]}},
        {"override_reasons": {"deferal": [("code", "Display")]}},  # a typo in the topic
    ],
)
def test_card_config_refuses_what_does_not_resolve(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"namespace|docs_url|override reason"):
        CardConfig(**kwargs)


@pytest.mark.parametrize(("rtype", "rid"), [("MedicationRequest", ""), ("MedicationRequest", "a/b"), ("x y", "1")])
def test_draft_order_must_name_a_resource(rtype: str, rid: str) -> None:
    with pytest.raises(ValueError, match="not a FHIR resource type and id"):
        DraftOrder(id=rid, resource_type=rtype)


@pytest.mark.parametrize(
    "text",
    [
        "word " * 60,
        "x" * 300,
        "😀" * 100,  # astral characters count twice in UTF-16
        "a" * 139,
        "a" * 140,
        "Defer: " + "very-long-hyphenated-" * 10,
    ],
)
def test_summary_text_fits(text: str) -> None:
    out = summary_text(text)
    assert len(out.encode("utf-16-le")) // 2 <= SUMMARY_MAX
    assert out
    if len(text.encode("utf-16-le")) // 2 <= SUMMARY_MAX:
        assert out == text
    else:
        assert out.endswith("…")
        assert text.startswith(out[:-1].rstrip())


def test_summary_text_folds_whitespace() -> None:
    assert summary_text("a\n  b\tc ") == "a b c"


@pytest.mark.parametrize("name", ["deferred-bp-alcohol", "contraindicated-pregnancy", "precautions-alcohol"])
def test_golden(name: str) -> None:
    actual = render_cds_hooks(_report_of(ROOT / "examples" / f"{name}.yaml"), HOOK)
    target = GOLDEN / f"{name}.cds-hooks.json"
    if UPDATE:
        target.write_text(actual, encoding="utf-8")
    assert target.exists(), f"missing golden file {target}; run with KAPDECIDE_UPDATE_GOLDEN=1"
    assert actual == target.read_text(encoding="utf-8")


# ---------------------------------------------------------------- the schemas themselves


def _minimal_card(**extra: Any) -> dict[str, Any]:
    return {"summary": "s", "indicator": "info", "source": {"label": "kapdecide"}, **extra}


@pytest.mark.parametrize(
    "card",
    [
        _minimal_card(sumary="typo"),
        _minimal_card(summary="x" * 140),
        _minimal_card(indicator="hard-stop"),  # the pre-1.0 value
        _minimal_card(source={"label": "kapdecide", "lable": "typo"}),
        _minimal_card(source={"url": "urn:x"}),
        _minimal_card(overrideReasons=[{"code": "c", "system": "s"}]),  # display is required here
        _minimal_card(suggestions=[{"label": "Do it"}]),  # selectionBehavior missing
        _minimal_card(selectionBehavior="all"),
        _minimal_card(suggestions=[{"label": "x", "actions": [{"type": "remove", "description": "d"}]}]),
        _minimal_card(links=[{"label": "l", "url": "https://x.org", "type": "relative"}]),
        _minimal_card(links=[{"label": "l", "url": "https://x.org", "type": "absolute", "appContext": "a"}]),
        _minimal_card(extension=["not", "an", "object"]),
    ],
)
def test_response_schema_rejects(card: dict[str, Any], validator: Draft202012Validator) -> None:
    assert not validator.is_valid({"cards": [card]})


def test_response_schema_accepts_spec_features(validator: Draft202012Validator) -> None:
    doc = {
        "cards": [
            _minimal_card(
                uuid="4e0a3a1e-3283-4575-ab82-028d55fe2719",
                detail="**md**",
                suggestions=[
                    {"label": "Do it", "isRecommended": True, "actions": [{"type": "create", "description": "d"}]}
                ],
                selectionBehavior="at-most-one",
                overrideReasons=[{"code": "c", "system": "s", "display": "Patient refused"}],
                links=[{"label": "App", "url": "https://x.org/launch", "type": "smart", "appContext": "{}"}],
                extension={"org.example.key": {"any": ["thing"]}},
            )
        ],
        "systemActions": [{"type": "update", "resource": {"resourceType": "ServiceRequest"}}],
    }
    assert validator.is_valid(doc)
    assert validator.is_valid({"cards": []})
    assert not validator.is_valid({})


@pytest.fixture(scope="module")
def discovery() -> Draft202012Validator:
    schema = json.loads((SCHEMAS / "cds-hooks-discovery.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_discovery_schema_accepts_the_spec_example(discovery: Draft202012Validator) -> None:
    doc = {
        "services": [
            {
                "hook": "patient-view",
                "title": "Static CDS Service Example",
                "description": "An example of a CDS Service that returns a static set of cards",
                "id": "static-patient-greeter",
                "prefetch": {"patientToGreet": "Patient/{{context.patientId}}"},
            },
            {
                "hook": "order-select",
                "title": "Order Echo CDS Service",
                "description": "An example of a CDS Service that simply echoes the order(s) being placed",
                "id": "order-echo",
                "prefetch": {
                    "patient": "Patient/{{context.patientId}}",
                    "medications": "MedicationRequest?patient={{context.patientId}}",
                    "bp": "Observation?patient={{context.patientId}}&code=http://loinc.org|85354-9",
                    "me": "Practitioner/{{userPractitionerId}}",
                },
            },
            {
                "hook": "order-sign",
                "title": "Pharmacogenomics CDS Service",
                "description": "An example of a more advanced, precision medicine CDS Service",
                "id": "pgx-on-order-sign",
                "usageRequirements": "Degraded without access to a FHIR Restful API.",
            },
        ]
    }
    assert discovery.is_valid(doc)
    assert discovery.is_valid({"services": []})


@pytest.mark.parametrize(
    "service",
    [
        {"hook": "patient-view", "title": "t", "id": "x"},  # no description
        {"hook": "patient-view", "title": "t", "description": "d", "id": "a/b"},  # id is one path segment
        {"hook": "patient-view", "title": "t", "description": "d", "id": "x", "name": "1.0-draft field"},
        {"hook": "patient-view", "title": "t", "description": "d", "id": "x", "prefetch": {"p": 7}},
        {
            "hook": "patient-view",
            "title": "t",
            "description": "d",
            "id": "x",
            "prefetch": {"p": "https://ehr/Patient/1"},
        },
        {
            "hook": "patient-view",
            "title": "t",
            "description": "d",
            "id": "x",
            "prefetch": {"p": "Patient/{{Patient.id}}"},
        },
        {
            "hook": "order-sign",
            "title": "t",
            "description": "d",
            "id": "x",
            "prefetch": {"p": "M/{{context.medication.id}}"},
        },
    ],
)
def test_discovery_schema_rejects(service: dict[str, Any], discovery: Draft202012Validator) -> None:
    assert not discovery.is_valid({"services": [service]})


# ---------------------------------------------------------------- the command line


def test_cli_hook_instance_gives_byte_identical_output() -> None:
    from cli.helpers import run_in_process

    args = ("assess", "examples/deferred-bp-alcohol.yaml", "--format", "cds-hooks", "--as-of", "2026-11-21")
    fixed = (*args, "--hook-instance", HOOK.upper())  # any UUID spelling: written lower-case
    code, out, err = run_in_process(*fixed)
    assert code == 0 and err == b""
    assert run_in_process(*fixed)[1] == out
    assert out.decode() == render_cds_hooks(_report_of(ROOT / "examples" / "deferred-bp-alcohol.yaml"), HOOK)
    code, first, _ = run_in_process(*args)
    _, second, _ = run_in_process(*args)
    assert code == 0 and first != second  # default: a random hook instance per call
    a, b = json.loads(first)["cards"], json.loads(second)["cards"]
    assert [c["summary"] for c in a] == [c["summary"] for c in b]
    code, out, err = run_in_process(*args, "--hook-instance", "not-a-uuid")
    assert code == 2 and b"not-a-uuid" in err
