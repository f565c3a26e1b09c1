"""The EHR integrator's contract through real subprocesses: FHIR in, CDS Hooks out, batch, streams."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []
CDS_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "cds-hooks-response.schema.json").read_text(encoding="utf-8"))
REPORT_SCHEMA = json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8"))
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def run(
    *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[bytes]:
    base = {**os.environ, "NO_COLOR": "1"}
    base.pop("FORCE_COLOR", None)
    if env is not None and "XDG_CACHE_HOME" in env:
        if "KAPDECIDE_CACHE_DIR" not in env:
            base.pop("KAPDECIDE_CACHE_DIR", None)  # let the default cache location apply
    return subprocess.run(
        [sys.executable, "-m", "kapdecide", *args],
        cwd=cwd,
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def validate_report(doc: dict[str, object]) -> None:
    jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(doc)


# ---------------------------------------------------------------- FHIR in


def _bundle(*resources: dict[str, object]) -> bytes:
    patient = {"resourceType": "Patient", "id": "p1", "birthDate": "1980-01-01", "gender": "male"}
    entries = [{"fullUrl": "urn:uuid:p1", "resource": patient}]
    entries += [{"fullUrl": f"urn:uuid:r{i}", "resource": r} for i, r in enumerate(resources)]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries}).encode()


AVM = {
    "resourceType": "Condition",
    "id": "avm1",
    "subject": {"reference": "Patient/p1"},
    "clinicalStatus": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
    },
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Q28.2"}]},
}


def test_fhir_bundle_is_detected_and_findings_name_their_resources() -> None:
    proc = run("assess", "-", "--format", "json", "--as-of", "2026-11-21", stdin=_bundle(AVM))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    validate_report(doc)
    assert doc["input_source"]["format"] == "fhir-r4" and doc["input_source"]["patient_id"] == "p1"
    (avm,) = [f for f in doc["findings"] if f["rule_id"] == "arteriovenous_malformation"]
    assert avm["sources"] == ["Condition/avm1"]
    assert doc["status"] == "contraindicated"


def test_fhir_what_the_bundle_does_not_say_stays_unknown() -> None:
    proc = run("assess", "-", "--format", "json", "--as-of", "2026-11-21", stdin=_bundle())
    doc = json.loads(proc.stdout)
    assert doc["status"] == "incomplete"
    assert "psychiatric.psychotic_disorder" in doc["missing_data"]
    assert not [o for o in doc["options"] if o["state"] == "offered"]


def test_input_format_fhir_rejects_a_profile() -> None:
    proc = run("assess", "examples/precautions-alcohol.json", "--input-format", "fhir")
    assert proc.returncode == 2 and b"not a FHIR R4 Bundle" in proc.stderr


def test_import_fhir_prints_a_profile_that_assesses(tmp_path: Path) -> None:
    proc = run("import-fhir", "-", "--as-of", "2026-11-21", stdin=_bundle(AVM))
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert text.startswith("# kapdecide profile mapped from FHIR R4 Bundle")
    profile = tmp_path / "p.yaml"
    profile.write_text(text, encoding="utf-8")
    again = run("assess", str(profile), "--format", "json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "contraindicated"


@pytest.mark.skipif(not SAMPLE_FILES, reason="../shared/fhir-samples is not present")
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_every_sample_bundle_is_assessed(sample: Path) -> None:
    proc = run("assess", str(sample), "--format", "json", "--as-of", "2026-11-21")
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    doc = json.loads(proc.stdout)
    validate_report(doc)
    assert doc["input_source"]["resources_read"] >= 1


# ---------------------------------------------------------------- CDS Hooks out


@pytest.mark.parametrize("example", EXAMPLES[:6], ids=[p.stem for p in EXAMPLES[:6]])
def test_cds_hooks_output_validates(example: Path) -> None:
    proc = run("assess", str(example), "--format", "cds-hooks")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(CDS_SCHEMA).validate(doc)
    assert doc["cards"][0]["indicator"] in ("info", "warning", "critical")


def test_cds_hooks_error_is_one_json_document() -> None:
    proc = run("assess", "-", "--format", "cds-hooks", stdin=b"patient: {age: 400}\n")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["status"] == "error"


# ---------------------------------------------------------------- batch


def _lines(n: int) -> list[str]:
    import yaml

    docs = [json.dumps(yaml.safe_load(p.read_text(encoding="utf-8")), default=str) for p in EXAMPLES]
    return [docs[i % len(docs)] for i in range(n)]


def test_batch_keeps_order_and_turns_bad_lines_into_error_records(tmp_path: Path) -> None:
    lines = _lines(150)
    lines[10] = '{"patient": {"age": 400}}'
    lines[70] = "{not json"
    lines[71] = ""
    lines[100] = _bundle(AVM).decode()
    proc = run("assess", "--batch", "-", "--jobs", "2", stdin=("\n".join(lines) + "\n").encode())
    assert proc.returncode == 2, proc.stderr
    out = proc.stdout.decode().splitlines()
    assert len(out) == 150
    for i, text in enumerate(out, 1):
        doc = json.loads(text)
        if i in (11, 71, 72):
            assert doc["status"] == "error" and doc["line"] == i and doc["error"]["exit_code"] == 2
        else:
            validate_report(doc)
    assert json.loads(out[100])["input_source"]["format"] == "fhir-r4"
    assert re.search(rb"150 line\(s\): 147 assessed \([^)]+\), 3 invalid \(lines 11, 71, 72\)", proc.stderr)


def test_batch_output_is_the_same_for_any_number_of_jobs() -> None:
    data = ("\n".join(_lines(200)) + "\n").encode()
    one = run("assess", "--batch", "-", "--jobs", "1", stdin=data)
    two = run("assess", "--batch", "-", "--jobs", "2", stdin=data)
    assert one.returncode == two.returncode == 0
    assert one.stdout == two.stdout


CRASH_ON_MARKER = (
    "import os, kapdecide.batch as b\n"
    "real = b.assess_line\n"
    "def crashing(line, text, *a):\n"
    "    if 'CRASH' in (text.decode() if isinstance(text, bytes) else text):\n"
    "        os._exit(70)\n"
    "    return real(line, text, *a)\n"
    "b.assess_line = crashing\n"
)


def test_a_dead_worker_is_replaced_and_its_lines_become_error_records() -> None:
    lines = _lines(300)
    lines[130] = lines[130].replace('"assessed_on"', '"CRASH": 1, "assessed_on"')
    code = f"import sys\n{CRASH_ON_MARKER}from kapdecide.cli import main\nmain(sys.argv[1:])\n"
    proc = subprocess.run(
        [sys.executable, "-c", code, "assess", "--batch", "-", "--jobs", "2"],
        cwd=ROOT,
        input=("\n".join(lines) + "\n").encode(),
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    out = proc.stdout.decode().splitlines()
    assert len(out) == 300  # nothing lost, nothing skipped
    died = [json.loads(t) for t in out if '"worker-died"' in t]
    assert 1 <= len(died) <= 64 and any(d["line"] == 131 for d in died)
    assert all(json.loads(t).get("status") != "error" for t in out if '"worker-died"' not in t)
    assert proc.returncode == 4  # lines were not assessed: an internal error, reported per line
    assert b"Traceback" not in proc.stderr


def test_batch_output_file_is_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    proc = run("assess", "--batch", "-", "--output", str(target), stdin=("\n".join(_lines(20)) + "\n").encode())
    assert proc.returncode == 0 and proc.stdout == b""
    assert len(target.read_text(encoding="utf-8").splitlines()) == 20
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


# ---------------------------------------------------------------- streams, signals, network, files


def test_no_colour_when_not_a_terminal() -> None:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", "assess", "examples/deferred-bp-alcohol.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and b"\x1b[" not in proc.stdout


def test_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_lines(400)) + "\n", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kapdecide", "assess", "--batch", str(source)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    proc.wait(timeout=60)
    err = proc.stderr.read()
    proc.stderr.close()
    assert b"Traceback" not in err and b"BrokenPipe" not in err
    assert proc.returncode == 0  # the reader going away is not a failure (click's own answer is 1)


def test_ctrl_c_exits_130_without_traceback(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(_lines(30000)) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    with out.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kapdecide", "assess", "--batch", str(source)],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
            # as from a terminal: Ctrl-C has its default meaning whatever the test runner's handler is
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        assert proc.stderr is not None
        deadline = time.monotonic() + 30
        while out.stat().st_size == 0 and time.monotonic() < deadline:  # wait for the first report
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err


NO_NETWORK = (
    "import socket\n"
    "def refuse(*a, **k):\n    raise OSError('network access attempted')\n"
    "socket.socket.connect = refuse\nsocket.create_connection = refuse\nsocket.getaddrinfo = refuse\n"
)


def test_no_network_access() -> None:
    code = f"import sys\n{NO_NETWORK}from kapdecide.cli import main\nmain(sys.argv[1:])\n"
    for args in (["assess", "examples/deferred-bp-alcohol.yaml", "--format", "cds-hooks"], ["validate"]):
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert proc.returncode == 0, proc.stderr
    assert socket.socket.connect is not None  # the patch lived only in the child


def test_no_files_written_except_output(tmp_path: Path) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    env = {
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "XDG_CACHE_HOME": str(tmp_path / "c"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    (tmp_path / "tmp").mkdir()
    example = str(ROOT / "examples" / "deferred-bp-alcohol.yaml")
    assert run("assess", example, cwd=work, env=env).returncode == 0
    assert run("assess", example, "--format", "json", "--output", "r.json", cwd=work, env=env).returncode == 0
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    # the one other file is the protocol cache entry, in the documented cache folder
    assert len(found) == 2 and found[1] == "cwd/r.json", found
    assert found[0].startswith("c/kapdecide/protocol-") and found[0].endswith(".json"), found


def test_cache_off_writes_nothing_but_output(tmp_path: Path) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    env = {"HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": str(tmp_path / "c"), "PYTHONDONTWRITEBYTECODE": "1"}
    example = str(ROOT / "examples" / "deferred-bp-alcohol.yaml")
    done = run(
        "assess", example, "--format", "json", "--output", "r.json", cwd=work, env={**env, "KAPDECIDE_CACHE_DIR": "off"}
    )
    assert done.returncode == 0
    found = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert found == ["cwd/r.json"]


def test_batch_lines_are_framed_on_lf_only_and_carry_their_input_line(tmp_path: Path) -> None:
    """Issue 13 items 4 and 9: a lone CR (JSON whitespace) split a line in two and paired every later
    report with the wrong patient; a bad byte stopped the batch (stdin) or became U+FFFD (file)."""
    data = (
        b'{"assessed_on": "2026-11-21",\r "patient": {"ref": "A"}}\n'
        b'{"assessed_on": "2026-11-21", "patient": {"ref": "B\xff"}}\n'
        b'{"assessed_on": "2026-11-21", "patient": {"ref": "C"}}\r\n'
    )
    source = tmp_path / "in.jsonl"
    source.write_bytes(data)
    for args, stdin in ((["assess", "--batch", str(source)], None), (["assess", "--batch", "-"], data)):
        proc = subprocess.run(
            [sys.executable, "-m", "kapdecide", *args], cwd=ROOT, input=stdin, capture_output=True, timeout=60
        )
        out = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
        assert [(o.get("input_line", o.get("line")), o.get("patient_ref")) for o in out] == [
            (1, "A"),
            (2, None),
            (3, "C"),
        ]
        assert out[1]["status"] == "error" and out[1]["error"]["code"] == "not-utf8"
        assert proc.returncode == 2  # one line was invalid; the batch went on


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_workers_die_with_the_parent_and_sigterm_cleans_up(tmp_path: Path, sig: signal.Signals) -> None:
    """Issue 13 item 10: workers never exited after the parent was killed, and a hidden temporary
    file of patient reports stayed beside --output."""
    source = tmp_path / "in.jsonl"
    source.write_text("\\n".join(_lines(30000)) + "\\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kapdecide", "assess", "--batch", str(source), "--jobs", "2", "--output", str(out)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 30
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) == 2
    while not list(tmp_path.glob(".out.jsonl.*")) and time.monotonic() < deadline:
        time.sleep(0.05)  # the batch is writing
    proc.send_signal(sig)
    proc.wait(timeout=60)
    err = proc.stderr.read()
    proc.stderr.close()
    end = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers), "a worker outlived its parent"
    if sig == signal.SIGTERM:
        assert proc.returncode == 130, err
        assert b"Traceback" not in err
        assert not list(tmp_path.glob(".out.jsonl.*"))  # the temporary file of reports is removed
        assert not out.exists()


def test_an_over_long_batch_line_is_an_error_record_and_never_read_whole(tmp_path: Path) -> None:
    """Issue 13 item 12: a 200 MB line was read whole (655 MB of memory) before the size check."""
    import kapdecide.batch as batch

    source = tmp_path / "in.jsonl"
    with source.open("wb") as fh:
        fh.write(b'{"assessed_on": "2026-11-21"}\n')
        fh.write(b'{"x": "' + b"a" * (batch.MAX_LINE_BYTES + 10) + b'"}\n')
        fh.write(b'{"assessed_on": "2026-11-21"}\n')
    with source.open("rb") as fh:
        lines = list(batch.StreamLines(fh))
    assert len(lines[0]) == 30 and len(lines) == 3
    assert len(lines[1]) == batch.MAX_LINE_BYTES + 1  # never more than the limit + 1 in memory
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide", "assess", "--batch", str(source)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert [o.get("input_line", o.get("line")) for o in out] == [1, 2, 3]
    assert out[1]["error"]["code"] == "too-large"


def _read_line_within(stream: object, seconds: float) -> bytes | None:
    import select

    fd = stream.fileno()  # type: ignore[attr-defined]
    end = time.monotonic() + seconds
    got = b""
    while not got.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return None
        got += chunk
    return got


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_slow_producer_gets_each_report_soon_after_its_line(jobs: str) -> None:
    """Issue 13 item 14: on a pipe, no report appeared until 64 lines had arrived."""
    with subprocess.Popen(
        [sys.executable, "-m", "kapdecide", "assess", "--batch", "-", "--jobs", jobs],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for n, line in enumerate(_lines(3), 1):
            proc.stdin.write(line.encode() + b"\n")
            proc.stdin.flush()
            # the producer keeps the pipe open: the report must come without more input
            out = _read_line_within(proc.stdout, 60)
            assert out is not None, f"no report for line {n} while the producer waits"
            assert json.loads(out)["input_line"] == n
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        assert proc.stdout.read() == b""
