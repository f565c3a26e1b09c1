"""The compact batch line: expanding a compact line with its header gives exactly the full report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapdecide import pipeline
from kapdecide.assessment.compact import compact, expand, header
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.protocol.loader import load_protocols
from kapdecide.schema import json_schema

from ..profile_strategies import AS_OF, near_eligible_profiles, profiles

ROOT = Path(__file__).resolve().parents[3]
PROTOCOLS = load_protocols([ROOT / "protocols"])
HEAD = header(PROTOCOLS)
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
EXAMPLES = sorted((ROOT / "examples").glob("*.y*ml")) + sorted((ROOT / "examples").glob("*.json"))


def _bytes(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _full(raw: bytes, name: str) -> dict[str, Any]:
    checked = pipeline.from_bytes(raw, name, today=AS_OF)
    if checked.imported is None:
        return pipeline.report(checked, PROTOCOLS)
    return pipeline.report(checked, PROTOCOLS)


def _round_trip(full: dict[str, Any]) -> dict[str, Any]:
    line = json.loads(_bytes(compact(full, HEAD)))  # through JSON, as a reader gets it
    jsonschema.Draft202012Validator(json_schema("compact-line")).validate({**line, "input_line": 1})
    return expand(line, HEAD)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_expands_to_exactly_its_full_report(path: Path) -> None:
    full = _full(path.read_bytes(), str(path))
    assert _bytes(_round_trip(full)) == _bytes(full)
    assert len(_bytes(compact(full, HEAD))) * 4 < len(_bytes(full))  # at least 4x smaller


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="the shared FHIR samples are not beside the project")
def test_every_real_fhir_sample_expands_exactly() -> None:
    bundles = sorted(SAMPLES.glob("*.json"))
    assert bundles
    for path in bundles:
        full = _full(path.read_bytes(), str(path))
        assert _bytes(_round_trip(full)) == _bytes(full), path.name


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(profiles(), near_eligible_profiles()))
def test_generated_profiles_expand_exactly(data: dict[str, Any]) -> None:
    from kapdecide.core.errors import InvalidInputError

    try:
        checked = pipeline.from_data(data, SourceMap("<generated>"), today=AS_OF)
    except InvalidInputError:
        return
    full = pipeline.report(checked, PROTOCOLS)
    assert _bytes(_round_trip(full)) == _bytes(full)


def test_the_header_is_published_and_a_wrong_header_is_refused() -> None:
    jsonschema.Draft202012Validator(json_schema("protocol-info")).validate(json.loads(_bytes(HEAD)))
    line = compact(_full((ROOT / "examples" / "deferred-bp-alcohol.yaml").read_bytes(), "x.yaml"), HEAD)
    with pytest.raises(ValueError, match="written against protocol-info header"):
        expand({**line, "header": "0" * 16}, HEAD)


def test_a_compact_line_keeps_every_patient_value() -> None:
    full = _full((ROOT / "examples" / "deferred-bp-alcohol.yaml").read_bytes(), "x.yaml")
    line = compact(full, HEAD)
    assert line["status"] == "deferred" and line["receipt"]["profile_sha256"] == full["receipt"]["profile_sha256"]
    finding = next(f for f in line["findings"] if f["$t"] == "kap_sud/bp_above_hold_threshold")
    assert "152/94" in finding["message"] and finding["triggered_by"][0]["value"] == 152
    assert "evidence" not in finding and "title" not in finding  # protocol-constant: in the header
