"""Exit code 4 through a real subprocess: the engine guard, and unexpected internal errors.

The faults are injected by patching the library inside the child process before the CLI runs,
so the real entry point, error mapping and output streams are exercised.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = "examples/precautions-alcohol.yaml"


def run_patched(patch: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys\n{patch}\nfrom kapdecide.cli import main\nmain(sys.argv[1:])\n"
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )


ENGINE_LIES = "import kapdecide.engine as e\ne.Engine.fired = lambda self, facts: {'rule:age_under_18'}"
CRASH = (
    "import kapdecide.assessment.assess as a\n"
    "def boom(*args, **kwargs):\n    raise RuntimeError('injected fault')\n"
    "a.build_facts = boom"
)


def test_engine_disagreement_gives_no_assessment_and_exit_4() -> None:
    proc = run_patched(ENGINE_LIES, "assess", EXAMPLE, "--format", "json")
    assert proc.returncode == 4
    doc = json.loads(proc.stdout)  # exactly one JSON document: the error, never a report
    assert doc["status"] == "error"
    assert doc["error"]["exit_code"] == 4
    assert doc["error"]["code"] == "engine-disagreement"
    assert "rule:age_under_18" in doc["error"]["message"]
    assert "findings" not in doc
    assert "Traceback" not in proc.stderr
    assert "disagree" in proc.stderr


def test_engine_disagreement_text_mode_prints_no_report() -> None:
    proc = run_patched(ENGINE_LIES, "assess", EXAMPLE)
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert "disagree" in proc.stderr


def test_internal_error_exit_4_without_traceback_and_with_debug_hint() -> None:
    proc = run_patched(CRASH, "assess", EXAMPLE, "--format", "json")
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    assert "--debug" in proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["error"]["code"] == "internal-error"


def test_debug_shows_the_traceback() -> None:
    proc = run_patched(CRASH, "--debug", "assess", EXAMPLE)
    assert proc.returncode == 4
    assert proc.stdout == ""
    assert "Traceback" in proc.stderr and "injected fault" in proc.stderr
