"""The command line: arguments and I/O only. Each command calls one core function and a renderer.

Exit codes are mapped in one place, ``main``: 0 success (``assess``: a report was produced,
whatever the clinical status), 1 findings (``validate`` found problems), 2 bad usage or invalid
profile, 3 protocols could not be loaded, 4 internal error (traceback only with ``--debug``).
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import signal
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from . import __version__, pipeline, render
from .errors import EXIT_MEANING, STATUS_EXIT, ExitCode, InvalidInputError, KapdecideError, Problem
from .render import REPORT_FORMAT_HELP, REPORT_FORMATS, ReportFormat

if TYPE_CHECKING:
    from .protocol_cache import ProtocolCache

FORMAT = click.Choice(["text", "json"])
#: --fail-on levels, and the exit code of each status at or above the level (documented in the README).
FAIL_ON = {"contraindicated": 0, "deferred": 1, "incomplete": 2, "precautions": 3}


def _read_input(name: str) -> tuple[bytes, str]:
    """The input's bytes, read at most MAX_INPUT_BYTES + 1 (so /dev/zero or an endless pipe is refused,
    never read whole; profiles are refused above 1 MiB when decoded)."""
    try:
        if name == "-":
            raw, label = sys.stdin.buffer.read(pipeline.MAX_INPUT_BYTES + 1), "<stdin>"
        else:
            with open(name, "rb") as fh:
                raw, label = fh.read(pipeline.MAX_INPUT_BYTES + 1), name
    except OSError as exc:
        raise InvalidInputError(
            f"cannot read {name}: {exc.strerror or exc}",
            [Problem(name, None, None, "unreadable", exc.strerror or str(exc))],
        ) from None
    pipeline.check_size(raw, label)
    return raw, label


#: Write failures that mean the report could not be delivered (not a bug): exit 2.
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


class OutputError(InvalidInputError):
    """The report could not be written (a full disk, an I/O error): exit 2, never a partial success."""


def emit(text: str) -> None:
    """Write to standard output and flush, so that a failed write is an error now, not a silent loss."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # do not retry the write at exit
        raise OutputError(f"cannot write the report to standard output: {exc.strerror or exc}") from None


def _write_output(text: str, output: str | None) -> None:
    if output is None or output == "-":
        emit(text)
        return
    # Atomic: a reader sees the complete report or the previous file, never a partial one.
    fd, tmp = _temp_beside(output)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, output)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write --output {output}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _temp_beside(output: str) -> tuple[int, str]:
    """A new temporary file beside ``--output``, renamed over it once complete."""
    target = Path(output)
    if target.is_dir():
        raise InvalidInputError(f"--output {output} is a folder; give a file name")
    # The file is replaced by rename: a FIFO, a device or a socket (as root, even /dev/null) would be
    # replaced by a regular file. Only a new path or an existing regular file is written.
    if (target.exists() or target.is_symlink()) and not target.is_file():
        raise InvalidInputError(
            f"--output {output} exists and is not a regular file (a pipe, device or dangling link): "
            "give a file name, or omit --output to write to standard output"
        )
    try:
        import tempfile  # only when writing a file: it costs a tenth of a cold start

        return tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    except OSError as exc:
        raise InvalidInputError(f"cannot write --output {output}: {exc.strerror or exc}") from None


def _cache() -> ProtocolCache | None:
    """The on-disk protocol cache (``KAPDECIDE_CACHE_DIR``; ``off`` turns it off); one warning and no
    cache when the folder is not safe to trust."""
    from .protocol_cache import default_cache

    cache = default_cache()
    why = cache.untrusted() if cache is not None else None
    if cache is not None and why is not None:
        sys.stderr.write(f"warning: protocol cache {cache.folder} not used: {why}; the protocols were read from file\n")
        return None
    return cache


def _colour(stream: IO[str]) -> bool:
    return "NO_COLOR" not in os.environ and stream.isatty()


def _console(stream: IO[str], into: IO[str] | None = None) -> Any:
    """A console with ``stream``'s colour and width, writing to ``stream`` (or into a buffer)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich exits 1 when the reader goes away (`| head`); main() ends quietly with 0 instead
            self.quiet = True
            raise BrokenPipeError

    no_color = not _colour(stream)
    width = None if stream.isatty() else 100
    if into is not None and width is None:
        import shutil

        width = shutil.get_terminal_size().columns
    return _Console(
        file=stream if into is None else into,
        no_color=no_color,
        color_system=None if no_color else "auto",
        force_terminal=not no_color if into is not None else None,
        width=width,
        highlight=False,
    )


def _today() -> dt.date:
    from . import clock

    return clock.today()


def _set_zone(name: str) -> None:
    """The run's time zone (clock.py): 'today' and every time stamp with an offset are read in it."""
    from . import clock

    try:
        clock.set_zone(clock.zone_named(name))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None


def _parse_date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="--as-of") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kapdecide")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
def cli(debug: bool) -> None:
    """kapdecide: decision support for ketamine-assisted therapy in substance use disorders.

    It evaluates a patient profile against clinical protocols and lists what a clinician must
    review. It supports a decision; it never makes one.
    """


@cli.command()
@click.argument("profile", metavar="PROFILE", required=False)
@click.option(
    "--protocols",
    "protocols_dir",
    type=click.Path(file_okay=True, dir_okay=True),
    help="Protocol folder or file (default: the shipped protocols).",
)
@click.option(
    "--batch",
    "batch_path",
    metavar="FILE.jsonl",
    help="Assess one JSON profile per line (- for stdin); one JSON line out per line, in order.",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes for --batch.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="text",
    show_default=True,
    help=f"Output format: {REPORT_FORMAT_HELP}.",
)
@click.option(
    "--input-format",
    type=click.Choice(["auto", "profile", "fhir"]),
    default="auto",
    show_default=True,
    help="A kapdecide profile (YAML/JSON) or a FHIR R4 Bundle (JSON); auto detects a Bundle by its content.",
)
@click.option(
    "--as-of",
    "as_of",
    metavar="DATE",
    help="Assessment date; wins over the profile's (or each batch line's) assessed_on. Default: assessed_on, "
    "else today.",
)
@click.option(
    "--tz",
    "tz",
    metavar="ZONE",
    default="UTC",
    show_default=True,
    help="Time zone of 'today' and of the as-of day's end: time stamps with an offset are read as instants "
    "and fall on their day in this zone (IANA name, e.g. Europe/London).",
)
@click.option("--output", "-o", metavar="FILE", help="Write the report to FILE (atomically) instead of stdout.")
@click.option(
    "--fail-on",
    "fail_on",
    type=click.Choice(["contraindicated", "deferred", "incomplete", "precautions"]),
    metavar="LEVEL",
    help="Exit with the status's code (20-23, see README) when the status is LEVEL or more severe: "
    "contraindicated|deferred|incomplete|precautions. The report is written either way.",
)
@click.option(
    "--explain", is_flag=True, help="Add why each rule did or did not fire, and what would change the answer."
)
@click.option(
    "--what-if",
    "what_if",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Re-run with a fact field overridden (repeatable; VALUE 'unknown' removes it). Marked HYPOTHETICAL.",
)
def assess(
    profile: str | None,
    protocols_dir: str | None,
    batch_path: str | None,
    jobs: int,
    fmt: ReportFormat,
    input_format: str,
    as_of: str | None,
    tz: str,
    output: str | None,
    fail_on: str | None,
    explain: bool,
    what_if: tuple[str, ...],
) -> int:
    """Assess a patient profile (YAML or JSON file, or - for stdin), or a batch of them (--batch).

    Example: kapdecide assess examples/precautions-alcohol.yaml --format json
    """
    from .loader import default_protocol_dir, load_protocols

    _set_zone(tz)
    if (profile is None) == (batch_path is None):
        raise click.UsageError("give either PROFILE or --batch FILE.jsonl")
    if batch_path is not None:
        if explain or what_if or fail_on:
            raise click.UsageError("--explain, --what-if and --fail-on work on a single PROFILE, not --batch")
        return _batch(batch_path, protocols_dir, jobs, as_of, output)
    assert profile is not None
    checked = _checked_input(profile, as_of, input_format)
    loaded = load_protocols([protocols_dir or default_protocol_dir()], _cache())
    overrides = _overrides(what_if)
    if fmt == "json" and checked.imported is None and not explain:
        # The common integration call: the report's data is written as is, without building the
        # report models (the same bytes; tests/unit/test_assessment.py checks it).
        from .render.json import dumps

        data = pipeline.report_data(checked, loaded, overrides)
        _write_output(dumps(data), output)
        return _exit_for(data["status"], fail_on)
    report = pipeline.report(checked, loaded, overrides, explain=explain)

    to_terminal = output in (None, "-")
    _write_output(
        render.render_report(report, fmt, lambda buf: _console(sys.stdout if to_terminal else buf, into=buf)), output
    )
    return _exit_for(report.status, fail_on)


def _exit_for(status: str, fail_on: str | None) -> int:
    """Exit 0 for any clinical status, unless --fail-on asks for 20-23 at or above a level."""
    if fail_on is not None:
        from .contract import STATUS_ORDER

        if STATUS_ORDER.index(status) <= FAIL_ON[fail_on]:
            return STATUS_EXIT[status]
    return ExitCode.OK


def _batch(path: str, protocols_dir: str | None, jobs: int, as_of: str | None, output: str | None) -> int:
    from .batch import bounded_lines, run_batch
    from .loader import default_protocol_dir, load_protocols

    given = _parse_date(as_of)
    day = given or _today()
    loaded = load_protocols([protocols_dir or default_protocol_dir()], _cache())
    try:
        # binary: lines are framed on LF only and each is decoded on its own (a bad byte is an error
        # record for its line, never a stopped batch or a silent U+FFFD)
        source: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    sink: IO[str]
    tmp: str | None = None
    if output and output != "-":
        fd, tmp = _temp_beside(output)
        sink = os.fdopen(fd, "w", encoding="utf-8")
    else:
        sink = sys.stdout
    tty = sys.stderr.isatty() and "NO_COLOR" not in os.environ

    def progress(c: Any) -> None:
        sys.stderr.write(f"\r{c.lines} assessed · {c.invalid} invalid · {c.errors} errors")
        sys.stderr.flush()

    def write(text: str) -> None:
        if sink is sys.stdout:
            emit(text)  # each output line is whole before the next starts (a reader may stop any time)
            return
        try:
            sink.write(text)
        except OSError as exc:
            raise OutputError(f"cannot write --output {output}: {exc.strerror or exc}") from None

    try:
        counts = run_batch(
            bounded_lines(source),
            loaded,
            write,
            jobs=jobs,
            default_as_of=day,
            progress=progress if tty else None,
            forced_as_of=given is not None,
        )
        if tmp is not None:
            try:
                sink.flush()
                os.fsync(sink.fileno())
                sink.close()
                os.replace(tmp, output or "")
            except OSError as exc:
                raise OutputError(f"cannot write --output {output}: {exc.strerror or exc}") from None
            tmp = None
    finally:
        if source is not sys.stdin:
            source.close()
        if tmp is not None:
            sink.close()
            Path(tmp).unlink(missing_ok=True)
    if tty:
        sys.stderr.write("\n")
    more = "…" if counts.invalid > len(counts.invalid_lines) else ""
    invalid = f" (lines {', '.join(map(str, counts.invalid_lines))}{more})" if counts.invalid else ""
    sys.stderr.write(
        f"batch: {counts.lines} line(s): {counts.ok} assessed, {counts.invalid} invalid{invalid}, "
        f"{counts.errors} internal error(s)\n"
    )
    if counts.errors:
        return ExitCode.INTERNAL
    return ExitCode.INVALID_INPUT if counts.invalid else ExitCode.OK


def _overrides(items: tuple[str, ...]) -> dict[str, Any]:
    from .facts import parse_fact_value

    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected FIELD=VALUE", param_hint="--what-if")
        try:
            out[name.strip()] = parse_fact_value(name.strip(), text.strip())
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--what-if") from None
    return out


def _checked_input(profile: str, as_of: str | None, input_format: str = "auto") -> pipeline.Checked:
    """The checked profile (from a profile file or a FHIR Bundle), with its unrecognised entries
    warned about on stderr."""
    raw, name = _read_input(profile)
    checked = pipeline.from_bytes(raw, name, input_format=input_format, as_of=_parse_date(as_of), today=_today())
    _warn_unrecognised(checked.profile, checked.smap)
    return checked


def _warn_unrecognised(model: Any, smap: Any) -> None:
    """Entries the terminology does not recognise, located, on stderr (the report lists them too)."""
    from .terminology import resolve

    for r in resolve(model).review:
        p = smap.problem(r.path, "unrecognised-entry", r.message, severity="warning")
        click.echo(p.format(), err=True)


@cli.command()
@click.argument("profile", metavar="PROFILE")
@click.option(
    "--rule",
    "rules",
    multiple=True,
    required=True,
    metavar="ID",
    help="Rule id, or OPTION.EXCLUSION for an option exclusion (repeatable).",
)
@click.option("--protocols", "protocols_dir", type=click.Path(), help="Protocol folder or file.")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format.")
@click.option("--as-of", "as_of", metavar="DATE", help="Assessment date.")
@click.option("--what-if", "what_if", multiple=True, metavar="FIELD=VALUE", help="Override a fact field.")
def explain(
    profile: str,
    rules: tuple[str, ...],
    protocols_dir: str | None,
    fmt: str,
    as_of: str | None,
    what_if: tuple[str, ...],
) -> int:
    """Explain why rules did or did not fire for a profile: each condition leaf with its value.

    Example: kapdecide explain examples/deferred-bp-alcohol.yaml --rule bp_above_hold_threshold
    """
    from .explain import explain_rules
    from .loader import default_protocol_dir, load_protocols

    checked = _checked_input(profile, as_of)
    day = checked.as_of
    loaded = load_protocols([protocols_dir or default_protocol_dir()], _cache())
    overrides = _overrides(what_if)
    explanations = explain_rules(checked.profile, loaded, day, overrides, rules)
    known = {e.rule_id for e in explanations}
    unknown = [r for r in rules if r not in known]
    if unknown:
        raise InvalidInputError(f"no rule or option exclusion named {', '.join(unknown)} in these protocols")
    if fmt == "json":
        from .render.json import dumps

        sys.stdout.write(
            dumps(
                {
                    "schema_version": "1.0",
                    "as_of": day.isoformat(),
                    "what_if_overrides": {
                        k: list(v) if isinstance(v, tuple) else v for k, v in sorted(overrides.items())
                    },
                    "explanation": [e.model_dump(mode="json") for e in explanations],
                }
            )
        )
    else:
        from .render.text import render_explanation

        render_explanation(explanations, _console(sys.stdout))
    return ExitCode.OK


@cli.command()
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format.")
def validate(paths: tuple[str, ...], fmt: str) -> int:
    """Check protocol files (default: the shipped protocols); every problem in every file.

    Exit 0 when there is no error (warnings are listed), 1 when any file has an error.

    Example: kapdecide validate protocols/
    """
    from .loader import default_protocol_dir, protocol_files, validate_paths

    targets = list(paths) or [str(default_protocol_dir())]
    loaded, problems = validate_paths(targets, _today(), None)  # never trusts the cache
    files = [str(f) for f in protocol_files(targets)[0]]
    errors = [p for p in problems if p.severity == "error"]
    if fmt == "json":
        from .render.json import render_problems

        sys.stdout.write(render_problems(problems, files))
    else:
        summary = (
            f"{len(files)} file(s), {len(loaded)} protocol(s): {len(errors)} error(s), "
            f"{len(problems) - len(errors)} warning(s)"
        )
        if _colour(sys.stdout) or _colour(sys.stderr):
            from .render.text import render_problems as render_text

            render_text(problems, _console(sys.stdout))
            _console(sys.stderr).print(summary)
        else:  # no colour: the same lines, without importing rich (a fifth of validate's start-up)
            sys.stdout.write("".join(f"{p.format()}\n" for p in problems))
            sys.stderr.write(summary + "\n")
    return ExitCode.FINDINGS if errors else ExitCode.OK


@cli.command(name="test")
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("--protocols", "protocols_dir", type=click.Path(), help="Protocols to test (default: the shipped ones).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "junit"]), default="text", show_default=True)
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
    """Run protocol test cases (*.cases.yaml; default: the shipped protocols' tests/ folder).

    Exit 0 when every case passes (todo cases may fail), 1 on any failure or coverage below
    --min-coverage, 2 when a cases file is invalid.

    Example: kapdecide test --coverage --min-coverage 100
    """
    from .cases import case_files, coverage, run_suite
    from .loader import default_protocol_dir, load_protocols

    base = Path(protocols_dir) if protocols_dir else default_protocol_dir()
    files = case_files(list(paths) or [base / "tests"])
    if not files:
        raise InvalidInputError("no test cases found (*.cases.yaml)")
    loaded = load_protocols([base], None)  # never trusts the cache: the cases test the files
    suite = run_suite(files, loaded)
    coverages = coverage(suite, loaded) if show_coverage or min_coverage is not None else None
    if fmt == "json":
        from .render.json import render_suite

        sys.stdout.write(render_suite(suite, coverages))
    elif fmt == "junit":
        from .render.junit import render_suite as render_junit

        sys.stdout.write(render_junit(suite))
    else:
        from .render.text import render_suite as render_text

        render_text(suite, coverages, _console(sys.stdout))
    if suite.problems:
        return ExitCode.INVALID_INPUT
    below = min_coverage is not None and any(min(c.rule_pct, c.option_pct) < min_coverage for c in coverages or [])
    if below:
        sys.stderr.write(f"coverage below --min-coverage {min_coverage:g}%\n")
    return ExitCode.FINDINGS if suite.count("failed") or below else ExitCode.OK


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
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format.")
@click.option("--as-of", "as_of", metavar="DATE", help="Date for profiles without assessed_on (default: today).")
def diff(old: str, new: str, profiles_dir: str, fmt: str, as_of: str | None) -> int:
    """Show the clinical impact of a protocol change: every profile whose status, findings or options change.

    Exit 0 when nothing changes, 1 when something does, 2 when a profile is invalid.

    Example: kapdecide diff old-protocols/ protocols/ --profiles examples/
    """
    from .diff import impact, profile_files
    from .loader import load_protocols

    day = _parse_date(as_of) or _today()
    result = impact(
        load_protocols([old], _cache()), load_protocols([new], _cache()), profile_files(Path(profiles_dir)), day
    )
    if fmt == "json":
        from .render.json import dumps

        sys.stdout.write(dumps({"schema_version": "1.0", **result.model_dump(mode="json")}))
    else:
        from .render.text import render_impact

        render_impact(result, _console(sys.stdout))
    if any(c.error for c in result.changed):
        return ExitCode.INVALID_INPUT
    return ExitCode.FINDINGS if result.changed else ExitCode.OK


@cli.command()
@click.argument("report_path", metavar="REPORT.json")
@click.argument("profile", metavar="PROFILE")
@click.option("--protocols", "protocols_dir", type=click.Path(), help="Protocols (default: the shipped ones).")
@click.option("--format", "fmt", type=FORMAT, default="text", show_default=True, help="Output format.")
def replay(report_path: str, profile: str, protocols_dir: str | None, fmt: str) -> int:
    """Re-run the assessment a JSON report records and confirm it, or show what changed and why.

    Exit 0 when the result is the same, 1 when it differs.

    Example: kapdecide replay report.json examples/deferred-bp-alcohol.yaml
    """
    from .loader import default_protocol_dir, load_protocols
    from .replay import read_report, receipt_as_of
    from .replay import replay as run_replay
    from .yaml_source import SourceError, decode, load

    raw, name = _read_input(report_path)
    try:
        data, _ = load(decode(raw, name, 64 << 20), name if name.endswith(".json") else f"{name}.json")
    except SourceError as exc:
        raise InvalidInputError(f"{name} is not a JSON report", exc.problems) from None
    old = read_report(data, name)
    raw, label = _read_input(profile)
    checked = pipeline.from_bytes(raw, label, as_of=receipt_as_of(old), today=None)
    loaded = load_protocols([protocols_dir or default_protocol_dir()], _cache())
    result = run_replay(old, checked.profile, loaded, __version__)
    if fmt == "json":
        from .render.json import dumps

        sys.stdout.write(dumps({"schema_version": "1.0", **result.model_dump(mode="json")}))
    else:
        out = _console(sys.stdout)
        if result.same:
            offered = sum(o.state == "offered" for o in old.options)
            out.print(f"Same result: status {old.status}, {len(old.findings)} findings, {offered} option(s) offered.")
        else:
            from .diff import Impact
            from .render.text import render_impact

            changed = [result.change] if result.change else []
            out.print("[bold]Different result[/]")
            from .report import protocol_ref

            now = [protocol_ref(lp) for lp in loaded]
            render_impact(Impact(old=old.protocols, new=now, profiles=1, changed=changed), out)
        for cause in result.causes:
            out.print(f"  because: {cause}")
    return ExitCode.OK if result.same else ExitCode.FINDINGS


@cli.command(name="import-fhir")
@click.argument("bundle", metavar="BUNDLE")
@click.option("--as-of", "as_of", metavar="DATE", help="Date the mapping is for (ages, recency; default: today).")
@click.option("--tz", "tz", metavar="ZONE", default="UTC", show_default=True, help="Time zone of 'today' (see assess).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: the profile, with warnings and unmapped codes as comments; json: all of it as data.",
)
def import_fhir(bundle: str, as_of: str | None, fmt: str, tz: str) -> int:
    """Print the profile a FHIR R4 Bundle maps to, so that the mapping can be checked and corrected.

    Example: kapdecide import-fhir patient-bundle.json > profile.yaml
    """
    from .yaml_source import SourceMap

    _set_zone(tz)
    day = _parse_date(as_of) or _today()
    raw, name = _read_input(bundle)
    data = pipeline.read_bundle(raw, name, "fhir")
    assert data is not None
    imported, _ = pipeline.import_bundle(data, SourceMap(f"{name} (mapped from FHIR)"), day)
    if fmt == "json":
        from .render.json import dumps

        sys.stdout.write(
            dumps(
                {
                    "patient_id": imported.patient_id,
                    "resources_read": imported.resources_read,
                    "profile": imported.profile,
                    "provenance": imported.provenance,
                    "warnings": imported.warnings,
                    "unmapped": imported.unmapped,
                }
            )
        )
        return ExitCode.OK
    import yaml

    lines = [
        f"# kapdecide profile mapped from FHIR R4 Bundle {name} ({imported.patient_id or 'no Patient'}), as of {day}.",
        "# Decision support for clinician review: check and correct this mapping before relying on it.",
        "# Lists named in incomplete_lists hold what the record shows; an item not listed is unknown.",
    ]
    lines += [f"# WARNING: {w}" for w in imported.warnings]
    lines += [
        f"# NOT MAPPED: {u.get('resource')} {u.get('system')}|{u.get('code')} {u.get('display') or ''}"
        f" ({u.get('reason')})"
        for u in imported.unmapped
    ]
    body = yaml.safe_dump(imported.profile, sort_keys=False, allow_unicode=True, default_flow_style=False)
    sys.stdout.write("\n".join(line.replace("\n", " ") for line in lines) + "\n" + body)
    return ExitCode.OK


@cli.command()
@click.argument("name", type=click.Choice(["profile", "protocol", "report"]))
def schema(name: str) -> int:
    """Print the JSON Schema of the profile, a protocol file, or the JSON report.

    Example: kapdecide schema report > report.schema.json
    """
    from .render.json import dumps
    from .schema import json_schema

    sys.stdout.write(dumps(json_schema(name)))
    return ExitCode.OK


def _wants_json(args: list[str]) -> bool:
    """JSON-speaking formats get a JSON error document on stdout, so callers always have one to parse."""
    machine = ("json", "cds-hooks")
    for i, a in enumerate(args):
        if a in ("--format=json", "--format=cds-hooks") or (
            a == "--format" and i + 1 < len(args) and args[i + 1] in machine
        ):
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map every outcome to one exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Third-party pydantic plugins hook every validation (they could see patient data or change
    # behaviour); kapdecide's results must not depend on what else is installed. Skipping their
    # discovery also saves a scan of every installed package at each start (~30 ms).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _utf8_streams()
    signal.signal(signal.SIGTERM, _terminated)  # like Ctrl-C: workers stopped, temporary files removed
    json_mode = _wants_json(args)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="kapdecide", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        code = ExitCode.INVALID_INPUT
        _report_failure(None, code, exc.format_message(), json_mode)
    except (click.exceptions.Abort, KeyboardInterrupt):
        code = ExitCode.INTERRUPTED
        sys.stderr.write("interrupted\n")
    except KapdecideError as exc:
        code = exc.exit_code
        _report_failure(exc, code, None, json_mode)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): end quietly, without a second error on flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = ExitCode.OK
    except OSError as exc:
        if exc.errno not in _WRITE_ERRNOS:
            raise
        code = ExitCode.INVALID_INPUT  # a full disk or a failing device: never a silent partial report
        _report_failure(OutputError(f"cannot write the report: {exc.strerror or exc}"), code, None, json_mode)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except Exception:
        code = ExitCode.INTERNAL
        if debug:
            import traceback

            traceback.print_exc()
        _report_failure(
            None,
            code,
            "internal error: kapdecide failed unexpectedly; no assessment was made. "
            "Run again with --debug and report the traceback.",
            json_mode,
        )
    try:
        sys.stdout.flush()  # a report is complete, or the exit code says it is not
    except BrokenPipeError:
        pass
    except OSError as exc:
        if code == ExitCode.OK or code in STATUS_EXIT.values():
            sys.stderr.write(f"error: cannot write the report: {exc.strerror or exc} (bad usage or invalid profile)\n")
            code = ExitCode.INVALID_INPUT
        try:  # what could not be written is dropped, not retried (and failed again) at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
    sys.exit(code)


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _utf8_streams() -> None:
    """Reports are UTF-8 whatever the locale says (a latin-1 or ASCII locale made every report with an
    em dash an internal error); messages on stderr replace what the terminal cannot show."""
    for stream, errors in ((sys.stdout, "strict"), (sys.stderr, "replace")):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors=errors)


def _report_failure(error: KapdecideError | None, code: int, message: str | None, json_mode: bool) -> None:
    if json_mode and not isinstance(error, OutputError):  # stdout that failed once is not written again
        from .render.json import render_error

        try:
            sys.stdout.write(render_error(error, code, message))
            sys.stdout.flush()
        except OSError:
            pass  # the message still goes to stderr
    if error is not None:
        from .render.text import render_error as render_text_error

        render_text_error(error, _console(sys.stderr))
    else:
        sys.stderr.write(f"error: {message} ({EXIT_MEANING.get(code, 'error')})\n")
