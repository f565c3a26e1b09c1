"""protocol_cache: a checked protocol is reused only when its entry is intact and matches the file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from kapdecide.assessment.assess import assess
from kapdecide.inputs.profile import validate_profile_data
from kapdecide.inputs.yaml_source import load
from kapdecide.protocol.cache import FORMAT, ProtocolCache, default_cache
from kapdecide.protocol.loader import default_protocol_dir, load_protocols, validate_paths

ROOT = Path(__file__).resolve().parents[3]
DAY = dt.date(2026, 11, 21)


@pytest.fixture
def protocols(tmp_path: Path) -> Path:
    folder = tmp_path / "protocols"
    folder.mkdir()
    shutil.copy(default_protocol_dir() / "kap-sud.yaml", folder / "kap-sud.yaml")
    return folder


def _report(protocol_dir: Path, cache: ProtocolCache | None) -> str:
    text = (ROOT / "examples" / "deferred-bp-alcohol.yaml").read_text()
    data, smap = load(text, "p.yaml")
    profile = validate_profile_data(data, smap)
    return json.dumps(assess(profile, load_protocols([protocol_dir], cache), DAY))


def _entries(cache: ProtocolCache) -> list[Path]:
    return sorted(cache.folder.glob("protocol-*.json"))


def test_a_hit_gives_the_same_problems_protocol_and_report(protocols: Path, tmp_path: Path) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    fresh_loaded, fresh_problems = validate_paths([protocols], DAY, None)
    _, miss_problems = validate_paths([protocols], DAY, cache)
    assert len(_entries(cache)) == 1
    hit_loaded, hit_problems = validate_paths([protocols], DAY, cache)
    assert hit_loaded[0].built is None  # served from the cache: no model built until asked for
    assert fresh_problems == miss_problems == hit_problems
    assert hit_loaded[0].protocol == fresh_loaded[0].protocol
    assert hit_loaded[0].ids == fresh_loaded[0].ids
    assert _report(protocols, cache) == _report(protocols, None)


def test_review_overdue_is_computed_for_the_day_asked(protocols: Path, tmp_path: Path) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    validate_paths([protocols], DAY, cache)
    late = dt.date(2099, 1, 1)
    codes = {p.code for p in validate_paths([protocols], late, cache)[1]}
    assert "review-overdue" in codes
    assert {p.code for p in validate_paths([protocols], late, None)[1]} == codes
    assert "review-overdue" not in {p.code for p in validate_paths([protocols], DAY, cache)[1]}


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace('"kap_sud"', '"kap_sux"', 1),  # changed without a new checksum
        lambda text: "",  # empty
        lambda text: "\x00\x01garbage",
    ],
)
def test_a_corrupt_entry_is_never_trusted_and_is_rebuilt(protocols: Path, tmp_path: Path, damage: object) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    _, expected = validate_paths([protocols], DAY, cache)
    entry = _entries(cache)[0]
    entry.write_text(damage(entry.read_text()))  # type: ignore[operator]
    sha = hashlib.sha256((protocols / "kap-sud.yaml").read_bytes()).hexdigest()
    assert cache.get(sha) is None
    loaded, problems = validate_paths([protocols], DAY, cache)
    assert problems == expected and loaded[0].protocol.id == "kap_sud"
    assert cache.get(sha) is not None  # rewritten


def _rewrite(entry: Path, change: dict[str, object]) -> None:
    payload = json.loads(entry.read_text().partition("\n")[2])
    payload.update(change)
    text = json.dumps(payload)
    entry.write_text(hashlib.sha256(text.encode()).hexdigest() + "\n" + text)


def test_an_entry_of_another_version_or_format_is_ignored(protocols: Path, tmp_path: Path) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    validate_paths([protocols], DAY, cache)
    sha = hashlib.sha256((protocols / "kap-sud.yaml").read_bytes()).hexdigest()
    for change in ({"format": FORMAT + 1}, {"kapdecide": "0.0.0"}, {"sha256": "0" * 64}):
        _rewrite(_entries(cache)[0], change)
        assert cache.get(sha) is None
        validate_paths([protocols], DAY, cache)  # rebuilds it


def test_a_checksummed_entry_whose_protocol_fails_the_model_falls_back_to_the_file(
    protocols: Path, tmp_path: Path
) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    validate_paths([protocols], DAY, cache)
    _rewrite(_entries(cache)[0], {"protocol": {"id": "kap_sud"}})
    assert _report(protocols, cache) == _report(protocols, None)


def test_a_changed_protocol_file_is_never_served_the_old_entry(protocols: Path, tmp_path: Path) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    validate_paths([protocols], DAY, cache)
    path = protocols / "kap-sud.yaml"
    path.write_text(path.read_text().replace("version: 1.2.0", "version: 1.2.1", 1))
    loaded, _ = validate_paths([protocols], DAY, cache)
    assert loaded[0].protocol.version == "1.2.1"
    assert len(_entries(cache)) == 2


def test_an_unwritable_cache_only_costs_speed(protocols: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = ProtocolCache(blocker / "cache")
    loaded, problems = validate_paths([protocols], DAY, cache)
    assert loaded[0].protocol.id == "kap_sud" and not [p for p in problems if p.severity == "error"]


def test_a_protocol_with_errors_is_cached_with_its_errors(tmp_path: Path) -> None:
    bad = ROOT / "tests" / "fixtures" / "protocols" / "invalid" / "undefined-evidence.yaml"
    cache = ProtocolCache(tmp_path / "cache")
    first = validate_paths([bad], DAY, cache)[1]
    second = validate_paths([bad], DAY, cache)[1]
    assert first == second and any(p.code == "undefined-evidence" for p in second)


def test_default_cache_location() -> None:
    assert default_cache({"KAPDECIDE_CACHE_DIR": "off", "HOME": "/h"}) is None
    assert default_cache({"KAPDECIDE_CACHE_DIR": "/x", "HOME": "/h"}) == ProtocolCache(Path("/x"))
    assert default_cache({"XDG_CACHE_HOME": "/c", "HOME": "/h"}) == ProtocolCache(Path("/c/kapdecide"))
    found = default_cache({"HOME": "/h"})
    assert found is not None and found.folder.parts[-2:] == (".cache", "kapdecide")


# ---------------------------------------------------------------- issue 13 item 6: trust like ~/.ssh


def _forge(cache: ProtocolCache, protocol: Path) -> None:
    """Rewrite every entry so the protocol's pregnancy contraindication never fires, with a valid
    checksum (anyone who can write the folder can recompute it)."""
    for path in _entries(cache):
        payload = path.read_text(encoding="utf-8").partition("\n")[2]
        entry = json.loads(payload)
        text = json.dumps(entry)
        text = text.replace('"value": "pregnant"', '"value": "not_pregnant"')
        forged = hashlib.sha256(text.encode("utf-8")).hexdigest() + "\n" + text
        path.write_text(forged, encoding="utf-8")


def _pregnant_status(protocol_dir: Path, cache: ProtocolCache | None) -> str:
    text = (ROOT / "examples" / "contraindicated-pregnancy.yaml").read_text()
    data, smap = load(text, "p.yaml")
    return assess(validate_profile_data(data, smap), load_protocols([protocol_dir], cache), DAY)["status"]


@pytest.mark.parametrize("mode", [0o775, 0o757])
def test_a_cache_folder_others_can_write_is_never_trusted(protocols: Path, tmp_path: Path, mode: int) -> None:
    cache = ProtocolCache(tmp_path / "cache")
    assert _pregnant_status(protocols, cache) == "contraindicated"
    _forge(cache, protocols / "kap-sud.yaml")
    cache.folder.chmod(mode)
    assert cache.untrusted() is not None
    assert _pregnant_status(protocols, cache) == "contraindicated"  # read from the file, not the entry


def test_an_entry_others_can_write_or_a_link_is_never_trusted(protocols: Path, tmp_path: Path) -> None:
    import os

    cache = ProtocolCache(tmp_path / "cache")
    _pregnant_status(protocols, cache)
    (entry,) = _entries(cache)
    _forge(cache, protocols / "kap-sud.yaml")
    entry.chmod(0o666)
    assert _pregnant_status(protocols, cache) == "contraindicated"
    real = tmp_path / "elsewhere.json"
    entry.rename(real)
    real.chmod(0o600)
    os.symlink(real, entry)  # a link is not followed, even to a well-formed entry
    assert _pregnant_status(protocols, cache) == "contraindicated"


def test_a_fifo_or_an_endless_file_at_an_entry_neither_hangs_nor_exhausts_memory(
    protocols: Path, tmp_path: Path
) -> None:
    import os

    cache = ProtocolCache(tmp_path / "cache")
    cache.folder.mkdir(mode=0o700)
    sha = hashlib.sha256((protocols / "kap-sud.yaml").read_bytes()).hexdigest()
    os.mkfifo(cache._file(sha))
    assert cache.get(sha) is None  # returns at once: opened non-blocking, not a regular file
    cache._file(sha).unlink()
    os.symlink("/dev/zero", cache._file(sha))
    assert cache.get(sha) is None


def test_validate_and_test_never_trust_the_cache(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    cache = ProtocolCache(tmp_path / "cache")
    _pregnant_status(default_protocol_dir(), cache)  # fill it for the shipped protocol
    _forge(cache, default_protocol_dir() / "kap-sud.yaml")
    env = {**os.environ, "KAPDECIDE_CACHE_DIR": str(cache.folder), "NO_COLOR": "1"}

    def kapdecide(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "kapdecide", *args]
        return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)

    # the forged entry is well formed and owned by us: assess uses it (what a trusted cache means) ...
    forged = json.loads(kapdecide("assess", "examples/contraindicated-pregnancy.yaml", "--format", "json").stdout)
    assert forged["status"] != "contraindicated"
    # ... but the commands that check protocols read the files themselves
    assert kapdecide("test").returncode == 0
    assert kapdecide("validate").returncode == 0
