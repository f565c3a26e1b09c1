"""A protocol compiled once per process: engine rulesets and evaluator closures, and the cross-check
that the engine fires exactly the rules the independent evaluator finds true (else no assessment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kapdecide.core.errors import EngineDisagreementError
from kapdecide.core.operators import Truth
from kapdecide.engine import Engine, EngineRule
from kapdecide.language.conditions import dnf
from kapdecide.language.evaluator import Compiled, compile_condition
from kapdecide.language.facts import Facts
from kapdecide.protocol.loader import LoadedProtocol
from kapdecide.protocol.model import Evidence, Protocol, Rule

if TYPE_CHECKING:
    from kapdecide.assessment.report import EvidenceRef, SessionChecklist, SubstanceEvidenceOut


@dataclass
class CompiledProtocol:
    """A protocol with its engine rulesets and evaluator closures, built once per process.

    It also keeps the report parts that depend on the protocol alone (evidence lists, substance
    evidence, session checklists): reports are read-only, so every report can share them.
    """

    loaded: LoadedProtocol
    engine: Engine
    evidence: dict[str, Evidence]
    conditions: dict[str, Compiled]
    freshness: dict[str, int]
    rule_keys: list[tuple[Rule, str]]
    evidence_refs: dict[tuple[str, ...], list[EvidenceRef]] = field(default_factory=dict)
    substance_outs: dict[str, SubstanceEvidenceOut] = field(default_factory=dict)
    checklists: dict[tuple[str, ...], SessionChecklist] = field(default_factory=dict)

    @property
    def protocol(self) -> Protocol:
        """The protocol model."""
        return self.loaded.protocol


_COMPILED: dict[str, CompiledProtocol] = {}


def compile_protocol(lp: LoadedProtocol) -> CompiledProtocol:
    """Compile (or fetch the compiled) engine rulesets of a validated protocol."""
    found = _COMPILED.get(lp.sha256)
    if found is not None:
        return found
    p = lp.protocol
    conditions = {rule_key(r.id): r.when for r in p.rules}
    conditions.update({exclusion_key(o.id, x.id): x.when for o in p.options for x in o.exclude_when})
    rules = [EngineRule(name, tuple(dnf(cond))) for name, cond in conditions.items()]
    compiled = CompiledProtocol(
        lp,
        Engine(rules),
        {e.id: e for e in p.evidence},
        {name: compile_condition(cond) for name, cond in conditions.items()},
        {f.source: f.max_age_days for f in p.freshness},
        [(r, rule_key(r.id)) for r in p.rules],
    )
    _COMPILED[lp.sha256] = compiled
    return compiled


def rule_key(rule_id: str) -> str:
    """The engine and evaluator name of a rule's condition."""
    return f"rule:{rule_id}"


def exclusion_key(option_id: str, exclusion_id: str) -> str:
    """The engine and evaluator name of an option exclusion's condition."""
    return f"option:{option_id}:{exclusion_id}"


def guarded_truths(cp: CompiledProtocol, facts: Facts) -> dict[str, Truth]:
    """Three-valued results per engine rule, after checking the engine agrees on what is true."""
    truths = {name: fn(facts) for name, fn in cp.conditions.items()}
    fired = cp.engine.fired(facts)
    expected = {name for name, t in truths.items() if t is True}
    if fired != expected:
        differ = sorted(fired ^ expected)
        raise EngineDisagreementError(
            f"the rules engine and the independent evaluator disagree on {', '.join(differ)}; "
            "no assessment is given rather than a possibly wrong one",
            hint="report this with the profile and `--debug` output",
        )
    return truths
