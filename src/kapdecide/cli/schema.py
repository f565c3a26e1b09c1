"""``kapdecide schema``: the published JSON Schemas."""

from __future__ import annotations

import sys

import click

from kapdecide.cli.group import cli
from kapdecide.core.errors import ExitCode
from kapdecide.schema import SCHEMAS


@cli.command()
@click.argument("name", type=click.Choice(list(SCHEMAS)))
def schema(name: str) -> int:
    """Print a JSON Schema: profile, protocol, report and more.

    NAME is profile, protocol, report, compact-line (a batch line written with --line compact) or
    protocol-info (the header of compact lines).

    Example:

    \b
      kapdecide schema report > report.schema.json
    """
    from kapdecide.render.json import dumps
    from kapdecide.schema import json_schema

    sys.stdout.write(dumps(json_schema(name)))
    return ExitCode.OK
