"""``kapdecide serve`` under load, as an EHR calls it: warm latency, throughput and memory.

    python benchmarks/service.py [--requests 200] [--soak 10000] [--smoke] [--json]

Starts the real server (``python -m kapdecide serve``, uvicorn, JWT verification on, an inline
JWK Set made here) on 127.0.0.1 and sends patient-view requests whose prefetch is the largest
shared FHIR sample (``../shared/fhir-samples/synthea2019-darron-feeney.json``) as a client would
send it: the Patient and a searchset per prefetch key (the sample's Claims, Encounters and other
types no key asks for are left out). Each request carries its own signed JWT (made before the
clock starts). Measures, side by side:

1. warm request latency (p50, p99) and throughput at 1, 8 and 32 concurrent clients;
2. a cold ``kapdecide assess`` of the whole sample Bundle (``--format cds-hooks``, median of 5);
3. the server's resident memory (VmRSS) every 10 % of a soak of ``--soak`` requests.

Everything runs on this machine: the load generator shares the 2 cores with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "fhir-samples" / "synthea2019-darron-feeney.json"
BASE = "https://cds.bench.invalid"
ISS = "https://ehr.bench.invalid"
PATH = "/cds-services/kapdecide-patient-view"


def hook_body(sample: Path) -> tuple[bytes, int]:
    """The patient-view request for ``sample`` (JSON bytes) and the number of resources in it."""
    text = sample.read_text(encoding="utf-8")
    bundle = json.loads(text)
    local = {
        e["fullUrl"]: f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle["entry"]
        if str(e.get("fullUrl", "")).startswith("urn:uuid:") and "id" in e["resource"]
    }
    text = re.sub(r'"(urn:uuid:[0-9a-fA-F-]+)"', lambda m: json.dumps(local.get(m.group(1), m.group(1))), text)
    resources = [e["resource"] for e in json.loads(text)["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    prefetch: dict[str, Any] = {"patient": patient}
    count = 1
    from kapdecide.service.definitions import SEARCH_TYPES

    for key, rtype in SEARCH_TYPES.items():
        found = [{"resource": r} for r in resources if r["resourceType"] == rtype]
        prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": found} if found else None
        count += len(found)
    context = {"userId": "Practitioner/bench", "patientId": patient["id"]}
    body = {"hook": "patient-view", "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}
    return json.dumps(body).encode(), count


class Signer:
    """Makes the CDS Hooks JWTs (ES384, a key made here) and the JWK Set the server trusts."""

    def __init__(self) -> None:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec

        self.jwt = jwt
        self.key = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        self.jwks = {"keys": [{**public, "kid": "bench", "alg": "ES384", "use": "sig"}]}

    def tokens(self, n: int) -> list[str]:
        now = int(time.time())
        claims = {"iss": ISS, "aud": BASE + PATH, "iat": now, "exp": now + 3000}
        return [
            self.jwt.encode({**claims, "jti": str(uuid.uuid4())}, self.key, algorithm="ES384", headers={"kid": "bench"})
            for _ in range(n)
        ]


def start_server(jwks: dict[str, Any], folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    config = {
        "base_url": BASE,
        "issuers": [{"iss": ISS, "jwks": jwks}],
        "audit_log": str(folder / "audit.jsonl"),
        "max_concurrent": 64,
        "queue_seconds": 60,
        "request_timeout_seconds": 120,
        "max_token_lifetime_seconds": 3600,
    }
    (folder / "service.json").write_text(json.dumps(config), encoding="utf-8")
    argv = [sys.executable, "-m", "kapdecide", "serve", "--port", str(port), "--config", str(folder / "service.json")]
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(url + "/cds-services", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


async def load(url: str, body: bytes, tokens: list[str], clients: int) -> tuple[list[float], float]:
    """Send one request per token from ``clients`` concurrent clients; latencies (s) and wall time."""
    import httpx

    queue = list(reversed(tokens))
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=300, limits=limits) as client:

        async def worker() -> None:
            while queue:
                tok = queue.pop()
                headers = {"Authorization": f"Bearer {tok}", "Content-Type": "application/json"}
                t0 = time.perf_counter()
                response = await client.post(PATH, content=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    raise SystemExit(f"HTTP {response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, time.perf_counter() - started


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_assess(runs: int) -> float:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    times = []
    for i in range(runs + 1):
        t0 = time.perf_counter()
        argv = [sys.executable, "-m", "kapdecide", "assess", str(SAMPLE), "--format", "cds-hooks"]
        subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=True)
        if i:  # the first run warms the protocol cache and the bytecode
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(requests: int, soak: int, cold_runs: int) -> dict[str, Any]:
    body, count = hook_body(SAMPLE)
    signer = Signer()
    out: dict[str, Any] = {"resources": count, "body_bytes": len(body), "levels": [], "memory": []}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_server(signer.jwks, Path(tmp))
        try:
            asyncio.run(load(url, body, signer.tokens(20), 1))  # warm-up
            for clients in (1, 8, 32):
                tokens = signer.tokens(requests)
                server0, client0 = cpu_s(proc.pid), time.process_time()
                lat, wall = asyncio.run(load(url, body, tokens, clients))
                server_cpu, client_cpu = cpu_s(proc.pid) - server0, time.process_time() - client0
                out["levels"].append(
                    {
                        "clients": clients,
                        "p50_ms": percentile(lat, 0.5) * 1000,
                        "p99_ms": percentile(lat, 0.99) * 1000,
                        "per_s": len(lat) / wall,
                        "n": len(lat),
                        "server_cpu_ms": server_cpu / len(lat) * 1000,
                        "client_cpu_ms": client_cpu / len(lat) * 1000,
                    }
                )
            step = max(1, soak // 10)
            out["memory"].append((0, rss_mib(proc.pid)))
            for done in range(step, soak + 1, step):
                asyncio.run(load(url, body, signer.tokens(step), 8))
                out["memory"].append((done, rss_mib(proc.pid)))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    out["cold_assess_s"] = cold_assess(cold_runs)
    return out


def report(r: dict[str, Any]) -> str:
    lines = [
        f"patient-view, prefetch of {r['resources']} resources ({r['body_bytes'] / 1e6:.2f} MB) from {SAMPLE.name}",
        "",
        "| clients | requests | p50 | p99 | throughput | server CPU per request | load generator CPU per request |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {x['clients']} | {x['n']} | {x['p50_ms']:.0f} ms | {x['p99_ms']:.0f} ms | {x['per_s']:.1f} req/s "
        f"| {x['server_cpu_ms']:.1f} ms | {x['client_cpu_ms']:.1f} ms |"
        for x in r["levels"]
    ]
    lines.append(f"\ncold `kapdecide assess {SAMPLE.name} --format cds-hooks`: {r['cold_assess_s'] * 1000:.0f} ms")
    mem = r["memory"]
    lines.append(
        "server RSS over the soak (requests: MiB): " + ", ".join(f"{n}: {m:.1f}" for n, m in mem)
        + f" (after warm-up to end: {mem[-1][1] - mem[0][1]:+.1f} MiB)"
    )  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=200, help="requests per concurrency level")
    parser.add_argument("--soak", type=int, default=10_000, help="requests of the memory soak")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, seconds (no figure is meaningful)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not SAMPLE.exists():
        raise SystemExit(f"{SAMPLE} not found (the shared FHIR samples)")
    r = measure(8, 20, 1) if args.smoke else measure(args.requests, args.soak, 5)
    print(json.dumps(r, indent=2) if args.json else report(r))


if __name__ == "__main__":
    main()
