"""Every output the project can produce, byte for byte: the guard for refactoring (issue 14).

Each command below runs in-process through the real entry point; its exit code, stdout and stderr
are hashed and compared with ``tests/golden/outputs.sha256.json``. A change in any byte of any
format (text, JSON, CDS Hooks, explain, batch, import-fhir, validate, test, schemas, error
messages) fails here, naming the command. When a change is intended, regenerate and review the
diff of the manifest together with the golden files::

    KAPDECIDE_UPDATE_GOLDEN=1 pytest tests/test_outputs_unchanged.py

The real FHIR samples (``../shared/fhir-samples/``) are hashed, never copied; their commands are
skipped when the folder is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from cli.helpers import run_in_process

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "tests" / "golden" / "outputs.sha256.json"
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
UPDATE = os.environ.get("KAPDECIDE_UPDATE_GOLDEN") == "1"
AS_OF = ("--as-of", "2026-11-21")
#: CDS Hooks card uuids are seeded by the call's hookInstance (random by default): a fixed one here.
HOOK = ("--hook-instance", "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else os.path.relpath(path, ROOT)


def _commands() -> dict[str, tuple[list[str], bytes]]:
    commands: dict[str, tuple[list[str], bytes]] = {}

    def add(args: list[str], stdin: bytes = b"") -> None:
        commands[" ".join(args)] = (args, stdin)

    examples = sorted((ROOT / "examples").glob("*.y*ml")) + sorted((ROOT / "examples").glob("*.json"))
    for ex in examples:
        for fmt in ("text", "json", "html"):
            add(["assess", _rel(ex), "--format", fmt, *AS_OF])
        add(["assess", _rel(ex), "--format", "cds-hooks", *AS_OF, *HOOK])
        add(["assess", _rel(ex), "--explain", *AS_OF])
        add(["assess", _rel(ex), "--details", *AS_OF])
        for fmt in ("text", "json"):
            add(
                [
                    "explain",
                    _rel(ex),
                    "--rule",
                    "bp_above_hold_threshold",
                    "--rule",
                    "pregnancy",
                    "--format",
                    fmt,
                    *AS_OF,
                ]
            )
    first = _rel(examples[0])
    add(["assess", first, "--what-if", "vitals.bp_systolic_mmhg=150", "--format", "json", *AS_OF])
    add(["assess", first, "--fail-on", "precautions", *AS_OF])
    add(["assess", first, "--format", "html", "--explain", "--what-if", "vitals.heart_rate_bpm=110", *AS_OF])
    eligible = "examples/eligible-cocaine.yaml"
    for what_if in ("vitals.blood_pressure=150/95", "substance_use.cocaine.last_use=2026-11-20"):
        add(["assess", eligible, "--what-if", what_if, "--format", "json", *AS_OF])
        add(["assess", eligible, "--what-if", what_if, *AS_OF])
    add(["assess", eligible, "--what-if", "vitals.blood_pressure=80/120", *AS_OF])
    add(["assess", eligible, "--what-if", "vitals.blood_pressure=150/95", "--format", "cds-hooks", *AS_OF, *HOOK])
    bad = "tests/fixtures/profiles/invalid/age-250.yaml"
    add(["assess", eligible, bad, "examples/deferred-bp-alcohol.yaml", "--fail-on", "deferred", *AS_OF])
    add(["assess", eligible, "examples/deferred-bp-alcohol.yaml", "--format", "json", *AS_OF])
    add(["assess", eligible, "--what-if", "substances.cocaine.days_since_last_use=3", *AS_OF])
    add(["assess", "-", "--format", "json", *AS_OF], (ROOT / "examples" / "deferred-bp-alcohol.yaml").read_bytes())
    add(["diff", "protocols", "protocols", "--profiles", "examples", "--format", "json", *AS_OF])
    add(["diff", "protocols", "protocols", "--profiles", "tests/fixtures/profiles/invalid", *AS_OF])
    for ex in [*examples[:3], ROOT / "examples" / "precautions-alcohol.yaml"]:
        add(["replay", "tests/golden/precautions-alcohol.json", _rel(ex)])
    for bad in sorted((ROOT / "tests" / "fixtures" / "profiles" / "invalid").iterdir()):
        add(["assess", _rel(bad), *AS_OF])
        add(["assess", _rel(bad), "--format", "json", *AS_OF])
    for odd in sorted((ROOT / "tests" / "fixtures" / "profiles" / "unrecognised").glob("*")):
        add(["assess", _rel(odd), "--format", "json", *AS_OF])
    lines = []
    for ex in examples:
        import yaml

        lines.append(json.dumps(yaml.safe_load(ex.read_text(encoding="utf-8")), default=str, sort_keys=True))
    add(["assess", "--batch", "-", *AS_OF], ("\n".join([*lines, "{bad", ""]) + "\n").encode())
    add(["assess", "--batch", "-", "--line", "compact", *AS_OF], ("\n".join([*lines, "{bad", ""]) + "\n").encode())
    add(["protocol-info"])
    add(["protocol-info", "--format", "json"])
    add(["validate", "protocols"])
    add(["validate", "protocols", "--format", "json"])
    add(["validate", "protocols", "-q"])
    add(["validate", "protocols", "--select", "evidence-without-identifier,review-overdue"])
    add(["validate", "protocols", "--ignore", "evidence-without-doi", "--format", "json"])
    add(["validate", "tests/fixtures/protocols/invalid_cli", "--select", "unused-evidence", "-q"])
    add(["validate", "protocols", "--select", "tier-gapp"])
    add(["validate", "protocols", "--ignore", "never-true"])
    for lint in sorted((ROOT / "tests" / "fixtures" / "protocols" / "lint").glob("*.yaml")):
        add(["validate", _rel(lint), "--format", "json"])
    for invalid in sorted((ROOT / "tests" / "fixtures" / "protocols" / "invalid").glob("*.yaml")):
        add(["validate", _rel(invalid)])
    for fmt in ("text", "json", "junit"):
        add(["test", "protocols", "--format", fmt])
    add(["test", "protocols", "--coverage"])
    add(["test", "tests/fixtures/cases"])
    add(["test", "tests/fixtures/cases", "--format", "junit"])
    add(["test", "tests/fixtures/cases/shared.cases.yaml", "--format", "json", "--coverage"])
    from kapdecide.schema import SCHEMAS

    for name in SCHEMAS:
        add(["schema", name])
    add(["vocab"])
    add(["vocab", "--format", "json"])
    return commands


def _sample_commands() -> dict[str, tuple[list[str], bytes]]:
    commands: dict[str, tuple[list[str], bytes]] = {}
    for sample in sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []:
        name = _rel(sample)
        for args in (
            ["assess", name, "--format", "json", *AS_OF],
            ["assess", name, "--format", "cds-hooks", *AS_OF, *HOOK],
            ["assess", name, *AS_OF],
            ["import-fhir", name, *AS_OF],
        ):
            commands[" ".join(args).replace(name, f"fhir-samples/{sample.name}")] = (args, b"")
    return commands


def _digest(args: list[str], stdin: bytes) -> str:
    code, out, err = run_in_process(*args, stdin=stdin)
    return f"{code} {hashlib.sha256(out).hexdigest()} {hashlib.sha256(err).hexdigest()}"


@pytest.fixture(scope="module")
def manifest() -> dict[str, str]:
    if MANIFEST.exists():
        data: dict[str, str] = json.loads(MANIFEST.read_text(encoding="utf-8"))
        return data
    return {}


def _check(
    commands: dict[str, tuple[list[str], bytes]], manifest: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("KAPDECIDE_CACHE_DIR", "off")
    monkeypatch.setenv("TZ", "UTC")
    actual = {key: _digest(args, stdin) for key, (args, stdin) in commands.items()}
    if UPDATE:
        merged = {**{k: v for k, v in manifest.items() if k not in actual}, **actual}
        MANIFEST.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n", encoding="utf-8")
        manifest.update(actual)
    changed = sorted(k for k, v in actual.items() if manifest.get(k) != v)
    assert not changed, f"{len(changed)} output(s) changed or new (first: {changed[:5]}); see this module's docstring"


def test_every_project_output_is_byte_identical(manifest: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _check(_commands(), manifest, monkeypatch)


@pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/fhir-samples/ is not present")
def test_every_fhir_sample_output_is_byte_identical(manifest: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    _check(_sample_commands(), manifest, monkeypatch)


def test_the_manifest_has_no_stale_entries(manifest: dict[str, str]) -> None:
    known = set(_commands()) | {k for k in manifest if " fhir-samples/" in k}
    if UPDATE:
        kept = {k: v for k, v in sorted(manifest.items()) if k in known}
        MANIFEST.write_text(json.dumps(kept, indent=1) + "\n", encoding="utf-8")
        manifest.clear()
        manifest.update(kept)
    assert set(manifest) <= known, sorted(set(manifest) - known)[:5]
