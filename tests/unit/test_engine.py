"""engine: the durable-rules adapter agrees with the Python evaluator, stays inside the engine's limits."""

from __future__ import annotations

import json
import re
import resource
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kapdecide.core.errors import EngineError
from kapdecide.engine import (
    CHUNK,
    END,
    LIST_SENTINEL,
    Engine,
    EngineRule,
    dumps,
    encode_facts,
    engine_tests,
    fnv1a_32,
    hash_collisions,
    reserved_value,
)
from kapdecide.language.conditions import All, ConditionNode, Leaf, dnf
from kapdecide.language.evaluator import evaluate
from kapdecide.language.facts import FIELDS, Facts, OpenList

from .strategies import conditions_and_facts, fact_dicts

#: An integer mantissa directly followed by an exponent, outside any string (what the engine rejects).
INT_EXPONENT = re.compile(r"(?<![\d.])-?\d+[eE]")


def leaf(field: str, op: str, value: Any = None) -> Leaf:
    return Leaf.model_validate({"field": field, "op": op, "value": value})


def compile_rules(conds: list[ConditionNode]) -> Engine:
    return Engine([EngineRule(f"r{i}", tuple(dnf(c, limit=10_000))) for i, c in enumerate(conds)])


def expected(conds: list[ConditionNode], facts: Facts) -> set[str]:
    return {f"r{i}" for i, c in enumerate(conds) if evaluate(c, facts) is True}


# ---------------------------------------------------------------- differential


@settings(derandomize=True, max_examples=300, deadline=None)
@given(conditions_and_facts(n_conditions=(1, 6), n_facts=(2, 5)), st.lists(fact_dicts(), max_size=2))
def test_engine_agrees_with_evaluator(case: tuple[list[ConditionNode], list[Facts]], others: list[Facts]) -> None:
    conds, near_facts = case
    fact_sets = near_facts + others
    engine = compile_rules(conds)
    for facts in fact_sets:
        assert engine.fired(facts) == expected(conds, facts), facts


BOUNDARY_FACTS: list[Facts] = [
    {},
    {"patient.age": 0, "patient.weight_kg": 1e-05, "medications.unchecked": (), "psychiatric.conditions": ()},
    {"patient.age": 140, "patient.weight_kg": 80.0, "pregnancy.possible": False, "allergies.agents": ("",)},
    {"patient.age": -1, "patient.weight_kg": 1e20, "pregnancy.possible": True, "medications.classes": ("maoi",)},
    {"patient.age": 2**31 - 1, "patient.weight_kg": 2.5e-07, "allergies.agents": ('quo"te', "é", "b12e")},
    {"patient.weight_kg": 0.1 + 0.2, "patient.sex_at_birth": "intersex"},
]
BOUNDARY_CONDITIONS: list[ConditionNode] = [
    leaf("patient.age", ">=", 0),
    leaf("patient.age", "<", 0),
    leaf("patient.age", "!=", 140),
    leaf("patient.age", "==", 2**31 - 1),
    leaf("patient.age", "not_in", [0, 140]),
    leaf("patient.weight_kg", ">", 0),
    leaf("patient.weight_kg", ">=", 1e-05),
    leaf("patient.weight_kg", "<", 1e-05),
    leaf("patient.weight_kg", ">", 0.3),
    leaf("patient.weight_kg", "<=", 0.30000000000000004),
    leaf("patient.weight_kg", ">=", 1e20),
    leaf("patient.weight_kg", "<", 2.5e-07),
    leaf("patient.weight_kg", "<", 1),
    leaf("pregnancy.possible", "==", False),
    leaf("pregnancy.possible", "!=", True),
    leaf("medications.unchecked", "not_contains", "x"),
    leaf("medications.unchecked", "contains", "x"),
    leaf("psychiatric.conditions", "not_contains", "ptsd"),
    leaf("medications.classes", "contains", "maoi"),
    leaf("allergies.agents", "contains", ""),
    leaf("allergies.agents", "contains", 'quo"te'),
    leaf("allergies.agents", "contains", "é"),
    leaf("allergies.agents", "not_contains", "b12e"),
    leaf("patient.sex_at_birth", "is_unknown"),
    leaf("patient.sex_at_birth", "is_known"),
    leaf("patient.sex_at_birth", "!=", "male"),
    leaf("patient.sex_at_birth", "in", ["intersex", "female"]),
]


@pytest.mark.parametrize("facts", BOUNDARY_FACTS)
def test_engine_boundaries(facts: Facts) -> None:
    engine = compile_rules(BOUNDARY_CONDITIONS)
    assert engine.fired(facts) == expected(BOUNDARY_CONDITIONS, facts)


def test_boundary_expectations_are_not_trivial() -> None:
    fired = [expected(BOUNDARY_CONDITIONS, f) for f in BOUNDARY_FACTS]
    assert fired[0] == {"r23"}  # on no facts only is_unknown is true
    assert all(0 < len(f) < len(BOUNDARY_CONDITIONS) for f in fired)
    # empty lists: not_contains is true and contains is false (the engine needs the sentinel for this)
    assert {"r15", "r17"} <= fired[1] and "r16" not in fired[1]


def test_more_rules_than_one_chunk() -> None:
    n = CHUNK * 3 + 7
    conds: list[ConditionNode] = [leaf("patient.age", ">=", i) for i in range(n)]
    conds.append(leaf("patient.age", "in", list(range(0, n, 2))))  # one rule whose branches span chunks
    engine = compile_rules(conds)
    for age in (0, 1, CHUNK - 1, CHUNK, 100, n - 1, n + 50):
        facts: Facts = {"patient.age": age}
        fired = engine.fired(facts)
        assert fired == expected(conds, facts)
        assert len(fired) == min(age + 1, n) + (1 if age < n and age % 2 == 0 else 0)
    assert engine.fired({}) == set()


def test_the_same_fact_text_is_answered_once_per_ruleset(monkeypatch: pytest.MonkeyPatch) -> None:
    import kapdecide.engine as engine_module

    engine = compile_rules([leaf("patient.age", ">=", 65), leaf("medications.classes", "contains", "opioid")])
    sent: list[str] = []
    for rs in engine._rulesets:
        run = rs._run
        monkeypatch.setattr(rs, "_run", lambda body, run=run: sent.append(body) or run(body))
    old: Facts = {"patient.age": 70, "medications.classes": ("opioid",)}
    assert engine.fired(old) == engine.fired(dict(old)) == {"r0", "r1"}
    first = len(sent)
    assert engine.fired({**old, "patient.age": 30}) == {"r1"}  # a new value is asked, not guessed
    assert len(sent) == first + 1 and '"patient.age":30' in sent[-1]
    assert engine.fired(old) == {"r0", "r1"} and len(sent) == first + 1
    monkeypatch.setattr(engine_module, "_MEMO_MAX", 3)
    for age in range(10):
        assert engine.fired({"patient.age": age}) == ({"r0"} if age >= 65 else set())
    assert all(rs._memo is not None and len(rs._memo) <= 3 for rs in engine._rulesets)  # bounded
    monkeypatch.setattr(engine_module, "_MEMO_TRIAL", 20)
    rare = compile_rules([leaf("patient.age", ">=", 65)])
    for age in range(30):  # a new value every time: the ruleset stops keeping answers, and stays right
        assert rare.fired({"patient.age": age}) == ({"r0"} if age >= 65 else set())
    assert all(rs._memo is None for rs in rare._rulesets)
    assert rare.fired({"patient.age": 70}) == {"r0"}
    known = compile_rules([leaf("patient.age", "is_known")])
    assert known.fired({}) == set() and known.fired({"patient.age": None}) == {"r0"}  # absent is not null


def test_empty_engine_and_rule_without_branches() -> None:
    assert Engine([]).fired({"patient.age": 3}) == set()
    engine = Engine([EngineRule("never", ()), EngineRule("always", ((),))])
    assert engine.fired({"patient.age": 3}) == {"always"}
    assert engine.fired({}) == {"always"}


def test_two_engines_are_independent() -> None:
    a = compile_rules([leaf("patient.age", ">", 10)])
    b = compile_rules([leaf("patient.age", "<", 10)])
    assert a.fired({"patient.age": 20}) == {"r0"}
    assert b.fired({"patient.age": 20}) == set()
    assert b.fired({"patient.age": 5}) == {"r0"}


def test_encoded_facts_never_send_an_empty_list() -> None:
    encoded = encode_facts(
        {"allergies.agents": (), "medications.classes": OpenList(("maoi",)), "patient.age": 3, "w": 1e-05}
    )
    assert {k: json.loads(v) for k, v in encoded.items()} == {
        "kind": "profile",
        "allergies.agents": [LIST_SENTINEL],
        "allergies.agents__closed": True,
        "medications.classes": ["maoi", LIST_SENTINEL],
        "medications.classes__closed": False,
        "patient.age": 3,
        "w": 1e-05,
    }
    assert encoded["w"] == "1.0e-05"  # the engine rejects an integer mantissa with an exponent


def _wide_rules() -> list[ConditionNode]:
    # One ruleset testing 300 fields: each ruleset is sent only the fields it tests, so only a
    # ruleset that tests that many can receive a fact wider than the engine accepts.
    wide = [
        All.model_validate({"all": [{"field": f"x{i}", "op": ">=", "value": 0} for i in range(j, j + 20)]})
        for j in range(0, 300, 20)
    ]
    return [leaf("patient.age", ">", 10), *wide]


def test_each_ruleset_receives_only_the_fields_it_tests() -> None:
    engine = compile_rules([leaf("patient.age", ">", 10)])
    untested: Facts = {f"x{i}": i for i in range(300)}  # wider than the engine accepts, but untested
    untested["patient.age"] = 20
    assert engine.fired(untested) == {"r0"}


def test_truncated_batch_is_detected_and_the_engine_recovers() -> None:
    engine = compile_rules(_wide_rules())
    too_wide: Facts = {f"x{i}": i for i in range(300)}  # the engine allows ~252 fields per fact
    too_wide["patient.age"] = 20
    with pytest.raises(EngineError):
        engine.fired(too_wide)
    assert engine.fired({"patient.age": 20}) == {"r0"}
    with pytest.raises(EngineError):
        engine.fired({"patient.age": float("nan")})
    assert engine.fired({"patient.age": 5}) == set()


def test_more_failed_sessions_than_the_engine_keeps_alive() -> None:
    # each failed batch leaves its session behind (never touched again); the engine allows 1,024 live
    # sessions per ruleset, so the adapter must rebuild the ruleset before that
    engine = compile_rules(_wide_rules())
    too_wide: Facts = {f"x{i}": i for i in range(300)}
    for _ in range(1_100):
        with pytest.raises(EngineError):
            engine.fired(too_wide)
    assert engine.fired({"patient.age": 20}) == {"r0"}
    assert engine.fired({"patient.age": 2}) == set()


# ---------------------------------------------------------------- JSON for the engine


JSON_VALUES = st.recursive(
    st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from("abc"), inner, max_size=3)),
    max_leaves=12,
)


@settings(derandomize=True, max_examples=300)
@given(JSON_VALUES)
def test_dumps_never_writes_integer_mantissa_exponent(value: Any) -> None:
    text = dumps(value)
    assert not INT_EXPONENT.search(text), text
    assert json.loads(text) == value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1.0e-05"),
        (-1e-07, "-1.0e-07"),
        (1e20, "1.0e+20"),
        (1e16, "1.0e+16"),
        (2.5e-07, "2.5e-07"),
        (0.1, "0.1"),
        (100, "100"),
        (1e15, "1000000000000000.0"),
    ],
)
def test_dumps_examples(value: float, text: str) -> None:
    assert dumps(value) == text
    assert dumps([value, {"k": value}]) == f'[{text},{{"k":{text}}}]'


def test_dumps_refuses_nan_and_keeps_unicode() -> None:
    with pytest.raises(ValueError):
        dumps(float("nan"))
    with pytest.raises(ValueError):
        dumps({"a": float("inf")})
    assert dumps({"é": "ü"}) == '{"é":"ü"}'


def test_dumps_leaves_strings_alone() -> None:
    assert json.loads(dumps({"s": "1e5", "t": "x12e"})) == {"s": "1e5", "t": "x12e"}


def test_engine_distinguishes_strings_that_dumps_rewrites() -> None:
    conds: list[ConditionNode] = [leaf("allergies.agents", "contains", "1.0e")]
    facts: Facts = {"allergies.agents": ("1e",)}
    assert compile_rules(conds).fired(facts) == expected(conds, facts) == set()


def test_list_sentinel_is_refused_as_a_protocol_constant() -> None:
    # The engine sees every list with the sentinel appended, so a protocol may never test for it.
    for op in ("contains", "not_contains"):
        codes = [code for code, _ in reserved_value(leaf("medications.unchecked", op, LIST_SENTINEL))]
        assert codes == ["reserved-value"]
    assert [c for c, _ in reserved_value(leaf("patient.sex_at_birth", "in", ["male", LIST_SENTINEL]))] == [
        "reserved-value"
    ]


# ---------------------------------------------------------------- field-name hashes


def test_fnv1a_reference_values() -> None:
    assert fnv1a_32("") == 0x811C9DC5
    assert fnv1a_32("a") == 0xE40C292C
    assert fnv1a_32("foobar") == 0xBF9CF968


def test_hash_collisions_finds_a_real_collision() -> None:
    assert fnv1a_32("bp_bp_37497") == fnv1a_32("hr_bp_59462")
    assert hash_collisions(["bp_bp_37497", "hr_bp_59462"]) == [("bp_bp_37497", "hr_bp_59462")]
    # segments of dotted names count too
    assert hash_collisions(["vitals.bp_bp_37497", "other.hr_bp_59462"]) == [("bp_bp_37497", "hr_bp_59462")]


def test_no_hash_collisions_among_schema_fields() -> None:
    assert hash_collisions(FIELDS) == []
    assert hash_collisions([*FIELDS, END, "kind", "sid", "id"]) == []


# ---------------------------------------------------------------- memory


def test_memory_stays_flat() -> None:
    conds: list[ConditionNode] = [
        leaf("patient.age", ">=", 18),
        leaf("vitals.bp_systolic_mmhg", ">=", 140),
        leaf("medications.classes", "contains", "benzodiazepine"),
        leaf("allergies.agents", "not_contains", "x"),
        leaf("pregnancy.possible", "is_unknown"),
        leaf("patient.weight_kg", "<", 50.5),
    ]
    engine = compile_rules(conds)
    profiles: list[Facts] = [
        {
            "patient.age": i % 90,
            "vitals.bp_systolic_mmhg": 100 + i % 80,
            "patient.weight_kg": 40 + (i % 50) / 3,
            "medications.classes": ("benzodiazepine",) if i % 3 else (),
            "allergies.agents": ("x",) if i % 5 else (),
        }
        for i in range(100)
    ]

    def run(n: int) -> None:
        for i in range(n):
            facts = profiles[i % len(profiles)]
            assert engine.fired(facts) == expected(conds, facts)

    run(2_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    current_before = _current_rss_kib()
    run(20_000)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert after - before < 5 * 1024, f"max RSS grew by {after - before} KiB"
    # the high-water mark may already be above this test's use: check the current size too, where known
    current_after = _current_rss_kib()
    if current_before is not None and current_after is not None:
        assert current_after - current_before < 5 * 1024, f"RSS grew by {current_after - current_before} KiB"


def _current_rss_kib() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- incomplete (open-world) lists


@settings(max_examples=300, derandomize=True, deadline=None)
@given(conditions_and_facts(n_conditions=(1, 6), n_facts=(2, 5)), st.data())
def test_engine_agrees_with_evaluator_on_open_lists(
    case: tuple[list[ConditionNode], list[Facts]], data: st.DataObject
) -> None:
    from kapdecide.language.facts import OpenList

    conds, fact_sets = case
    engine = compile_rules(conds)
    for facts in fact_sets:
        opened: Facts = {
            k: OpenList(v) if isinstance(v, tuple) and data.draw(st.booleans()) else v for k, v in facts.items()
        }
        assert engine.fired(opened) == expected(conds, opened), opened


def test_open_list_semantics() -> None:
    from kapdecide.language.evaluator import evaluate_leaf
    from kapdecide.language.facts import OpenList

    listed: Facts = {"medical.conditions": OpenList(("hypertension",))}
    assert evaluate_leaf(leaf("medical.conditions", "contains", "hypertension"), listed) is True
    assert evaluate_leaf(leaf("medical.conditions", "contains", "arteriovenous_malformation"), listed) is None
    assert evaluate_leaf(leaf("medical.conditions", "not_contains", "hypertension"), listed) is False
    assert evaluate_leaf(leaf("medical.conditions", "not_contains", "arteriovenous_malformation"), listed) is None
    assert evaluate_leaf(leaf("medical.conditions", "is_unknown"), listed) is False
    engine = compile_rules([leaf("medical.conditions", "not_contains", "arteriovenous_malformation")])
    assert engine.fired(listed) == set()
    assert engine.fired({"medical.conditions": ("hypertension",)}) == {"r0"}


# ---------------------------------------------------------------- engine tests


def test_engine_test_shapes() -> None:
    assert engine_tests(leaf("patient.age", "==", 3)) == [{"patient.age": 3}]
    assert engine_tests(leaf("patient.age", "!=", 3)) == [{"$neq": {"patient.age": 3}}]
    assert engine_tests(leaf("patient.age", "<", 3)) == [{"$lt": {"patient.age": 3}}]
    assert engine_tests(leaf("patient.age", "<=", 3)) == [{"$lte": {"patient.age": 3}}]
    assert engine_tests(leaf("patient.age", ">", 3)) == [{"$gt": {"patient.age": 3}}]
    assert engine_tests(leaf("patient.age", ">=", 3)) == [{"$gte": {"patient.age": 3}}]
    assert engine_tests(leaf("allergies.agents", "contains", "x")) == [{"$iany": {"allergies.agents": {"$i": "x"}}}]
    # "not included" needs a complete list: the engine checks the list's companion flag
    assert engine_tests(leaf("allergies.agents", "not_contains", "x")) == [
        {"$iall": {"allergies.agents": {"$neq": {"$i": "x"}}}},
        {"allergies.agents__closed": True},
    ]
    assert engine_tests(leaf("patient.age", "is_unknown")) == [{"$nex": {"patient.age": 1}}]
    assert engine_tests(leaf("patient.age", "is_known")) == [{"$ex": {"patient.age": 1}}]
    with pytest.raises(ValueError):
        engine_tests(leaf("patient.age", "in", [1]))
    assert LIST_SENTINEL.startswith("__")
