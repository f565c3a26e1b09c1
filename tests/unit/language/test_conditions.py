"""conditions: models, type checks against the fact schema, negation, DNF and engine tests."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from kapdecide.language.conditions import (
    MAX_BRANCHES_PER_RULE,
    All,
    AnyOf,
    Condition,
    ConditionNode,
    Leaf,
    Not,
    TooManyBranches,
    check_leaf,
    depth,
    dnf,
    fields_of,
    negate,
    walk_leaves,
)
from kapdecide.language.evaluator import evaluate, evaluate_leaf
from kapdecide.language.facts import Facts

from ..strategies import conditions_and_facts, kleene_all, kleene_any, kleene_not

COND = TypeAdapter(Condition)


def parse(data: Any) -> ConditionNode:
    return COND.validate_python(data)  # type: ignore[no-any-return]


def leaf(field: str, op: str, value: Any = None) -> Leaf:
    return Leaf.model_validate({"field": field, "op": op, "value": value})


# ---------------------------------------------------------------- models


def test_parse_nested_condition() -> None:
    c = parse(
        {
            "all": [
                {"field": "patient.age", "op": ">=", "value": 18},
                {"not": {"any": [{"field": "pregnancy.possible", "op": "==", "value": True}]}},
            ]
        }
    )
    assert isinstance(c, All)
    assert isinstance(c.all[1], Not)
    assert isinstance(c.all[1].not_, AnyOf)
    assert isinstance(c.all[0], Leaf) and c.all[0].value == 18 and type(c.all[0].value) is int


def test_leaf_value_types_are_strict() -> None:
    assert type(parse({"field": "pregnancy.possible", "op": "==", "value": True}).value) is bool  # type: ignore[union-attr]
    assert type(parse({"field": "patient.weight_kg", "op": ">", "value": 80.5}).value) is float  # type: ignore[union-attr]
    assert parse({"field": "patient.age", "op": "in", "value": [1, 2]}).value == [1, 2]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "bad",
    [
        {"field": "patient.age", "op": "=>", "value": 1},
        {"field": "patient.age", "op": "==", "value": 1, "extra": 2},
        {"feild": "patient.age", "op": "==", "value": 1},
        {"all": [{"field": "patient.age", "op": "==", "value": 1}], "any": []},
        {"all": {"field": "patient.age", "op": "==", "value": 1}},
        {"field": "patient.age", "op": "==", "value": {"a": 1}},
        "patient.age > 1",
    ],
)
def test_malformed_conditions_rejected(bad: Any) -> None:
    with pytest.raises(ValidationError):
        parse(bad)


def test_structure_helpers() -> None:
    c = parse(
        {
            "all": [
                {"field": "patient.age", "op": ">=", "value": 18},
                {
                    "any": [
                        {"field": "patient.age", "op": "<", "value": 5},
                        {"not": {"field": "pregnancy.possible", "op": "==", "value": True}},
                    ]
                },
            ]
        }
    )
    paths = [p for p, _ in walk_leaves(c)]
    assert paths == [("all", 0), ("all", 1, "any", 0), ("all", 1, "any", 1, "not")]
    assert depth(c) == 4
    assert depth(leaf("patient.age", "is_known")) == 1
    assert fields_of(c) == ["patient.age", "pregnancy.possible"]


# ---------------------------------------------------------------- check_leaf


def codes(lf: Leaf) -> list[str]:
    return [code for code, _ in check_leaf(lf)]


def test_check_leaf_accepts_well_typed_leaves() -> None:
    for lf in [
        leaf("patient.age", ">=", 18),
        leaf("patient.age", "in", [1, 2]),
        leaf("patient.weight_kg", "<", 50),
        leaf("patient.weight_kg", "<=", 49.5),
        leaf("pregnancy.possible", "==", False),
        leaf("patient.sex_at_birth", "!=", "male"),
        leaf("patient.sex_at_birth", "not_in", ["male", "intersex"]),
        leaf("medications.classes", "contains", "maoi"),
        leaf("medications.unchecked", "not_contains", "anything"),
        leaf("screening.phq9", "is_unknown"),
        leaf("allergies.agents", "is_known"),
    ]:
        assert check_leaf(lf) == [], lf


def test_unknown_profile_field_with_suggestion() -> None:
    ((code, msg),) = check_leaf(leaf("vitals.bp_systolic", ">=", 140))
    assert code == "unknown-profile-field"
    assert "did you mean 'vitals.bp_systolic_mmhg'" in msg
    ((code, msg),) = check_leaf(leaf("zzz", "is_known"))
    assert code == "unknown-profile-field" and "did you mean" not in msg


@pytest.mark.parametrize(
    ("field", "op", "value"),
    [
        ("pregnancy.possible", "<", True),
        ("patient.weight_kg", "==", 80),
        ("patient.weight_kg", "in", [80]),
        ("patient.sex_at_birth", ">", "female"),
        ("medications.classes", "==", "maoi"),
        ("medications.classes", "in", ["maoi"]),
        ("medications.unchecked", "==", "x"),
        ("patient.age", "contains", 1),
    ],
)
def test_operator_type_mismatch(field: str, op: str, value: Any) -> None:
    ((code, msg),) = check_leaf(leaf(field, op, value))
    assert code == "operator-type-mismatch"
    assert "use one of" in msg


def test_value_not_in_vocabulary() -> None:
    ((code, msg),) = check_leaf(leaf("patient.sex_at_birth", "==", "mael"))
    assert code == "value-not-in-vocabulary"
    assert "did you mean 'male'" in msg
    assert codes(leaf("medications.classes", "contains", "benzodiazepines")) == ["value-not-in-vocabulary"]
    assert codes(leaf("patient.sex_at_birth", "in", ["male", "x", "y"])) == ["value-not-in-vocabulary"] * 2


@pytest.mark.parametrize(
    ("field", "op", "value"),
    [
        ("patient.age", ">=", "18"),
        ("patient.age", ">=", 18.0),
        ("patient.age", "==", True),
        ("patient.age", "in", [1, "2"]),
        ("patient.age", "in", []),
        ("patient.age", "in", 3),
        ("patient.age", ">", [1, 2]),
        ("patient.age", ">", None),
        ("patient.weight_kg", ">", True),
        ("patient.weight_kg", ">", "80"),
        ("pregnancy.possible", "==", "true"),
        ("pregnancy.possible", "==", 1),
        ("patient.sex_at_birth", "==", 1),
        ("medications.unchecked", "contains", 3),
        ("medications.classes", "contains", None),
    ],
)
def test_type_mismatch(field: str, op: str, value: Any) -> None:
    assert codes(leaf(field, op, value)) == ["type-mismatch"]


def test_is_known_takes_no_value() -> None:
    assert codes(leaf("patient.age", "is_known", 3)) == ["unexpected-value"]


# ---------------------------------------------------------------- negation


def test_negate_structure() -> None:
    a, b = leaf("patient.age", "<", 18), leaf("pregnancy.possible", "==", True)
    n = negate(All(all=[a, b]))
    assert isinstance(n, AnyOf)
    assert [(x.field, x.op, x.value) for x in n.any] == [  # type: ignore[union-attr]
        ("patient.age", ">=", 18),
        ("pregnancy.possible", "!=", True),
    ]
    assert negate(Not.model_validate({"not": a})) == a
    for op, neg in [
        ("==", "!="),
        ("<", ">="),
        (">", "<="),
        ("in", "not_in"),
        ("contains", "not_contains"),
        ("is_unknown", "is_known"),
    ]:
        assert negate(leaf("patient.age", op, 1)).op == neg  # type: ignore[union-attr]
        assert negate(leaf("patient.age", neg, 1)).op == op  # type: ignore[union-attr]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(conditions_and_facts(n_facts=(3, 3)))
def test_negate_is_kleene_not(case: tuple[list[ConditionNode], list[Facts]]) -> None:
    (c,), fact_sets = case
    for facts in fact_sets:
        _check_negate(c, facts)


def _check_negate(c: ConditionNode, facts: Facts) -> None:
    assert evaluate(negate(c), facts) == kleene_not(evaluate(c, facts))
    assert evaluate(Not.model_validate({"not": c}), facts) == evaluate(negate(c), facts)
    assert evaluate(negate(negate(c)), facts) == evaluate(c, facts)


def _dnf_truth(branches: list[tuple[Leaf, ...]], facts: Facts) -> bool | None:
    return kleene_any([kleene_all([evaluate_leaf(lf, facts) for lf in conj]) for conj in branches])


@settings(derandomize=True, max_examples=300, deadline=None)
@given(conditions_and_facts(n_facts=(3, 3)))
def test_dnf_is_equivalent(case: tuple[list[ConditionNode], list[Facts]]) -> None:
    (c,), fact_sets = case
    branches = dnf(c, limit=10_000)
    for conj in branches:
        assert all(isinstance(lf, Leaf) and lf.op not in ("in", "not_in") for lf in conj)
    for facts in fact_sets:
        _check_dnf(c, branches, facts)


def _check_dnf(c: ConditionNode, branches: list[tuple[Leaf, ...]], facts: Facts) -> None:
    truth = evaluate(c, facts)
    some_branch_true = any(all(evaluate_leaf(lf, facts) is True for lf in conj) for conj in branches)
    assert (truth is True) == some_branch_true
    # Kleene logic is distributive, so the DNF agrees three-valued, not only on "true"
    assert _dnf_truth(branches, facts) == truth


def test_dnf_expands_in_and_not_in() -> None:
    assert dnf(leaf("patient.age", "in", [1, 2])) == [(leaf("patient.age", "==", 1),), (leaf("patient.age", "==", 2),)]
    assert dnf(leaf("patient.age", "not_in", [1, 2])) == [(leaf("patient.age", "!=", 1), leaf("patient.age", "!=", 2))]
    assert dnf(All(all=[])) == [()]
    assert dnf(AnyOf(any=[])) == []


def test_dnf_limit() -> None:
    pair = {"any": [{"field": "patient.age", "op": "==", "value": 1}, {"field": "patient.age", "op": "==", "value": 2}]}
    five = parse({"all": [pair] * 5})
    assert len(dnf(five)) == 32 == MAX_BRANCHES_PER_RULE
    with pytest.raises(TooManyBranches):
        dnf(parse({"all": [pair] * 6}))
    many = [{"field": "patient.age", "op": "==", "value": i} for i in range(MAX_BRANCHES_PER_RULE + 1)]
    with pytest.raises(TooManyBranches):
        dnf(parse({"any": many}))
    with pytest.raises(TooManyBranches):
        dnf(parse({"not": {"all": [{"field": "patient.age", "op": "!=", "value": i} for i in range(33)]}}))


def test_dnf_limit_applies_to_in_lists() -> None:
    # {any: [33 leaves]} raises TooManyBranches, but the equivalent `in` with 33 values expands silently
    with pytest.raises(TooManyBranches):
        dnf(leaf("patient.age", "in", list(range(MAX_BRANCHES_PER_RULE + 1))))


@given(st.integers(min_value=1, max_value=6))
@settings(derandomize=True, max_examples=10)
def test_dnf_branch_count_of_all_of_pairs(n: int) -> None:
    pair = {"any": [{"field": "patient.age", "op": "==", "value": 1}, {"field": "patient.age", "op": "==", "value": 2}]}
    assert len(dnf(parse({"all": [pair] * n}), limit=10_000)) == 2**n


def test_one_operator_table_covers_every_operator_and_every_wording() -> None:
    """Issue 14: the CDS Hooks wording lacked not_in/not_contains and printed them raw."""
    import typing

    from kapdecide.core.operators import OPERATORS, Op

    assert set(typing.get_args(Op)) == set(OPERATORS)
    for op, spec in OPERATORS.items():
        assert OPERATORS[spec.negation].negation == op
        assert spec.words and spec.sign and "_" not in spec.words + spec.sign
