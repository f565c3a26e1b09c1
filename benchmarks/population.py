"""Population-scale throughput: ``kapdecide.population`` on a local Dask cluster of 1 and 2 workers.

    python benchmarks/population.py                  # 20,000 profiles (about 2 minutes on 2 cores)
    python benchmarks/population.py --count 100000
    python benchmarks/population.py --smoke          # seconds: checks the script works (no timing meant)

Needs the population extra (``pip install -e '.[population]'``, included in ``.[bench]``). For each
worker count it starts a ``distributed.LocalCluster`` of that many worker processes (one thread
each, on 127.0.0.1), loads the protocols on every worker, then times ``screen()`` (the line-counting
pass) and ``write()`` of every output part to a temporary folder: profiles per second of the whole
screening, start-up of the cluster left out. For reference it also times ``kapdecide assess --batch
--jobs 1`` on the same file, and checks that both give the same bytes. Every figure is from one run:
on a shared machine compare the ratios, which hold better than the absolute rates.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 21)


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"kapdecide_bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _sha256(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def _line(line: str) -> Literal["full", "compact"]:
    return "compact" if line == "compact" else "full"


def _screen(path: Path, out: Path, workers: int, line: str, count: int) -> float:
    """Seconds to screen ``path`` into ``out`` on a fresh local cluster of ``workers`` processes."""
    import distributed

    from kapdecide import population

    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(workers)
        settings = population.settings(as_of=AS_OF, line=_line(line))
        client.run(population._protocols, settings)  # each worker loads and compiles them once, beforehand
        start = time.perf_counter()
        bag = population.screen(str(path), as_of=AS_OF, line=_line(line))
        written = population.write(bag, out, expected=count)
        elapsed = time.perf_counter() - start
    assert written["lines"] == count
    return elapsed


def _batch(path: Path, out: Path, line: str) -> float:
    cmd = [sys.executable, "-m", "kapdecide", "assess", "--batch", str(path), "--as-of", AS_OF.isoformat()]
    start = time.perf_counter()
    done = subprocess.run([*cmd, "--jobs", "1", "--line", line, "--output", str(out)], capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"assess --batch failed (exit {done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def measure(count: int, line: str, work: Path) -> dict[str, Any]:
    """Every figure of one run, with the machine it ran on."""
    gen = _module("generate")
    machine = _module("run")._machine()
    path = work / "profiles.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        gen.write_jsonl(gen.generate(count), f)
    batch_out = work / "batch.jsonl"
    batch = _batch(path, batch_out, line)
    reference = _sha256([batch_out])
    batch_out.unlink()
    rates: dict[int, float] = {}
    for workers in (1, 2):
        out = work / f"out-{workers}"
        seconds = _screen(path, out, workers, line, count)
        if _sha256(sorted(out.glob("part-*.jsonl"))) != reference:
            sys.exit(f"the screening with {workers} worker(s) did not give the bytes of assess --batch")
        shutil.rmtree(out)
        rates[workers] = count / seconds
    per_core = rates[2] / 2
    return {
        "machine": machine,
        "count": count,
        "line": line,
        "batch_jobs1_per_s": count / batch,
        "workers_per_s": rates,
        "scaling_2_over_1": rates[2] / rates[1],
        "one_worker_over_batch": rates[1] / (count / batch),
        "per_core_per_s": per_core,
        "million_on_16_cores_min": 1_000_000 / (16 * per_core) / 60,
    }


def table(r: dict[str, Any]) -> str:
    """The result as the Markdown kept in benchmarks/README.md."""
    m = r["machine"]
    rate1, rate2 = r["workers_per_s"][1], r["workers_per_s"][2]
    lines = [
        f"Measured {m['date']} on {m['machine']}; Python {m['python']}; kapdecide {m['kapdecide']}.",
        f"Command: `python benchmarks/population.py --count {r['count']} --line {r['line']}` (one run).",
        "",
        "| Measure | Result | Ratio |",
        "|---|---|---|",
        f"| `kapdecide assess --batch --jobs 1` (reference) | {r['batch_jobs1_per_s']:,.0f} profiles/s | 1.00 |",
        f"| population, local cluster, 1 worker | {rate1:,.0f} profiles/s | "
        f"{r['one_worker_over_batch']:.2f}x batch `--jobs 1` |",
        f"| population, local cluster, 2 workers | {rate2:,.0f} profiles/s | {r['scaling_2_over_1']:.2f}x 1 worker |",
        f"| per-core rate (2 workers / 2) | {r['per_core_per_s']:,.0f} profiles/s |  |",
        f"| sizing: 1,000,000 profiles on 16 cores | about {r['million_on_16_cores_min']:.0f} min |  |",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20_000, help="generated profiles (default 20,000)")
    parser.add_argument("--line", choices=["full", "compact"], default="full")
    parser.add_argument("--smoke", action="store_true", help="300 profiles: checks the script, measures nothing")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of the table")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kapdecide-population-") as tmp:
        result = measure(300 if args.smoke else args.count, args.line, Path(tmp))
    print(json.dumps(result, indent=1) if args.json else table(result), end="" if not args.json else "\n")


if __name__ == "__main__":
    main()
