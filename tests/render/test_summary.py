"""What one screen shows: the single most important action for each kind of result."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kapdecide.assessment.assess import assess
from kapdecide.inputs.profile import load_profile_bytes
from kapdecide.protocol.loader import LoadedProtocol, load_protocols
from kapdecide.render.summary import Summary, summarise

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def protocols() -> list[LoadedProtocol]:
    return load_protocols([ROOT / "protocols"])


def _summary(name: str, protocols: list[LoadedProtocol]) -> Summary:
    path = ROOT / "examples" / f"{name}.yaml"
    profile, _ = load_profile_bytes(path.read_bytes(), str(path))
    return summarise(assess(profile, protocols, profile.assessed_on or dt.date(2026, 11, 21)))


@pytest.mark.parametrize(
    ("name", "headline"),
    [
        ("deferred-suicidality-alcohol", "URGENT: same-day suicide risk assessment and safety plan"),
        ("deferred-bp-alcohol", "optimise blood pressure, then reassess"),
        ("deferred-withdrawal-opioids", "withdrawal management first"),
        ("contraindicated-pregnancy", "no ketamine; offer standard evidence-based SUD care"),
        ("incomplete-stale-bp", "collect vitals.blood_pressure, then reassess"),
        (
            "nicotine-only-insufficient-evidence",
            "no ketamine option offered: insufficient evidence for ketamine in nicotine use disorder; "
            "standard care applies",
        ),
        ("precautions-alcohol", "review the cautions and interactions before the first session"),
        ("eligible-cocaine", "review the options and the session checklist with the patient"),
    ],
)
def test_the_headline_is_the_most_important_action(name: str, headline: str, protocols: list[LoadedProtocol]) -> None:
    assert _summary(name, protocols).headline == headline


def test_urgent_findings_come_first(protocols: list[LoadedProtocol]) -> None:
    s = _summary("deferred-suicidality-alcohol", protocols)
    assert s.urgent and s.blocking[0]["urgent"]


def test_a_stale_reading_is_folded_into_one_item(protocols: list[LoadedProtocol]) -> None:
    s = _summary("incomplete-stale-bp", protocols)
    assert [(c.path, c.blocks) for c in s.to_collect] == [("vitals.blood_pressure", 3)]
    assert len(s.to_collect[0].why) == 1  # the required-data message, not the stale note again


def test_none_now_says_why_when_nothing_is_offered(protocols: list[LoadedProtocol]) -> None:
    s = _summary("deferred-bp-alcohol", protocols)
    assert s.offered == [] and s.none_now == "a deferral applies; reassess when it resolves" and s.not_offered > 0
