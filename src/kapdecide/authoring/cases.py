"""Protocol test cases: profiles with the outcome a protocol author expects, kept beside protocols.

Reading a cases file (its bases, ``extends`` and ``protocols``) is ``casefile.py``; here each case is
run and compared with what it expects, cases files are run as a suite against the protocols beside
each, and what the cases exercised is measured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FsPath

from kapdecide import pipeline
from kapdecide.assessment.assess import assess
from kapdecide.assessment.report import Report
from kapdecide.authoring.casefile import Case, CasesDoc, Expect, read_cases
from kapdecide.core.errors import InvalidInputError, Problem
from kapdecide.core.vocabulary import suggest
from kapdecide.inputs.profile import Profile
from kapdecide.protocol.loader import LoadedProtocol


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
    fired = {f["rule_id"] for f in report["findings"]}
    unchecked = {n["rule_id"] for n in report["not_checked"]}
    offered = {o["option_id"] for o in report["options"] if o["state"] == "offered"}
    if report["status"] != e.status:
        result.failures.append(f"status: expected {e.status}, got {report['status']}")
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
            why = "; ".join(r for o in report["options"] if o["option_id"] == oid for r in o["reasons"])
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
class Run:
    """The cases files run against one set of protocols (a folder or a file)."""

    where: str
    protocols: Sequence[LoadedProtocol]
    files: list[str]


@dataclass
class Suite:
    """Every case of the given files, each file run against the protocols beside it (or the ones given)."""

    files: list[str]
    results: list[CaseResult]
    problems: list[Problem]
    runs: list[Run] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        """Cases with this outcome (passed, failed, error, todo)."""
        return sum(r.outcome == outcome for r in self.results)

    @property
    def ok(self) -> bool:
        """Whether no case failed or erred."""
        return not self.problems and self.count("failed") == 0

    def tested(self, file: str | None = None) -> list[LoadedProtocol]:
        """The protocols the cases were run against (of one cases file), each once, in run order."""
        out: dict[str, LoadedProtocol] = {}
        for run in self.runs:
            if file is None or file in run.files:
                out.update((lp.path, lp) for lp in run.protocols if lp.path not in out)
        return list(out.values())


def case_files(paths: Sequence[str | FsPath]) -> list[FsPath]:
    """``*.cases.yaml`` files named directly or found (recursively) in folders."""
    out: list[FsPath] = []
    for raw in paths:
        p = FsPath(raw)
        out.extend(sorted(p.rglob("*.cases.yaml")) if p.is_dir() else [p])
    return out


NO_PROTOCOLS = (
    "no protocols beside this cases file: put it in PROTOCOLS/tests/, name them with "
    "`protocols: PATH` (relative to this file), or give --protocols"
)


def run_suite(
    files: Sequence[FsPath], load: Callable[[str], Sequence[LoadedProtocol]], protocols: str | None = None
) -> Suite:
    """Load every cases file and run its cases against ``protocols`` when given, else against the
    protocols beside it (``CasesDoc.protocols``); each set is loaded once with ``load``. File
    problems are collected, never raised (a protocol set that cannot be loaded raises from ``load``)."""
    groups: dict[str, list[CasesDoc]] = {}
    problems: list[Problem] = []
    for f in files:
        doc = read_cases(f)
        problems.extend(doc.problems)
        where = protocols or doc.protocols
        if where is None:
            problems.append(Problem(doc.file, None, None, "cases-without-protocols", NO_PROTOCOLS))
        elif doc.cases:
            groups.setdefault(where, []).append(doc)
    results: dict[str, list[CaseResult]] = {}
    runs: list[Run] = []
    for where, docs in groups.items():
        loaded = load(where)
        runs.append(Run(where, loaded, [d.file for d in docs]))
        for d in docs:
            results[d.file] = [run_case(c, loaded) for c in d.cases]
    ordered = [r for f in files for r in results.get(str(f), [])]
    return Suite([str(f) for f in files], ordered, problems, runs)


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


def coverage(suite: Suite) -> list[Coverage]:
    """Rule, option and condition-leaf coverage per protocol tested, from the cases run against it."""
    return [
        _coverage(lp, [r for r in suite.results if r.case.file in run.files])
        for run in suite.runs
        for lp in run.protocols
    ]


def _coverage(lp: LoadedProtocol, results: Sequence[CaseResult]) -> Coverage:
    """What ``results`` exercised in one protocol (options marked insufficient_evidence can never be
    offered and are not counted)."""
    from kapdecide.inputs.yaml_source import format_path
    from kapdecide.language.conditions import describe, walk_leaves
    from kapdecide.language.evaluator import evaluate_leaf
    from kapdecide.language.fact_builder import build_facts

    p = lp.protocol
    conditions = [(r.id, r.when) for r in p.rules] + [
        (f"{o.id}.{x.id}", x.when) for o in p.options for x in o.exclude_when
    ]
    named = [
        (f"{owner} {format_path(path) or 'when'}: {describe(leaf)}", leaf)
        for owner, cond in conditions
        for path, leaf in walk_leaves(cond)
    ]
    leaves: dict[str, set[bool | None]] = {name: set() for name, _ in named}
    fired: set[str] = set()
    offered: set[str] = set()
    freshness: dict[str, int] = {f.source: f.max_age_days for f in p.freshness}
    for r in results:
        if r.report is None or r.profile is None or r.as_of is None:
            continue
        fired |= {f["rule_id"] for f in r.report["findings"] if f["protocol_id"] == p.id}
        offered |= {o["option_id"] for o in r.report["options"] if o["protocol_id"] == p.id and o["state"] == "offered"}
        facts = build_facts(r.profile, r.as_of, freshness).values
        for name, leaf in named:
            leaves[name].add(evaluate_leaf(leaf, facts))
    return Coverage(
        protocol_id=p.id,
        rules=[r.id for r in p.rules],
        rules_fired=fired,
        options=[o.id for o in p.options if o.insufficient_evidence is None],
        options_offered=offered,
        leaves=leaves,
    )
