"""`kapdecide assess a.yaml b.yaml`: each assessed in turn; machine formats refuse several profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cli.helpers import run_in_process
from kapdecide.cli.many import worst

A = "examples/eligible-cocaine.yaml"
B = "examples/deferred-bp-alcohol.yaml"
BAD = "tests/fixtures/profiles/invalid/age-250.yaml"
AS_OF = ("--as-of", "2026-11-21")


def test_each_profile_gets_its_report_under_its_file_name() -> None:
    code, out, err = run_in_process("assess", A, B, *AS_OF)
    text = out.decode()
    assert code == 0, err.decode()
    assert text.startswith(f"==> {A} <==\n")
    assert f"\n\n==> {B} <==\n" in text
    first, second = text.split(f"==> {B} <==")
    assert "ELIGIBLE" in first and "DEFERRED" in second
    # each report is the one a single call gives
    _, alone, _ = run_in_process("assess", B, *AS_OF)
    assert second.lstrip("\n") == alone.decode()


def test_an_invalid_profile_is_reported_and_the_others_are_still_assessed() -> None:
    code, out, err = run_in_process("assess", A, BAD, B, *AS_OF)
    text = out.decode()
    assert code == 2  # the worst: a profile was not assessed
    assert f"==> {BAD} <==\nnot assessed: the profile is invalid" in text
    assert "DEFERRED" in text.split(f"==> {B} <==")[1]
    assert f"{BAD}:5:8: error [out-of-range] patient.age" in err.decode()


def test_the_exit_code_is_the_worst_with_fail_on() -> None:
    assert run_in_process("assess", A, B, "--fail-on", "deferred", *AS_OF)[0] == 21
    assert run_in_process("assess", A, A, "--fail-on", "deferred", *AS_OF)[0] == 0
    assert run_in_process("assess", B, BAD, "--fail-on", "deferred", *AS_OF)[0] == 2


def test_worst_orders_invalid_then_status_codes_then_success() -> None:
    assert worst([0, 23, 21]) == 21
    assert worst([20, 2, 0]) == 2
    assert worst([0, 0]) == 0
    assert worst([]) == 0


@pytest.mark.parametrize("fmt", ["json", "cds-hooks"])
def test_machine_formats_refuse_several_profiles_with_one_json_error(fmt: str) -> None:
    code, out, err = run_in_process("assess", A, B, "--format", fmt, *AS_OF)
    assert code == 2
    doc = json.loads(out)
    assert doc["status"] == "error" and "--batch" in doc["error"]["message"]
    assert "--batch FILE.jsonl" in err.decode()


def test_output_and_stdin_twice_are_usage_errors() -> None:
    code, _, err = run_in_process("assess", A, B, "--output", "x.txt", *AS_OF)
    assert code == 2 and "redirect standard output" in err.decode()
    code, _, err = run_in_process("assess", "-", "-", *AS_OF)
    assert code == 2 and "only once" in err.decode()


def test_profiles_and_batch_together_are_refused() -> None:
    code, _, err = run_in_process("assess", A, "--batch", "x.jsonl")
    assert code == 2 and "give either PROFILE" in err.decode()


def test_the_batch_summary_counts_each_status(tmp_path: Path) -> None:
    lines = [json.dumps(yaml.safe_load(Path(p).read_text(encoding="utf-8")), default=str) for p in (A, B, B)]
    batch = tmp_path / "b.jsonl"
    batch.write_text("\n".join([*lines, "{bad"]) + "\n", encoding="utf-8")
    code, out, err = run_in_process("assess", "--batch", str(batch), *AS_OF)
    assert code == 2 and len(out.splitlines()) == 4
    assert "batch: 4 line(s): 3 assessed (2 deferred, 1 eligible), 1 invalid (lines 4), 0 internal error(s)" in (
        err.decode()
    )
