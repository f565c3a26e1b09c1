"""The benchmark profile generator (benchmarks/generate.py): deterministic, valid, varied input."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kapdecide.assessment.assess import assess
from kapdecide.inputs.consistency import check_consistency
from kapdecide.inputs.profile import validate_profile_data
from kapdecide.inputs.yaml_source import SourceMap
from kapdecide.protocol.loader import default_protocol_dir, load_protocols

ROOT = Path(__file__).resolve().parents[1]
COUNT = 300


def _load_generator() -> ModuleType:
    # benchmarks/ is not a package: load the script by path.
    path = ROOT / "benchmarks" / "generate.py"
    spec = importlib.util.spec_from_file_location("kapdecide_benchmark_generate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def profiles() -> list[dict[str, Any]]:
    return list(gen.generate(COUNT, seed=gen.DEFAULT_SEED, as_of=gen.DEFAULT_AS_OF))


def test_same_seed_same_profiles(profiles: list[dict[str, Any]]) -> None:
    again = list(gen.generate(COUNT, seed=gen.DEFAULT_SEED, as_of=gen.DEFAULT_AS_OF))
    assert len(profiles) == COUNT
    assert again == profiles
    assert [json.dumps(p) for p in again] == [json.dumps(p) for p in profiles]  # key order too


def test_different_seed_different_profiles(profiles: list[dict[str, Any]]) -> None:
    other = list(gen.generate(COUNT, seed=gen.DEFAULT_SEED + 1, as_of=gen.DEFAULT_AS_OF))
    assert other != profiles


def test_every_profile_is_valid_and_consistent(profiles: list[dict[str, Any]]) -> None:
    as_of = gen.DEFAULT_AS_OF
    for i, data in enumerate(profiles):
        smap = SourceMap(f"profile {i}")
        profile = validate_profile_data(data, smap)
        assert profile.assessed_on == as_of
        assert check_consistency(profile, as_of, smap) == [], f"profile {i}: {data}"


def test_profiles_reach_varied_statuses(profiles: list[dict[str, Any]]) -> None:
    protocols = load_protocols([default_protocol_dir()])
    statuses = Counter(
        assess(validate_profile_data(data, SourceMap("x")), protocols, gen.DEFAULT_AS_OF)["status"] for data in profiles
    )
    assert len(statuses) >= 4, statuses


def test_as_of_moves_every_date() -> None:
    as_of = dt.date(2030, 1, 15)
    for data in gen.generate(50, seed=3, as_of=as_of):
        assert data["assessed_on"] == "2030-01-15"
        smap = SourceMap("x")
        assert check_consistency(validate_profile_data(data, smap), as_of, smap) == []


def test_cli_writes_identical_compact_json_lines(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert gen.main(["--count", "40", "--seed", "11", "--output", str(first)]) == 0
    assert gen.main(["--count", "40", "--seed", "11", "--output", str(second)]) == 0
    raw = first.read_bytes()
    assert raw == second.read_bytes()
    lines = raw.decode("utf-8").splitlines()
    assert len(lines) == 40 and raw.endswith(b"\n")
    expected = [json.dumps(p, separators=(",", ":"), sort_keys=False) for p in gen.generate(40, seed=11)]
    assert lines == expected
