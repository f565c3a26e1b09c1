"""Where a cold `kapdecide assess PROFILE --format json` spends its time, and the floor under it.

    python benchmarks/cold_path.py [--runs 15]

Prints two tables (medians over new processes, protocol cache warm, bytecode written):
1. each step of the cold JSON path, timed inside the process, as the CLI runs it;
2. the import floor: what importing the dependencies alone costs, with and without pydantic's
   model machinery, against the bare import the target is measured by.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "examples" / "precautions-alcohol.yaml"
BARE = "import click, pydantic, yaml, rich, durable.lang"

# The CLI's JSON path, step by step (cli.assess with --format json), with a clock after each step.
STEPS = f"""
import time, json, sys, os
t = [time.perf_counter()]
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
import click, yaml
t.append(time.perf_counter())
from pydantic import BaseModel
t.append(time.perf_counter())
from kapdecide.inputs.profile import validate_profile_data
t.append(time.perf_counter())
from kapdecide.assessment.assess import assess, compile_protocol
from kapdecide.protocol.loader import default_protocol_dir, load_protocols
from kapdecide.protocol.cache import default_cache
from kapdecide.render.json import dumps
from kapdecide.inputs.yaml_source import decode, load
t.append(time.perf_counter())
loaded = load_protocols([default_protocol_dir()], default_cache())
t.append(time.perf_counter())
compile_protocol(loaded[0])
t.append(time.perf_counter())
raw = open({str(PROFILE)!r}, "rb").read()
data, smap = load(decode(raw, "p", 1 << 20), "p")
profile = validate_profile_data(data, smap)
t.append(time.perf_counter())
report = assess(profile, loaded, profile.assessed_on)
t.append(time.perf_counter())
text = dumps(report)
t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
STEP_NAMES = [
    "import click, yaml",
    "import pydantic's model machinery (BaseModel)",
    "build the profile models (kapdecide.inputs.profile)",
    "import the assessment (conditions, facts, engine adapter, protocol models)",
    "load the protocol from the cache (and validate it into the protocol model)",
    "compile it (DNF, 4 engine rulesets, evaluator closures)",
    "read and validate the profile",
    "assess (facts, evaluator, engine, report data)",
    "write the JSON report",
]
FLOOR = [
    ("`python -c pass`", "pass"),
    ("`import click, yaml`", "import click, yaml"),
    ("`import click, yaml, pydantic_core`", "import click, yaml, pydantic_core"),
    ("`import click, yaml; from pydantic import BaseModel`", "import click, yaml; from pydantic import BaseModel"),
    (
        "same + the profile models (`import kapdecide.inputs.profile`)",
        "import click, yaml; import kapdecide.inputs.profile",
    ),
    ("**bare import** `import click, pydantic, yaml, rich, durable.lang`", BARE),
]


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(KAPDECIDE_CACHE_DIR=str(cache), PYDANTIC_DISABLE_PLUGINS="__all__")
    return env


def _wall(code: str, env: dict[str, str], runs: int) -> float:
    import time

    times = []
    for i in range(runs + 2):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, stdout=subprocess.DEVNULL)
        if i >= 2:  # two warm-up runs
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kapdecide-cold-") as tmp:
        env = _env(Path(tmp))
        samples = []
        for i in range(args.runs + 2):
            out = subprocess.run([sys.executable, "-c", STEPS], env=env, check=True, capture_output=True, text=True)
            if i >= 2:
                samples.append(json.loads(out.stdout))
        steps = [statistics.median(s[k] for s in samples) for k in range(len(STEP_NAMES))]
        print("| Step of the cold JSON path | ms | cumulative ms |\n|---|---|---|")
        total = 0.0
        for name, secs in zip(STEP_NAMES, steps, strict=True):
            total += secs
            print(f"| {name} | {secs * 1000:.1f} | {total * 1000:.0f} |")
        print("\n(plus the interpreter's own start, the `python -c pass` row below)\n")
        print("| Import floor (new process, median) | ms |\n|---|---|")
        for label, code in FLOOR:
            print(f"| {label} | {_wall(code, env, args.runs) * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
