"""docs/reference.md is generated from the source and kept current."""

from __future__ import annotations

from pathlib import Path

from kapdecide.reference import markdown

ROOT = Path(__file__).resolve().parents[2]


def test_reference_doc_is_current() -> None:
    assert (ROOT / "docs" / "reference.md").read_text(encoding="utf-8") == markdown(), (
        "regenerate: python -m kapdecide.reference > docs/reference.md"
    )


def test_published_schemas_are_current() -> None:
    import json

    from kapdecide.schema import SCHEMAS, json_schema

    for name in SCHEMAS:
        committed = json.loads((ROOT / "schemas" / f"{name}.schema.json").read_text(encoding="utf-8"))
        assert committed == json_schema(name), f"regenerate: kapdecide schema {name} > schemas/{name}.schema.json"
