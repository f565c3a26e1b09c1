"""Protocol test cases: profiles with the outcome a protocol author expects, kept beside protocols.

A cases file has ``bases`` (named complete profiles) and ``cases``; a case's ``profile`` is merged
onto its base (mappings key by key, lists replaced, ``null`` deletes a key so the value becomes
unknown). Each merged profile is validated like any profile, so a broken fixture cannot pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr, ValidationError

from kapdecide import pipeline
from kapdecide.assessment.assess import Status, assess
from kapdecide.assessment.report import Report
from kapdecide.core.errors import InvalidInputError, Problem
from kapdecide.core.vocabulary import suggest
from kapdecide.inputs.problems import pydantic_problems
from kapdecide.inputs.profile import IsoDate, Profile
from kapdecide.inputs.yaml_source import MAX_PROTOCOL_BYTES, Path, SourceError, SourceMap, decode, load
from kapdecide.protocol.loader import LoadedProtocol


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Model):
    """What a protocol test case expects of the report."""

    status: Status
    findings: list[StrictStr] = []
    """Rule ids that must be reported as findings."""
    absent: list[StrictStr] = []
    """Rule ids that must not be reported as findings."""
    not_checked: list[StrictStr] = []
    """Rule ids that must be reported as could-not-be-checked."""
    offered: list[StrictStr] = []
    not_offered: list[StrictStr] = []


class CaseModel(_Model):
    """One test case as written: a base profile, changes to it, a date and what to expect."""

    name: StrictStr = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")
    description: StrictStr | None = None
    base: StrictStr | None = None
    profile: dict[str, Any] = {}
    as_of: IsoDate | None = None
    todo: StrictStr | None = None
    """A known gap: the case runs but a failure does not fail the suite."""
    expect: Expect


class CasesFile(_Model):
    """A protocol's test-case file: named base profiles and the cases."""

    bases: dict[str, dict[str, Any]] = {}
    cases: list[CaseModel]


@dataclass
class Case:
    """A test case ready to run: its merged profile and where it is written."""

    file: str
    line: int | None
    model: CaseModel
    data: dict[str, Any]
    source: SourceMap


@dataclass
class CaseResult:
    """What running one case gave: the report, and any mismatch or error."""

    case: Case
    failures: list[str] = field(default_factory=list)
    report: Report | None = None
    error: str | None = None
    profile: Profile | None = None
    as_of: dt.date | None = None

    @property
    def passed(self) -> bool:
        """Whether the case met every expectation (a todo case never counts as a failure)."""
        return not self.failures and self.error is None

    @property
    def outcome(self) -> str:
        """passed, failed, todo (a known gap that failed) or fixed (a todo case that now passes)."""
        if self.case.model.todo:
            return "fixed" if self.passed else "todo"
        return "passed" if self.passed else "failed"


def merge(base: Any, patch: Any) -> Any:
    """Deep merge: mappings key by key, ``None`` deletes, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def _case_source(smap: SourceMap, base: str | None, index: int) -> SourceMap:
    """Positions for a merged profile: the case's own values first, then its base's."""
    view = SourceMap(smap.file)
    for prefix in ((("bases", base),) if base else ()) + ((("cases", index, "profile"),)):
        n = len(prefix)
        for table, into in ((smap.values, view.values), (smap.keys, view.keys)):
            for path, pos in table.items():
                if path[:n] == prefix:
                    into[path[n:]] = pos
    view.values.setdefault((), smap.values.get(("cases", index), (1, 1)))
    return view


def load_cases(path: FsPath) -> tuple[list[Case], list[Problem]]:
    """Read a cases file; every problem (schema, unknown base, invalid profile) is returned."""
    name = str(path)
    try:
        data, smap = load(decode(path.read_bytes(), name, MAX_PROTOCOL_BYTES), name)
    except OSError as exc:
        return [], [Problem(name, None, None, "unreadable", exc.strerror or str(exc))]
    except SourceError as exc:
        return [], exc.problems
    try:
        model = CasesFile.model_validate(data)
    except ValidationError as exc:
        return [], pydantic_problems(exc, data, smap, CasesFile)
    cases: list[Case] = []
    problems: list[Problem] = []
    names: set[str] = set()
    for i, c in enumerate(model.cases):
        where: Path = ("cases", i)
        if c.name in names:
            problems.append(smap.problem((*where, "name"), "duplicate-id", f"case {c.name!r} is defined twice"))
        names.add(c.name)
        if c.base is not None and c.base not in model.bases:
            problems.append(smap.problem((*where, "base"), "unknown-base", f"no base profile named {c.base!r}"))
            continue
        merged = merge(model.bases.get(c.base, {}) if c.base else {}, c.profile)
        line = smap.values.get(where, (None, None))[0]
        cases.append(Case(name, line, c, merged, _case_source(smap, c.base, i)))
    return cases, problems


def run_case(case: Case, protocols: Sequence[LoadedProtocol]) -> CaseResult:
    """Assess the case's profile and compare the report with what the case expects."""
    result = CaseResult(case)
    try:
        checked = pipeline.from_data(case.data, case.source, as_of=case.model.as_of, today=None)
        profile, as_of = checked.profile, checked.as_of
    except InvalidInputError as exc:
        result.error = "invalid profile: " + ("; ".join(p.format() for p in exc.problems) or exc.message)
        return result
    report = assess(profile, protocols, as_of)
    result.report = report
    result.profile = profile
    result.as_of = as_of
    e = case.model.expect
    result.failures.extend(_unknown_ids(e, protocols))
    fired = {f.rule_id for f in report.findings}
    unchecked = {n.rule_id for n in report.not_checked}
    offered = {o.option_id for o in report.options if o.state == "offered"}
    if report.status != e.status:
        result.failures.append(f"status: expected {e.status}, got {report.status}")
    for rid in e.findings:
        if rid not in fired:
            state = "could not be checked" if rid in unchecked else "not reported"
            result.failures.append(f"finding {rid}: expected, {state}")
    for rid in e.absent:
        if rid in fired:
            result.failures.append(f"finding {rid}: expected absent, but reported")
    for rid in e.not_checked:
        if rid not in unchecked:
            result.failures.append(f"not_checked {rid}: expected could-not-be-checked")
    for oid in e.offered:
        if oid not in offered:
            why = "; ".join(r for o in report.options if o.option_id == oid for r in o.reasons)
            result.failures.append(f"option {oid}: expected offered, not offered ({why or 'not applicable'})")
    for oid in e.not_offered:
        if oid in offered:
            result.failures.append(f"option {oid}: expected not offered, but offered")
    if result.failures:
        extra = sorted(fired - set(e.findings))
        if extra:
            result.failures.append(f"(also reported: {', '.join(extra)})")
    return result


def _unknown_ids(e: Expect, protocols: Sequence[LoadedProtocol]) -> list[str]:
    """Expected ids that name no rule or option: a misspelt ``absent`` id would otherwise always pass."""
    rules = sorted({r.id for lp in protocols for r in lp.protocol.rules})
    options = sorted({o.id for lp in protocols for o in lp.protocol.options})
    out = []
    for key, ids, known in (
        ("findings", e.findings, rules),
        ("absent", e.absent, rules),
        ("not_checked", [i for i in e.not_checked if not i.startswith("entries:")], rules),
        ("offered", e.offered, options),
        ("not_offered", e.not_offered, options),
    ):
        for wrong in (i for i in ids if i not in known):
            hint = suggest(wrong, known)
            what = "rule" if known is rules else "option"
            out.append(f"{key}: no {what} {wrong!r} in these protocols" + (f"; did you mean {hint!r}?" if hint else ""))
    return out


# ---------------------------------------------------------------- suites and coverage


@dataclass
class Suite:
    """Every case of the given files, run against the given protocols."""

    files: list[str]
    results: list[CaseResult]
    problems: list[Problem]

    def count(self, outcome: str) -> int:
        """Cases with this outcome (passed, failed, error, todo)."""
        return sum(r.outcome == outcome for r in self.results)

    @property
    def ok(self) -> bool:
        """Whether no case failed or erred."""
        return not self.problems and self.count("failed") == 0


def case_files(paths: Sequence[str | FsPath]) -> list[FsPath]:
    """``*.cases.yaml`` files named directly or found (recursively) in folders."""
    out: list[FsPath] = []
    for raw in paths:
        p = FsPath(raw)
        out.extend(sorted(p.rglob("*.cases.yaml")) if p.is_dir() else [p])
    return out


def run_suite(files: Sequence[FsPath], protocols: Sequence[LoadedProtocol]) -> Suite:
    """Load and run every case; file problems are collected, never raised."""
    results: list[CaseResult] = []
    problems: list[Problem] = []
    for f in files:
        cases, probs = load_cases(f)
        problems.extend(probs)
        results.extend(run_case(c, protocols) for c in cases)
    return Suite([str(f) for f in files], results, problems)


@dataclass
class Coverage:
    """What the cases exercised in one protocol."""

    protocol_id: str
    rules: list[str]
    rules_fired: set[str]
    options: list[str]
    options_offered: set[str]
    leaves: dict[str, set[bool | None]]

    @property
    def uncovered_rules(self) -> list[str]:
        """Rules that no case made fire."""
        return [r for r in self.rules if r not in self.rules_fired]

    @property
    def uncovered_options(self) -> list[str]:
        """Options that no case saw offered and not offered."""
        return [o for o in self.options if o not in self.options_offered]

    @property
    def uncovered_leaves(self) -> list[str]:
        """Condition leaves that no case made both true and false."""
        return [name for name, seen in self.leaves.items() if not {True, False} <= seen]

    @staticmethod
    def _pct(done: int, total: int) -> float:
        return 100.0 if total == 0 else round(100.0 * done / total, 1)

    @property
    def rule_pct(self) -> float:
        """Share of rules some case made fire, in percent."""
        return self._pct(len(self.rules) - len(self.uncovered_rules), len(self.rules))

    @property
    def option_pct(self) -> float:
        """Share of options exercised, in percent."""
        return self._pct(len(self.options) - len(self.uncovered_options), len(self.options))

    @property
    def leaf_pct(self) -> float:
        """Share of condition leaves exercised both ways, in percent."""
        return self._pct(len(self.leaves) - len(self.uncovered_leaves), len(self.leaves))


def coverage(suite: Suite, protocols: Sequence[LoadedProtocol]) -> list[Coverage]:
    """Rule, option and condition-leaf coverage per protocol (options marked insufficient_evidence
    can never be offered and are not counted)."""
    from kapdecide.inputs.yaml_source import format_path
    from kapdecide.language.conditions import describe, walk_leaves
    from kapdecide.language.evaluator import evaluate_leaf
    from kapdecide.language.fact_builder import build_facts

    out = []
    for lp in protocols:
        p = lp.protocol
        conditions = [(r.id, r.when) for r in p.rules] + [
            (f"{o.id}.{x.id}", x.when) for o in p.options for x in o.exclude_when
        ]
        leaves: dict[str, set[bool | None]] = {}
        named = [
            (f"{owner} {format_path(path) or 'when'}: {describe(leaf)}", leaf)
            for owner, cond in conditions
            for path, leaf in walk_leaves(cond)
        ]
        for name, _ in named:
            leaves.setdefault(name, set())
        fired: set[str] = set()
        offered: set[str] = set()
        freshness: dict[str, int] = {f.source: f.max_age_days for f in p.freshness}
        for r in suite.results:
            if r.report is None or r.profile is None or r.as_of is None:
                continue
            fired |= {f.rule_id for f in r.report.findings if f.protocol_id == p.id}
            offered |= {o.option_id for o in r.report.options if o.protocol_id == p.id and o.state == "offered"}
            facts = build_facts(r.profile, r.as_of, freshness).values
            for name, leaf in named:
                leaves[name].add(evaluate_leaf(leaf, facts))
        out.append(
            Coverage(
                protocol_id=p.id,
                rules=[r.id for r in p.rules],
                rules_fired=fired,
                options=[o.id for o in p.options if o.insufficient_evidence is None],
                options_offered=offered,
                leaves=leaves,
            )
        )
    return out
