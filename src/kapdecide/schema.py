"""JSON Schemas of the profile, protocol and report, generated from the models."""

from __future__ import annotations

from typing import Any

SCHEMAS = ("profile", "protocol", "report")


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for ``profile``, ``protocol`` or ``report``."""
    if name == "profile":
        from .profile import Profile as model
    elif name == "protocol":
        from .protocol import Protocol as model  # type: ignore[assignment]
    elif name == "report":
        from .assessment import Report as model  # type: ignore[assignment]
    else:
        raise ValueError(f"unknown schema {name!r}; choose one of {', '.join(SCHEMAS)}")
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
