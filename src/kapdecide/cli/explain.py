"""``kapdecide explain``: why rules did or did not fire."""

from __future__ import annotations

import datetime as dt
import sys
from typing import TYPE_CHECKING, Any

import click

from kapdecide.core.errors import ExitCode, InvalidInputError

if TYPE_CHECKING:
    pass

from kapdecide import pipeline
from kapdecide.cli.common import (
    INPUT_PATH,
    as_of_option,
    checked_input,
    console_for,
    format_option,
    open_cache,
    overrides_of,
    protocols_option,
    what_if_option,
)
from kapdecide.cli.group import cli


@cli.command()
@click.argument("profile", metavar="PROFILE", type=INPUT_PATH)
@click.option(
    "--rule",
    "rules",
    multiple=True,
    metavar="ID",
    help="Rule id, or OPTION.EXCLUSION for an option exclusion (repeatable). Default: every rule that "
    "fired or could not be checked.",
)
@protocols_option()
@format_option()
@as_of_option("Assessment date (default: the profile's assessed_on, else today).")
@what_if_option()
def explain(
    profile: str,
    rules: tuple[str, ...],
    protocols_dir: str | None,
    fmt: str,
    as_of: dt.date | None,
    what_if: tuple[tuple[str, Any], ...],
) -> int:
    """Explain why rules did or did not fire for a profile.

    Each condition leaf with the profile's value, the operator, the threshold and the result. Without
    --rule, every rule that fired or could not be checked is explained.

    Examples:

    \b
      kapdecide explain examples/deferred-bp-alcohol.yaml
      kapdecide explain examples/deferred-bp-alcohol.yaml --rule bp_above_hold_threshold
      kapdecide explain profile.yaml --what-if vitals.blood_pressure=128/78 --format json
    """
    from kapdecide.assessment.explain import explain_rules
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    checked = checked_input(profile, as_of, what_if=what_if)
    day = checked.as_of
    loaded = load_protocols([protocols_dir or default_protocol_dir()], open_cache())
    overrides = overrides_of(what_if)
    if not rules:
        report = pipeline.report(checked, loaded, overrides)
        ids = [f["rule_id"] for f in report["findings"]] + [n["rule_id"] for n in report["not_checked"]]
        rules = tuple(dict.fromkeys(i for i in ids if not i.startswith("entries:")))
    explanations = explain_rules(checked.profile, loaded, day, overrides, rules)
    known = {e["rule_id"] for e in explanations}
    unknown = [r for r in rules if r not in known]
    if unknown:
        raise InvalidInputError(f"no rule or option exclusion named {', '.join(unknown)} in these protocols")
    if fmt == "json":
        from kapdecide.render.json import dumps

        sys.stdout.write(
            dumps(
                {
                    "schema_version": "1.0",
                    "as_of": day.isoformat(),
                    "what_if_overrides": {
                        k: list(v) if isinstance(v, tuple) else v
                        for k, v in sorted({**checked.edits, **overrides}.items())
                    },
                    "explanation": explanations,
                }
            )
        )
    else:
        from kapdecide.render.text import render_explanation

        render_explanation(explanations, console_for(sys.stdout))
    return ExitCode.OK
