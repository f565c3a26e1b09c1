"""Turn pydantic validation errors into located Problems: file:line:col, field path, stable code.

pydantic's error locations include union tags and member-type names (``when.any.any.0.field.op``);
they are resolved against the data that was validated, so the path names real keys and the
position comes from the source map.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import Problem
from .vocabulary import suggest
from .yaml_source import Path, SourceMap

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


def resolve(loc: tuple[int | str, ...], data: Any) -> Path:
    """The part of ``loc`` that names real keys and indexes in ``data`` (union tags dropped)."""
    out: list[str | int] = []
    node = data
    parts = list(loc)
    for i, part in enumerate(parts):
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if isinstance(node, dict) and part in node and nxt in node and not isinstance(node[part], dict | list):
            continue  # a union tag that is also a key name (a leaf's "field"): the next part is the key
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and i == len(parts) - 1:
            out.append(part)  # a missing or unknown key: keep it, it is what the error is about
        # anything else is a union tag or member-type name: skip it
    return tuple(out)


def pydantic_problems(exc: ValidationError, data: Any, smap: SourceMap, root: type[BaseModel]) -> list[Problem]:
    """One located Problem per field in error (the first error where a union tried several types)."""
    problems: dict[tuple[Path, str], Problem] = {}
    for err in exc.errors(include_url=False):
        path = resolve(err["loc"], data)
        etype = err["type"]
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
        if etype not in ("value_error", "missing") and not isinstance(given, dict | list):
            shown = repr(given)
            msg += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
        problems.setdefault((path, "any"), smap.problem(path, code, msg, key=etype == "missing"))
    return sorted(problems.values(), key=lambda p: (p.line or 0, p.col or 0, p.path, p.code))


def _fields_at(root: type[BaseModel], parent: Path) -> list[str]:
    """Field names of the model at ``parent`` (by alias), for did-you-mean hints."""
    model: type[BaseModel] | None = root
    for part in parent:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        model = _model_in(info.annotation) if info else None
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
