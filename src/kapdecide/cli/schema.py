"""``kapdecide schema``: the published JSON Schemas."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kapdecide.core.errors import ExitCode

if TYPE_CHECKING:
    pass

from kapdecide.cli.group import cli


@cli.command()
@click.argument("name", type=click.Choice(["profile", "protocol", "report"]))
def schema(name: str) -> int:
    """Print the JSON Schema of the profile, a protocol file, or the JSON report.

    Example: kapdecide schema report > report.schema.json
    """
    from kapdecide.render.json import dumps
    from kapdecide.schema import json_schema

    sys.stdout.write(dumps(json_schema(name)))
    return ExitCode.OK
