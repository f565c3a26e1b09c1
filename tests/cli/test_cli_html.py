"""``assess --format html``: the chart report from the command line."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, run_in_process

EXAMPLE = "examples/deferred-bp-alcohol.yaml"


def test_html_goes_to_stdout_or_atomically_to_a_file(tmp_path: Path) -> None:
    code, out, err = run_in_process("assess", str(ROOT / EXAMPLE), "--format", "html", "--as-of", "2026-11-21")
    assert code == 0 and err == b""
    assert out.startswith(b"<!DOCTYPE html>") and b"DEFERRED" in out
    target = tmp_path / "chart.html"
    code, out, _ = run_in_process(
        "assess", str(ROOT / EXAMPLE), "--format", "html", "-o", str(target), "--as-of", "2026-11-21"
    )
    assert code == 0 and out == b"" and target.read_bytes().startswith(b"<!DOCTYPE html>")
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left beside it


def test_html_keeps_the_exit_codes_of_every_format() -> None:
    code, _, _ = run_in_process(
        "assess", str(ROOT / EXAMPLE), "--format", "html", "--fail-on", "deferred", "--as-of", "2026-11-21"
    )
    assert code == 21
    bad = ROOT / "tests" / "fixtures" / "profiles" / "invalid" / "age-250.yaml"
    code, out, err = run_in_process("assess", str(bad), "--format", "html")
    assert code == 2 and out == b"" and b"error" in err  # no half report for the chart


def test_html_is_for_a_single_profile_and_is_listed_in_help() -> None:
    code, out, err = run_in_process("assess", "--batch", "-", "--format", "html", stdin=b"{}\n")
    assert code == 2 and b"--format html is for a single PROFILE" in err and out == b""
    code, out, _ = run_in_process("assess", "--help")
    assert code == 0 and b"html" in out and b"printable HTML report" in out
