"""The condition language of protocols: models, type checks, and compilation for the engine.

A condition is data: a leaf ``{field, op, value}`` or ``all`` / ``any`` / ``not`` of conditions.
Conditions compile to disjunctive normal form (a list of conjunctions of leaves, with ``not`` pushed
into the leaves), and each conjunction becomes one single-fact durable-rules rule. That keeps the
engine inside the subset measured safe: single facts, ``$and`` of plain tests, no ``$or``, joins,
``none`` or state. Negation is pushed down with Kleene's laws, so unknown stays unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StrictBool, StrictFloat, StrictInt, StrictStr, Tag

from kapdecide.core.operators import OPERATORS, Op
from kapdecide.language.facts import FIELDS, FactField

Scalar = StrictBool | StrictInt | StrictFloat | Annotated[StrictStr, Field(max_length=200)]

#: Engine limits kept well inside what was measured (notes-durable-rules.md section 1).
MAX_BRANCHES_PER_RULE = 32
MAX_CONDITION_DEPTH = 12
MAX_LEAVES_PER_BRANCH = 24
_NEGATE: dict[str, str] = {op: spec.negation for op, spec in OPERATORS.items()}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Leaf(_Model):
    """A test on one fact field."""

    field: Annotated[StrictStr, Field(max_length=100)]
    """A fact field (see the README's field table), e.g. ``vitals.bp_systolic_mmhg``."""
    op: Op
    value: Scalar | list[Scalar] | None = None
    """The constant to compare with; a list for ``in``/``not_in``; none for ``is_unknown``/``is_known``."""


class All(_Model):
    """True when every item is true (false if any is false; otherwise unknown)."""

    all: list[Condition]


class AnyOf(_Model):
    """True when any item is true (false if every item is false; otherwise unknown)."""

    any: list[Condition]


class Not(_Model):
    """The negation; ``not unknown`` is unknown."""

    not_: Condition = Field(alias="not")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not", "field"):
            if key in value:
                return key
        return None
    if isinstance(value, BaseModel):
        return {Leaf: "field", All: "all", AnyOf: "any", Not: "not"}.get(type(value))
    return None


Condition = Annotated[
    Annotated[Leaf, Tag("field")]
    | Annotated[All, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[Not, Tag("not")],
    Discriminator(
        _kind,
        custom_error_type="condition",
        custom_error_message=("expected a condition: {field, op, value}, {all: [...]}, {any: [...]} or {not: ...}"),
    ),
]
All.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()

ConditionNode = Leaf | All | AnyOf | Not


# ---------------------------------------------------------------- structure


def children(cond: ConditionNode) -> list[tuple[str | int, ConditionNode]]:
    """Sub-conditions with their path step (for locating problems)."""
    if isinstance(cond, All):
        return [(i, c) for i, c in enumerate(cond.all)]
    if isinstance(cond, AnyOf):
        return [(i, c) for i, c in enumerate(cond.any)]
    if isinstance(cond, Not):
        return [("not", cond.not_)]
    return []


def walk_leaves(cond: ConditionNode, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Leaf]]:
    """Every leaf with its path inside the condition."""
    if isinstance(cond, Leaf):
        yield path, cond
        return
    key = "all" if isinstance(cond, All) else "any" if isinstance(cond, AnyOf) else None
    for step, child in children(cond):
        yield from walk_leaves(child, (*path, key, step) if key else (*path, step))


def depth(cond: ConditionNode) -> int:
    """Nesting depth of a condition."""
    return 1 + max((depth(c) for _, c in children(cond)), default=0)


def fields_of(cond: ConditionNode) -> list[str]:
    """The fact fields a condition reads, in order of appearance, without repeats."""
    return list(dict.fromkeys(leaf.field for _, leaf in walk_leaves(cond)))


# ---------------------------------------------------------------- type checks


def check_leaf(leaf: Leaf) -> list[tuple[str, str]]:
    """(code, message) problems of one leaf against the fact schema."""
    spec = FIELDS.get(leaf.field)
    if spec is None:
        from kapdecide.core.vocabulary import suggest

        hint = suggest(leaf.field, list(FIELDS))
        return [
            ("unknown-profile-field", f"no fact field {leaf.field!r}" + (f"; did you mean {hint!r}?" if hint else ""))
        ]
    op = leaf.op
    if op in ("is_unknown", "is_known"):
        return [] if leaf.value is None else [("unexpected-value", f"{op} takes no value")]
    allowed = _OPS_BY_TYPE[spec.type]
    if op not in allowed:
        return [
            (
                "operator-type-mismatch",
                f"{op} does not apply to {spec.type} field {spec.name}; use one of {', '.join(allowed)}",
            )
        ]
    if op in ("in", "not_in"):
        if not isinstance(leaf.value, list) or not leaf.value:
            return [("type-mismatch", f"{op} needs a non-empty list of values")]
        return [p for item in leaf.value for p in _check_value(spec, item)]
    if isinstance(leaf.value, list) or leaf.value is None:
        return [("type-mismatch", f"{op} needs a single value")]
    return _check_value(spec, leaf.value)


_OPS_BY_TYPE: dict[str, tuple[str, ...]] = {
    "bool": ("==", "!="),
    "int": ("==", "!=", "<", "<=", ">", ">=", "in", "not_in"),
    "number": ("<", "<=", ">", ">="),
    "enum": ("==", "!=", "in", "not_in"),
    "enum_list": ("contains", "not_contains"),
    "text_list": ("contains", "not_contains"),
}


def _check_value(spec: FactField, value: Any) -> list[tuple[str, str]]:
    t = spec.type
    if t == "bool" and not isinstance(value, bool):
        return [("type-mismatch", f"{spec.name} is true/false; got {value!r}")]
    if t == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return [("type-mismatch", f"{spec.name} is a whole number; got {value!r}")]
    if t == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return [("type-mismatch", f"{spec.name} is a number; got {value!r}")]
    if t in ("enum", "enum_list"):
        if not isinstance(value, str):
            return [("type-mismatch", f"{spec.name} takes one of {', '.join(spec.vocabulary)}; got {value!r}")]
        if value not in spec.vocabulary:
            from kapdecide.core.vocabulary import suggest

            hint = suggest(value, spec.vocabulary)
            return [
                (
                    "value-not-in-vocabulary",
                    f"{value!r} is not a value of {spec.name}"
                    + (f"; did you mean {hint!r}?" if hint else "")
                    + f" (allowed: {', '.join(spec.vocabulary)})",
                )
            ]
    if t == "text_list" and not isinstance(value, str):
        return [("type-mismatch", f"{spec.name} holds names; got {value!r}")]
    if t == "text_list" and _holds_ingredients(spec.name) and not _known_drug_name(spec.name, value):
        # a capitalised or misspelt literal ("Lorazepam") would never match: the facts hold the
        # terminology's lower-case ingredient names
        from kapdecide.inputs.terminology import suggest_drug

        hint = value.lower() if _known_drug_name(spec.name, value.lower()) else suggest_drug(value.lower())
        return [
            (
                "value-not-in-vocabulary",
                f"{value!r} is not an ingredient name the terminology tables know, so this test would never "
                f"match {spec.name}"
                + (f"; did you mean {hint!r}?" if hint else "")
                + " (lower-case ingredient names: docs/reference.md)",
            )
        ]
    return []


def _holds_ingredients(name: str) -> bool:
    return name in ("medications.ingredients", "medications.proposed", "allergies.agents") or (
        name.startswith("medications.by_class.") or (name.startswith("substance_use.") and name.endswith(".treatment"))
    )


def _known_drug_name(field: str, value: str) -> bool:
    from kapdecide.inputs.terminology import _names, is_ingredient

    return is_ingredient(value) or (field == "allergies.agents" and value in _names()["allergens"])


# ---------------------------------------------------------------- readable text


def describe(cond: ConditionNode) -> str:
    """A condition in words, with field labels and the thresholds as written in the protocol."""
    from kapdecide.language.facts import label

    if isinstance(cond, Leaf):
        name = label(cond.field)
        if cond.op in ("is_unknown", "is_known"):
            return f"{name} {OPERATORS[cond.op].words}"
        value = cond.value
        if isinstance(value, list):
            shown = ", ".join(_show(v) for v in value)
        else:
            shown = _show(value)
        return f"{name} {OPERATORS[cond.op].words} {shown}"
    if isinstance(cond, Not):
        return f"not ({describe(cond.not_)})"
    items = cond.all if isinstance(cond, All) else cond.any
    if isinstance(cond, All):
        # "X recorded and X >= 8" reads as "X >= 8": the comparison already needs a known value.
        tested = {c.field for c in items if isinstance(c, Leaf) and c.op not in ("is_known", "is_unknown")}
        items = [c for c in items if not (isinstance(c, Leaf) and c.op == "is_known" and c.field in tested)] or items
    joiner = " and " if isinstance(cond, All) else " or "
    parts = [describe(c) if isinstance(c, Leaf) else f"({describe(c)})" for c in items]
    return joiner.join(parts)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("_", " ")


# ---------------------------------------------------------------- normal forms

Conjunction = tuple[Leaf, ...]


def negate(cond: ConditionNode) -> ConditionNode:
    """Negation pushed to the leaves (De Morgan; holds in Kleene's three-valued logic)."""
    if isinstance(cond, Leaf):
        return Leaf.model_validate({"field": cond.field, "op": _NEGATE[cond.op], "value": cond.value})
    if isinstance(cond, All):
        return AnyOf(any=[negate(c) for c in cond.all])
    if isinstance(cond, AnyOf):
        return All(all=[negate(c) for c in cond.any])
    return cond.not_


class TooManyBranches(Exception):
    """A condition expands to more engine rules than allowed."""


def dnf(cond: ConditionNode, limit: int = MAX_BRANCHES_PER_RULE) -> list[Conjunction]:
    """Disjunctive normal form: the condition is true when any conjunction is true."""
    if isinstance(cond, Not):
        return dnf(negate(cond.not_), limit)
    if isinstance(cond, Leaf):
        if cond.op == "in":
            if len(_as_list(cond.value)) > limit:
                raise TooManyBranches(len(_as_list(cond.value)))
            return [(Leaf(field=cond.field, op="==", value=v),) for v in _as_list(cond.value)]
        if cond.op == "not_in":
            return [tuple(Leaf(field=cond.field, op="!=", value=v) for v in _as_list(cond.value))]
        return [(cond,)]
    if isinstance(cond, AnyOf):
        out = [conj for c in cond.any for conj in dnf(c, limit)]
    else:
        out = [()]
        for c in cond.all:
            out = [a + b for a in out for b in dnf(c, limit)]
            if len(out) > limit:
                raise TooManyBranches(len(out))
    if len(out) > limit:
        raise TooManyBranches(len(out))
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
