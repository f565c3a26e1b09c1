"""population: a Dask map over JSONL partitions gives the lines of `assess --batch`, byte for byte."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytest.importorskip("dask.bag", reason="the population extra is not installed: pip install 'kapdecide[population]'")
pytest.importorskip("distributed", reason="the population extra is not installed: pip install 'kapdecide[population]'")

import dask

from kapdecide import population
from kapdecide.protocol.loader import default_protocol_dir

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-21"
#: Lines a profile cannot be read from: each must become an error record in place, as in --batch.
BAD = [b"{not json", b"", b'{"patient": "\xff\xfe"}', b"[1, 2]", b'{"id": "crlf"}\r', b"   "]


def _registry(folder: Path) -> list[Path]:
    """Two JSONL files: 240 generated profiles with bad lines among them, then the examples (the last
    line without its LF); read one after another, they are the input of the reference run."""
    gen = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--count", "240"],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    for i, bad in enumerate(BAD):
        gen.insert(7 + 37 * i, bad)
    examples = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        examples.append(json.dumps(data, default=str, ensure_ascii=False).encode("utf-8"))
    first, second = folder / "a.jsonl", folder / "b.jsonl"
    first.write_bytes(b"\n".join(gen) + b"\n")
    second.write_bytes(b"\n".join(examples))  # no LF at the end: the last line is a line all the same
    return [first, second]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], dict[str, bytes], int]:
    """The input files, the `assess --batch` output for each line format, and the number of lines."""
    folder = tmp_path_factory.mktemp("registry")
    files = _registry(folder)
    whole = folder / "whole.jsonl"
    whole.write_bytes(b"".join(f.read_bytes() for f in files))  # a.jsonl ends with LF: the same lines
    expected = {}
    for line in ("full", "compact"):
        proc = subprocess.run(
            [sys.executable, "-m", "kapdecide", "assess", "--batch", str(whole), "--as-of", AS_OF, "--line", line],
            capture_output=True,
            timeout=120,
            check=False,
            cwd=ROOT,
        )
        assert proc.returncode == 2, proc.stderr  # the bad lines are invalid input
        expected[line] = proc.stdout
    count = whole.read_bytes().count(b"\n") + 1
    assert expected["full"].count(b"\n") == count == 240 + len(BAD) + len(list((ROOT / "examples").glob("*.yaml")))
    return [str(f) for f in files], expected, count


def _joined(lines: list[str]) -> bytes:
    return "".join(text + "\n" for text in lines).encode("utf-8")


@pytest.mark.parametrize("line", ["full", "compact"])
def test_the_synchronous_scheduler_gives_the_batch_output(registry, line):
    paths, expected, count = registry
    with dask.config.set(scheduler="sync"):
        # 10 KB blocks: 30-odd partitions, most of them cut mid-file, so numbering crosses partitions
        bag = population.screen(paths, as_of=dt.date.fromisoformat(AS_OF), line=line, blocksize=10_000)
        assert bag.npartitions > 20
        lines = bag.compute()
    assert len(lines) == count
    assert _joined(lines) == expected[line]
    records = [json.loads(text) for text in lines]
    numbers = [r.get("input_line", r.get("line")) for r in records]
    assert numbers == list(range(1, count + 1))
    assert sum(r.get("status") == "error" for r in records) == len(BAD)


def test_a_local_cluster_of_two_worker_processes_gives_the_batch_output(registry, tmp_path):
    distributed = pytest.importorskip("distributed")
    paths, expected, count = registry
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        bag = population.screen(paths, as_of=dt.date.fromisoformat(AS_OF), blocksize=40_000)
        lines = bag.compute()
        assert len(lines) == count
        assert _joined(lines) == expected["full"]

        written = population.write(bag, tmp_path / "out", expected=count)
        # every worker that assessed loaded the protocols once, for the one protocol set
        loaded = client.run(lambda: len(population._LOADED))

        # a worker process killed mid-screening (as a crash of the C engine would): Dask reruns its
        # tasks, and the result is whole and the same, never short
        future = client.compute(bag)
        _kill_a_busy_worker(client)
        assert _joined(future.result()) == expected["full"]
    assert written["lines"] == count and written["invalid"] == len(BAD) and written["errors"] == 0
    parts = sorted((tmp_path / "out").glob("part-*.jsonl"))
    assert len(parts) == bag.npartitions
    assert b"".join(p.read_bytes() for p in parts) == expected["full"]
    manifest = json.loads((tmp_path / "out" / population.MANIFEST).read_text(encoding="utf-8"))
    assert manifest == written
    assert manifest["lines"] == count == sum(p["lines"] for p in manifest["parts"])
    assert set(loaded.values()) <= {0, 1} and 1 in loaded.values()


def _kill_a_busy_worker(client) -> None:
    """SIGKILL the process of a worker that holds a task of the screening."""
    import signal
    import time

    deadline = time.monotonic() + 30
    while not any(client.processing().values()):
        assert time.monotonic() < deadline, "no task started"
        time.sleep(0.01)
    busy = next(address for address, tasks in client.processing().items() if tasks)
    os.kill(client.run(os.getpid, workers=[busy])[busy], signal.SIGKILL)


def test_a_worker_that_dies_more_often_than_dask_retries_fails_the_screening(registry):
    distributed = pytest.importorskip("distributed")
    paths, _, _ = registry
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        future = client.compute(population.screen(paths, as_of=dt.date.fromisoformat(AS_OF)))
        _kill_a_busy_worker(client)
        with pytest.raises(distributed.KilledWorker):
            future.result()


def test_a_partition_that_does_not_give_every_line_fails(registry):
    paths, _, _ = registry
    s = population.settings(as_of=dt.date.fromisoformat(AS_OF))
    block = Path(paths[1]).read_bytes()
    n = population.count_lines(block)
    assert len(population.assess_block(block, 1, n, s)) == n
    with pytest.raises(population.PopulationError, match="were counted"):
        population.assess_block(block, 1, n + 1, s)


def test_workers_refuse_protocols_other_than_those_checked(registry, tmp_path):
    paths, _, _ = registry
    folder = tmp_path / "protocols"
    shutil.copytree(default_protocol_dir(), folder, ignore=shutil.ignore_patterns("tests"))
    with dask.config.set(scheduler="sync"):
        bag = population.screen(paths[1], folder, as_of=dt.date.fromisoformat(AS_OF))
        protocol = next(folder.glob("*.yaml"))
        protocol.write_bytes(protocol.read_bytes() + b"\n# changed after the screening was started\n")
        with pytest.raises(population.PopulationError, match="not those the screening was started with"):
            bag.compute()


def test_write_refuses_a_folder_that_is_not_empty(registry, tmp_path):
    paths, _, _ = registry
    (tmp_path / "old.jsonl").write_text("{}\n", encoding="utf-8")
    with dask.config.set(scheduler="sync"):
        bag = population.screen(paths[1], as_of=dt.date.fromisoformat(AS_OF))
        with pytest.raises(population.PopulationError, match="not empty"):
            population.write(bag, tmp_path)
        with pytest.raises(population.PopulationError, match="output line"):
            population.write(bag, tmp_path / "new", expected=1)
    assert sorted(os.listdir(tmp_path)) == ["new", "old.jsonl"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_blocks_cut_at_line_ends_cover_each_line_once(tmp_path, size):
    data = b'{"a": 1}\n\n{"bb": 22}\r\n' + b"x" * 100 + b"\n{}"
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    from dask.bytes import read_bytes

    _, (blocks,) = read_bytes(str(path), delimiter=b"\n", blocksize=size)
    got = dask.compute(*blocks, scheduler="sync")
    assert b"".join(got) == data
    assert sum(population.count_lines(b) for b in got) == 5


def test_the_screen_command_writes_the_batch_output_in_parts(registry, tmp_path):
    paths, expected, count = registry
    out = tmp_path / "screened"
    cmd = [sys.executable, "-m", "kapdecide", "screen", *paths, "--scheduler", "sync", "--as-of", AS_OF]
    done = subprocess.run([*cmd, "--blocksize", "50000", "--output", str(out)], capture_output=True, timeout=120)
    assert done.returncode == 2, done.stderr  # the bad lines are invalid input, as with --batch
    parts = sorted(out.glob("part-*.jsonl"))
    assert len(parts) > 3
    assert b"".join(p.read_bytes() for p in parts) == expected["full"]
    summary = f"screen: {count} line(s) in {len(parts)} part(s) in {out}: {len(BAD)} invalid, 0 internal error(s)\n"
    assert done.stderr.decode("utf-8") == summary
    again = subprocess.run([*cmd, "--output", str(out)], capture_output=True, timeout=120)
    assert again.returncode == 2 and b"is not empty" in again.stderr


def test_a_path_that_names_no_file_is_invalid_input(tmp_path):
    from kapdecide.core.errors import InvalidInputError

    with dask.config.set(scheduler="sync"), pytest.raises(InvalidInputError, match="cannot read"):
        population.screen([str(tmp_path / "none-*.jsonl")])
