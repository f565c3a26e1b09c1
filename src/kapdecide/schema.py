"""JSON Schemas of the profile, protocol and report, generated from the models."""

from __future__ import annotations

import ast
import inspect
import sys
from typing import Any

SCHEMAS = ("profile", "protocol", "report", "compact-line", "protocol-info")
#: Modules whose models document their fields with attribute docstrings.
_DOCUMENTED = (
    "kapdecide.inputs.profile",
    "kapdecide.protocol.model",
    "kapdecide.language.conditions",
    "kapdecide.assessment.report",
    "kapdecide.assessment.compact_schema",
)


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for one of ``SCHEMAS``."""
    if name == "profile":
        from kapdecide.inputs.profile import Profile as model
    elif name == "protocol":
        from kapdecide.protocol.model import Protocol as model  # type: ignore[assignment]
    elif name == "report":  # a TypedDict: the report is plain data, declared once
        from pydantic import TypeAdapter

        from kapdecide.assessment.report import Report

        return _finish(TypeAdapter(Report).json_schema(by_alias=True), "Report")
    elif name == "compact-line":
        from kapdecide.assessment.compact_schema import CompactLine as model  # type: ignore[assignment]
    elif name == "protocol-info":
        from kapdecide.assessment.compact_schema import ProtocolInfo as model  # type: ignore[assignment]
    else:
        raise ValueError(f"unknown schema {name!r}; choose one of {', '.join(SCHEMAS)}")
    return _finish(model.model_json_schema(by_alias=True), model.__name__)


def _finish(schema: dict[str, Any], top: str) -> dict[str, Any]:
    docs = field_docs()
    _describe(schema, docs.get(top, {}))
    for def_name, definition in schema.get("$defs", {}).items():
        _describe(definition, docs.get(def_name, {}))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _describe(definition: dict[str, Any], docs: dict[str, str]) -> None:
    for key, prop in definition.get("properties", {}).items():
        if key in docs and "description" not in prop:
            prop["description"] = docs[key]


def field_docs() -> dict[str, dict[str, str]]:
    """Attribute docstrings of the models' fields, by class name and field alias.

    The models are built without pydantic's ``use_attribute_docstrings``: it reads and parses their
    source at every import (about 20 ms of each run's start). Only the schemas need the text.
    """
    from pydantic import BaseModel

    out: dict[str, dict[str, str]] = {}
    for module_name in _DOCUMENTED:
        module = sys.modules.get(module_name) or __import__(module_name, fromlist=["_"])
        tree = ast.parse(inspect.getsource(module))
        for node in tree.body:
            cls = getattr(module, node.name, None) if isinstance(node, ast.ClassDef) else None
            if not (isinstance(node, ast.ClassDef) and isinstance(cls, type)):
                continue
            fields: dict[str, Any]
            if issubclass(cls, BaseModel):
                fields = dict(cls.model_fields)
            elif hasattr(cls, "__required_keys__"):  # a TypedDict (the report): keys are their own aliases
                fields = dict.fromkeys(cls.__annotations__)
            else:
                continue
            docs: dict[str, str] = {}
            for before, after in zip(node.body, node.body[1:], strict=False):
                if (
                    isinstance(before, ast.AnnAssign)
                    and isinstance(before.target, ast.Name)
                    and before.target.id in fields
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                ):
                    field = fields[before.target.id]
                    alias = field.alias if field is not None else None
                    docs[alias or before.target.id] = inspect.cleandoc(after.value.value)
            out[node.name] = docs
    return out
