"""What every command shares: reading inputs, writing reports atomically, consoles, dates and options."""

from __future__ import annotations

import datetime as dt
import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from kapdecide import pipeline
from kapdecide.core.errors import STATUS_EXIT, ExitCode, InvalidInputError, Problem

if TYPE_CHECKING:
    from kapdecide.protocol.cache import ProtocolCache


#: --fail-on levels, and the exit code of each status at or above the level (documented in the README).
FAIL_ON = {"contraindicated": 0, "deferred": 1, "incomplete": 2, "eligible_with_precautions": 3, "precautions": 3}


def read_input(name: str) -> tuple[bytes, str]:
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
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


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


def write_output(text: str, output: str | None) -> None:
    """Write the whole output to stdout, or atomically to ``output``."""
    if output is None or output == "-":
        emit(text)
        return
    # Atomic: a reader sees the complete report or the previous file, never a partial one.
    fd, tmp = temp_beside(output)
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


def temp_beside(output: str) -> tuple[int, str]:
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


def open_cache() -> ProtocolCache | None:
    """The on-disk protocol cache (``KAPDECIDE_CACHE_DIR``; ``off`` turns it off); one warning and no
    cache when the folder is not safe to trust."""
    from kapdecide.protocol.cache import default_cache

    cache = default_cache()
    why = cache.untrusted() if cache is not None else None
    if cache is not None and why is not None:
        sys.stderr.write(f"warning: protocol cache {cache.folder} not used: {why}; the protocols were read from file\n")
        return None
    return cache


_COLOR_MODE = {"mode": "auto"}


def _set_color(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:  # given: it wins over the environment (and a later --color over an earlier)
        _COLOR_MODE["mode"] = value


def reset_color() -> None:
    """Back to ``--color auto`` (each invocation starts there)."""
    _COLOR_MODE["mode"] = "auto"


def color_option() -> Callable[[Any], Any]:
    """``--color auto|always|never``, on the group and on the commands that print colour."""
    return click.option(
        "--color",
        type=click.Choice(["auto", "always", "never"]),
        default=None,
        expose_value=False,
        callback=_set_color,
        is_eager=True,
        help="Colour: auto (on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it), always or never.",
    )


def colour(stream: IO[str]) -> bool:
    """Whether to colour what goes to ``stream``: --color, else NO_COLOR (off) and FORCE_COLOR (on) as
    https://no-color.org and https://force-color.org define them, else whether it is a terminal."""
    mode = _COLOR_MODE["mode"]
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream.isatty()


def console_for(stream: IO[str], into: IO[str] | None = None) -> Any:
    """A console with ``stream``'s colour and width, writing to ``stream`` (or into a buffer)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich exits 1 when the reader goes away (`| head`); main() ends quietly with 0 instead
            self.quiet = True
            raise BrokenPipeError

    no_color = not colour(stream)
    width = None if stream.isatty() else 100
    if into is not None and width is None:
        import shutil

        width = shutil.get_terminal_size().columns
    return _Console(
        file=stream if into is None else into,
        no_color=no_color,
        color_system=None if no_color else "auto",
        force_terminal=not no_color,
        width=width,
        highlight=False,
    )


def today() -> dt.date:
    """Today in the run's time zone (``--tz``)."""
    from kapdecide.core import clock

    return clock.today()


def set_zone(name: str) -> None:
    """The run's time zone (clock.py): 'today' and every time stamp with an offset are read in it."""
    from kapdecide.core import clock

    try:
        clock.set_zone(clock.zone_named(name))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--tz") from None


class DateParam(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.3; 8.1 is supported
    """``YYYY-MM-DD`` on the command line, as a date (checked while the arguments are parsed)."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        """The value as its type, or a usage error naming the option."""
        if isinstance(value, dt.date):
            return value
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class WhatIfParam(click.ParamType):  # type: ignore[type-arg]
    """``FIELD=VALUE``: a fact field, typed by the fact schema, or a profile path, applied to the profile
    before validation (``unknown`` makes either unknown)."""

    name = "what-if"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, Any]:
        """The value as its type (a ProfileEdit for a profile path), or a usage error naming the option."""
        from kapdecide.core.vocabulary import suggest
        from kapdecide.inputs.edits import is_profile_path, parse_edit, profile_paths
        from kapdecide.language.facts import FIELDS, parse_fact_value

        if isinstance(value, tuple):
            return value
        name, sep, text = str(value).partition("=")
        name, text = name.strip(), text.strip()
        if not sep:
            self.fail(f"{value!r}: expected FIELD=VALUE (a fact field or a profile path)", param, ctx)
        try:
            if name in FIELDS:  # a name that is both (vitals.heart_rate_bpm) is the fact, as before
                return name, parse_fact_value(name, text)
            if is_profile_path(name):
                return name, parse_edit(name, text)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        parts = name.split(".")
        whole = ".".join(parts[: next((i for i, p in enumerate(parts) if p.isdigit()), 0)])
        if whole and is_profile_path(whole):  # an index into a list
            self.fail(f"{name!r}: a list is replaced whole, e.g. --what-if '{whole}=[...]'", param, ctx)
        hint = suggest(name, [*FIELDS, *profile_paths()])
        self.fail(
            f"{name!r} is neither a fact field (docs/reference.md) nor a profile path"
            + (f"; did you mean {hint!r}?" if hint else ""),
            param,
            ctx,
        )


DATE = DateParam()
#: A file argument (``-`` for stdin): a path for shell completion, read (and refused) by read_input.
INPUT_PATH = click.Path(allow_dash=True, readable=False)
WHAT_IF = WhatIfParam()
_Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def protocols_option(help: str = "Protocol folder or file (default: the shipped protocols).") -> _Decorator:
    """``--protocols DIR``, the same on every command that reads protocols."""
    return click.option("--protocols", "protocols_dir", type=click.Path(file_okay=True, dir_okay=True), help=help)


def line_option(help: str) -> _Decorator:
    """``--line full|compact``: each batch line the full report, or compact (``assessment.compact``)."""
    return click.option(
        "--line", "line_format", type=click.Choice(["full", "compact"]), default="full", show_default=True, help=help
    )


def tz_option(help: str = "Time zone of 'today' (IANA name, e.g. Europe/London).") -> _Decorator:
    """``--tz ZONE``, the time zone of 'today' and of dates read from time stamps."""
    return click.option("--tz", "tz", metavar="ZONE", default="UTC", show_default=True, help=help)


def as_of_option(help: str) -> _Decorator:
    """``--as-of DATE`` as a date."""
    return click.option("--as-of", "as_of", type=DATE, metavar="DATE", help=help)


WHAT_IF_HELP = (
    "Re-run with a fact field (docs/reference.md) or a profile field overridden, e.g. vitals.blood_pressure=150/95 "
    "or substance_use.alcohol.last_use=2026-11-18 (repeatable; VALUE 'unknown' removes it). Marked HYPOTHETICAL."
)


def what_if_option(help: str = WHAT_IF_HELP) -> _Decorator:
    """``--what-if FIELD=VALUE`` (repeatable), parsed into typed overrides."""
    return click.option("--what-if", "what_if", type=WHAT_IF, multiple=True, metavar="FIELD=VALUE", help=help)


def format_option(choices: tuple[str, ...] = ("text", "json"), help: str = "Output format.") -> _Decorator:
    """``--format``, text by default."""
    return click.option("--format", "fmt", type=click.Choice(choices), default="text", show_default=True, help=help)


def exit_for(status: str, fail_on: str | None) -> int:
    """Exit 0 for any clinical status, unless --fail-on asks for 20-23 at or above a level."""
    if fail_on is not None:
        from kapdecide.core.contract import STATUS_ORDER

        if STATUS_ORDER.index(status) <= FAIL_ON[fail_on]:
            return STATUS_EXIT[status]
    return ExitCode.OK


def overrides_of(what_if: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The ``--what-if`` fact overrides as a mapping (a later value for a field wins)."""
    from kapdecide.inputs.edits import ProfileEdit

    return {k: v for k, v in what_if if not isinstance(v, ProfileEdit)}


def edits_of(what_if: tuple[tuple[str, Any], ...]) -> list[Any]:
    """The ``--what-if`` profile edits, in the order given."""
    from kapdecide.inputs.edits import ProfileEdit

    return [v for _, v in what_if if isinstance(v, ProfileEdit)]


def checked_input(
    profile: str, as_of: dt.date | None, input_format: str = "auto", what_if: tuple[tuple[str, Any], ...] = ()
) -> pipeline.Checked:
    """The checked profile (from a profile file or a FHIR Bundle, with the --what-if profile edits
    applied), with its unrecognised entries warned about on stderr."""
    raw, name = read_input(profile)
    edits = edits_of(what_if)
    checked = pipeline.from_bytes(raw, name, input_format=input_format, as_of=as_of, today=today(), edits=edits)
    warn_unrecognised(checked.profile, checked.smap, checked.edited_at)
    return checked


def warn_unrecognised(model: Any, smap: Any, edited_at: Any = ()) -> None:
    """Entries the terminology does not recognise, located (an edited one at its --what-if), on stderr
    (the report lists them too)."""
    from kapdecide.inputs.edits import relocate
    from kapdecide.inputs.resolution import resolve

    for r in resolve(model).review:
        p = smap.problem(r.path, "unrecognised-entry", r.message, severity="warning")
        click.echo(relocate([p], edited_at)[0].format(), err=True)
