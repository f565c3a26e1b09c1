"""The performance harness: cold start, validate, batch throughput and batch memory, in one run.

    python benchmarks/run.py            # the full run (about 15 minutes on 2 cores)
    python benchmarks/run.py --smoke    # seconds: checks the harness works (CI runs it; no timing asserted)
    python benchmarks/run.py --readme   # also writes the table into benchmarks/README.md

Every figure is the median of repeated runs of a new process, as an EHR integration starts one.
Child processes run with bytecode writing on (as an installed program does: pip compiles on
install) and with a protocol cache of their own, filled by the warm-up runs; the first run with an
empty cache is reported apart.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "examples" / "precautions-alcohol.yaml"
PROTOCOLS = ROOT / "protocols"
BARE_IMPORT = "import click, pydantic, yaml, rich, durable.lang"
#: Peak RSS of the largest process in the tree (kapdecide or a worker), read after it ends.
RSS_PROBE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


@dataclass(frozen=True)
class Settings:
    runs: int
    batch_count: int
    rss_small: int
    rss_large: int
    seed: int


FULL = Settings(runs=21, batch_count=100_000, rss_small=10_000, rss_large=1_000_000, seed=20261121)
SMOKE = Settings(runs=2, batch_count=300, rss_small=100, rss_large=400, seed=20261121)


def _generator() -> ModuleType:
    return _module("generate")


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"kapdecide_bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _kapdecide() -> list[str]:
    script = Path(sys.executable).with_name("kapdecide")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kapdecide"]


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["KAPDECIDE_CACHE_DIR"] = str(cache)
    env["NO_COLOR"] = "1"
    return env


def _run(cmd: Sequence[str], env: dict[str, str], stdin: Path | None = None) -> float:
    """Wall time of one run; a failing command stops the harness (a broken figure is no figure)."""
    with open(stdin or os.devnull, "rb") as source:
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdin=source, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"benchmark command failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return elapsed


def _median(cmd: Sequence[str], env: dict[str, str], runs: int) -> float:
    for _ in range(2):  # warm-up: bytecode written, protocol cache filled, files in the page cache
        _run(cmd, env)
    return statistics.median(_run(cmd, env) for _ in range(runs))


def _peak_rss_mib(cmd: Sequence[str], env: dict[str, str], feed: list[str] | None = None) -> float:
    probe = [sys.executable, "-c", RSS_PROBE, *cmd]
    if feed is None:
        out = subprocess.run(probe, env=env, capture_output=True, text=True, check=True).stdout
    else:
        producer = subprocess.Popen(feed, env=env, stdout=subprocess.PIPE)
        out = subprocess.run(probe, env=env, stdin=producer.stdout, capture_output=True, text=True, check=True).stdout
        assert producer.stdout is not None
        producer.stdout.close()
        producer.wait()
    code, kib = out.split()
    if code != "0":
        sys.exit(f"benchmark command failed (exit {code}): {' '.join(cmd)}")
    return int(kib) / 1024


def _stream_latency(cmd: Sequence[str], env: dict[str, str], lines: list[str]) -> float:
    """Median time from writing one line to reading its report, with the pipe held open between lines
    (a slow producer); the first line, which includes start-up, is left out."""
    times = []
    with subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for line in lines:
            start = time.perf_counter()
            proc.stdin.write(line.encode("utf-8") + b"\n")
            proc.stdin.flush()
            if not proc.stdout.readline():
                sys.exit(f"benchmark command ended early: {' '.join(cmd)}")
            times.append(time.perf_counter() - start)
        proc.stdin.close()
        if proc.wait() not in (0, 2):
            sys.exit(f"benchmark command failed (exit {proc.returncode}): {' '.join(cmd)}")
    return statistics.median(times[1:])


def _machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    version = subprocess.run([*_kapdecide(), "--version"], capture_output=True, text=True).stdout.split()[-1]
    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "kapdecide": f"{version} (commit {commit.strip() or 'unknown'})",
    }


def measure(settings: Settings, work: Path) -> tuple[dict[str, str], list[tuple[str, str, str, str]]]:
    """Run every measurement; return machine facts and table rows (measure, figure, target, met)."""
    gen = _generator()
    cache = work / "cache"
    env = _env(cache)
    kd = _kapdecide()
    py = sys.executable
    rows: list[tuple[str, str, str, str]] = []

    first = _run([*kd, "assess", str(PROFILE), "--format", "json"], env)  # empty protocol cache
    bare_pass = _median([py, "-c", "pass"], env, settings.runs)
    bare_import = _median([py, "-c", BARE_IMPORT], env, settings.runs)
    assess = _median([*kd, "assess", str(PROFILE), "--format", "json"], env, settings.runs)
    validate = _median([*kd, "validate", str(PROTOCOLS)], env, settings.runs)
    rows += [
        ("`python -c pass`", f"{bare_pass * 1000:.0f} ms", "", ""),
        (f'`python -c "{BARE_IMPORT}"` (bare import)', f"{bare_import * 1000:.0f} ms", "", ""),
        (
            "cold `kapdecide assess PROFILE --format json`",
            f"{assess * 1000:.0f} ms = {assess / bare_import:.2f}x bare import ({assess / bare_pass:.1f}x `pass`)",
            "<= 1.0x bare import",
            _met(assess <= bare_import),
        ),
        ("  same, first run with an empty protocol cache", f"{first * 1000:.0f} ms", "", ""),
        (
            "cold `kapdecide validate protocols/`",
            f"{validate * 1000:.0f} ms = {validate / bare_import:.2f}x bare import",
            "<= 1.0x bare import",
            _met(validate <= bare_import),
        ),
    ]

    largest = work / "largest.yaml"
    largest.write_text(_module("large_protocol").build(), encoding="utf-8")
    big_runs = 3 if settings is FULL else 1
    big = statistics.median(_run([*kd, "validate", str(largest)], env) for _ in range(big_runs))
    rows.append(
        (
            f"cold `kapdecide validate` of the largest protocol accepted ({largest.stat().st_size / 2**20:.1f} MiB, "
            "2,000 engine rules, no rule shadowing another)",
            f"{big:.2f} s",
            "<= 5 s",
            _met(big <= 5),
        )
    )

    batch_file = work / "batch.jsonl"
    with batch_file.open("w", encoding="utf-8") as out:
        gen.write_jsonl(gen.generate(settings.batch_count, settings.seed), out)
    rates = {}
    batch_runs = 3 if settings is FULL else 1  # each run is itself an aggregate over the whole batch
    for jobs, line in ((1, "full"), (2, "full"), (1, "compact")):
        cmd = [*kd, "assess", "--batch", str(batch_file), "--jobs", str(jobs), "--line", line]
        seconds = statistics.median(_run(cmd, env) for _ in range(batch_runs))
        rates[jobs if line == "full" else -jobs] = settings.batch_count / seconds
    rows += [
        (
            f"batch, {settings.batch_count:,} profiles, `--jobs 1` (full lines)",
            f"{rates[1]:,.0f} profiles/s",
            ">= 1,300 profiles/s",
            _met(rates[1] >= 1300),
        ),
        (
            f"batch, {settings.batch_count:,} profiles, `--jobs 1 --line compact`",
            f"{rates[-1]:,.0f} profiles/s = {rates[-1] / rates[1]:.2f}x full lines",
            ">= 2,000 profiles/s",
            _met(rates[-1] >= 2000),
        ),
        (
            f"batch, {settings.batch_count:,} profiles, `--jobs 2`",
            f"{rates[2]:,.0f} profiles/s = {rates[2] / rates[1]:.2f}x `--jobs 1`",
            ">= 1.8x `--jobs 1`",
            _met(rates[2] >= 1.8 * rates[1]),
        ),
    ]

    lines = batch_file.read_text(encoding="utf-8").splitlines()[: 21 if settings is FULL else 4]
    latency = _stream_latency([*kd, "assess", "--batch", "-", "--jobs", "2"], env, lines)
    rows.append(
        (
            "batch on a pipe, one line at a time: from a line written to its report read (`--jobs 2`)",
            f"{latency * 1000:.0f} ms",
            "<= 100 ms",
            _met(latency <= 0.1),
        )
    )

    feed = [py, str(Path(__file__).with_name("generate.py")), "--seed", str(settings.seed), "--count"]
    rss = {}
    for count in (settings.rss_small, settings.rss_large):
        rss[count] = _peak_rss_mib([*kd, "assess", "--batch", "-", "--jobs", "2"], env, [*feed, str(count)])
    rows += [
        (f"peak RSS, batch of {settings.rss_small:,} (`--jobs 2`)", f"{rss[settings.rss_small]:.1f} MiB", "", ""),
        (
            f"peak RSS, batch of {settings.rss_large:,} (`--jobs 2`)",
            f"{rss[settings.rss_large]:.1f} MiB (+{rss[settings.rss_large] - rss[settings.rss_small]:.1f} MiB)",
            f"<= RSS({settings.rss_small:,}) + 10 MiB",
            _met(rss[settings.rss_large] <= rss[settings.rss_small] + 10),
        ),
    ]
    return _machine(), rows


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(machine: dict[str, str], rows: list[tuple[str, str, str, str]], command: str) -> str:
    lines = [
        f"Measured {machine['date']} on {machine['machine']}; Python {machine['python']}; "
        f"kapdecide {machine['kapdecide']}.",
        f"Command: `{command}`",
        "",
        "| Measure | Result (median) | Target | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {m} | {r} | {t} | {ok} |" for m, r, t, ok in rows]
    return "\n".join(lines) + "\n"


def write_readme(table: str) -> None:
    readme = Path(__file__).with_name("README.md")
    text = readme.read_text(encoding="utf-8")
    new, n = re.subn(
        r"(<!-- results:start -->\n).*?(<!-- results:end -->)",
        lambda m: m.group(1) + table + m.group(2),
        text,
        count=1,
        flags=re.S,
    )
    if n != 1:
        sys.exit("benchmarks/README.md has no <!-- results:start --> ... <!-- results:end --> block")
    readme.write_text(new, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and 2 runs: checks the harness, not speed")
    parser.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args(argv)
    settings = SMOKE if args.smoke else FULL
    work = Path(tempfile.mkdtemp(prefix="kapdecide-bench-"))
    try:
        machine, rows = measure(settings, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    command = "python benchmarks/run.py" + (" --smoke" if args.smoke else "")
    if args.json:
        print(json.dumps({"machine": machine, "rows": rows}, indent=2))
    else:
        table = render(machine, rows, command)
        print(table)
        if args.readme:
            write_readme(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
