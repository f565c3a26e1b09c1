"""The code stays ruff- and mypy-clean (both are test dependencies)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_clean() -> None:
    pytest.importorskip("ruff")
    result = _run("ruff", "check", "src", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_clean() -> None:
    pytest.importorskip("mypy")
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_version_has_one_source() -> None:
    """pyproject.toml reads the version from the package (hatch dynamic version), never a second copy."""
    import importlib.metadata

    import kapdecide

    assert importlib.metadata.version("kapdecide") == kapdecide.__version__
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_layers_hold_and_no_import_cycle_hides_in_a_function() -> None:
    """The import-linter contract in pyproject.toml (issue 14): every module imports only layers below it."""
    script = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(script), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_no_module_over_500_lines_and_no_function_over_60() -> None:
    """Issue 14: units a newcomer can read. Data tables are module-level constants, not functions."""
    import ast

    long_modules, long_functions = [], []
    for path in sorted((ROOT / "src" / "kapdecide").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT)
        if len(text.splitlines()) > 500:
            long_modules.append(f"{rel}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                if size > 60:
                    long_functions.append(f"{rel}:{node.lineno} {node.name}: {size} lines")
    assert long_modules == [] and long_functions == [], long_modules + long_functions
