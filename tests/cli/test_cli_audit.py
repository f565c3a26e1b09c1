"""Receipts, `kapdecide replay` and `--fail-on` through real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run

ROOT = Path(__file__).resolve().parents[2]
DEFERRED = "examples/deferred-bp-alcohol.yaml"


def test_receipt_fingerprints_the_canonical_profile() -> None:
    yaml_doc = json.loads(run("assess", "examples/precautions-alcohol.yaml", "--format", "json").stdout)
    json_doc = json.loads(run("assess", "examples/precautions-alcohol.json", "--format", "json").stdout)
    receipt = yaml_doc["receipt"]
    assert receipt == json_doc["receipt"]  # YAML and JSON forms of one profile: one fingerprint
    assert len(receipt["profile_sha256"]) == 64
    assert receipt["as_of"] == "2026-11-21" and receipt["kapdecide_version"] == yaml_doc["kapdecide_version"]
    assert [p["id"] for p in receipt["protocols"]] == ["kap_sud"] and len(receipt["protocols"][0]["sha256"]) == 64


def test_replay_confirms_the_same_result(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    assert run("assess", DEFERRED, "--format", "json", "--output", str(report)).returncode == 0
    proc = run("replay", str(report), DEFERRED)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("Same result: status deferred")


def test_replay_names_a_protocol_change(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    run("assess", DEFERRED, "--format", "json", "--output", str(report))
    changed = tmp_path / "protocols"
    changed.mkdir()
    text = (ROOT / "protocols" / "kap-sud.yaml").read_text(encoding="utf-8")
    assert "version: 1.2.0" in text
    # a new protocol version that does not change this patient's result: same result, change named
    (changed / "kap-sud.yaml").write_text(text.replace("version: 1.2.0", "version: 1.3.0", 1), encoding="utf-8")
    proc = run("replay", str(report), DEFERRED, "--protocols", str(changed), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["same"] is True and doc["change"] is None
    assert any("kap_sud changed: 1.2.0 → 1.3.0" in c for c in doc["causes"])


def test_replay_flags_a_protocol_changed_without_a_version_bump(tmp_path: Path) -> None:
    """Issue 15: the same id and version with different content cannot be told apart in a receipt."""
    report = tmp_path / "r.json"
    run("assess", DEFERRED, "--format", "json", "--output", str(report))
    changed = tmp_path / "protocols"
    changed.mkdir()
    text = (ROOT / "protocols" / "kap-sud.yaml").read_text(encoding="utf-8")
    (changed / "kap-sud.yaml").write_text(text + "# a comment is content too\n", encoding="utf-8")
    proc = run("replay", str(report), DEFERRED, "--protocols", str(changed))
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the result is the same
    assert "because: protocol kap_sud 1.2.0: content changed but version did not: bump the version" in proc.stdout
    doc = json.loads(run("replay", str(report), DEFERRED, "--protocols", str(changed), "--format", "json").stdout)
    assert [(v["id"], v["version"]) for v in doc["version_not_bumped"]] == [("kap_sud", "1.2.0")]


def test_replay_names_a_different_profile(tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    run("assess", DEFERRED, "--format", "json", "--output", str(report))
    proc = run("replay", str(report), "examples/precautions-alcohol.yaml", "--format", "json")
    assert proc.returncode == 1
    assert any("profile is not the one" in c for c in json.loads(proc.stdout)["causes"])


def test_replay_rejects_a_non_report(tmp_path: Path) -> None:
    bogus = tmp_path / "r.json"
    bogus.write_text('{"status": "deferred"}', encoding="utf-8")
    proc = run("replay", str(bogus), DEFERRED)
    assert proc.returncode == 2 and "not a kapdecide JSON report" in proc.stderr


@pytest.mark.parametrize(
    ("example", "level", "code"),
    [
        ("examples/contraindicated-pregnancy.yaml", "contraindicated", 20),
        ("examples/deferred-bp-alcohol.yaml", "contraindicated", 0),
        ("examples/deferred-bp-alcohol.yaml", "deferred", 21),
        ("examples/incomplete-missing-bp.yaml", "deferred", 0),
        ("examples/incomplete-missing-bp.yaml", "incomplete", 22),
        ("examples/precautions-alcohol.yaml", "incomplete", 0),
        ("examples/precautions-alcohol.yaml", "precautions", 23),
        ("examples/eligible-cocaine.yaml", "precautions", 0),
    ],
)
def test_fail_on(example: str, level: str, code: int) -> None:
    proc = run("assess", example, "--format", "json", "--fail-on", level)
    assert proc.returncode == code
    json.loads(proc.stdout)  # the report is written either way


def test_without_fail_on_a_clinical_status_is_exit_0() -> None:
    assert run("assess", "examples/contraindicated-pregnancy.yaml").returncode == 0


def test_replay_applies_the_same_consistency_check_as_assess(tmp_path: Path) -> None:
    """Issue 14: replay read the profile with its own loader and skipped the consistency check."""
    report = tmp_path / "r.json"
    assert run("assess", DEFERRED, "--format", "json", "--output", str(report)).returncode == 0
    text = (ROOT / DEFERRED).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("systolic_mmhg: 154", "systolic_mmhg: 80", 1), encoding="utf-8")
    assert "systolic_mmhg: 80" in bad.read_text(encoding="utf-8")
    assess = run("assess", str(bad))
    replay = run("replay", str(report), str(bad))
    assert assess.returncode == replay.returncode == 2
    assert "invalid_bp_systolic_not_above_diastolic" in replay.stderr
