"""``kapdecide diff``: the clinical impact of a protocol change."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kapdecide.core.errors import ExitCode

if TYPE_CHECKING:
    pass

from kapdecide.cli.common import as_of_option, console_for, format_option, open_cache, today
from kapdecide.cli.group import cli


@cli.command()
@click.argument("old", type=click.Path(exists=True))
@click.argument("new", type=click.Path(exists=True))
@click.option(
    "--profiles",
    "profiles_dir",
    type=click.Path(exists=True, file_okay=False),
    required=True,
    help="Folder of profiles (*.yaml, *.yml, *.json) to assess under both.",
)
@format_option()
@as_of_option("Date for profiles without assessed_on (default: today).")
def diff(old: str, new: str, profiles_dir: str, fmt: str, as_of: dt.date | None) -> int:
    """Show the clinical impact of a protocol change.

    Every profile whose status, findings or options change. Exit 0 when nothing changes, 1 when a
    profile changes or a protocol's content changed while its version did not ("bump the version";
    any byte of the file counts, as in a report's receipt), 2 when a profile is invalid.

    Example:

    \b
      kapdecide diff old-protocols/ protocols/ --profiles examples/
    """
    from kapdecide.authoring.diff import impact, profile_files
    from kapdecide.protocol.loader import load_protocols

    day = as_of or today()
    result = impact(
        load_protocols([old], open_cache()), load_protocols([new], open_cache()), profile_files(Path(profiles_dir)), day
    )
    if fmt == "json":
        from kapdecide.render.json import dumps

        sys.stdout.write(dumps({"schema_version": "1.0", **result.model_dump(mode="json")}))
    else:
        from kapdecide.render.text import render_impact

        render_impact(result, console_for(sys.stdout))
    if any(c.error for c in result.changed):
        return ExitCode.INVALID_INPUT
    return ExitCode.FINDINGS if result.changed or result.version_not_bumped else ExitCode.OK
