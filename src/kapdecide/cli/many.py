"""``kapdecide assess a.yaml b.yaml``: each profile assessed in turn, one text report after another.

Each report is headed ``==> FILE <==`` (as ``head`` and ``tail`` head theirs). A profile that is
invalid is reported on stderr like a single one, and on stdout as "not assessed", and the others are
still assessed. The exit code is the worst of them: invalid input (2) above any status code of
``--fail-on`` (20 contraindicated … 23 eligible_with_precautions), above 0. Machine formats refuse
several profiles: a JSON caller gets exactly one document per call, and ``--batch`` is the way to
assess many (one JSON profile per line in, one JSON report per line out).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import click

from kapdecide.cli.common import OutputError, console_for, emit
from kapdecide.core.errors import ExitCode, InvalidInputError

#: Worst first: an input not assessed, then the --fail-on status codes from the most severe status.
_WORST = (ExitCode.INVALID_INPUT, 20, 21, 22, 23, ExitCode.OK)


def check_many(profiles: Sequence[str], fmt: str, output: str | None) -> None:
    """Refuse what several PROFILEs cannot do, before any is read (a usage error)."""
    if fmt != "text":
        raise click.UsageError(
            f"--format {fmt} writes one document for one PROFILE; give one PROFILE per call, or use "
            "--batch FILE.jsonl for many (one JSON profile per line in, one JSON report per line out)"
        )
    if output not in (None, "-"):
        raise click.UsageError("--output writes one report: with several PROFILEs, redirect standard output instead")
    if list(profiles).count("-") > 1:
        raise click.UsageError("standard input (-) can be read only once")


def assess_many(profiles: Sequence[str], fmt: str, output: str | None) -> int:
    """``assess`` with several PROFILEs: the checks above, then the command itself on each one."""
    check_many(profiles, fmt, output)
    ctx = click.get_current_context()
    return assess_each(profiles, lambda one: int(ctx.invoke(ctx.command, **{**ctx.params, "profile": (one,)})))


def assess_each(profiles: Sequence[str], assess_one: Callable[[str], int]) -> int:
    """Assess each profile with ``assess_one`` (the single-profile command), each report under its
    file name; the worst exit code."""
    from kapdecide.render.text import render_error

    codes: list[int] = []
    for i, name in enumerate(profiles):
        emit(("\n" if i else "") + f"==> {'<stdin>' if name == '-' else name} <==\n")
        try:
            codes.append(assess_one(name))
        except OutputError:
            raise
        except InvalidInputError as exc:  # this profile only; protocol and internal errors stop the run
            sys.stdout.flush()
            render_error(exc, console_for(sys.stderr))
            emit(f"not assessed: {exc.message} (the problems are on standard error)\n")
            codes.append(exc.exit_code)
    return worst(codes)


def worst(codes: Sequence[int]) -> int:
    """The worst of several exit codes (see the module docstring)."""
    return min(codes, key=lambda c: _WORST.index(c) if c in _WORST else -1, default=ExitCode.OK)
