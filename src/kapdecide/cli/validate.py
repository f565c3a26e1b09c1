"""``kapdecide validate``: protocol files against their schema, checks and lint."""

from __future__ import annotations

import sys

import click

from kapdecide.cli.common import colour, console_for, format_option, today
from kapdecide.cli.group import cli
from kapdecide.core.errors import ExitCode, Problem


def _codes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> frozenset[str]:
    """``--select`` / ``--ignore`` as catalogued codes; ``--ignore`` of an error code is refused."""
    from kapdecide.core.codes import PROBLEM_CODES, parse_codes

    try:
        codes = parse_codes(values)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None
    errors = sorted(c for c in codes if PROBLEM_CODES[c].severity == "error")
    if param.name == "ignore" and errors:
        raise click.BadParameter(
            f"{', '.join(errors)}: an error cannot be ignored (assess refuses a protocol with an error); "
            "fix it, or narrow the listing with --select (the exit code still counts every error)",
            ctx,
            param,
        )
    return codes


_CODE_HELP = "(repeatable, or comma-separated)."


@cli.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@format_option()
@click.option("-q", "--quiet", is_flag=True, help="Print only the problems: no summary line.")
@click.option("--select", multiple=True, metavar="CODE", callback=_codes, help=f"List only these codes {_CODE_HELP}")
@click.option("--ignore", multiple=True, metavar="CODE", callback=_codes, help=f"Do not list these codes {_CODE_HELP}")
def validate(paths: tuple[str, ...], fmt: str, quiet: bool, select: frozenset[str], ignore: frozenset[str]) -> int:
    """Check protocol files: schema, semantics and lint.

    Every problem in every file (default: the shipped protocols). Exit 0 when there is no error
    (warnings are listed), 1 when any file has an error.

    --select and --ignore choose which problems are listed, never the exit code: an error that is
    not listed still exits 1 and is counted on stderr ("2 error(s) not listed"). Only warnings can
    be ignored; --ignore with an error code is refused.

    Examples:

    \b
      kapdecide validate
      kapdecide validate protocols/ --format json
      kapdecide validate protocols/ -q --ignore evidence-without-doi
    """
    from kapdecide.core.codes import shown
    from kapdecide.protocol.loader import default_protocol_dir, protocol_files, validate_paths

    targets = list(paths) or [str(default_protocol_dir())]
    loaded, problems = validate_paths(targets, today(), None)  # never trusts the cache
    files = [str(f) for f in protocol_files(targets)[0]]
    errors = sum(p.severity == "error" for p in problems)
    listed = shown(problems, select, ignore) if select or ignore else problems
    if fmt == "json":
        from kapdecide.render.json import render_problems

        sys.stdout.write(render_problems(problems, files, listed if listed is not problems else None))
    else:
        summary = (
            f"{len(files)} file(s), {len(loaded)} protocol(s): {errors} error(s), {len(problems) - errors} warning(s)"
        )
        if listed is not problems:
            summary += f"; {len(listed)} listed (--select/--ignore)"
        _print_text(listed, None if quiet else summary)
        hidden = errors - sum(p.severity == "error" for p in listed)
        if hidden:  # even with --quiet: an exit 1 with nothing listed would read as a crash
            sys.stderr.write(f"{hidden} error(s) not listed (--select/--ignore): the protocols do not validate\n")
    return ExitCode.FINDINGS if errors else ExitCode.OK


def _print_text(problems: list[Problem], summary: str | None) -> None:
    """One line per problem on stdout; the summary (unless --quiet) on stderr."""
    if colour(sys.stdout) or colour(sys.stderr):
        from kapdecide.render.text import render_problems as render_text

        render_text(problems, console_for(sys.stdout))
        if summary is not None:
            console_for(sys.stderr).print(summary)
        return
    # no colour: the same lines, without importing rich (a fifth of validate's start-up)
    sys.stdout.write("".join(f"{p.format()}\n" for p in problems))
    if summary is not None:
        sys.stderr.write(summary + "\n")
