"""Renderers: lay out a Report or a list of Problems as text, JSON, JUnit or CDS Hooks. They never decide anything.

``render_report`` is the registry of report formats: ``--format`` takes its choices from
``REPORT_FORMATS``, and a format added to ``ReportFormat`` without a renderer is a mypy error
(``assert_never``). Each renderer is imported only when used (no rich for JSON output).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Literal, assert_never, get_args

if TYPE_CHECKING:
    from rich.console import Console

    from kapdecide.assessment.report import Report

ReportFormat = Literal["text", "json", "cds-hooks"]
REPORT_FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)
#: What each report format is, for ``--help``.
REPORT_FORMAT_HELP = "a clinician's screen, the JSON report, or a CDS Hooks 2.0 response"


def render_report(
    report: Report,
    fmt: ReportFormat,
    console: Callable[[IO[str]], Console] | None = None,
    details: bool = False,
    hook_instance: str | None = None,
) -> str:
    """The report in ``fmt``; ``console`` makes the text format's console over a buffer (colour and
    width as for the real output stream; plain, 100 columns, when not given); ``details`` asks the
    text format for everything rather than one screen; ``hook_instance`` seeds the CDS Hooks card
    uuids (random when not given)."""
    if fmt == "json":
        from kapdecide.render.json import render_report as render_json

        return render_json(report)
    if fmt == "cds-hooks":
        from kapdecide.render.cds_hooks import render_cds_hooks

        return render_cds_hooks(report, hook_instance)
    if fmt == "text":
        from kapdecide.render.screen import render_report as render_screen
        from kapdecide.render.text import plain_console

        buf = io.StringIO()
        render_screen(report, (console or plain_console)(buf), details)
        # a wrapped row is padded to the width: no trailing blanks in a file or a pipe
        return "".join(line.rstrip(" ") + "\n" for line in buf.getvalue().splitlines())
    assert_never(fmt)
