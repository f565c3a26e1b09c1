"""The entry point of the command line, ``kapdecide.cli:main``.

Exit codes are mapped in one place, ``main``: 0 success (``assess``: a report was produced,
whatever the clinical status), 1 findings (``validate`` found problems), 2 bad usage or invalid
profile, 3 protocols could not be loaded, 4 internal error (traceback only with ``--debug``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING

import click

from kapdecide.core.errors import EXIT_MEANING, STATUS_EXIT, ExitCode, KapdecideError

if TYPE_CHECKING:
    pass

from kapdecide.cli.common import WRITE_ERRNOS, OutputError, console_for, reset_color
from kapdecide.cli.group import cli
from kapdecide.cli.plugins import no_pydantic_plugins


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
    no_pydantic_plugins()  # done on import of kapdecide.cli; again for a caller that imported main alone
    _utf8_streams()
    signal.signal(signal.SIGTERM, _terminated)  # like Ctrl-C: workers stopped, temporary files removed
    reset_color()  # --color is per invocation (tests call main() many times in one process)
    if not args:  # bare `kapdecide`: the help, as a successful answer (not a usage error)
        args = ["--help"]
    json_mode = _wants_json(args)
    debug = "--debug" in args
    try:
        result = cli.main(args=args, prog_name="kapdecide", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except SystemExit:
        if not _click_saw_a_closed_pipe():
            raise
        code = ExitCode.OK
    except click.UsageError as exc:
        code = ExitCode.INVALID_INPUT
        where = exc.ctx.command_path if exc.ctx is not None else "kapdecide"
        _report_failure(None, code, exc.format_message(), json_mode, hint=f"Try '{where} --help'.")
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
        if exc.errno not in WRITE_ERRNOS:
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
    sys.exit(_flushed(code))


def _flushed(code: int) -> int:
    """Flush stdout: a report is complete, or the exit code says it is not."""
    try:
        sys.stdout.flush()
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
    return code


def _click_saw_a_closed_pipe() -> bool:
    """Whether click answered a closed pipe (EPIPE) itself with exit 1, wrapping the streams: the
    reader going away (`| head`) is not a failure, so kapdecide ends quietly with 0 (as for
    BrokenPipeError)."""
    if not type(sys.stdout).__name__.endswith("PacifyFlushWrapper"):  # _PacifyFlushWrapper from click 8.2
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return True


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _utf8_streams() -> None:
    """Reports are UTF-8 whatever the locale says (a latin-1 or ASCII locale made every report with an
    em dash an internal error); messages on stderr replace what the terminal cannot show."""
    for stream, errors in ((sys.stdout, "strict"), (sys.stderr, "replace")):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors=errors)


def _report_failure(
    error: KapdecideError | None, code: int, message: str | None, json_mode: bool, hint: str | None = None
) -> None:
    if json_mode and not isinstance(error, OutputError):  # stdout that failed once is not written again
        from kapdecide.render.json import render_error

        try:
            sys.stdout.write(render_error(error, code, message))
            sys.stdout.flush()
        except OSError:
            pass  # the message still goes to stderr
    if error is not None:
        from kapdecide.render.text import render_error as render_text_error

        render_text_error(error, console_for(sys.stderr))
    elif hint is not None:  # a usage error: what to run to see the usage, not an exit-code meaning
        sys.stderr.write(f"error: {message}\n{hint}\n")
    else:
        sys.stderr.write(f"error: {message} ({EXIT_MEANING.get(code, 'error')})\n")
