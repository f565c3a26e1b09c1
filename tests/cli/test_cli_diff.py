"""`kapdecide diff`: the clinical effect of a protocol change, through real subprocesses."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "fixtures" / "protocols" / "valid" / "mini.yaml"
PROFILE = """assessed_on: 2026-11-21
patient: {{age: 40, sex_at_birth: male, weight_kg: 70}}
vitals: {{blood_pressure: [{{systolic_mmhg: {sys}, diastolic_mmhg: 80, taken_at: 2026-11-21}}]}}
substance_use: [{{substance: alcohol, last_use: 2026-11-01}}]
medications: []
"""


def _setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    old, new, profiles = tmp_path / "old", tmp_path / "new", tmp_path / "profiles"
    for d in (old, new, profiles):
        d.mkdir()
    text = MINI.read_text(encoding="utf-8")
    (old / "p.yaml").write_text(text, encoding="utf-8")
    assert 'op: ">=", value: 140}' in text
    (new / "p.yaml").write_text(text.replace('op: ">=", value: 140}', 'op: ">=", value: 150}'), encoding="utf-8")
    (profiles / "bp145.yaml").write_text(PROFILE.format(sys=145), encoding="utf-8")
    (profiles / "bp120.yaml").write_text(PROFILE.format(sys=120), encoding="utf-8")
    return old, new, profiles


def test_no_change_exit_0(tmp_path: Path) -> None:
    old, _, profiles = _setup(tmp_path)
    proc = run("diff", str(old), str(old), "--profiles", str(profiles))
    assert proc.returncode == 0, proc.stderr
    assert "0 of 2 profile(s) change" in proc.stdout


def test_threshold_change_lists_the_affected_profile(tmp_path: Path) -> None:
    old, new, profiles = _setup(tmp_path)
    proc = run("diff", str(old), str(new), "--profiles", str(profiles), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["profiles"] == 2
    (change,) = doc["changed"]
    assert change["profile"].endswith("bp145.yaml")
    assert (change["old_status"], change["new_status"]) == ("deferred", "eligible")
    assert change["findings_removed"] == ["bp_above_hold_threshold"]
    assert {"option_id": "iv_ketamine_clinic", "indication": "alcohol", "old": "excluded", "new": "offered"} in (
        change["options"]
    )


def test_text_output(tmp_path: Path) -> None:
    old, new, profiles = _setup(tmp_path)
    proc = run("diff", str(old), str(new), "--profiles", str(profiles))
    assert "bp145.yaml: status deferred → eligible" in proc.stdout
    assert "- finding bp_above_hold_threshold" in proc.stdout


def test_invalid_profile_exit_2(tmp_path: Path) -> None:
    old, new, profiles = _setup(tmp_path)
    (profiles / "bad.yaml").write_text("patient: {age: 400}\n", encoding="utf-8")
    proc = run("diff", str(old), str(new), "--profiles", str(profiles))
    assert proc.returncode == 2
    assert "bad.yaml" in proc.stdout and "invalid profile" in proc.stdout


def _reworded(tmp_path: Path, version: str) -> tuple[Path, Path, Path]:
    """old and new differ in a message only; new has ``version``."""
    old, new, profiles = _setup(tmp_path)
    text = (old / "p.yaml").read_text(encoding="utf-8")
    assert text.count("version: 0.1.0") == 1 and "Blood pressure" in text
    (new / "p.yaml").write_text(
        text.replace("Blood pressure", "Blood-pressure", 1).replace("version: 0.1.0", f"version: {version}"),
        encoding="utf-8",
    )
    return old, new, profiles


def test_content_changed_without_a_version_bump_is_flagged(tmp_path: Path) -> None:
    """Issue 15: a protocol whose bytes changed under the same version is named, and exits 1."""
    old, new, profiles = _reworded(tmp_path, "0.1.0")
    proc = run("diff", str(old), str(new), "--profiles", str(profiles))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "0 of 2 profile(s) change" in proc.stdout
    assert "warning: protocol mini 0.1.0: content changed but version did not: bump the version" in proc.stdout
    doc = json.loads(run("diff", str(old), str(new), "--profiles", str(profiles), "--format", "json").stdout)
    (flag,) = doc["version_not_bumped"]
    assert (flag["id"], flag["version"]) == ("mini", "0.1.0") and flag["old_sha256"] != flag["new_sha256"]


def test_a_bumped_version_is_not_flagged(tmp_path: Path) -> None:
    old, new, profiles = _reworded(tmp_path, "0.1.1")
    proc = run("diff", str(old), str(new), "--profiles", str(profiles), "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["version_not_bumped"] == []
