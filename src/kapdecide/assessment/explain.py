"""Explanations for protocol authors: why each rule did or did not fire, and what would change the answer.

The leaf results come from the three-valued evaluator; ``fired`` equals ``result == "true"``
because every assessment has already checked that the engine fired exactly those rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import zip_longest
from typing import Any

from kapdecide.assessment.assess import assess
from kapdecide.assessment.report import LeafExplanation, Report, RuleExplanation, Scenario, WhatIf
from kapdecide.core.contract import ExplainedKind
from kapdecide.inputs.profile import Profile
from kapdecide.inputs.yaml_source import format_path
from kapdecide.language.conditions import ConditionNode, walk_leaves
from kapdecide.language.evaluator import evaluate, evaluate_leaf
from kapdecide.language.fact_builder import build_facts
from kapdecide.language.facts import FIELD_GROUPS, FIELDS, Facts, Value, label
from kapdecide.protocol.loader import LoadedProtocol

MAX_GROUPS = 8
MAX_SCENARIOS = 8


def _truth(t: bool | None) -> Any:
    return "unknown" if t is None else "true" if t else "false"


def protocol_facts(
    profile: Profile, lp: LoadedProtocol, as_of: dt.date, overrides: Mapping[str, Value | None] | None
) -> Facts:
    """The facts one protocol sees (its freshness limits, then the overrides)."""
    facts = build_facts(profile, as_of, {f.source: f.max_age_days for f in lp.protocol.freshness}).values
    for name, value in (overrides or {}).items():
        if value is None:
            facts.pop(name, None)
        else:
            facts[name] = value
    return facts


def _explain(
    protocol_id: str, rule_id: str, kind: ExplainedKind, title: str, cond: ConditionNode, facts: Facts
) -> RuleExplanation:
    result = _truth(evaluate(cond, facts))
    leaves = []
    for path, leaf in walk_leaves(cond):
        value = facts.get(leaf.field)
        leaves.append(
            LeafExplanation(
                path=format_path(path) or "when",
                field=leaf.field,
                label=label(leaf.field),
                value=list(value) if isinstance(value, tuple) else value,
                operator=leaf.op,
                threshold=leaf.value,
                result=_truth(evaluate_leaf(leaf, facts)),
            )
        )
    return RuleExplanation(
        protocol_id=protocol_id,
        rule_id=rule_id,
        kind=kind,
        title=title,
        result=result,
        fired=result == "true",
        leaves=leaves,
    )


def explain_rules(
    profile: Profile,
    protocols: Sequence[LoadedProtocol],
    as_of: dt.date,
    overrides: Mapping[str, Value | None] | None = None,
    rule_ids: Sequence[str] = (),
) -> list[RuleExplanation]:
    """Every rule and option exclusion (or only ``rule_ids``: a rule id or ``option.exclusion``)."""
    out = []
    wanted = set(rule_ids)
    for lp in protocols:
        p = lp.protocol
        facts = protocol_facts(profile, lp, as_of, overrides)
        items: list[tuple[str, ExplainedKind, str, ConditionNode]] = [(r.id, r.kind, r.title, r.when) for r in p.rules]
        items += [(f"{o.id}.{x.id}", "option_exclusion", x.reason, x.when) for o in p.options for x in o.exclude_when]
        for rid, kind, title, cond in items:
            if not wanted or rid in wanted:
                out.append(_explain(p.id, rid, kind, title, cond, facts))
    return out


def _candidates(field: str, protocols: Sequence[LoadedProtocol]) -> list[Any]:
    """Representative values of a field: each side of every threshold the protocols test it against."""
    spec = FIELDS[field]
    leaves = [
        leaf
        for lp in protocols
        for cond in [r.when for r in lp.protocol.rules] + [x.when for o in lp.protocol.options for x in o.exclude_when]
        for _, leaf in walk_leaves(cond)
        if leaf.field == field
    ]
    if spec.type == "bool":
        return [False, True]
    if spec.type == "enum":
        return list(spec.vocabulary)
    if spec.type in ("enum_list", "text_list"):
        used = sorted({str(leaf.value) for leaf in leaves if isinstance(leaf.value, str)})
        return [(), *((u,) for u in used)]
    points: set[float] = set()
    step = 1 if spec.type == "int" else 0.1
    for leaf in leaves:
        for t in leaf.value if isinstance(leaf.value, list) else [leaf.value]:
            if isinstance(t, int | float) and not isinstance(t, bool):
                if leaf.op in (">=", "<"):
                    points.update({t - step, t})
                elif leaf.op in (">", "<="):
                    points.update({t, t + step})
                else:
                    points.add(t)
    values = sorted(points)
    if spec.type == "int":
        return [int(x) for x in values]
    return [round(x, 3) for x in values]


def what_would_change(
    report: Report,
    profile: Profile,
    protocols: Sequence[LoadedProtocol],
    as_of: dt.date,
    overrides: Mapping[str, Value | None] | None = None,
) -> list[WhatIf]:
    """For each unknown that blocks the decision, the status and added findings under representative values."""
    base = dict(overrides or {})
    seen: set[tuple[str, ...]] = set()
    out: list[WhatIf] = []
    given = {f["rule_id"] for f in report["findings"]}
    for field in report["missing_data"]:
        if field not in FIELDS:
            continue
        fields, name = FIELD_GROUPS.get(field, ((field,), label(field)))
        if fields in seen or len(out) >= MAX_GROUPS:
            continue
        seen.add(fields)
        columns = [_candidates(f, protocols) for f in fields]
        if not all(columns):
            continue
        rows = list(zip_longest(*columns, fillvalue=None))
        rows = [tuple(r if r is not None else col[-1] for r, col in zip(row, columns, strict=True)) for row in rows]
        if len(rows) > MAX_SCENARIOS:  # keep the extremes and an even spread of boundary points
            step = (len(rows) - 1) / (MAX_SCENARIOS - 1)
            rows = [rows[round(i * step)] for i in range(MAX_SCENARIOS)]
        scenarios = []
        for row in rows:
            values = dict(zip(fields, row, strict=True))
            result = assess(profile, protocols, as_of, {**base, **values})
            scenarios.append(
                Scenario(
                    values={k: list(x) if isinstance(x, tuple) else x for k, x in values.items()},
                    status=result["status"],
                    findings=sorted({f["rule_id"] for f in result["findings"]} - given),
                )
            )
        out.append(WhatIf(fields=list(fields), label=name, scenarios=scenarios))
    return out


def with_explanation(
    report: Report,
    profile: Profile,
    protocols: Sequence[LoadedProtocol],
    as_of: dt.date,
    overrides: Mapping[str, Value | None] | None = None,
) -> Report:
    """The report with ``explanation`` and ``what_would_change`` filled in."""
    return {
        **report,
        "explanation": explain_rules(profile, protocols, as_of, overrides),
        "what_would_change": what_would_change(report, profile, protocols, as_of, overrides),
    }
