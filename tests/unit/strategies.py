"""Hypothesis strategies: well-typed conditions over fields of every type, and random fact dicts."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kapdecide.language.conditions import All, AnyOf, ConditionNode, Leaf, Not, check_leaf, walk_leaves
from kapdecide.language.facts import FIELDS, Facts

#: A handful of fields of each type (all real schema fields).
POOL: dict[str, tuple[str, ...]] = {
    "bool": ("pregnancy.possible", "context.secure_storage", "substance_use.any_intoxicated"),
    "int": ("patient.age", "vitals.bp_systolic_mmhg", "substance_use.alcohol.days_since_last_use"),
    "number": ("patient.weight_kg",),
    "enum": ("patient.sex_at_birth", "psychiatric.mania", "substance_use.alcohol.severity"),
    "enum_list": ("medications.classes", "psychiatric.conditions"),
    "text_list": ("medications.unchecked", "allergies.unrecognised"),  # free text: no vocabulary check
}
FIELD_NAMES = tuple(f for fs in POOL.values() for f in fs)
assert all(FIELDS[f].type == t for t, fs in POOL.items() for f in fs)

OPS = {
    "bool": ("==", "!="),
    "int": ("==", "!=", "<", "<=", ">", ">=", "in", "not_in"),
    "number": ("<", "<=", ">", ">="),
    "enum": ("==", "!=", "in", "not_in"),
    "enum_list": ("contains", "not_contains"),
    "text_list": ("contains", "not_contains"),
}

#: Small pools, so that a constant often equals the fact value (boundaries are where engines go wrong).
_INT_POOL = st.sampled_from([-1, 0, 1, 18, 140, 141, 2**31 - 1])
INTS = st.one_of(_INT_POOL, _INT_POOL, _INT_POOL, st.integers(min_value=-3, max_value=200), st.just(10**12))
_FLOAT_POOL = st.sampled_from([1e-05, 2.5e-07, 0.1 + 0.2, 80.0, 1e20])
FLOATS = st.one_of(
    _FLOAT_POOL,
    _FLOAT_POOL,
    st.sampled_from([0.0, -1e-05, 1e-7, 0.1, 0.3, 0.5, 79.99999999999999, 80.5, 1e16, 123456789.125, 650.0]),
)
NUMBER_CONSTANTS = st.one_of(FLOATS, st.sampled_from([0, 1, 80, 650]))
#: Names for text lists: unicode, quotes, backslashes, spaces, digits followed by "e" (on both sides).
TEXTS = ("lorazepam", "x", "Zolpidem", "é-agent", 'quo"te', "back\\slash", "two words", "b12e", "", "ümlaut ß")


def vocabulary(field: str) -> tuple[str, ...]:
    return FIELDS[field].vocabulary


def _scalar(field: str) -> st.SearchStrategy[Any]:
    t = FIELDS[field].type
    if t == "bool":
        return st.booleans()
    if t == "int":
        return INTS
    if t == "number":
        return NUMBER_CONSTANTS
    if t in ("enum", "enum_list"):
        return st.sampled_from(vocabulary(field)[:6])
    return st.sampled_from(TEXTS)


@st.composite
def leaves(draw: st.DrawFn, fields: tuple[str, ...] = FIELD_NAMES) -> Leaf:
    field = draw(st.sampled_from(fields))
    t = FIELDS[field].type
    op = draw(st.sampled_from((*OPS[t], "is_known", "is_unknown")))
    if op in ("is_known", "is_unknown"):
        value: Any = None
    elif op in ("in", "not_in"):
        value = draw(st.lists(_scalar(field), min_size=1, max_size=3))
    else:
        value = draw(_scalar(field))
    leaf = Leaf.model_validate({"field": field, "op": op, "value": value})
    assert check_leaf(leaf) == [], (leaf, check_leaf(leaf))
    return leaf


def conditions(max_leaves: int = 8) -> st.SearchStrategy[ConditionNode]:
    return st.recursive(
        leaves(),
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3).map(lambda cs: All(all=cs)),
            st.lists(children, min_size=1, max_size=3).map(lambda cs: AnyOf(any=cs)),
            children.map(lambda c: Not.model_validate({"not": c})),
        ),
        max_leaves=max_leaves,
    )


def _value(field: str) -> st.SearchStrategy[Any]:
    t = FIELDS[field].type
    if t == "bool":
        return st.booleans()
    if t == "int":
        return INTS
    if t == "number":
        return FLOATS
    if t == "enum":
        return st.sampled_from(vocabulary(field)[:6])
    pool = vocabulary(field)[:6] if t == "enum_list" else TEXTS
    return st.lists(st.sampled_from(pool), unique=True, max_size=4).map(lambda xs: tuple(sorted(xs)))


def constants(conds: list[ConditionNode]) -> dict[str, list[Any]]:
    """The constants each field is compared with in ``conds``."""
    out: dict[str, list[Any]] = {}
    for cond in conds:
        for _, leaf in walk_leaves(cond):
            values = leaf.value if isinstance(leaf.value, list) else [leaf.value]
            out.setdefault(leaf.field, []).extend(x for x in values if x is not None)
    return out


@st.composite
def fact_dicts(
    draw: st.DrawFn, fields: tuple[str, ...] = FIELD_NAMES, near: dict[str, list[Any]] | None = None
) -> Facts:
    """Random facts; with ``near``, values are often exactly a condition's constant (the boundary)."""
    out: Facts = {}
    for field in fields:
        if not draw(st.booleans()):
            continue
        t = FIELDS[field].type
        hits = (near or {}).get(field, [])
        if t == "number":
            hits = [float(x) for x in hits]
        if hits and t in ("bool", "int", "number", "enum") and draw(st.booleans()):
            out[field] = draw(st.sampled_from(hits))
        elif hits and t in ("enum_list", "text_list"):
            pool = sorted({*hits, *(vocabulary(field)[:6] if t == "enum_list" else TEXTS)})
            out[field] = tuple(sorted(draw(st.lists(st.sampled_from(pool), unique=True, max_size=4))))
        else:
            out[field] = draw(_value(field))
    return out


@st.composite
def conditions_and_facts(
    draw: st.DrawFn, n_conditions: tuple[int, int] = (1, 1), n_facts: tuple[int, int] = (1, 1)
) -> tuple[list[ConditionNode], list[Facts]]:
    """Conditions, and fact dicts that often sit exactly on the conditions' constants."""
    conds = draw(st.lists(conditions(), min_size=n_conditions[0], max_size=n_conditions[1]))
    near = constants(conds)
    facts = draw(st.lists(fact_dicts(near=near), min_size=n_facts[0], max_size=n_facts[1]))
    return conds, facts


def kleene_not(t: bool | None) -> bool | None:
    return None if t is None else not t


def kleene_all(ts: list[bool | None]) -> bool | None:
    if any(t is False for t in ts):
        return False
    return None if any(t is None for t in ts) else True


def kleene_any(ts: list[bool | None]) -> bool | None:
    if any(t is True for t in ts):
        return True
    return None if any(t is None for t in ts) else False
