"""``kapdecide protocol-info``: the protocols in use and, as JSON, the header of compact batch lines."""

from __future__ import annotations

import sys

from kapdecide.cli.common import console_for, format_option, open_cache, protocols_option
from kapdecide.cli.group import cli
from kapdecide.core.errors import ExitCode


@cli.command("protocol-info")
@protocols_option()
@format_option(help="text (a summary) or json (the header every `assess --batch --line compact` line refers to).")
def protocol_info(protocols_dir: str | None, fmt: str) -> int:
    """Show the protocols in use and the compact-line header.

    As JSON: the constant part of compact batch lines. A compact line (assess --batch --line
    compact) names the first 16 hex digits of this header's header_sha256;
    kapdecide.assessment.compact.expand(line, header) gives the full report.

    Examples:

    \b
      kapdecide protocol-info
      kapdecide protocol-info --format json > header.json
    """
    from kapdecide.assessment.compact import header
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    loaded = load_protocols([protocols_dir or default_protocol_dir()], open_cache())
    head = header(loaded)
    if fmt == "json":
        from kapdecide.render.json import dumps

        sys.stdout.write(dumps(head))
        return ExitCode.OK
    from rich.markup import escape

    out = console_for(sys.stdout)
    for lp in loaded:
        p = lp.protocol
        out.print(f"[bold]{escape(p.id)} {escape(p.version)}[/] — {escape(p.title)}")
        out.print(f"  {escape(_shown(lp.path))}  sha256 {lp.sha256}", soft_wrap=True)
        out.print(f"  {len(p.rules)} rules · {len(p.options)} options · {len(p.evidence)} sources")
    out.print(f"compact-line header {head['header_sha256'][:16]} (kapdecide {head['kapdecide_version']})")
    return ExitCode.OK


def _shown(path: str) -> str:
    """A protocol file as the user would name it: relative to the working folder when inside it."""
    import os

    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel
