"""The clinician's screen: one screen by default, everything with --details; real subprocesses where
the terminal matters (pipe, pager, colour)."""

from __future__ import annotations

import datetime as dt
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from cli.helpers import run
from kapdecide import render
from kapdecide.assessment.assess import assess
from kapdecide.assessment.report import Report, receipt_sha256
from kapdecide.core import vocabulary as v
from kapdecide.inputs.profile import load_profile_bytes
from kapdecide.protocol.loader import LoadedProtocol, load_protocols
from kapdecide.render.summary import STATUS_LOOK

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
MAX_LINES = 30
#: every vocabulary slug that has an underscore: none may reach the clinician as a word of its own
SLUGS = {
    s
    for group in (v.SUBSTANCES, v.SUICIDAL_IDEATION, v.CSSRS_SCREEN, v.BIPOLAR, v.PREGNANCY_STATUS, v.SETTINGS)
    for s in group
    if "_" in s
} | {s for s in (*v.PSYCHIATRIC_CONDITIONS, *v.MEDICAL_CONDITIONS) if "_" in s}
AUTHOR_TAGS = re.compile(r"DESIGN CHOICE|CONSERVATIVE|DISAGREEMENT|APPROXIMATION|\bVERIFY\b")


@pytest.fixture(scope="module")
def protocols() -> list[LoadedProtocol]:
    return load_protocols([ROOT / "protocols"])


def _report(path: Path, protocols: list[LoadedProtocol]) -> Report:
    profile, _ = load_profile_bytes(path.read_bytes(), str(path))
    return assess(profile, protocols, profile.assessed_on or dt.date(2026, 11, 21))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_the_default_fits_one_screen_when_piped(path: Path) -> None:
    proc = run("assess", str(path.relative_to(ROOT)))
    lines = proc.stdout.splitlines()
    assert len(lines) <= MAX_LINES, f"{path.name}: {len(lines)} lines\n{proc.stdout}"
    assert all(len(line) <= 100 and line == line.rstrip() for line in lines), proc.stdout
    assert "decision support for clinician review" in lines[0]
    label, symbol, _ = STATUS_LOOK[_status_of(proc.stdout)]
    assert f"{symbol} {label} — " in proc.stdout  # the status with its action, inside the box


def _status_of(text: str) -> str:
    for status, (label, symbol, _) in STATUS_LOOK.items():
        if f"│ {symbol} {label} —" in text:
            return status
    raise AssertionError(f"no status box in\n{text}")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
@pytest.mark.parametrize("details", [False, True])
def test_no_slug_and_no_author_tag_reaches_the_clinician(
    path: Path, details: bool, protocols: list[LoadedProtocol]
) -> None:
    text = render.render_report(_report(path, protocols), "text", details=details)
    assert not AUTHOR_TAGS.search(text), AUTHOR_TAGS.search(text)
    # a slug inside a profile path (vitals.blood_pressure) names a field to record; alone it is a leak
    words = set(re.findall(r"(?<![.\w\[])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w\].])", text))
    assert not words & SLUGS, words & SLUGS
    assert "(+" not in text and "more reasons" not in text  # nothing cut


def test_the_status_looks_differ_with_and_without_colour() -> None:
    looks = list(STATUS_LOOK.values())
    assert len({symbol for _, symbol, _ in looks}) == len(looks)
    assert len({style for _, _, style in looks}) == len(looks)  # INCOMPLETE no longer looks like DEFERRED


def test_an_urgent_finding_is_first_and_its_action_is_in_the_box(protocols: list[LoadedProtocol]) -> None:
    text = render.render_report(_report(ROOT / "examples" / "deferred-suicidality-alcohol.yaml", protocols), "text")
    box = next(line for line in text.splitlines() if "DEFERRED —" in line)
    assert "URGENT: same-day suicide risk assessment" in box
    first_finding = text.split("Contraindications and deferrals (1)\n", 1)[1].splitlines()[0]
    assert first_finding.startswith("  !! URGENT Acute suicide risk:")


def test_wrapped_lines_keep_their_hanging_indent(protocols: list[LoadedProtocol]) -> None:
    text = render.render_report(_report(ROOT / "examples" / "deferred-suicidality-alcohol.yaml", protocols), "text")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  !! URGENT"))
    assert lines[start + 1].startswith("     ") and lines[start + 1].strip()  # under the title, not column 0
    arrow = lines[start + 3] if lines[start + 2].startswith("     ") else lines[start + 2]
    assert arrow.startswith("    → ")


def test_the_header_names_patient_weight_bp_protocol_version_and_receipt(protocols: list[LoadedProtocol]) -> None:
    report = _report(ROOT / "examples" / "incomplete-stale-bp.yaml", protocols)
    head = " ".join(render.render_report(report, "text").splitlines()[:4])  # wrapped lines joined
    assert "Patient MRN-802219 · 38 y · female · 66.5 kg (no date)" in head
    assert "BP 116/74 (mean of 2) on 2026-10-07, 45 days old: not used" in head
    assert f"Protocol kap_sud 1.2.0 · kapdecide {report['kapdecide_version']}" in head
    assert f"receipt {receipt_sha256(report['receipt'])[:12]}" in head


def test_a_stale_reading_is_one_item_to_collect(protocols: list[LoadedProtocol]) -> None:
    text = render.render_report(_report(ROOT / "examples" / "incomplete-stale-bp.yaml", protocols), "text")
    assert "Data to collect (1)" in text
    assert text.count("vitals.blood_pressure") == 2  # the box's action and the item; nothing else
    assert "3 safety checks wait on it" in " ".join(text.split())
    assert "Could not check" not in text and "vitals.bp_systolic_mmhg" not in text


def test_data_to_collect_names_profile_fields_in_plain_words(protocols: list[LoadedProtocol]) -> None:
    path = ROOT / "examples" / "incomplete-female-no-pregnancy-section.yaml"
    text = render.render_report(_report(path, protocols), "text")
    assert "pregnancy.can_become_pregnant — can the patient become pregnant?" in text
    assert "pregnancy.possible" not in text


@pytest.mark.parametrize("name", ["contraindicated-pregnancy", "deferred-bp-alcohol", "incomplete-missing-bp"])
def test_no_dose_is_shown_for_an_option_not_offered(name: str, protocols: list[LoadedProtocol]) -> None:
    report = _report(ROOT / "examples" / f"{name}.yaml", protocols)
    assert not any(o["state"] == "offered" for o in report["options"])
    text = render.render_report(report, "text", details=True)
    assert " mg/kg x " not in text and "not computable" not in text


def test_details_give_the_dose_of_an_offered_option_and_full_citations(protocols: list[LoadedProtocol]) -> None:
    report = _report(ROOT / "examples" / "precautions-alcohol.yaml", protocols)
    text = render.render_report(report, "text", details=True)
    assert "0.8 mg/kg x" in text
    assert "References (" in text and "https://doi.org/10.1176/appi.ajp.2021.21030277" in text
    assert receipt_sha256(report["receipt"]) in text
    short = render.render_report(report, "text")
    assert "https://doi.org" not in short and "[KARE-2022+2]" in short  # short keys on one screen


def _on_a_terminal(args: list[str], env: dict[str, str], rows: int = 24) -> str:
    """Run kapdecide with its stdout on a pseudo-terminal of ``rows`` rows; what the terminal showed."""
    import fcntl
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kapdecide", *args], cwd=ROOT, stdout=child, stderr=subprocess.DEVNULL, env=env
    )
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def _env(**extra: str) -> dict[str, str]:
    env = {k: val for k, val in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PAGER", "KAPDECIDE_PAGER")}
    return {**env, **extra}


def test_long_text_on_a_terminal_goes_through_the_pager(tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    pager = f"{sys.executable} -c \"import sys; open({str(paged)!r}, 'w').write(sys.stdin.read())\""
    args = ["assess", "examples/precautions-alcohol.yaml", "--details", "--color", "never"]
    _on_a_terminal(args, _env(KAPDECIDE_PAGER=pager))
    assert paged.exists() and "References (" in paged.read_text()
    paged.unlink()
    shown = _on_a_terminal([*args, "--no-pager"], _env(KAPDECIDE_PAGER=pager))
    assert not paged.exists() and "References (" in shown


def test_a_pipe_is_never_paged(tmp_path: Path) -> None:
    paged = tmp_path / "paged.txt"
    env = _env(KAPDECIDE_PAGER=f"touch {paged}")
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", "assess", "examples/precautions-alcohol.yaml", "--details"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0 and b"References (" in proc.stdout and not paged.exists()


def test_a_missing_pager_falls_back_to_the_terminal() -> None:
    args = ["assess", "examples/precautions-alcohol.yaml", "--details"]
    shown = _on_a_terminal(args, _env(KAPDECIDE_PAGER="no-such-pager-kapdecide"))
    assert "References (" in shown


@pytest.mark.parametrize(
    ("args", "env", "coloured"),
    [
        (["--color", "always"], {}, True),
        (["--color", "never"], {"FORCE_COLOR": "1"}, False),
        ([], {"FORCE_COLOR": "1"}, True),
        ([], {}, False),  # a pipe
    ],
)
def test_color_flag_and_environment(args: list[str], env: dict[str, str], coloured: bool) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", "assess", "examples/deferred-suicidality-alcohol.yaml", *args],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0
    assert (b"\x1b[" in proc.stdout) is coloured


def test_no_color_wins_over_a_terminal() -> None:
    shown = _on_a_terminal(["assess", "examples/eligible-cocaine.yaml"], _env(NO_COLOR="1", KAPDECIDE_PAGER="cat"))
    assert "ELIGIBLE" in shown and "\x1b[" not in shown
    coloured = _on_a_terminal(["assess", "examples/eligible-cocaine.yaml"], _env(KAPDECIDE_PAGER="cat"))
    assert "\x1b[" in coloured


def test_a_precaution_shows_its_whole_action(protocols: list[LoadedProtocol]) -> None:
    # the benzodiazepine action's first sentence is "Record the dose in diazepam equivalents."; the
    # instruction that matters ("do not stop abruptly") comes after it and must be on the screen
    text = render.render_report(
        _report(ROOT / "examples" / "precautions-alcohol-benzodiazepine.yaml", protocols), "text"
    )
    assert "do not stop abruptly" in " ".join(text.split())
