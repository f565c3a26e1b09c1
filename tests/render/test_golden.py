"""Rendered output against golden files (tests/golden/). Regenerate: KAPDECIDE_UPDATE_GOLDEN=1 pytest tests/render."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from kapdecide import render
from kapdecide.assessment.assess import assess
from kapdecide.assessment.report import Report
from kapdecide.inputs.profile import load_profile_bytes
from kapdecide.protocol.loader import LoadedProtocol, load_protocols
from kapdecide.render import json as json_render

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = [
    "precautions-alcohol",
    "deferred-bp-alcohol",
    "incomplete-stale-bp",
    "contraindicated-pregnancy",
    "precautions-alcohol-benzodiazepine",
]
UPDATE = os.environ.get("KAPDECIDE_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def protocols() -> list[LoadedProtocol]:
    return load_protocols([ROOT / "protocols"])


def _report(name: str, protocols: list[LoadedProtocol]) -> Report:
    path = ROOT / "examples" / f"{name}.yaml"
    profile, _ = load_profile_bytes(path.read_bytes(), str(path))
    return assess(profile, protocols, profile.assessed_on or dt.date(2026, 11, 21))


def _valid_report(text: str) -> None:
    """Every JSON report the suite renders validates against the published report schema."""
    import jsonschema

    schema = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(text))


def _check(name: str, actual: str) -> None:
    target = GOLDEN / name
    if UPDATE:
        target.write_text(actual, encoding="utf-8")
    assert target.exists(), f"missing golden file {target}; run with KAPDECIDE_UPDATE_GOLDEN=1"
    assert actual == target.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", EXAMPLES)
def test_text_report_golden(name: str, protocols: list[LoadedProtocol]) -> None:
    _check(f"{name}.txt", render.render_report(_report(name, protocols), "text"))


@pytest.mark.parametrize("name", EXAMPLES[:3])
def test_text_details_golden(name: str, protocols: list[LoadedProtocol]) -> None:
    _check(f"{name}.details.txt", render.render_report(_report(name, protocols), "text", details=True))


@pytest.mark.parametrize("name", ["incomplete-missing-bp", "deferred-bp-alcohol"])
def test_explain_golden(name: str, protocols: list[LoadedProtocol]) -> None:
    from kapdecide.assessment.explain import with_explanation

    path = ROOT / "examples" / f"{name}.yaml"
    profile, _ = load_profile_bytes(path.read_bytes(), str(path))
    day = profile.assessed_on or dt.date(2026, 11, 21)
    report = with_explanation(assess(profile, protocols, day), profile, protocols, day)
    _check(f"{name}.explain.txt", render.render_report(report, "text"))
    rendered = json_render.render_report(report)
    _valid_report(rendered)
    _check(f"{name}.explain.json", rendered)


@pytest.mark.parametrize("name", EXAMPLES[:2])
def test_json_report_golden(name: str, protocols: list[LoadedProtocol]) -> None:
    rendered = json_render.render_report(_report(name, protocols))
    _valid_report(rendered)
    _check(f"{name}.json", rendered)
