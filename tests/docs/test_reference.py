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


def test_protocol_files_point_editors_at_the_committed_schema() -> None:
    for path in sorted((ROOT / "protocols").glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/protocol.schema.json", path
        assert (path.parent / "../schemas/protocol.schema.json").resolve().is_file()


def test_every_command_has_help_with_an_example() -> None:
    from click.testing import CliRunner

    from kapdecide.cli import cli

    for name, command in cli.commands.items():
        assert command.help and ("Example:" in command.help or "Examples:" in command.help), name
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and name in result.output
        assert f"kapdecide {name}" in (ROOT / "README.md").read_text(encoding="utf-8"), f"README lacks {name}"
