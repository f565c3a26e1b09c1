"""The one way CLI tests start kapdecide: a real subprocess from the repository root, no colour."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m kapdecide ARGS`` (stdin given as bytes, so tests can send invalid UTF-8), with
    stdout/stderr decoded as UTF-8."""
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
    )


def run_in_process(*args: str, stdin: bytes = b"") -> tuple[int, bytes, bytes]:
    """``kapdecide ARGS`` in this process (exit code, stdout bytes, stderr bytes): the same entry
    point as the command, through real binary streams, without a new interpreter per call."""
    import io

    from kapdecide.cli import main

    saved = sys.stdin, sys.stdout, sys.stderr, os.environ.get("NO_COLOR")
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    os.environ["NO_COLOR"] = "1"
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
            stream.detach()  # so that closing the wrapper later does not close the bytes
        sys.stdin, sys.stdout, sys.stderr, no_color = saved
        if no_color is None:
            os.environ.pop("NO_COLOR", None)
    return code, out.getvalue(), err.getvalue()
