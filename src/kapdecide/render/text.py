"""The clinician's screen: status first, then what must be reviewed, then options (rich)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from kapdecide.core.errors import KapdecideError, Problem

if TYPE_CHECKING:  # imported for types only: `validate` prints problems without importing the assessment
    from kapdecide.assessment.report import Report, RuleExplanation
    from kapdecide.authoring.cases import Coverage, Suite
    from kapdecide.authoring.diff import Impact


def plain_console(stream: IO[str]) -> Console:
    """A console without colour, 100 columns wide: what every non-terminal output gets."""
    return Console(file=stream, no_color=True, color_system=None, width=100, highlight=False)


def render_report(report: Report, console: Console, details: bool = False) -> None:
    """Print the report for a clinician (``screen.render_report``)."""
    from kapdecide.render.screen import render_report as render_screen

    render_screen(report, console, details)


def render_what_would_change(report: Report, console: Console) -> None:
    """With --explain: for each blocking unknown, the status under representative values."""
    if not report["what_would_change"]:
        return
    console.print("[bold]What would change the answer[/]")
    for w in report["what_would_change"]:
        parts = [
            "/".join(_value(x) for x in sc["values"].values())
            + f" → {sc['status']}"
            + (f" (+{', '.join(sc['findings'])})" if sc["findings"] else "")
            for sc in w["scenarios"]
        ]
        console.print(f"  {escape(w['label'])} unknown: " + escape("; ".join(parts)), soft_wrap=True)


def render_details_extra(report: Report, console: Console) -> None:
    """Under --details: what the medications section says, and standard care."""
    from kapdecide.render.plain import clinician_text
    from kapdecide.render.screen import row

    if report["medications"]["recorded"]:
        row(console, "", "[bold]Medications:[/] " + escape(clinician_text(report["medications"]["message"])), indent=0)
    for care in report["standard_care"]:
        row(console, "", "[bold]Standard care (always):[/] " + escape(clinician_text(care)), indent=0)


def render_problems(problems: list[Problem], console: Console) -> None:
    """``validate`` output: one line per problem, file:line:col first."""
    for p in problems:
        colour = "red" if p.severity == "error" else "yellow"
        console.print(f"[{colour}]{escape(p.format())}[/]", highlight=False, soft_wrap=True)


def render_error(error: KapdecideError, console: Console) -> None:
    """An error for a person: message, each located problem, and a hint."""
    console.print(f"[bold red]error:[/] {escape(error.message)}", highlight=False, soft_wrap=True)
    for p in error.problems:
        console.print(f"  {escape(p.format())}", highlight=False, soft_wrap=True)
    if error.hint:
        console.print(f"[dim]hint: {escape(error.hint)}[/]", highlight=False, soft_wrap=True)


def render_suite(suite: Suite, coverages: list[Coverage] | None, console: Console) -> None:
    """``kapdecide test``: the protocols tested, each failure with what was expected and what came
    out, then a summary."""
    for lp in suite.tested():
        proto = lp.protocol
        line = f"Testing {escape(lp.path)}: {escape(proto.id)} {escape(proto.version)} (sha256 {lp.sha256[:12]})"
        console.print(line, soft_wrap=True)
    for p in suite.problems:
        console.print(f"[red]{escape(p.format())}[/]", soft_wrap=True)
    for r in suite.results:
        if r.outcome not in ("failed", "fixed"):
            continue
        where = f"{r.case.file}:{r.case.line}" if r.case.line else r.case.file
        if r.outcome == "fixed":
            console.print(
                f"[yellow]FIXED[/] {escape(r.case.model.name)} ({escape(where)}): "
                "marked todo but passes now; remove `todo`"
            )
            continue
        console.print(f"[bold red]FAIL[/] {escape(r.case.model.name)} ({escape(where)})")
        if r.error:
            console.print(f"  {escape(r.error)}", soft_wrap=True)
        for line in r.failures:
            console.print(f"  {escape(line)}", soft_wrap=True)
    summary = ", ".join(f"{suite.count(k)} {k}" for k in ("passed", "failed", "todo", "fixed") if suite.count(k))
    console.print(f"{len(suite.results)} case(s) in {len(suite.files)} file(s): {summary or 'none'}")
    for c in coverages or []:
        console.print(
            f"[bold]Coverage {c.protocol_id}[/]: rules {c.rule_pct:g}% · options {c.option_pct:g}% · "
            f"condition leaves true and false {c.leaf_pct:g}%"
        )
        for rid in c.uncovered_rules:
            console.print(f"  rule never fired: {rid}")
        for oid in c.uncovered_options:
            console.print(f"  option never offered: {oid}")
        for leaf in c.uncovered_leaves:
            console.print(f"  [dim]leaf not both true and false: {escape(leaf)}[/]", soft_wrap=True)


def _value(value: object) -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(x) for x in value) or "none"
    return str(value)


_RESULT_MARK = {"true": "[green]✓ true[/]", "false": "[dim]✗ false[/]", "unknown": "[yellow]? unknown[/]"}


def render_explanation(explanations: list[RuleExplanation], console: Console) -> None:
    """Each rule with its result, and each condition leaf: value, operator, threshold, result."""
    from kapdecide.render.screen import row

    console.print("[bold]Explanation[/] [dim](rule → result; leaf: value  operator threshold → result)[/]")
    for e in explanations:
        row(console, _RESULT_MARK[e["result"]], f"{escape(e['rule_id'])} [dim]({e['kind']})[/] {escape(e['title'])}")
        for leaf in e["leaves"]:
            threshold = "" if leaf["threshold"] is None else f" {_value(leaf['threshold'])}"
            row(
                console,
                "",
                f"{escape(leaf['label'])} = {escape(_value(leaf['value']))}  {escape(leaf['operator'])}"
                f"{escape(threshold)} → {_RESULT_MARK[leaf['result']]} [dim]{escape(leaf['field'])}[/]",
                indent=6,
            )


def render_impact(result: Impact, console: Console) -> None:
    """``kapdecide diff``: one block per changed profile."""
    old = ", ".join(f"{p['id']} {p['version']}" for p in result.old) or "-"
    new = ", ".join(f"{p['id']} {p['version']}" for p in result.new) or "-"
    console.print(
        f"[bold]{escape(old)} → {escape(new)}[/]: {len(result.changed)} of {result.profiles} profile(s) change"
    )
    for v in result.version_not_bumped:
        console.print(f"[yellow]warning:[/] {escape(v.message)}", soft_wrap=True)
    for c in result.changed:
        if c.error:
            console.print(f"[red]{escape(c.profile)}: invalid profile: {escape(c.error)}[/]", soft_wrap=True)
            continue
        status = f"{c.old_status} → {c.new_status}" if c.old_status != c.new_status else f"{c.new_status} (same)"
        console.print(f"[bold]{escape(c.profile)}[/]: status {status}")
        for rid in c.findings_added:
            console.print(f"  [green]+ finding {rid}[/]")
        for rid in c.findings_removed:
            console.print(f"  [red]- finding {rid}[/]")
        for rid in c.not_checked_added:
            console.print(f"  [yellow]+ could not check {rid}[/]")
        for rid in c.not_checked_removed:
            console.print(f"  [yellow]- could not check {rid}[/]")
        for o in c.options:
            label = f"{o.option_id}" + (f" ({o.indication})" if o.indication else "")
            console.print(f"  ~ option {escape(label)}: {o.old or 'absent'} → {o.new or 'absent'}")
