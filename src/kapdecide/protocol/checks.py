"""Semantic checks of one protocol: cross-references, types, vocabularies and engine limits.

``loader.py`` calls these when a protocol file is read (and not served from the protocol cache).
Every problem is collected, each with file:line:col and a stable code.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from kapdecide.core import vocabulary as v
from kapdecide.core.errors import Problem
from kapdecide.engine import closed_flag, hash_collisions, reserved_value
from kapdecide.inputs.yaml_source import Path, SourceMap
from kapdecide.language.conditions import (
    MAX_BRANCHES_PER_RULE,
    MAX_CONDITION_DEPTH,
    MAX_LEAVES_PER_BRANCH,
    All,
    AnyOf,
    ConditionNode,
    TooManyBranches,
    check_leaf,
    children,
    depth,
    dnf,
    walk_leaves,
)
from kapdecide.language.facts import FIELDS
from kapdecide.protocol.model import Protocol

if TYPE_CHECKING:
    from kapdecide.protocol.loaded import LoadedProtocol

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: Engine rules per protocol, well inside the 4,096 per ruleset measured (rules are chunked anyway).
MAX_ENGINE_RULES = 2000


def protocol_code(p: Problem) -> Problem:
    # Name the two option mistakes validate is documented to catch, rather than a generic code.
    """The problem with a protocol author's code where the model's generic one is too vague."""
    if ".regimens[" in p.path or p.path.startswith("options"):
        if p.path.endswith("grade") and p.code == "missing-field":
            return Problem(
                p.file, p.line, p.col, "option-without-grade", "an option regimen needs a GRADE certainty", p.path
            )
        if p.path.endswith("evidence") and p.code in ("out-of-range", "missing-field"):
            return Problem(
                p.file,
                p.line,
                p.col,
                "option-without-citation",
                "an option regimen needs at least one evidence id",
                p.path,
            )
    return p


def check_protocol(lp: LoadedProtocol) -> Iterator[Problem]:
    """Semantic checks of one protocol (cross-references, types, vocabularies, engine limits)."""
    p, smap = lp.protocol, lp.smap()
    yield from _duplicates(smap, ("evidence",), [e.id for e in p.evidence], "evidence id")
    yield from _duplicates(smap, ("rules",), [r.id for r in p.rules], "rule id")
    yield from _duplicates(smap, ("options",), [o.id for o in p.options], "option id")
    yield from _duplicates(smap, ("substances",), [s.substance for s in p.substances], "substance", "substance")
    yield from _duplicates(smap, ("freshness",), [f.source for f in p.freshness], "freshness source", "source")
    ev = _Citations(smap, {e.id for e in p.evidence})
    for i, f in enumerate(p.freshness):
        yield from ev.refs(("freshness", i, "evidence"), f.evidence)
    yield from _rule_problems(smap, p, ev)
    for i, s in enumerate(p.substances):
        yield from ev.refs(("substances", i, "evidence"), s.evidence)
        for j, t in enumerate(s.trials):
            yield from ev.refs(("substances", i, "trials", j, "evidence"), [t.evidence])
    option_ids = {o.id for o in p.options}
    for i, r in enumerate(p.rules):
        for j, oid in enumerate(r.strengthens):
            if oid not in option_ids:
                yield smap.problem(
                    ("rules", i, "strengthens", j), "unknown-option", f"no option {oid!r} in this protocol"
                )
    yield from _session_problems(smap, p, ev)
    yield from _option_problems(smap, p, ev)
    yield from _evidence_problems(smap, p, ev.cited)
    yield from _engine_problems(smap, p)


class _Citations:
    """Evidence ids cited so far, and a check that each cited id is defined."""

    def __init__(self, smap: SourceMap, defined: set[str]):
        self.smap, self.defined = smap, defined
        self.cited: set[str] = set()

    def refs(self, path: Path, ids: list[str]) -> Iterator[Problem]:
        for i, eid in enumerate(ids):
            self.cited.add(eid)
            if eid not in self.defined:
                hint = v.suggest(eid, sorted(self.defined))
                yield self.smap.problem(
                    (*path, i),
                    "undefined-evidence",
                    f"evidence {eid!r} is not defined in this protocol's evidence list"
                    + (f"; did you mean {hint!r}?" if hint else ""),
                )


def _rule_problems(smap: SourceMap, p: Protocol, ev: _Citations) -> Iterator[Problem]:
    for i, r in enumerate(p.rules):
        base: Path = ("rules", i)
        yield from ev.refs((*base, "evidence"), r.evidence)
        yield from _check_condition(smap, (*base, "when"), r.when)
        for key in ("message", "action"):
            yield from _check_placeholders(smap, (*base, key), getattr(r, key))
        for j, step in enumerate(r.next_steps):
            if step not in v.NEXT_STEPS:
                hint = v.suggest(step, tuple(v.NEXT_STEPS))
                yield smap.problem(
                    (*base, "next_steps", j),
                    "value-not-in-vocabulary",
                    f"unknown next step {step!r}" + (f"; did you mean {hint!r}?" if hint else ""),
                )
        if r.kind == "interaction" and r.severity is None:
            yield smap.problem(
                base, "interaction-without-severity", "an interaction rule needs severity: major|moderate|minor"
            )


def _session_problems(smap: SourceMap, p: Protocol, ev: _Citations) -> Iterator[Problem]:
    if p.session is None:
        return
    rule_kinds = {r.id: r.kind for r in p.rules}
    yield from ev.refs(("session", "evidence"), p.session.evidence)
    for j, rid in enumerate(p.session.pre_dose_rules):
        if rule_kinds.get(rid) not in ("contraindication", "deferral"):
            why = "is not a rule of this protocol" if rid not in rule_kinds else "is not a contraindication or deferral"
            yield smap.problem(("session", "pre_dose_rules", j), "unknown-rule", f"{rid!r} {why}")
    for j, h in enumerate(p.session.holds):
        yield from ev.refs(("session", "holds", j, "evidence"), h.evidence)


def _option_problems(smap: SourceMap, p: Protocol, ev: _Citations) -> Iterator[Problem]:
    insufficient = {s.substance for s in p.substances if s.insufficient_evidence}
    for i, o in enumerate(p.options):
        base: Path = ("options", i)
        yield from _duplicates(smap, (*base, "exclude_when"), [x.id for x in o.exclude_when], "exclusion id")
        for j, reg in enumerate(o.regimens):
            rpath: Path = (*base, "regimens", j)
            yield from ev.refs((*rpath, "evidence"), reg.evidence)
            if (reg.substance is None) == (reg.condition is None):
                yield smap.problem(rpath, "regimen-indication", "a regimen names exactly one of substance or condition")
            if reg.condition is not None and reg.condition not in v.PSYCHIATRIC_CONDITIONS:
                yield smap.problem(
                    (*rpath, "condition"),
                    "value-not-in-vocabulary",
                    f"{reg.condition!r} is not a co-occurring condition of the profile vocabulary",
                )
            if reg.substance in insufficient and o.insufficient_evidence is None:
                yield smap.problem(
                    (*rpath, "substance"),
                    "regimen-for-insufficient-substance",
                    f"{reg.substance} is marked insufficient_evidence: no ketamine option may be offered for it",
                )
            if reg.dose.mg_per_kg is not None and reg.dose.fixed_mg is not None:
                yield smap.problem((*rpath, "dose"), "dose-ambiguous", "give mg_per_kg or fixed_mg, not both")
        for j, x in enumerate(o.exclude_when):
            xpath: Path = (*base, "exclude_when", j)
            yield from ev.refs((*xpath, "evidence"), x.evidence)
            yield from _check_condition(smap, (*xpath, "when"), x.when)
            yield from _check_placeholders(smap, (*xpath, "reason"), x.reason)


def _evidence_problems(smap: SourceMap, p: Protocol, cited: set[str]) -> Iterator[Problem]:
    for i, e in enumerate(p.evidence):
        if e.id not in cited:
            yield smap.problem(
                ("evidence", i, "id"), "unused-evidence", f"evidence {e.id!r} is never cited", severity="warning"
            )
        if e.doi is None and e.identifier is None:
            yield smap.problem(
                ("evidence", i),
                "evidence-without-identifier",
                f"evidence {e.id!r} has no DOI and no other identifier: "
                "give `doi:`, or `identifier:` (a PMID, NCT number or label id)",
                severity="warning",
            )


def _engine_problems(smap: SourceMap, p: Protocol) -> Iterator[Problem]:
    branches = 0
    for c in _conditions(p):
        try:
            branches += len(dnf(c))
        except TooManyBranches:
            pass  # reported on the rule itself
    if branches > MAX_ENGINE_RULES:
        yield smap.problem(
            ("rules",),
            "engine-limit",
            f"the protocol compiles to {branches} engine rules; the limit is {MAX_ENGINE_RULES}",
        )
    used = {leaf.field for c in _conditions(p) for _, leaf in walk_leaves(c)}
    known = used & set(FIELDS)
    flags = {closed_flag(f) for f in known if FIELDS[f].type in ("enum_list", "text_list")}
    for a, b in hash_collisions(known | flags):
        yield smap.problem((), "hash-collision", f"field names {a!r} and {b!r} share the engine's 32-bit hash")


def _conditions(p: Protocol) -> Iterator[ConditionNode]:
    for r in p.rules:
        yield r.when
    for o in p.options:
        for x in o.exclude_when:
            yield x.when


def _duplicates(smap: SourceMap, path: Path, ids: list[str], what: str, key: str = "id") -> Iterator[Problem]:
    counts = Counter(ids)
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if counts[ident] > 1 and ident in seen:
            yield smap.problem((*path, i, key), "duplicate-id", f"{what} {ident!r} is defined more than once")
        seen.add(ident)


def _check_condition(smap: SourceMap, path: Path, cond: ConditionNode) -> Iterator[Problem]:
    for sub_path, node in _nodes(cond, ()):
        if isinstance(node, All | AnyOf) and not children(node):
            yield smap.problem((*path, *sub_path), "empty-condition", "all/any needs at least one condition")
    for leaf_path, leaf in walk_leaves(cond):
        for code, msg in check_leaf(leaf) + reserved_value(leaf):
            target = (
                "field" if code in ("unknown-profile-field",) else "op" if code == "operator-type-mismatch" else "value"
            )
            yield smap.problem((*path, *leaf_path, target), code, msg)
    if depth(cond) > MAX_CONDITION_DEPTH:
        yield smap.problem(path, "engine-limit", f"condition nested deeper than {MAX_CONDITION_DEPTH} levels")
        return
    try:
        branches = dnf(cond)
    except TooManyBranches as exc:
        yield smap.problem(
            path,
            "engine-limit",
            f"condition expands to {exc.args[0]}+ engine rules; the limit is {MAX_BRANCHES_PER_RULE}: simplify it",
        )
        return
    if any(len(b) > MAX_LEAVES_PER_BRANCH for b in branches):
        yield smap.problem(path, "engine-limit", f"a branch has more than {MAX_LEAVES_PER_BRANCH} tests")


def _nodes(cond: ConditionNode, path: Path) -> Iterator[tuple[Path, ConditionNode]]:
    yield path, cond
    key = "all" if isinstance(cond, All) else "any" if isinstance(cond, AnyOf) else None
    for step, child in children(cond):
        yield from _nodes(child, (*path, key, step) if key else (*path, step))


def _check_placeholders(smap: SourceMap, path: Path, text: str) -> Iterator[Problem]:
    for name in PLACEHOLDER.findall(text):
        if name not in FIELDS:
            hint = v.suggest(name, list(FIELDS))
            yield smap.problem(
                path,
                "unknown-placeholder",
                f"{{{name}}} is not a fact field" + (f"; did you mean {{{hint}}}?" if hint else ""),
            )
