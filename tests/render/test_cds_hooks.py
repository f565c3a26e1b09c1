"""CDS Hooks 2.0 output: every example against the response schema, card mapping, uuids, golden file.

Regenerate the golden file: KAPDECIDE_UPDATE_GOLDEN=1 pytest tests/render/test_cds_hooks.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from kapdecide.assessment.assess import DISCLAIMER, assess
from kapdecide.assessment.report import Report
from kapdecide.inputs.profile import load_profile_bytes
from kapdecide.protocol.loader import LoadedProtocol, load_protocols
from kapdecide.render.cds_hooks import EXTENSION_KEY, SUMMARY_MAX, render_cds_hooks, summary_text

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
SCHEMA = json.loads((ROOT / "tests" / "schemas" / "cds-hooks-response.schema.json").read_text(encoding="utf-8"))
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
UPDATE = os.environ.get("KAPDECIDE_UPDATE_GOLDEN") == "1"
STATUS_INDICATOR = {
    "contraindicated": "critical",
    "deferred": "warning",
    "incomplete": "warning",
    "eligible_with_precautions": "info",
    "eligible": "info",
}


@pytest.fixture(scope="module")
def protocols() -> list[LoadedProtocol]:
    return load_protocols([ROOT / "protocols"])


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(SCHEMA)
    return Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _report(name: str, protocols: list[LoadedProtocol], **overrides: Any) -> Report:
    path = ROOT / "examples" / f"{name}.yaml"
    profile, _ = load_profile_bytes(path.read_bytes(), str(path))
    return assess(profile, protocols, profile.assessed_on or dt.date(2026, 11, 21), overrides or None)


def _cards(report: Report) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = json.loads(render_cds_hooks(report))["cards"]
    return cards


def _ext(card: dict[str, Any]) -> dict[str, Any]:
    ext: dict[str, Any] = card["extension"][EXTENSION_KEY]
    return ext


def _empties(value: Any, path: str = "$") -> list[str]:
    if value is None or (isinstance(value, str | list | dict) and len(value) == 0):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _empties(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _empties(v, f"{path}[{i}]")]
    return []


def test_examples_found() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_is_a_valid_response(
    name: str, protocols: list[LoadedProtocol], validator: Draft202012Validator
) -> None:
    report = _report(name, protocols)
    text = render_cds_hooks(report)
    assert text.endswith("}\n")
    doc = json.loads(text)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert _empties(doc) == []
    assert render_cds_hooks(report) == text  # byte-identical on a second render

    cards = doc["cards"]
    first = cards[0]
    assert _ext(first)["card"] == "status"
    assert first["indicator"] == STATUS_INDICATOR[report.status]
    assert "overrideReasons" not in first
    assert [c for c in cards if _ext(c)["card"] == "status"] == [first]

    uuids = [c["uuid"] for c in cards]
    assert len(set(uuids)) == len(uuids)
    for card in cards:
        assert len(card["summary"]) < 140
        assert len(card["summary"].encode("utf-16-le")) // 2 <= SUMMARY_MAX
        assert "\n" not in card["summary"]
        assert DISCLAIMER in card["detail"].replace("\\", "")
        assert "decision support for clinician review" in card["detail"].lower()
        assert "url" not in card["source"]
        assert card["source"]["label"].startswith("kapdecide ")
        for reason in card.get("overrideReasons", []):
            assert reason["display"]
        if _ext(card).get("kind") == "contraindication":
            assert card["indicator"] == "critical"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_report_item_has_a_card(name: str, protocols: list[LoadedProtocol]) -> None:
    report = _report(name, protocols)
    cards = _cards(report)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for card in cards:
        by_type.setdefault(_ext(card)["card"], []).append(card)
    findings = by_type.get("finding", [])
    assert sorted((_ext(c)["rule_id"], _ext(c)["kind"]) for c in findings) == sorted(
        (f.rule_id, f.kind) for f in report.findings
    )
    for card in findings:
        expected = {"contraindication": "critical", "info": "info"}.get(_ext(card)["kind"], "warning")
        assert card["indicator"] == ("critical" if _ext(card).get("urgent") else expected)
    not_checked = by_type.get("not_checked", [])
    assert [c["summary"] for c in not_checked] == [
        summary_text(f"Could not check: {n.title}") for n in report.not_checked
    ]
    assert all(c["indicator"] == "warning" for c in not_checked)
    assert len(by_type.get("stale_data", [])) == len(report.stale_data)
    assert all(c["indicator"] == "warning" for c in by_type.get("stale_data", []))

    offered = [o for o in report.options if o.state == "offered"]
    option_cards = by_type.get("option", [])
    assert len(option_cards) == len(offered)
    for o, card in zip(offered, option_cards, strict=True):
        ext = _ext(card)
        assert card["indicator"] == "info"
        assert (ext["option_id"], ext["indication"], ext["grade"], ext["state"]) == (
            o.option_id,
            o.indication,
            o.grade,
            "offered",
        )
        assert "GRADE" in card["summary"]
        assert [e["id"] for e in ext["evidence"]] == [e.id for e in o.evidence]
    # Why nothing (or not everything) is offered: one card, never more.
    not_offered = by_type.get("options_not_offered", [])
    assert len(not_offered) <= 1
    if not offered:
        assert len(not_offered) == 1
        assert not_offered[0]["summary"].startswith("No ketamine option")


def test_finding_card_content(protocols: list[LoadedProtocol]) -> None:
    cards = _cards(_report("deferred-bp-alcohol", protocols))
    bp = next(c for c in cards if _ext(c).get("rule_id") == "bp_above_hold_threshold")
    assert bp["indicator"] == "warning"
    assert "152/94" in bp["summary"] and bp["summary"].startswith("Defer:")
    assert bp["source"]["topic"]["code"] == "bp_above_hold_threshold"
    assert bp["source"]["label"] == "kapdecide 0.1.0 · kap_sud 1.2.0"
    detail = bp["detail"]
    assert "**Action:**" in detail and "**Rationale:**" in detail
    assert "`vitals.bp_systolic_mmhg` = 152 (test: ≥ 140 → true)" in detail
    assert "[doi:10.1161/HYP.0000000000000065](https://doi.org/10.1161/HYP.0000000000000065)" in detail
    assert "ACC-AHA-2017" in detail
    ext = _ext(bp)
    assert ext["protocol"]["id"] == "kap_sud" and len(ext["protocol"]["sha256"]) == 64
    assert {"id": "ESC-ESH-2018", "doi": "10.1093/eurheartj/ehy339"}.items() <= ext["evidence"][5].items()
    assert [r["code"] for r in bp["overrideReasons"]] == ["barrier-resolved", "record-data-incorrect"]


def test_override_reasons(protocols: list[LoadedProtocol]) -> None:
    cards = _cards(_report("precautions-older-adult-hypertension", protocols))
    cautions = [c for c in cards if _ext(c).get("kind") == "caution"]
    assert cautions
    for card in cautions:
        assert card["indicator"] == "warning"
        assert {r["code"] for r in card["overrideReasons"]} >= {"precaution-in-place"}
    for card in cards:
        if _ext(card)["card"] in ("status", "option", "session_checklist", "options_not_offered"):
            assert "overrideReasons" not in card
    pregnancy = _cards(_report("contraindicated-pregnancy", protocols))
    contra = [c for c in pregnancy if _ext(c).get("kind") == "contraindication"]
    assert contra and all(c["indicator"] == "critical" for c in contra)
    assert all([r["display"] for r in c["overrideReasons"]] == ["Specialist review documented"] for c in contra)


def test_offered_options_carry_grade(protocols: list[LoadedProtocol]) -> None:
    cards = _cards(_report("precautions-alcohol", protocols))
    options = [c for c in cards if _ext(c)["card"] == "option"]
    assert [_ext(c)["grade"] for c in options] == ["low", "low", "very_low"]
    assert options[0]["summary"] != options[1]["summary"]  # two regimens of one option are told apart
    assert "GRADE certainty of evidence: **low**" in options[0]["detail"]
    assert any(_ext(c)["card"] == "session_checklist" for c in cards)


def test_uuids_are_stable_and_patient_specific(protocols: list[LoadedProtocol]) -> None:
    a1 = [c["uuid"] for c in _cards(_report("precautions-alcohol", protocols))]
    a2 = [c["uuid"] for c in _cards(_report("precautions-alcohol", protocols))]
    b = [c["uuid"] for c in _cards(_report("precautions-alcohol-benzodiazepine", protocols))]
    assert a1 == a2
    assert not set(a1) & set(b)


def test_explain_does_not_change_uuids(protocols: list[LoadedProtocol]) -> None:
    from kapdecide.assessment.explain import with_explanation

    path = ROOT / "examples" / "deferred-bp-alcohol.yaml"
    profile, _ = load_profile_bytes(path.read_bytes(), str(path))
    day = profile.assessed_on or dt.date(2026, 11, 21)
    plain = assess(profile, protocols, day)
    explained = with_explanation(plain, profile, protocols, day)
    assert explained.explanation is not None
    assert [c["uuid"] for c in _cards(plain)] == [c["uuid"] for c in _cards(explained)]


def test_hypothetical_report_is_flagged(protocols: list[LoadedProtocol]) -> None:
    real = _cards(_report("deferred-bp-alcohol", protocols))
    what_if = _cards(_report("deferred-bp-alcohol", protocols, **{"vitals.bp_systolic_mmhg": 120}))
    assert what_if[0]["summary"].startswith("HYPOTHETICAL")
    assert "HYPOTHETICAL" in what_if[0]["detail"]
    assert _ext(what_if[0])["what_if_overrides"] == [{"field": "vitals.bp_systolic_mmhg", "value": "120"}]
    assert not {c["uuid"] for c in real} & {c["uuid"] for c in what_if}


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


def test_golden(protocols: list[LoadedProtocol]) -> None:
    actual = render_cds_hooks(_report("deferred-bp-alcohol", protocols))
    target = GOLDEN / "deferred-bp-alcohol.cds-hooks.json"
    if UPDATE:
        target.write_text(actual, encoding="utf-8")
    assert target.exists(), f"missing golden file {target}; run with KAPDECIDE_UPDATE_GOLDEN=1"
    assert actual == target.read_text(encoding="utf-8")


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
        _minimal_card(links=[{"label": "l", "url": "https://x.invalid", "type": "relative"}]),
        _minimal_card(links=[{"label": "l", "url": "https://x.invalid", "type": "absolute", "appContext": "a"}]),
        _minimal_card(extension=["not", "an", "object"]),
    ],
)
def test_schema_rejects(card: dict[str, Any], validator: Draft202012Validator) -> None:
    assert not validator.is_valid({"cards": [card]})


def test_schema_accepts_spec_features(validator: Draft202012Validator) -> None:
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
                links=[{"label": "App", "url": "https://x.invalid/launch", "type": "smart", "appContext": "{}"}],
                extension={"org.example.key": {"any": ["thing"]}},
            )
        ],
        "systemActions": [{"type": "update", "resource": {"resourceType": "ServiceRequest"}}],
    }
    assert validator.is_valid(doc)
    assert validator.is_valid({"cards": []})
    assert not validator.is_valid({})
