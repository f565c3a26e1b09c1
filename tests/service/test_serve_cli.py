"""``kapdecide serve`` refuses to start unsafely (exit 2, a clear message), and the CLI's start-up
never imports the service's dependencies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from svc_helpers import ROOT


def _run(*args: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", code] if code else [sys.executable, "-m", "kapdecide", *args]
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_without_the_extra_it_says_how_to_install_it() -> None:
    code = (
        "import importlib.util as u\n"
        "real = u.find_spec\n"
        "u.find_spec = lambda name, *a: None if name in ('starlette', 'uvicorn') else real(name, *a)\n"
        "from kapdecide.cli import main\n"
        "main(['serve'])\n"
    )
    result = _run(code=code)
    assert result.returncode == 2
    assert "missing: starlette, uvicorn" in result.stderr
    assert "pip install 'kapdecide[service]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_will_not_start_without_issuers_and_base_url() -> None:
    result = _run("serve", "--port", "0")
    assert result.returncode == 2
    assert "must give base_url and issuers" in result.stderr and "--insecure-dev" in result.stderr


def test_insecure_dev_only_on_a_loopback_address() -> None:
    result = _run("serve", "--insecure-dev", "--host", "0.0.0.0")
    assert result.returncode == 2 and "loopback" in result.stderr


def test_a_bad_config_file_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "service.yaml"
    cfg.write_text("base_url: https://cds.example.org\nissuers: []\naudit_logg: x\n", encoding="utf-8")
    result = _run("serve", "--config", str(cfg))
    assert result.returncode == 2 and "audit_logg" in result.stderr
    unwritable = tmp_path / "service2.yaml"
    unwritable.write_text(f"audit_log: {tmp_path}\n", encoding="utf-8")  # a folder: cannot be appended to
    result = _run("serve", "--config", str(unwritable), "--insecure-dev")
    assert result.returncode == 2 and "cannot write the log" in result.stderr


def test_the_cli_starts_without_importing_the_service() -> None:
    code = (
        "import sys\n"
        "from kapdecide.cli import main\n"
        "heavy = [m for m in ('starlette', 'uvicorn', 'jwt', 'httpx', 'kapdecide.service') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    result = _run(code=code)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_readme_configuration_example_is_a_valid_configuration(tmp_path: Path) -> None:
    from kapdecide.service.cards import card_config
    from kapdecide.service.config import load_config

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run as a CDS Hooks service", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    cfg = tmp_path / "service.yaml"
    cfg.write_text(block.replace("/var/log/kapdecide", str(tmp_path)), encoding="utf-8")
    config = load_config(str(cfg))
    assert config.base_url == "https://cds.example.org" and len(config.issuers) == 3
    assert card_config(config).override_system == "https://cds.example.org/kapdecide/override-reasons"
