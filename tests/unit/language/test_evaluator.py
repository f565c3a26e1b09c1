"""evaluator: three-valued (Kleene) evaluation, leaf semantics, and the reasons behind a result."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings

from kapdecide.language.conditions import All, AnyOf, ConditionNode, Leaf, Not
from kapdecide.language.evaluator import LeafResult, compile_condition, evaluate, evaluate_leaf, explain, reasons
from kapdecide.language.facts import Facts, OpenList

from ..strategies import conditions_and_facts, kleene_all, kleene_any, kleene_not

T, F, U = True, False, None
FACTS: Facts = {"patient.age": 40}


def leaf(field: str, op: str, value: Any = None) -> Leaf:
    return Leaf.model_validate({"field": field, "op": op, "value": value})


#: Leaves that evaluate to true, false and unknown on FACTS.
CONST: dict[bool | None, Leaf] = {
    T: leaf("patient.age", "==", 40),
    F: leaf("patient.age", "==", 41),
    U: leaf("screening.phq9", ">", 10),
}


def test_constants() -> None:
    assert {evaluate(c, FACTS) for c in CONST.values()} == {T, F, U}
    for t, c in CONST.items():
        assert evaluate(c, FACTS) is t


@pytest.mark.parametrize("a", [T, F, U])
def test_not_truth_table(a: bool | None) -> None:
    assert evaluate(Not.model_validate({"not": CONST[a]}), FACTS) is {T: F, F: T, U: U}[a]  # type: ignore[index]


AND = {(T, T): T, (T, F): F, (T, U): U, (F, F): F, (F, U): F, (U, U): U}
OR = {(T, T): T, (T, F): T, (T, U): T, (F, F): F, (F, U): U, (U, U): U}


@pytest.mark.parametrize(("a", "b"), list(itertools.product([T, F, U], repeat=2)))
def test_binary_truth_tables(a: bool | None, b: bool | None) -> None:
    key = (a, b) if (a, b) in AND else (b, a)
    assert evaluate(All(all=[CONST[a], CONST[b]]), FACTS) is AND[key]  # type: ignore[index]
    assert evaluate(AnyOf(any=[CONST[a], CONST[b]]), FACTS) is OR[key]  # type: ignore[index]


@pytest.mark.parametrize("values", list(itertools.product([T, F, U], repeat=3)))
def test_nary_matches_reference(values: tuple[bool | None, ...]) -> None:
    items: list[ConditionNode] = [CONST[v] for v in values]  # type: ignore[index]
    assert evaluate(All(all=items), FACTS) is kleene_all(list(values))
    assert evaluate(AnyOf(any=items), FACTS) is kleene_any(list(values))
    assert evaluate(Not.model_validate({"not": All(all=items)}), FACTS) is kleene_not(kleene_all(list(values)))


def test_empty_all_and_any() -> None:
    assert evaluate(All(all=[]), FACTS) is True
    assert evaluate(AnyOf(any=[]), FACTS) is False


# ---------------------------------------------------------------- leaves


FULL: Facts = {
    "patient.age": 40,
    "patient.weight_kg": 80.0,
    "patient.sex_at_birth": "female",
    "pregnancy.possible": False,
    "medications.classes": ("benzodiazepine", "opioid"),
    "medications.unchecked": (),
}


@pytest.mark.parametrize(
    ("lf", "expected"),
    [
        (leaf("patient.age", "==", 40), T),
        (leaf("patient.age", "!=", 40), F),
        (leaf("patient.age", "<", 40), F),
        (leaf("patient.age", "<=", 40), T),
        (leaf("patient.age", ">", 39), T),
        (leaf("patient.age", ">=", 41), F),
        (leaf("patient.age", "in", [1, 40]), T),
        (leaf("patient.age", "not_in", [1, 40]), F),
        (leaf("patient.age", "not_in", [1, 2]), T),
        (leaf("patient.weight_kg", ">", 79.99), T),
        (leaf("patient.weight_kg", "<", 80), F),
        (leaf("patient.weight_kg", "<=", 80), T),
        (leaf("patient.sex_at_birth", "==", "female"), T),
        (leaf("patient.sex_at_birth", "in", ["male"]), F),
        (leaf("pregnancy.possible", "==", False), T),
        (leaf("pregnancy.possible", "!=", False), F),
        (leaf("medications.classes", "contains", "opioid"), T),
        (leaf("medications.classes", "contains", "maoi"), F),
        (leaf("medications.classes", "not_contains", "maoi"), T),
        (leaf("medications.unchecked", "not_contains", "x"), T),
        (leaf("medications.unchecked", "contains", "x"), F),
        (leaf("patient.age", "is_known"), T),
        (leaf("patient.age", "is_unknown"), F),
        (leaf("screening.phq9", "is_known"), F),
        (leaf("screening.phq9", "is_unknown"), T),
    ],
)
def test_leaf_semantics(lf: Leaf, expected: bool) -> None:
    assert evaluate_leaf(lf, FULL) is expected


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">=", "in", "not_in"])
def test_any_comparison_on_absent_field_is_unknown(op: str) -> None:
    value: Any = [1] if op in ("in", "not_in") else 1
    assert evaluate_leaf(leaf("screening.phq9", op, value), FULL) is None


@pytest.mark.parametrize("op", ["contains", "not_contains"])
def test_list_test_on_absent_list_is_unknown(op: str) -> None:
    assert evaluate_leaf(leaf("allergies.agents", op, "x"), FULL) is None


def test_bool_fact_does_not_equal_integer_semantics() -> None:
    # facts are typed: True is a bool, and a bool field's False is a recorded answer, not unknown
    assert evaluate_leaf(leaf("pregnancy.possible", "==", True), {"pregnancy.possible": False}) is False
    assert evaluate_leaf(leaf("pregnancy.possible", "==", True), {}) is None


# ---------------------------------------------------------------- reasons and explain


def test_reasons_for_true_any_lists_only_true_leaves() -> None:
    c = AnyOf(any=[leaf("patient.age", ">=", 18), leaf("patient.age", ">", 100), leaf("screening.phq9", ">", 5)])
    assert evaluate(c, FULL) is True
    assert reasons(c, FULL, True) == [LeafResult("patient.age", ">=", 18, 40, True)]


def test_reasons_for_unknown_list_the_unknown_leaves() -> None:
    c = All(all=[leaf("patient.age", ">=", 18), leaf("screening.phq9", ">", 5), leaf("screening.audit", ">", 5)])
    assert evaluate(c, FULL) is None
    assert [r.field for r in reasons(c, FULL, None)] == ["screening.phq9", "screening.audit"]
    assert all(r.value is None and r.result is None for r in reasons(c, FULL, None))


def test_reasons_through_not() -> None:
    c = Not.model_validate({"not": leaf("patient.age", "<", 18)})
    assert evaluate(c, FULL) is True
    assert reasons(c, FULL, True) == [LeafResult("patient.age", "<", 18, 40, False)]


def test_explain_lists_every_leaf_in_order() -> None:
    c = All(
        all=[
            leaf("patient.age", ">=", 18),
            AnyOf(any=[leaf("screening.phq9", ">", 5), leaf("pregnancy.possible", "==", True)]),
        ]
    )
    assert [(r.field, r.result) for r in explain(c, FULL)] == [
        ("patient.age", True),
        ("screening.phq9", None),
        ("pregnancy.possible", False),
    ]


@settings(derandomize=True, max_examples=400, deadline=None)
@given(conditions_and_facts(n_conditions=(1, 6), n_facts=(2, 5)))
def test_compiled_conditions_agree_with_evaluate(case: tuple[list[ConditionNode], list[Facts]]) -> None:
    conds, fact_sets = case
    compiled = [compile_condition(c) for c in conds]
    for facts in fact_sets:
        assert [fn(facts) for fn in compiled] == [evaluate(c, facts) for c in conds]


def test_compiled_empty_junctions_and_open_lists() -> None:
    assert compile_condition(All.model_validate({"all": []}))({}) is True
    assert compile_condition(AnyOf.model_validate({"any": []}))({}) is False
    lf = Leaf.model_validate({"field": "medications.classes", "op": "not_contains", "value": "maoi"})
    assert compile_condition(lf)({"medications.classes": OpenList(("ssri",))}) is None
    assert compile_condition(lf)({"medications.classes": ("ssri",)}) is True
    assert compile_condition(lf)({}) is None


def _reasons_reference(cond: ConditionNode, facts: Facts, want: bool | None) -> list[LeafResult]:
    # The direct definition (re-evaluates subtrees); reasons() must give the same leaves in order.
    if isinstance(cond, Leaf):
        r = evaluate_leaf(cond, facts)
        return [LeafResult(cond.field, cond.op, cond.value, facts.get(cond.field), r)] if r is want else []
    if isinstance(cond, Not):
        return _reasons_reference(cond.not_, facts, None if want is None else not want)
    items = cond.all if isinstance(cond, All) else cond.any
    return [leaf for c in items if evaluate(c, facts) is want for leaf in _reasons_reference(c, facts, want)]


@settings(derandomize=True, max_examples=300, deadline=None)
@given(conditions_and_facts(n_conditions=(1, 4), n_facts=(2, 4)))
def test_reasons_agree_with_the_direct_definition(case: tuple[list[ConditionNode], list[Facts]]) -> None:
    conds, fact_sets = case
    for facts in fact_sets:
        for c in conds:
            for want in (True, False, None):
                assert reasons(c, facts, want) == _reasons_reference(c, facts, want)
