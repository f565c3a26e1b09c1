"""The largest protocol ``kapdecide validate`` accepts, built to be the slowest to lint.

The shipped protocol plus synthetic rules up to the engine limit (2,000 engine rules) and the file
size limit (4 MiB). Each synthetic rule tests heart rate and age at a combination no other rule
tests, in three kinds of different severity, so no rule implies another: the shadowed-rule check
(a comparison of every pair of rules sharing a field) finds nothing to stop early on and meets its
whole pair space. Issue 13 item 14: such a protocol took 57 s to validate.

Usage::

    python benchmarks/large_protocol.py --output big.yaml [--rules N] [--bytes B]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "protocols" / "kap-sud.yaml"
#: Just under the limits in src/kapdecide/checks.py (MAX_ENGINE_RULES) and yaml_source.py (MAX_PROTOCOL_BYTES).
ENGINE_RULES = 2000
MAX_BYTES = 4 << 20
KINDS = ("caution", "deferral", "contraindication")


def _rule(i: int, rationale: str) -> dict[str, Any]:
    return {
        "id": f"synthetic_heart_rate_{i}",
        "kind": KINDS[i % len(KINDS)],
        "title": f"Synthetic heart-rate test {i}",
        "when": {
            "all": [
                {"field": "vitals.heart_rate_bpm", "op": "==", "value": 40 + i // 80},
                {"field": "patient.age", "op": "==", "value": 18 + i % 80},
            ]
        },
        "message": "Heart rate {vitals.heart_rate_bpm}/min at age {patient.age}.",
        "action": "Synthetic rule for the validate benchmark; never shipped.",
        "rationale": rationale,
        "evidence": ["SPRAVATO-US"],
    }


def _engine_rules(protocol: dict[str, Any]) -> int:
    """Engine rules of the base protocol: one per DNF branch (kapdecide's own count)."""
    from kapdecide.language.conditions import dnf
    from kapdecide.protocol.model import Protocol

    p = Protocol.model_validate(protocol)
    conditions = [r.when for r in p.rules] + [x.when for o in p.options for x in o.exclude_when]
    return sum(len(dnf(c)) for c in conditions)


def build(rules: int | None = None, size: int = MAX_BYTES - 64 * 1024) -> str:
    """The protocol text: the base protocol and ``rules`` synthetic ones (default: up to the engine
    limit), with rationales padded so the file is about ``size`` bytes."""
    base = yaml.safe_load(BASE.read_text(encoding="utf-8"))
    count = ENGINE_RULES - _engine_rules(base) if rules is None else rules
    pad, text = 0, ""
    for _ in range(4):  # line wrapping adds indentation: converge on the size in a few rounds
        words = ("Synthetic rationale. " * (pad // 21 + 1))[:pad].strip() or "Synthetic."
        doc = dict(base, rules=[*base["rules"], *(_rule(i, words) for i in range(count))])
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
        pad = max(0, pad + (size - len(text.encode("utf-8"))) * 9 // 10 // max(1, count))
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--rules", type=int, default=None, help="synthetic rules (default: up to the engine limit)")
    parser.add_argument("--bytes", type=int, default=MAX_BYTES - 64 * 1024, help="approximate file size")
    args = parser.parse_args()
    args.output.write_text(build(args.rules, args.bytes), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
