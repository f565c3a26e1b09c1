"""The command turns pydantic plugins off without importing their loader's importlib.metadata."""

from __future__ import annotations

import os
import subprocess
import sys

from helpers import ROOT


def _imports(env: dict[str, str]) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "kapdecide",
            "assess",
            "examples/eligible-cocaine.yaml",
            "--format",
            "json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '"status": "eligible"' in proc.stdout
    return proc.stderr


def test_no_plugin_discovery_on_the_cold_path() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    assert "importlib.metadata" not in _imports(env)


def test_a_user_who_names_plugins_keeps_pydantic_loader() -> None:
    env = {**os.environ, "PYDANTIC_DISABLE_PLUGINS": "some_plugin"}
    assert "pydantic.plugin._loader" in _imports(env)
