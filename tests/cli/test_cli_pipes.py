"""A closed pipe (`kapdecide … | head -1`) ends quietly with exit 0, through real subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from cli.helpers import ROOT

ENV = {**os.environ, "NO_COLOR": "1", "KAPDECIDE_CACHE_DIR": "off"}
COMMANDS = [
    ["assess", "examples/eligible-cocaine.yaml"],
    ["assess", "examples/eligible-cocaine.yaml", "--format", "json"],
    ["assess", "examples/eligible-cocaine.yaml", "--explain"],
    ["assess", "examples/eligible-cocaine.yaml", "examples/deferred-bp-alcohol.yaml"],
    ["explain", "examples/eligible-cocaine.yaml"],
    ["vocab"],
    ["schema", "profile"],
    ["--help"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_a_reader_gone_before_the_first_write_is_exit_0(args: list[str]) -> None:
    """The read end is closed before kapdecide writes anything, so every write meets EPIPE."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kapdecide", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) == 0, err
    assert b"Traceback" not in err and b"BrokenPipe" not in err and b"Exception ignored" not in err


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("head") is None, reason="needs bash and head")
@pytest.mark.parametrize(
    "command",
    [
        "assess examples/eligible-cocaine.yaml",
        "assess examples/eligible-cocaine.yaml examples/deferred-bp-alcohol.yaml examples/precautions-alcohol.yaml",
        "assess --batch - < batch.jsonl",
        "assess --batch - --jobs 2 < batch.jsonl",
    ],
)
def test_piped_into_head_exits_0(command: str, tmp_path: os.PathLike[str]) -> None:
    import json

    import yaml

    line = json.dumps(yaml.safe_load((ROOT / "examples" / "eligible-cocaine.yaml").read_text()), default=str)
    batch = os.path.join(tmp_path, "batch.jsonl")
    with open(batch, "w", encoding="utf-8") as fh:
        fh.write((line + "\n") * 300)
    script = f"set -o pipefail; {sys.executable} -m kapdecide {command.replace('batch.jsonl', batch)} | head -1"
    proc = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, env=ENV, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert b"Traceback" not in proc.stderr and b"BrokenPipe" not in proc.stderr
