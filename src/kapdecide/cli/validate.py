"""``kapdecide validate``: protocol files against their schema, checks and lint."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kapdecide.core.errors import ExitCode

if TYPE_CHECKING:
    pass

from kapdecide.cli.common import colour, console_for, format_option, today
from kapdecide.cli.group import cli


@cli.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@format_option()
def validate(paths: tuple[str, ...], fmt: str) -> int:
    """Check protocol files: schema, semantics and lint.

    Every problem in every file (default: the shipped protocols). Exit 0 when there is no error
    (warnings are listed), 1 when any file has an error.

    Examples:

    \b
      kapdecide validate
      kapdecide validate protocols/ --format json
    """
    from kapdecide.protocol.loader import default_protocol_dir, protocol_files, validate_paths

    targets = list(paths) or [str(default_protocol_dir())]
    loaded, problems = validate_paths(targets, today(), None)  # never trusts the cache
    files = [str(f) for f in protocol_files(targets)[0]]
    errors = [p for p in problems if p.severity == "error"]
    if fmt == "json":
        from kapdecide.render.json import render_problems

        sys.stdout.write(render_problems(problems, files))
    else:
        summary = (
            f"{len(files)} file(s), {len(loaded)} protocol(s): {len(errors)} error(s), "
            f"{len(problems) - len(errors)} warning(s)"
        )
        if colour(sys.stdout) or colour(sys.stderr):
            from kapdecide.render.text import render_problems as render_text

            render_text(problems, console_for(sys.stdout))
            console_for(sys.stderr).print(summary)
        else:  # no colour: the same lines, without importing rich (a fifth of validate's start-up)
            sys.stdout.write("".join(f"{p.format()}\n" for p in problems))
            sys.stderr.write(summary + "\n")
    return ExitCode.FINDINGS if errors else ExitCode.OK
