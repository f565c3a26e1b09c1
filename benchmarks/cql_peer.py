"""Side by side with a CQL engine peer: the same FHIR R4 Bundles through kapdecide and through
cql-execution 3.3 + cql-exec-fhir 2.2 running the AHRQ CDS Connect Pain Management Summary logic.

    python benchmarks/cql_peer.py --elm PATH/TO/src/cql          # a checkout of the AHRQ repository
    python benchmarks/cql_peer.py --elm-url URL                   # downloaded at run time (URL of src/cql)

Optional, and never part of CI: it needs node and npm (it installs the two npm packages into a
temporary folder) and the Pain Management Summary ELM JSON, which is not in this repository (it is
AHRQ's): ``r4/FactorsToConsiderInManagingChronicPainFHIRv401.json``, ``r4/CDSConnectCommonsForFHIRv401.json``,
``r4/FHIRHelpers.json`` and ``valueset-db.json``, found under ``--elm`` or fetched from ``--elm-url``.
When any of it is missing the script says so and exits 0 without measuring.

It measures, in one run: a cold call on a small Bundle and on a large Synthea Bundle (median wall time
of new processes, and peak RSS), and one process assessing many small Bundles (the peer's loop over
its executor; ``kapdecide assess --batch --jobs 1``). The peer's logic is not kapdecide's (a pain
management summary, not a KAP screen): this compares engines on the same input, not answers. Every
figure is reported beside its ratio, from this one run: on a shared machine the ratios hold better.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "fhir-samples"
PACKAGES = ("cql-execution@~3.3.0", "cql-exec-fhir@~2.2.0")
ELM_FILES = {
    "factors": "r4/FactorsToConsiderInManagingChronicPainFHIRv401.json",
    "commons": "r4/CDSConnectCommonsForFHIRv401.json",
    "helpers": "r4/FHIRHelpers.json",
    "valuesets": "valueset-db.json",
}
AS_OF = "2026-11-21"

#: The peer: load the ELM and value sets, then execute each Bundle (one line of a JSONL file each).
RUNNER = r"""
const fs = require('fs');
const path = require('path');
const cql = require('cql-execution');
const cqlfhir = require('cql-exec-fhir');
const [elmDir, input] = process.argv.slice(2);
const read = (name) => JSON.parse(fs.readFileSync(path.join(elmDir, name), 'utf8'));

class VSACAwareCodeService extends cql.CodeService {
  // as the Pain Management Summary app does: VSAC URLs and urn:oid ids name value sets by OID
  findValueSetsByOid(id) { return super.findValueSetsByOid(this.oid(id)[0]); }
  findValueSet(id, version) {
    const [oid, embedded] = this.oid(id);
    return super.findValueSet(oid, version != null ? version : embedded);
  }
  oid(id) {
    if (id == null) return [];
    let m = id.match(/^https?:\/\/cts\.nlm\.nih\.gov\/fhir\/ValueSet\/([^|]+)(\|(.+))?$/);
    if (m) return m[3] == null ? [m[1]] : [m[1], m[3]];
    m = id.match(/^urn:oid:(.+)$/);
    return m ? [m[1]] : [id];
  }
}

async function main() {
  const library = new cql.Library(read('factors.json'), new cql.Repository({
    CDSConnectCommonsForFHIRv401: read('commons.json'),
    FHIRHelpers: read('helpers.json'),
  }));
  const codes = new VSACAwareCodeService(read('valuesets.json'));
  const executor = new cql.Executor(library, codes);
  let count = 0, defined = 0;
  for (const line of fs.readFileSync(input, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const source = cqlfhir.PatientSource.FHIRv401();
    source.loadBundles([JSON.parse(line)]);
    const results = await executor.exec(source);
    for (const id of Object.keys(results.patientResults)) defined += Object.keys(results.patientResults[id]).length;
    count += 1;
  }
  process.stdout.write(JSON.stringify({ bundles: count, results: defined }) + '\n');
}
main().catch((err) => { console.error(err); process.exit(1); });
"""

RSS_PROBE = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _machine() -> dict[str, str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("kapdecide_bench_run", Path(__file__).with_name("run.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    machine: dict[str, str] = module._machine()
    return machine


def _node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()


def _skip(why: str) -> None:
    sys.stderr.write(f"cql_peer: skipped, {why}\n")
    sys.exit(0)


def _elm(args: argparse.Namespace, into: Path) -> None:
    """The four ELM/value-set files, copied (or downloaded) into ``into`` under short names."""
    for short, rel in ELM_FILES.items():
        target = into / f"{short}.json"
        if args.elm:
            found = sorted(Path(args.elm).rglob(Path(rel).name))
            found = [p for p in found if p.as_posix().endswith(rel)] or found
            if not found:
                _skip(f"{rel} not found under {args.elm}")
            shutil.copyfile(found[0], target)
        else:
            url = f"{args.elm_url.rstrip('/')}/{rel}"
            try:
                with urllib.request.urlopen(url, timeout=60) as response:
                    target.write_bytes(response.read())
            except OSError as exc:
                _skip(f"cannot download {url}: {exc}")


def _install(into: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        _skip("node and npm are needed for the peer")
    cmd = ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(into), *PACKAGES]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        _skip(f"npm install {' '.join(PACKAGES)} failed: {done.stderr.strip()[-500:]}")
    (into / "runner.js").write_text(RUNNER, encoding="utf-8")


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):  # kapdecide: 2 when a Bundle holds what the profile refuses
        sys.exit(f"failed (exit {done.returncode}): {' '.join(cmd)}\n{done.stderr.decode()[-2000:]}")
    return elapsed


def _median(cmd: list[str], env: dict[str, str], runs: int) -> float:
    _wall(cmd, env)  # warm-up: page cache, bytecode, kapdecide's protocol cache
    return statistics.median(_wall(cmd, env) for _ in range(runs))


def _rss_mib(cmd: list[str], env: dict[str, str]) -> float:
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, *cmd], env=env, capture_output=True, text=True).stdout
    return int(out.split()[1]) / 1024


def _jsonl(bundles: list[Path], count: int, path: Path) -> None:
    """``count`` lines, the small Bundles in turn, each on one line."""
    lines = [json.dumps(json.loads(b.read_text(encoding="utf-8")), separators=(",", ":")) for b in bundles]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            f.write(lines[i % len(lines)] + "\n")


def measure(args: argparse.Namespace, work: Path) -> list[tuple[str, str, str, str]]:
    """Rows: measure, peer, kapdecide, and the ratio peer / kapdecide of time (or memory) taken."""
    env = {**os.environ, "NO_COLOR": "1", "KAPDECIDE_CACHE_DIR": str(work / "cache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    node = ["node", str(work / "node" / "runner.js"), str(work / "elm")]
    kd = [sys.executable, "-m", "kapdecide", "assess"]
    rows = []
    for label, bundle in (("small", args.small[0]), ("large", args.large)):
        single = work / f"{label}.jsonl"
        _jsonl([bundle], 1, single)
        peer_cmd = [*node, str(single)]
        ours_cmd = [*kd, str(bundle), "--format", "json", "--as-of", AS_OF]
        peer, ours = _median(peer_cmd, env, args.runs), _median(ours_cmd, env, args.runs)
        name = f"cold, {bundle.name} ({bundle.stat().st_size / 1e6:.2f} MB)"
        rows.append((name, f"{peer * 1000:.0f} ms", f"{ours * 1000:.0f} ms", f"{peer / ours:.2f}x"))
        peer_rss, ours_rss = _rss_mib(peer_cmd, env), _rss_mib(ours_cmd, env)
        rows.append((f"{name}, peak RSS", f"{peer_rss:.0f} MiB", f"{ours_rss:.0f} MiB", f"{peer_rss / ours_rss:.2f}x"))
    many = work / "many.jsonl"
    _jsonl(args.small, args.count, many)
    peer_cmd = [*node, str(many)]
    ours_cmd = [*kd, "--batch", str(many), "--jobs", "1", "--as-of", AS_OF]
    peer, ours = _wall(peer_cmd, env), _wall(ours_cmd, env)
    name = f"one process, {args.count:,} small Bundles (whole command)"
    rows.append((name, f"{args.count / peer:.0f}/s", f"{args.count / ours:.0f}/s", f"{peer / ours:.2f}x"))
    peer_rss, ours_rss = _rss_mib(peer_cmd, env), _rss_mib(ours_cmd, env)
    rows.append((f"{name}, peak RSS", f"{peer_rss:.0f} MiB", f"{ours_rss:.0f} MiB", f"{peer_rss / ours_rss:.2f}x"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--elm", metavar="DIR", help="folder holding the ELM JSON (e.g. a checkout's src/cql)")
    where.add_argument("--elm-url", metavar="URL", help="base URL of the same folder, downloaded at run time")
    parser.add_argument(
        "--small", nargs="+", type=Path, metavar="BUNDLE", help="small Bundles (default: the eCQM samples)"
    )
    parser.add_argument("--large", type=Path, metavar="BUNDLE", help="a large Bundle (default: a 2.2 MB Synthea one)")
    parser.add_argument("--runs", type=int, default=7, help="cold runs per median (default 7)")
    parser.add_argument("--count", type=int, default=1000, help="small Bundles in one process (default 1,000)")
    args = parser.parse_args()
    args.small = args.small or sorted(SAMPLES.glob("ecqm-*.json"))
    args.large = args.large or SAMPLES / "synthea2019-darron-feeney.json"
    if not (args.elm or args.elm_url):
        _skip("give --elm DIR or --elm-url URL: the Pain Management Summary ELM is not in this repository")
    if not args.small or not args.large.is_file():
        _skip(f"no FHIR sample Bundles (give --small and --large, or put the samples in {SAMPLES})")
    with tempfile.TemporaryDirectory(prefix="kapdecide-cql-peer-") as tmp:
        work = Path(tmp)
        (work / "elm").mkdir()
        _elm(args, work / "elm")
        _install(work / "node")
        rows = measure(args, work)
    m = _machine()
    node = _node_version()
    print(f"Measured {m['date']} on {m['machine']}; Python {m['python']}; node {node}; kapdecide {m['kapdecide']}.")
    command = " ".join(["python benchmarks/cql_peer.py", *sys.argv[1:]])
    print(f"Command: `{command}` (one run; npm packages {', '.join(PACKAGES)}).")
    print()
    print("| Measure | CQL peer | kapdecide | peer / kapdecide (time or memory) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
