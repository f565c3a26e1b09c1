"""Plain words for a profile value in error: what to write instead, with an example from the model.

pydantic says "Input should be a valid dictionary or instance of BloodPressureReading"; a clinician
needs "write the reading as {systolic_mmhg: 140, diastolic_mmhg: 90, taken_at: 2026-11-21}". The
expected shape is read from the model's annotation at the field in error, and the example from the
field's ``examples`` (or built from the model's fields), so messages and models cannot drift apart.
Examples are written in the input's own syntax (YAML flow, or JSON for a JSON input).
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from kapdecide.core.vocabulary import suggest

Path = tuple[str | int, ...]

#: Lists where ``[]`` (or ``none``) is a recorded answer, "asked, and there is none" (profile.py).
RECORDED_NONE_LISTS = frozenset(
    {
        ("substance_use",),
        ("substance_use", "*", "treatment"),
        ("psychiatric", "conditions"),
        ("medical_conditions",),
        ("medications",),
        ("allergies",),
    }
)
#: Words that look like "none" but are not read as it where a list is expected (``None`` is Python's
#: null, ``no`` a boolean), nor as a list entry (``[none]``): the messages say how to record none.
NONE_WORDS = frozenset({"none", "no", "nil", "nothing", "n/a", "na", "nkda", "nka", "no known allergies", "-"})
_BP_TEXT = re.compile(r"\s*(\d{2,3})\s*/\s*(\d{2,3})\s*(?:mm\s*hg)?\s*", re.IGNORECASE)
_UNITS = {"mmhg": "mmHg", "bpm": "bpm", "kg": "kg", "lb": "lb"}
DATE_EXAMPLE = "2026-11-21"
#: Problem codes by pydantic error type (the rest are wrong-type or out-of-range).
CODES = {"missing": "missing-field", "literal_error": "not-in-vocabulary", "value_error": "invalid-value"}
RANGE_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "too_long",
        "too_short",
        "string_too_long",
        "string_too_short",
    }
)


@dataclass(frozen=True)
class Slot:
    """What the model expects at a path: the annotation and, for a field, its FieldInfo."""

    annotation: Any
    name: str
    """The field's name (a list item: its list's name)."""
    info: FieldInfo | None
    """The field; None for a list item."""
    item_of: FieldInfo | None = None
    """For a list item: the list field."""


def recorded_none(path: Path) -> bool:
    """Whether ``path`` is a list where ``[]`` or ``none`` records "there is none"."""
    return tuple("*" if isinstance(p, int) else p for p in path) in RECORDED_NONE_LISTS


def slot_at(root: type[BaseModel], path: Path) -> Slot | None:
    """The model's expectation at ``path`` (keys and list indexes), or None where nothing is known."""
    ann: Any = root
    slot: Slot | None = None
    for part in path:
        if isinstance(part, int):
            items = [a for a, _ in members(ann) if get_origin(a) is list]
            if not items or slot is None:
                return None
            ann = get_args(items[0])[0]
            slot = Slot(ann, slot.name, None, slot.info)
            continue
        models = [m for m, _ in members(ann) if _is_model(m)]
        info = next((_field(m, part) for m in models if _field(m, part) is not None), None)
        if info is None:
            return None
        ann = _annotated(info)
        slot = Slot(ann, part, info)
    return slot


def members(ann: Any, meta: tuple[Any, ...] = ()) -> list[tuple[Any, tuple[Any, ...]]]:
    """The types a value may have at ``ann`` (unions flattened, None left out), each with the metadata
    (constraints, validators) of the ``Annotated`` around it."""
    origin = get_origin(ann)
    if origin is Annotated:
        base, *extra = get_args(ann)
        return members(base, meta + tuple(extra))
    if origin in (Union, types.UnionType):
        return [m for a in get_args(ann) if a is not type(None) for m in members(a, meta)]
    return [(ann, meta)]


def _annotated(info: FieldInfo) -> Any:
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    fields = model.model_fields
    return fields.get(key) or next((f for f in fields.values() if f.alias == key), None)


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def _constraints(meta: tuple[Any, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in meta:
        for c in m.metadata if isinstance(m, FieldInfo) else [m]:
            for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
                if isinstance(c, at.Ge | at.Gt | at.Le | at.Lt | at.MinLen | at.MaxLen) and hasattr(c, key):
                    out[key] = getattr(c, key)
    return out


def _validator(meta: tuple[Any, ...]) -> str:
    names = [getattr(getattr(m, "func", None), "__name__", "") for m in meta]
    return next((n for n in names if n in ("_iso_date", "_iso_date_or_datetime", "_number")), "")


# ---------------------------------------------------------------- what a slot expects


def expected(slot: Slot) -> tuple[str, Any]:
    """What to write at ``slot`` in words, and an example value."""
    phrases: list[str] = []
    example: Any = None
    for t, meta in members(slot.annotation):
        phrase, ex = _expected_member(t, meta)
        if phrase not in phrases:
            phrases.append(phrase)
        example = ex if example is None else example
    info = slot.info
    if info is not None and info.examples:
        example = info.examples[0]
    elif slot.item_of is not None and slot.item_of.examples and isinstance(slot.item_of.examples[0], list):
        example = slot.item_of.examples[0][-1]
    return " or ".join(phrases), example


def _expected_member(t: Any, meta: tuple[Any, ...]) -> tuple[str, Any]:
    kind = _validator(meta)
    if kind == "_iso_date":
        return "a date as YYYY-MM-DD", DATE_EXAMPLE
    if kind == "_iso_date_or_datetime":
        return "a date or date-time, YYYY-MM-DD or YYYY-MM-DDTHH:MM", DATE_EXAMPLE
    if kind == "_number":
        return "a number" + _range(_constraints(meta)), 68.0
    if get_origin(t) is Literal:
        values = get_args(t)
        return (values[0] if len(values) == 1 else "one of " + ", ".join(map(str, values))), values[0]
    if t is bool:
        return "true or false", False
    if t is int:
        return "a whole number" + _range(_constraints(meta)), 1
    if t is str:
        return "text", "text"
    if get_origin(t) is list:
        item = get_args(t)[0]
        _, ex = expected(Slot(item, "", None))
        return "a list", [ex]
    if _is_model(t):
        return "a mapping", model_example(t)
    return "a value", None


def _range(c: dict[str, Any], unit: str = "") -> str:
    """The range in words, with a leading space: "from 0 to 120 years", "above 0 and at most 650 kg"."""
    if "ge" in c and "le" in c:
        return f" from {c['ge']:g} to {c['le']:g}{unit}"
    low = f"above {c['gt']:g}" if "gt" in c else (f"at least {c['ge']:g}" if "ge" in c else "")
    high = f"at most {c['le']:g}" if "le" in c else (f"below {c['lt']:g}" if "lt" in c else "")
    words = " and ".join(w for w in (low, high) if w)
    return f" {words}{unit}" if words else ""


def model_example(model: type[BaseModel]) -> dict[str, Any]:
    """An example mapping of ``model``: its EXAMPLE_FIELDS, else its required fields, else its first three."""
    names: Sequence[str] = getattr(model, "EXAMPLE_FIELDS", ()) or [
        n for n, f in model.model_fields.items() if f.is_required()
    ]
    if not names:
        names = list(model.model_fields)[:3]
    out: dict[str, Any] = {}
    for name in names:
        info = model.model_fields[name]
        out[info.alias or name] = expected(Slot(_annotated(info), name, info))[1]
    return out


def noun(slot: Slot) -> str:
    """The thing at ``slot`` in words: "the reading", "the patient section"."""
    models = [t for t, _ in members(slot.annotation) if _is_model(t)]
    word = str(getattr(models[0], "NOUN", "")) if models else ""
    if word:
        return word
    return slot.name.replace("_", " ")


def unit(name: str) -> str:
    """The unit in a field name (``systolic_mmhg`` -> " mmHg"; ``age`` -> " years")."""
    if name == "age":
        return " years"
    u = _UNITS.get(name.rsplit("_", 1)[-1])
    return f" {u}" if u and "_" in name else ""


def flow(value: Any, json_syntax: bool = False) -> str:
    """``value`` as the input would write it: YAML flow style, or JSON."""
    if json_syntax:
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


def shown(value: Any) -> str:
    """A given value, short, for "(got ...)"."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Context:
    """One field in error: where, what the model expects there, what was given, how to write it."""

    path: Path
    slot: Slot
    given: Any
    json_syntax: bool
    hide_value: bool

    def write(self, value: Any) -> str:
        """``value`` in the input's syntax."""
        return flow(value, self.json_syntax)

    @property
    def got(self) -> str:
        """The given value for the message, or nothing when it may identify the patient."""
        return "" if self.hide_value else f" (got {shown(self.given)})"


def message(etypes: Sequence[str], err: dict[str, Any], ctx: Context) -> str:
    """What to write instead, for the errors pydantic gave at one path (several where a union tried
    each of its types)."""
    etype = etypes[0]
    if etype == "missing":
        return _missing(ctx)
    if etype in RANGE_ERRORS:
        return _out_of_range(etype, err, ctx)
    if etype == "value_error" and len(set(etypes)) == 1:
        return str(err["msg"]).removeprefix("Value error, ")  # kapdecide's own words (profile.py)
    handler = _BY_TYPE.get(etype) if len(set(etypes)) == 1 else None
    return (handler or _wrong_type)(ctx)


def _missing(ctx: Context) -> str:
    what, example = expected(ctx.slot)
    name = ctx.slot.name
    return f"{name} is required here ({what}): write {ctx.write({name: example})[1:-1]}"


def _out_of_range(etype: str, err: dict[str, Any], ctx: Context) -> str:
    limits = dict(err.get("ctx") or {})
    if etype in ("too_long", "too_short"):
        n = limits.get("max_length", limits.get("min_length"))
        bound = "at most" if etype == "too_long" else "at least"
        return f"{bound} {n} {'entry' if n == 1 else 'entries'} (got {limits.get('actual_length', '?')})"
    if etype == "string_too_short":
        return "must not be empty: write the name, or leave the entry out"
    if etype == "string_too_long":
        return f"at most {limits.get('max_length')} characters (got {len(str(ctx.given))})"
    c = _constraints(tuple(m for _, meta in members(ctx.slot.annotation) for m in meta))
    return f"must be{_range(c or limits, unit(ctx.slot.name))}{ctx.got}: check the value"


def _wrong_type(ctx: Context) -> str:
    what, example = expected(ctx.slot)
    return f"write {what}, e.g. {ctx.write(example)}{ctx.got}"


def _model_type(ctx: Context) -> str:
    g = ctx.given
    models = [t for t, _ in members(ctx.slot.annotation) if _is_model(t)]
    model = models[0] if models else None
    bp = _BP_TEXT.fullmatch(g) if isinstance(g, str) else None
    if model is not None and bp and "systolic_mmhg" in model.model_fields:
        return f"{g!r} is one piece of text: write the reading as {ctx.write(_reading(model, bp))}"
    example = model_example(model) if model is not None else {}
    name_field = getattr(model, "NAME_FIELD", "")
    if name_field and ctx.slot.item_of is not None:
        return (
            f"write each entry as a name (e.g. {ctx.write(_name_example(ctx))}) or a mapping like "
            f"{ctx.write(example)}{ctx.got}"
        )
    return f"write {noun(ctx.slot)} as a mapping like {ctx.write(example)}{ctx.got}"


def _reading(model: type[BaseModel], bp: re.Match[str]) -> dict[str, Any]:
    reading = model_example(model)
    reading["systolic_mmhg"], reading["diastolic_mmhg"] = int(bp[1]), int(bp[2])
    return reading


def _name_example(ctx: Context) -> Any:
    examples = ctx.slot.item_of.examples if ctx.slot.item_of is not None else None
    return examples[0][0] if examples and isinstance(examples[0], list) and examples[0] else "name"


def _list_type(ctx: Context) -> str:
    g = ctx.given
    _, example = expected(ctx.slot)
    items = [t for t, _ in members(ctx.slot.annotation) if get_origin(t) is list]
    item = get_args(items[0])[0] if items else None
    none = " (write [] or none when there are none)" if recorded_none(ctx.path) else ""
    bp = _BP_TEXT.fullmatch(g) if isinstance(g, str) else None
    readings = [t for t, _ in members(item) if _is_model(t) and "systolic_mmhg" in t.model_fields]
    if bp and readings:
        return f"{ctx.slot.name} is a list of readings: write {ctx.write([_reading(readings[0], bp)])}"
    if isinstance(g, str) and g.strip().lower() in NONE_WORDS:
        if recorded_none(ctx.path):
            return f"to record that there are none, write [] or none (lower case){ctx.got}"
        return f"write a list like {ctx.write(example)}, or leave {ctx.slot.name} out when not known{ctx.got}"
    if isinstance(g, str) and g.strip():
        return f"write a list, e.g. {ctx.write([g.strip()])} for one entry{none}"
    if isinstance(g, dict):
        return f"write a list of entries, e.g. {ctx.write([g])}{none}"
    return f"write a list like {ctx.write(example)}{none}{ctx.got}"


def _bool_type(ctx: Context) -> str:
    g = ctx.given
    leave = "; leave it out when not known"
    if isinstance(g, str) and g.strip().lower() in ("true", "false"):
        return f"write {g.strip().lower()} without quotes{leave}"
    if isinstance(g, str) and g.strip().lower() in ("yes", "y", "on"):
        return f"write true (not {g!r}){leave}"
    if isinstance(g, str) and g.strip().lower() in ("no", "n", "off"):
        return f"write false (not {g!r}){leave}"
    return f"write true or false{leave}{ctx.got}"


def _int_type(ctx: Context) -> str:
    g = ctx.given
    what, example = expected(ctx.slot)
    if isinstance(g, str) and g.strip().lstrip("-").isdigit():
        return f"write {g.strip()} without quotes ({what})"
    if isinstance(g, float) and g.is_integer():
        return f"write {int(g)}, without a decimal point ({what})"
    return f"write {what}, e.g. {ctx.write(example)}{ctx.got}"


def _string_type(ctx: Context) -> str:
    if isinstance(ctx.given, int | float) and not isinstance(ctx.given, bool):
        return f"write text: put a number in quotes, e.g. {ctx.write('123' if ctx.json_syntax else repr('123'))}"
    return f"write text{ctx.got}"


def _literal(ctx: Context) -> str:
    values = [str(v) for t, _ in members(ctx.slot.annotation) if get_origin(t) is Literal for v in get_args(t)]
    g = ctx.given
    hint = suggest(g, values) if isinstance(g, str) and any(c.isalpha() for c in g) else None
    mean = f"; did you mean {hint!r}?" if hint and not ctx.hide_value else ""
    what, _ = expected(ctx.slot)
    return f"write {what}{ctx.got}{mean}"


_BY_TYPE: dict[str, Callable[[Context], str]] = {
    "model_type": _model_type,
    "model_attributes_type": _model_type,
    "dict_type": _model_type,
    "list_type": _list_type,
    "bool_type": _bool_type,
    "bool_parsing": _bool_type,
    "int_type": _int_type,
    "int_parsing": _int_type,
    "int_from_float": _int_type,
    "string_type": _string_type,
    "literal_error": _literal,
}
