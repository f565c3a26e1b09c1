"""``kapdecide import-fhir``: the profile a FHIR Bundle maps to."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING

import click

from kapdecide import pipeline
from kapdecide.core.errors import ExitCode

if TYPE_CHECKING:
    pass

from kapdecide.cli.common import INPUT_PATH, as_of_option, read_input, set_zone, today, tz_option
from kapdecide.cli.group import cli


@cli.command(name="import-fhir")
@click.argument("bundle", metavar="BUNDLE", type=INPUT_PATH)
@as_of_option("Date the mapping is for (ages, recency; default: today).")
@tz_option("Time zone of 'today' (see assess).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["yaml", "json"]),
    default="yaml",
    show_default=True,
    help="yaml: the profile, with warnings and unmapped codes as comments; json: all of it as data.",
)
def import_fhir(bundle: str, as_of: dt.date | None, fmt: str, tz: str) -> int:
    """Print the profile a FHIR R4 Bundle maps to.

    So that the mapping can be checked and corrected (warnings and unmapped codes as comments).

    Example:

    \b
      kapdecide import-fhir patient-bundle.json > profile.yaml
    """
    from kapdecide.inputs.yaml_source import SourceMap

    set_zone(tz)
    day = as_of or today()
    raw, name = read_input(bundle)
    data = pipeline.read_bundle(raw, name, "fhir")
    assert data is not None
    imported, _ = pipeline.import_bundle(data, SourceMap(f"{name} (mapped from FHIR)"), day)
    if fmt == "json":
        from kapdecide.render.json import dumps

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
