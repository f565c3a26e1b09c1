"""benchmarks/service.py runs end to end (a smoke run: tiny sizes, no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from svc_helpers import ROOT, SAMPLES


def test_service_benchmark_smoke_run() -> None:
    if not (SAMPLES / "synthea2019-darron-feeney.json").exists():
        pytest.skip("shared FHIR samples not present")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "service.py"), "--smoke", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [x["clients"] for x in result["levels"]] == [1, 8, 32]
    assert all(x["n"] > 0 and x["p99_ms"] >= x["p50_ms"] > 0 for x in result["levels"])
    assert result["resources"] > 400 and result["cold_assess_s"] > 0
    assert len(result["memory"]) >= 2
