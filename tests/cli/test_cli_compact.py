"""`assess --batch --line compact` and `protocol-info`: the compact lines, expanded with the header
that protocol-info prints, are exactly the lines `--line full` writes (real subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from helpers import ROOT, run

from kapdecide.assessment.compact import expand


def _jsonl() -> bytes:
    lines = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        lines.append(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))
    return ("\n".join([*lines, "{not json"]) + "\n").encode()


def test_compact_lines_expand_to_the_full_lines(tmp_path: Path) -> None:
    data = _jsonl()
    full = run("assess", "--batch", "-", "--as-of", "2026-11-21", stdin=data)
    short = run("assess", "--batch", "-", "--as-of", "2026-11-21", "--line", "compact", "--jobs", "2", stdin=data)
    head = run("protocol-info", "--format", "json")
    assert full.returncode == short.returncode == 2  # the bad last line, in both
    header = json.loads(head.stdout)
    full_lines, short_lines = full.stdout.splitlines(), short.stdout.splitlines()
    assert len(full_lines) == len(short_lines) == 16
    for f, s in zip(full_lines[:-1], short_lines[:-1], strict=True):
        expanded = expand(json.loads(s), header)
        assert json.dumps(expanded, ensure_ascii=False, separators=(",", ":")) == f
    assert full_lines[-1] == short_lines[-1]  # an error record is the same in both
    assert sum(map(len, short_lines)) * 4 < sum(map(len, full_lines))


def test_line_compact_is_for_batch_only() -> None:
    proc = run("assess", "examples/eligible-cocaine.yaml", "--line", "compact")
    assert proc.returncode == 2 and "--line compact is for --batch" in proc.stderr


def test_protocol_info_text_names_each_protocol_and_the_header() -> None:
    proc = run("protocol-info")
    assert proc.returncode == 0
    assert "kap_sud 1.2.0" in proc.stdout and "protocols/kap-sud.yaml" in proc.stdout
    assert "compact-line header " in proc.stdout
