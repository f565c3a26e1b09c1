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
from kapdecide.inputs.messages import CODES, RANGE_ERRORS, Context, message, slot_at
from kapdecide.inputs.yaml_source import Path, SourceMap, format_path

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
    """One located Problem per field in error, saying what to write there (messages.py); where a union
    tried several types, their errors are read together."""
    grouped: dict[Path, list[dict[str, Any]]] = {}
    problems: dict[tuple[Path, str], Problem] = {}
    for err in exc.errors(include_url=False):
        etype = err["type"]
        path = resolve(err["loc"], data, keep_missing=etype in ("missing", "extra_forbidden"))
        if etype == "extra_forbidden":
            problems.setdefault((path, "unknown-field"), _unknown_field(path, smap, root))
        else:
            grouped.setdefault(path, []).append(dict(err))
    for path, errs in grouped.items():
        first, etypes = errs[0], [e["type"] for e in errs]
        code = CODES.get(first["type"], "out-of-range" if first["type"] in RANGE_ERRORS else "wrong-type")
        msg = _message(path, etypes, first, smap, root)
        problems.setdefault((path, "any"), smap.problem(path, code, msg, key=first["type"] == "missing"))
    return sorted(problems.values(), key=lambda p: (p.line or 0, p.col or 0, p.path, p.code))


def _unknown_field(path: Path, smap: SourceMap, root: type[BaseModel]) -> Problem:
    key = str(path[-1]) if path else ""
    allowed = _fields_at(root, path[:-1])
    hint = suggest(key, allowed) if allowed else None
    msg = f"unknown field {key!r}" + (f"; did you mean {hint!r}?" if hint else "")
    if allowed and not hint:
        msg += f" (allowed: {', '.join(allowed)})"
    return smap.problem(path, "unknown-field", msg, key=True)


def _message(path: Path, etypes: list[str], err: dict[str, Any], smap: SourceMap, root: type[BaseModel]) -> str:
    hide = format_path(path) in IDENTIFYING
    slot = slot_at(root, path)
    if slot is None:  # not a field of the model (cannot happen for a profile): pydantic's words
        return str(err["msg"]).removeprefix("Value error, ")
    msg = message(etypes, err, Context(path, slot, err.get("input"), smap.syntax == "json", hide))
    if hide and err["type"] != "missing":
        msg += " (value not shown: it may identify the patient)"
    if err["type"] == "literal_error" and path[:1] == ("substance_use",) and path[-1:] == ("substance",):
        msg += "; `kapdecide vocab substances` lists them"
    return msg


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
