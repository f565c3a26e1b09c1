"""The benchmark harness runs end to end (a smoke run: tiny sizes, no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_harness_smoke_run_measures_every_row() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    measures = [row[0] for row in result["rows"]]
    for expected in (
        "bare import",
        "cold `kapdecide assess",
        "cold `kapdecide validate",
        "largest protocol accepted",
        "`--jobs 1`",
        "`--jobs 2`",
        "one line at a time",
    ):
        assert any(expected in m for m in measures), (expected, measures)
    assert sum("peak RSS" in m for m in measures) == 2
    # every target row carries a verdict, and every figure is a number with its unit
    for measure, figure, target, verdict in result["rows"]:
        assert figure.split()[0].replace(",", "").replace(".", "").isdigit(), (measure, figure)
        assert (verdict in ("met", "**missed**")) == bool(target), (measure, verdict)
    assert {"date", "machine", "python", "kapdecide"} <= set(result["machine"])


def test_readme_holds_a_results_table_from_the_harness() -> None:
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    start, end = text.index("<!-- results:start -->"), text.index("<!-- results:end -->")
    table = text[start:end]
    assert "Command: `python benchmarks/run.py`" in table and "| Measure |" in table


def test_population_benchmark_smoke_run_measures_both_worker_counts() -> None:
    import pytest

    pytest.importorskip("distributed", reason="the population extra is not installed")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "population.py"), "--smoke", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["count"] == 300 and set(result["workers_per_s"]) == {"1", "2"}
    assert all(rate > 0 for rate in result["workers_per_s"].values()) and result["per_core_per_s"] > 0
    text = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    assert "Command: `python benchmarks/population.py" in text


def test_cql_peer_benchmark_skips_with_a_reason_without_the_peer_logic(tmp_path: Path) -> None:
    # The Pain Management Summary ELM is AHRQ's, not in this repository: without it the script measures
    # nothing, says why, and exits 0 (so it can sit in any run); with a folder that lacks it, the same.
    for args in ([], ["--elm", str(tmp_path)]):
        done = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "cql_peer.py"), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0 and done.stdout == "", done.stderr
        assert done.stderr.startswith("cql_peer: skipped, "), done.stderr
