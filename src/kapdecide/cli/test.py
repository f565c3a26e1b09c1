"""``kapdecide test``: protocol test cases, with coverage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kapdecide.core.errors import ExitCode, InvalidInputError

if TYPE_CHECKING:
    pass

from kapdecide.cli.common import console_for, format_option, protocols_option
from kapdecide.cli.group import cli


@cli.command(name="test")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@protocols_option("Run every cases file against these protocols (default: the protocols beside each file).")
@format_option(("text", "json", "junit"))
@click.option(
    "--coverage", "show_coverage", is_flag=True, help="Report rules, options and condition leaves no case exercises."
)
@click.option(
    "--min-coverage",
    type=click.FloatRange(0, 100),
    metavar="N",
    help="Fail when rule or option coverage of any protocol is below N percent (implies --coverage).",
)
def test_command(
    paths: tuple[str, ...], protocols_dir: str | None, fmt: str, show_coverage: bool, min_coverage: float | None
) -> int:
    """Run protocol test cases, with coverage.

    PATH is a *.cases.yaml file or folder (default: the shipped protocols' tests/ folder). Each cases
    file is run against the protocols beside it: the file or folder it names with `protocols: PATH`
    (relative to the cases file), else the folder that holds its tests/ folder
    (PROTOCOLS/tests/NAME.cases.yaml tests PROTOCOLS/). --protocols runs every file against the
    protocols given instead. The first lines say which protocol files and versions were tested.

    Exit 0 when every case passes (todo cases may fail), 1 on any failure or coverage below
    --min-coverage, 2 when a cases file is invalid, 3 when its protocols cannot be loaded.

    Examples:

    \b
      kapdecide test
      kapdecide test --coverage --min-coverage 100
      kapdecide test --format junit > results.xml
    """
    from kapdecide.authoring.cases import case_files, coverage, run_suite
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    files = case_files(list(paths) or [Path(protocols_dir or default_protocol_dir()) / "tests"])
    if not files:
        raise InvalidInputError("no test cases found (*.cases.yaml)")
    # never trusts the cache: the cases test the files
    suite = run_suite(files, lambda where: load_protocols([where], None), protocols_dir)
    coverages = coverage(suite) if show_coverage or min_coverage is not None else None
    if fmt == "json":
        from kapdecide.render.json import render_suite

        sys.stdout.write(render_suite(suite, coverages))
    elif fmt == "junit":
        from kapdecide.render.junit import render_suite as render_junit

        sys.stdout.write(render_junit(suite))
    else:
        from kapdecide.render.text import render_suite as render_text

        render_text(suite, coverages, console_for(sys.stdout))
    if suite.problems:
        return ExitCode.INVALID_INPUT
    below = min_coverage is not None and any(min(c.rule_pct, c.option_pct) < min_coverage for c in coverages or [])
    if below:
        sys.stderr.write(f"coverage below --min-coverage {min_coverage:g}%\n")
    return ExitCode.FINDINGS if suite.count("failed") or below else ExitCode.OK
