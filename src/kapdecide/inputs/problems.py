"""Turn pydantic validation errors into located Problems: file:line:col, field path, stable code.

pydantic's error locations include union tags and member-type names (``when.any.any.0.field.op``);
they are resolved against the data that was validated, so the path names real keys and the
position comes from the source map.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from kapdecide.core.errors import Problem
from kapdecide.core.vocabulary import suggest
from kapdecide.inputs.yaml_source import Path, SourceMap, format_path

_RANGE_ERRORS = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "too_long",
    "too_short",
    "string_too_long",
    "string_too_short",
}
_CODES = {"missing": "missing-field", "literal_error": "not-in-vocabulary", "value_error": "invalid-value"}
#: Profile sections whose words ``kapdecide vocab`` lists (for a value outside the vocabulary).
_VOCAB_FOR = {"substance_use": "substances", "psychiatric": "conditions", "medical_conditions": "conditions"}
#: Values never echoed in error messages, because they could identify the patient.
IDENTIFYING = {"patient.ref"}


def resolve(loc: tuple[int | str, ...], data: Any, keep_missing: bool = False) -> Path:
    """The part of ``loc`` that names real keys and indexes in ``data`` (union tags dropped).

    ``keep_missing`` keeps a final key that is not in the data (a missing or unknown field).
    """
    out: list[str | int] = []
    node = data
    parts = list(loc)
    for i, part in enumerate(parts):
        rest = parts[i + 1 :]
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            child = node[part]
            nxt = rest[0] if rest else None
            # A union tag can share its name with a key (a leaf's "field"): it is a tag when the next
            # part is another key of this mapping, or the missing key the error is about.
            if (
                not isinstance(child, dict | list)
                and isinstance(nxt, str)
                and (nxt in node or (keep_missing and len(rest) == 1))
            ):
                continue
            out.append(part)
            node = child
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif keep_missing and isinstance(node, dict) and isinstance(part, str) and i == len(parts) - 1:
            out.append(part)
        # anything else is a union tag or member-type name: skip it
    return tuple(out)


def pydantic_problems(exc: ValidationError, data: Any, smap: SourceMap, root: type[BaseModel]) -> list[Problem]:
    """One located Problem per field in error (the first error where a union tried several types)."""
    problems: dict[tuple[Path, str], Problem] = {}
    for err in exc.errors(include_url=False):
        etype = err["type"]
        path = resolve(err["loc"], data, keep_missing=etype in ("missing", "extra_forbidden"))
        if etype == "extra_forbidden":
            key = str(path[-1]) if path else ""
            allowed = _fields_at(root, path[:-1])
            hint = suggest(key, allowed) if allowed else None
            msg = f"unknown field {key!r}" + (f"; did you mean {hint!r}?" if hint else "")
            if allowed and not hint:
                msg += f" (allowed: {', '.join(allowed)})"
            problems.setdefault((path, "unknown-field"), smap.problem(path, "unknown-field", msg, key=True))
            continue
        code = _CODES.get(etype, "out-of-range" if etype in _RANGE_ERRORS else "wrong-type")
        msg = str(err["msg"]).removeprefix("Value error, ")
        given = err.get("input")
        if format_path(path) in IDENTIFYING:
            msg += " (value not shown: it may identify the patient)"
        elif etype not in ("value_error", "missing") and not isinstance(given, dict | list):
            shown = repr(given)
            msg += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        if code == "not-in-vocabulary" and path and path[0] in _VOCAB_FOR:
            msg += f"; `kapdecide vocab {_VOCAB_FOR[str(path[0])]}` lists them"
        problems.setdefault((path, "any"), smap.problem(path, code, msg, key=etype == "missing"))
    return sorted(problems.values(), key=lambda p: (p.line or 0, p.col or 0, p.path, p.code))


def _fields_at(root: type[BaseModel], parent: Path) -> list[str]:
    """Field names (by alias) of the models that may stand at ``parent``, for did-you-mean hints."""
    models: list[type[BaseModel]] = [root]
    for part in parent:
        if isinstance(part, int):
            continue
        step: list[type[BaseModel]] = []
        for model in models:
            info = model.model_fields.get(str(part)) or next(
                (f for f in model.model_fields.values() if f.alias == part), None
            )
            if info is not None:
                step.extend(_models_in(info.annotation))
        models = step
    names = [info.alias or name for model in models for name, info in model.model_fields.items()]
    return list(dict.fromkeys(names))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found
