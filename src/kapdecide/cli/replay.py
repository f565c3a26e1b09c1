"""``kapdecide replay``: re-run the assessment a report records."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from kapdecide import __version__, pipeline
from kapdecide.core.errors import ExitCode, InvalidInputError

if TYPE_CHECKING:
    pass

from kapdecide.cli.common import INPUT_PATH, console_for, format_option, open_cache, protocols_option, read_input
from kapdecide.cli.group import cli


@cli.command()
@click.argument("report_path", metavar="REPORT.json", type=INPUT_PATH)
@click.argument("profile", metavar="PROFILE", type=INPUT_PATH)
@protocols_option()
@format_option()
def replay(report_path: str, profile: str, protocols_dir: str | None, fmt: str) -> int:
    """Re-run a JSON report's assessment and say what changed.

    Confirms the same result (exit 0), or shows what changed and why (exit 1).

    Example:

    \b
      kapdecide assess profile.yaml --format json > report.json
      kapdecide replay report.json profile.yaml
    """
    from kapdecide.authoring.replay import read_report, receipt_as_of, receipt_edits
    from kapdecide.authoring.replay import replay as run_replay
    from kapdecide.inputs.yaml_source import SourceError, decode, load
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    raw, name = read_input(report_path)
    try:
        data, _ = load(decode(raw, name, 64 << 20), name if name.endswith(".json") else f"{name}.json")
    except SourceError as exc:
        raise InvalidInputError(f"{name} is not a JSON report", exc.problems) from None
    old = read_report(data, name)
    raw, label = read_input(profile)
    checked = pipeline.from_bytes(raw, label, as_of=receipt_as_of(old), today=None, edits=receipt_edits(old))
    loaded = load_protocols([protocols_dir or default_protocol_dir()], open_cache())
    result = run_replay(old, checked.profile, loaded, __version__)
    if fmt == "json":
        from kapdecide.render.json import dumps

        sys.stdout.write(dumps({"schema_version": "1.0", **result.model_dump(mode="json")}))
    else:
        out = console_for(sys.stdout)
        if result.same:
            offered = sum(o["state"] == "offered" for o in old["options"])
            out.print(
                f"Same result: status {old['status']}, {len(old['findings'])} findings, {offered} option(s) offered."
            )
        else:
            from kapdecide.authoring.diff import Impact
            from kapdecide.render.text import render_impact

            changed = [result.change] if result.change else []
            out.print("[bold]Different result[/]")
            from kapdecide.assessment.report import protocol_ref

            now = [protocol_ref(lp) for lp in loaded]
            render_impact(Impact(old=old["protocols"], new=now, profiles=1, changed=changed), out)
        for cause in result.causes:
            out.print(f"  because: {cause}")
    return ExitCode.OK if result.same else ExitCode.FINDINGS
