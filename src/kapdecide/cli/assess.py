"""``kapdecide assess``: one profile or Bundle, or a batch of them."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import IO, Any

import click

from kapdecide import pipeline, render
from kapdecide.cli.common import (
    FAIL_ON,
    INPUT_PATH,
    OutputError,
    as_of_option,
    checked_input,
    color_option,
    console_for,
    emit,
    exit_for,
    format_option,
    line_option,
    open_cache,
    overrides_of,
    protocols_option,
    set_zone,
    temp_beside,
    today,
    tz_option,
    what_if_option,
    write_output,
)
from kapdecide.cli.group import cli
from kapdecide.cli.many import assess_many
from kapdecide.core.errors import ExitCode, InvalidInputError
from kapdecide.render import REPORT_FORMAT_HELP, REPORT_FORMATS, ReportFormat


@cli.command()
@click.argument("profile", metavar="[PROFILE]...", nargs=-1, type=INPUT_PATH)
@protocols_option()
@click.option(
    "--batch",
    "batch_path",
    metavar="FILE.jsonl",
    type=INPUT_PATH,
    help="Assess one JSON profile per line (- for stdin); one JSON line out per line, in order.",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes for --batch.")
@line_option(
    "--batch: each line the full report, or compact (patient-specific parts only; the protocol-constant "
    "rest is in `kapdecide protocol-info`; about 6x smaller)."
)
@format_option(REPORT_FORMATS, f"Output format: {REPORT_FORMAT_HELP}.")
@click.option(
    "--input-format",
    type=click.Choice(["auto", "profile", "fhir"]),
    default="auto",
    show_default=True,
    help="A kapdecide profile (YAML/JSON) or a FHIR R4 Bundle (JSON); auto detects a Bundle by its content.",
)
@as_of_option(
    "Assessment date; wins over the profile's (or each batch line's) assessed_on. Default: assessed_on, else today."
)
@tz_option(
    "Time zone of 'today' and of the as-of day's end: time stamps with an offset are read as instants "
    "and fall on their day in this zone (IANA name, e.g. Europe/London)."
)
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
@click.option(
    "--fail-on",
    "fail_on",
    type=click.Choice(list(FAIL_ON)),
    metavar="LEVEL",
    help="Exit with the status's code (20-23, see README) when the status is LEVEL or more severe: "
    "contraindicated|deferred|incomplete|eligible_with_precautions (or precautions). The report is written "
    "either way.",
)
@click.option(
    "--explain", is_flag=True, help="Add why each rule did or did not fire, and what would change the answer."
)
@what_if_option()
@click.option(
    "--details",
    "-v",
    "details",
    is_flag=True,
    help="Text: everything (each finding's action and sources, evidence, doses, excluded options, session "
    "checklist, full citations, receipt) instead of one screen.",
)
@click.option(
    "--no-pager",
    is_flag=True,
    help="Text on a terminal: never page (default: long text goes through KAPDECIDE_PAGER, PAGER or 'less -FRX').",
)
@click.option(
    "--hook-instance",
    type=click.UUID,
    callback=lambda _ctx, _param, value: None if value is None else str(value),
    metavar="UUID",
    help="CDS Hooks: the hookInstance that seeds the card uuids (default: a random uuid4, so uuids differ per "
    "call; give one for byte-identical output).",
)
@color_option()
def assess(
    profile: tuple[str, ...],
    protocols_dir: str | None,
    batch_path: str | None,
    jobs: int,
    line_format: str,
    fmt: ReportFormat,
    input_format: str,
    as_of: dt.date | None,
    tz: str,
    output: str | None,
    fail_on: str | None,
    explain: bool,
    what_if: tuple[tuple[str, Any], ...],
    details: bool,
    no_pager: bool,
    hook_instance: str | None,
) -> int:
    """Assess patient profiles, or a batch of them (--batch).

    Examples:

    \b
      kapdecide assess examples/precautions-alcohol.yaml
      kapdecide assess - --format json --fail-on deferred < profile.yaml
      kapdecide assess profile.yaml --what-if vitals.blood_pressure=128/78
      kapdecide assess a.yaml b.yaml
      kapdecide assess --batch profiles.jsonl --jobs 2 > reports.jsonl
    """
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    set_zone(tz)
    if bool(profile) == (batch_path is not None):
        raise click.UsageError("give either PROFILE or --batch FILE.jsonl")
    if line_format != "full" and batch_path is None:
        raise click.UsageError("--line compact is for --batch; a single report is always full")
    if batch_path is not None:
        _batch_usage(bool(explain or what_if or fail_on), fmt)
        return _batch(batch_path, protocols_dir, jobs, as_of, output, line_format == "compact")
    if len(profile) > 1:  # each in turn, one text report after another
        return assess_many(profile, fmt, output)
    checked = checked_input(profile[0], as_of, input_format, what_if)
    loaded = load_protocols([protocols_dir or default_protocol_dir()], open_cache())
    overrides = overrides_of(what_if)
    if fmt == "html":
        return _html(checked, loaded, overrides, explain, output, fail_on)
    report = pipeline.report(checked, loaded, overrides, explain=explain)
    _write_report(report, fmt, output, details, hook_instance, no_pager)
    return exit_for(report["status"], fail_on)


def _batch_usage(single_only: bool, fmt: str) -> None:
    """Refuse what --batch cannot do."""
    if single_only:
        raise click.UsageError("--explain, --what-if and --fail-on work on a single PROFILE, not --batch")
    ctx = click.get_current_context()
    if ctx.get_parameter_source("fmt") == click.core.ParameterSource.COMMANDLINE and fmt != "json":
        raise click.UsageError(
            f"--batch writes one JSON report per line; --format {fmt} is for a single PROFILE "
            "(leave --format out, or give --format json)"
        )


def _write_report(
    report: Any, fmt: ReportFormat, output: str | None, details: bool, hook_instance: str | None, no_pager: bool
) -> None:
    """One rendered report to stdout (through the pager when long text meets a terminal) or --output."""
    to_terminal = output in (None, "-")
    text = render.render_report(
        report, fmt, lambda buf: console_for(sys.stdout if to_terminal else buf, into=buf), details, hook_instance
    )
    if to_terminal and fmt == "text":
        from kapdecide.cli.pager import page, should_page  # subprocess and shutil: text on a terminal only

        if should_page(text, not no_pager) and page(text):
            return
    write_output(text, output)


def _html(
    checked: pipeline.Checked,
    loaded: Any,
    overrides: dict[str, Any],
    explain: bool,
    output: str | None,
    fail_on: str | None,
) -> int:
    from kapdecide.render.html import chart_report

    report, html = chart_report(checked, loaded, overrides, explain=explain)
    write_output(html, output)
    return exit_for(report["status"], fail_on)


def _batch(
    path: str, protocols_dir: str | None, jobs: int, as_of: dt.date | None, output: str | None, compact: bool
) -> int:
    from kapdecide.batch import StreamLines, run_batch
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    given = as_of
    loaded = load_protocols([protocols_dir or default_protocol_dir()], open_cache())
    try:
        # binary: lines are framed on LF only and each is decoded on its own (a bad byte is an error
        # record for its line, never a stopped batch or a silent U+FFFD)
        source: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    sink = _BatchOutput(output)
    tty = sys.stderr.isatty() and "NO_COLOR" not in os.environ

    def progress(c: Any) -> None:
        sys.stderr.write(f"\r{c.progress()}\x1b[K")  # erase what a longer line left
        sys.stderr.flush()

    try:
        counts = run_batch(
            StreamLines(source),
            loaded,
            sink.write,
            jobs=jobs,
            default_as_of=given or today(),
            progress=progress if tty else None,
            forced_as_of=given is not None,
            compact_header=_header(loaded) if compact else None,
        )
        sink.commit()
    finally:
        if source is not sys.stdin:
            source.close()
        sink.discard()
    if tty:
        sys.stderr.write("\n")
    sys.stderr.write(counts.summary() + "\n")
    if counts.errors:
        return ExitCode.INTERNAL
    return ExitCode.INVALID_INPUT if counts.invalid else ExitCode.OK


def _header(loaded: Any) -> dict[str, Any]:
    from kapdecide.assessment.compact import header

    return header(loaded)


class _BatchOutput:
    """Where batch lines go: standard output (each line whole before the next starts, a reader may stop
    any time), or a hidden temporary file beside ``--output``, synced and renamed into place at the end."""

    def __init__(self, output: str | None):
        self.output = output
        self.tmp: str | None = None
        self.file: IO[str] | None = None
        if output and output != "-":
            fd, self.tmp = temp_beside(output)
            self.file = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text: str) -> None:
        if self.file is None:
            emit(text)
            return
        try:
            self.file.write(text)
        except OSError as exc:
            raise OutputError(f"cannot write --output {self.output}: {exc.strerror or exc}") from None

    def commit(self) -> None:
        if self.file is None or self.tmp is None:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.tmp, self.output or "")
        except OSError as exc:
            raise OutputError(f"cannot write --output {self.output}: {exc.strerror or exc}") from None
        self.tmp = None

    def discard(self) -> None:
        """Remove the temporary file of a batch that did not finish (nothing half-written is left)."""
        if self.tmp is not None and self.file is not None:
            self.file.close()
            Path(self.tmp).unlink(missing_ok=True)
            self.tmp = None
