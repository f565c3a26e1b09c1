"""Hostile and broken input: a bounded fuzz run, hostile protocol files, and a batch killed midway.

The fuzz run calls the real entry point (`kapdecide.cli.main`) in-process so that it can afford
hundreds of examples; the other tests use real subprocesses.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kapdecide.cli import main

ROOT = Path(__file__).resolve().parents[2]
MINI = str(ROOT / "tests" / "fixtures" / "protocols" / "valid")
SEED_TEXTS = [p.read_bytes() for p in sorted((ROOT / "examples").glob("*.yaml"))[:6]] + [
    (ROOT / "examples" / "precautions-alcohol.json").read_bytes()
]


def call(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _check(raw: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.NamedTemporaryFile(suffix=".yaml", delete=False) as fh:
        fh.write(raw)
    try:
        code, out, err = call(["assess", fh.name, "--protocols", MINI, "--format", "json"], capsys)
    finally:
        os.unlink(fh.name)
    assert code in (0, 2), (code, err[-500:])
    assert "Traceback" not in err
    doc = json.loads(out)  # one JSON document, report or error, whatever the input
    if code == 2:
        assert err.strip() and doc["status"] == "error"


FUZZ = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(raw=st.binary(max_size=400))
def test_fuzz_raw_bytes(raw: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    _check(raw, capsys)


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    text = bytearray(draw(st.sampled_from(SEED_TEXTS)))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        pos = draw(st.integers(min_value=0, max_value=max(0, len(text) - 1)))
        action = draw(st.sampled_from(["flip", "delete", "insert", "duplicate-line"]))
        if action == "flip" and text:
            text[pos] = draw(st.sampled_from(b"0123456789:-{}[],'\"!&*#\t \n.eE~yn"))
        elif action == "delete" and text:
            del text[pos : pos + draw(st.integers(min_value=1, max_value=20))]
        elif action == "insert":
            text[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"!!python/object:os.system ",
                        b"&a ",
                        b"*a",
                        b"\xff",
                        b"1e999",
                        b".nan",
                        b"yes",
                        b"\x00",
                        b"- ",
                        b"  x: 1\n",
                    ]
                )
            )
        else:
            lines = bytes(text).split(b"\n")
            i = pos % max(1, len(lines))
            lines.insert(i, lines[i])
            text = bytearray(b"\n".join(lines))
    return bytes(text)


@FUZZ
@given(raw=_mutated())
def test_fuzz_mutated_profiles(raw: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    _check(raw, capsys)


BOMB = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\ne: [*d, *d]\n"
HOSTILE_PROTOCOLS: dict[str, bytes] = {
    "empty": b"",
    "list": b"- id: x\n",
    "scalar": b"just text\n",
    "two-documents": b"id: a\n---\nid: b\n",
    "alias-bomb": BOMB.encode(),
    "deep": ("x: " + "[" * 200 + "]" * 200 + "\n").encode(),
    "python-tag": b"id: !!python/object/apply:os.system ['echo owned']\n",
    "not-utf8": b"id: \xff\xfe\n",
    "bom": b"\xef\xbb\xbfid: x\n",
    "duplicate-keys": b"id: a\nid: b\n",
    "nan-threshold": (ROOT / "tests" / "fixtures" / "protocols" / "valid" / "mini.yaml")
    .read_bytes()
    .replace(b"value: 140", b"value: .nan"),
    "too-large": b"id: x\n" + b"#" * (5 << 20) + b"\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_PROTOCOLS))
def test_hostile_protocol_files(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "protocols"
    folder.mkdir()
    (folder / "p.yaml").write_bytes(HOSTILE_PROTOCOLS[name])
    start = time.monotonic()
    code, out, err = call(["validate", str(folder)], capsys)
    assert code == 1 and "error [" in out and "Traceback" not in err + out
    code, out, err = call(
        ["assess", str(ROOT / "examples" / "precautions-alcohol.yaml"), "--protocols", str(folder), "--format", "json"],
        capsys,
    )
    assert code == 3 and json.loads(out)["error"]["exit_code"] == 3 and "Traceback" not in err
    assert time.monotonic() - start < 10
    assert not (tmp_path / "owned").exists()


def test_killed_batch_leaves_only_complete_lines(tmp_path: Path) -> None:
    import yaml

    docs = [json.dumps(yaml.safe_load(t), default=str) for t in SEED_TEXTS[:6]]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(random.Random(7).choice(docs) for _ in range(40_000)) + "\n", encoding="utf-8")
    out_path = tmp_path / "out.jsonl"
    with out_path.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kapdecide", "assess", "--batch", str(source), "--jobs", "2"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(2.0)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole process group, workers included
        proc.wait(timeout=30)
    lines = out_path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # the file ends at a line boundary
    written = [json.loads(line) for line in lines[:-1]]
    assert 0 < len(written) < 40_000
    assert all(d["status"] != "error" for d in written)


def test_output_file_is_never_half_written(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("previous report\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", "assess", "-", "--format", "json", "--output", str(target)],
        cwd=ROOT,
        input=b"patient: {age: 400}\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert target.read_text(encoding="utf-8") == "previous report\n"  # a failed run leaves the previous file
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_error_messages_do_not_echo_patient_identifiers(capsys: pytest.CaptureFixture[str]) -> None:
    with tempfile.NamedTemporaryFile(suffix=".yaml", delete=False) as fh:
        fh.write(b"patient: {ref: 987654321}\n")
    try:
        code, out, err = call(["assess", fh.name, "--protocols", MINI, "--format", "json"], capsys)
    finally:
        os.unlink(fh.name)
    assert code == 2 and "patient.ref" in err
    assert "987654321" not in err and "987654321" not in out
