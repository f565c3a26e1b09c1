"""The engine and the independent evaluator agree on generated whole profiles (shipped protocol).

``assess`` compares the rules durable-rules fired with the rules the Python evaluator found true
on every call and raises EngineDisagreementError if they differ, so each example here is a
differential check across all 79 rules and every option exclusion.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapdecide.assessment.assess import STATUS_ORDER, assess
from kapdecide.inputs.consistency import check_consistency
from kapdecide.inputs.profile import validate_profile_data
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.protocol.loader import LoadedProtocol, load_protocols

from .profile_strategies import AS_OF, near_eligible_profiles, profiles

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = load_protocols([ROOT / "protocols"])


@pytest.fixture(scope="module")
def shipped() -> list[LoadedProtocol]:
    return PROTOCOLS


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.one_of(profiles(), near_eligible_profiles()))
def test_engine_agrees_with_evaluator_on_generated_profiles(data: dict[str, object]) -> None:
    smap = SourceMap("<generated>")
    profile = validate_profile_data(data, smap)
    assert check_consistency(profile, AS_OF, smap) == []
    report = assess(profile, PROTOCOLS, AS_OF)  # raises EngineDisagreementError on any mismatch
    # Fail safe: anything unknown or missing can never leave the status eligible.
    if report["not_checked"] or report["missing_data"] or report["stale_data"]:
        assert STATUS_ORDER.index(report["status"]) <= STATUS_ORDER.index("incomplete")
    # No option is offered unless the status allows it.
    if report["status"] not in ("eligible", "eligible_with_precautions"):
        assert not [o for o in report["options"] if o["state"] == "offered"]
    for o in report["options"]:
        if o["state"] == "offered":
            assert o["grade"] and o["evidence"]
