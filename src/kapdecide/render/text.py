"""The clinician's screen: status first, then what must be reviewed, then options (rich)."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from kapdecide.core.errors import KapdecideError, Problem

if TYPE_CHECKING:  # imported for types only: `validate` prints problems without building the report models
    from kapdecide.assessment.report import Finding, Report, RuleExplanation, SessionChecklist
    from kapdecide.authoring.cases import Coverage, Suite
    from kapdecide.authoring.diff import Impact

STATUS_STYLE = {
    "contraindicated": ("CONTRAINDICATED", "bold white on red"),
    "deferred": ("DEFERRED", "bold black on yellow"),
    "incomplete": ("INCOMPLETE", "bold black on yellow"),
    "eligible_with_precautions": ("ELIGIBLE WITH PRECAUTIONS", "bold black on cyan"),
    "eligible": ("ELIGIBLE", "bold black on green"),
}
SECTIONS = (
    ("contraindication", "Contraindications", "red"),
    ("deferral", "Deferrals", "yellow"),
    ("required_data", "Missing safety data", "yellow"),
    ("caution", "Cautions", "cyan"),
    ("interaction", "Interactions", "cyan"),
    ("info", "Notes", "blue"),
)
GRADE_LABEL = {"high": "high", "moderate": "moderate", "low": "low", "very_low": "very low"}
MAX_REASONS = 3


def plain_console(stream: IO[str]) -> Console:
    """A console without colour, 100 columns wide: what every non-terminal output gets."""
    return Console(file=stream, no_color=True, color_system=None, width=100, highlight=False)


def render_report(report: Report, console: Console) -> None:
    """Print the report for a clinician."""
    label, style = STATUS_STYLE[report.status]
    refs = ", ".join(f"{p.id} {p.version}" for p in report.protocols)
    who = f"Patient {escape(report.patient_ref)} · " if report.patient_ref else ""
    console.print(Text("kapdecide · decision support for clinician review, not an order", style="bold"))
    console.print(f"{who}assessed for {report.assessed_on} · protocols: {escape(refs)}")
    if report.what_if_overrides:
        shown = ", ".join(f"{k}={v}" for k, v in report.what_if_overrides.items())
        console.print(Text(f"HYPOTHETICAL — values overridden with --what-if: {shown}", style="bold reverse"))
    console.print(Panel(Text(f"{label}\n", style=style) + Text(report.status_summary), expand=True))
    _input_source(console, report)
    _findings(console, report)
    _substances_and_options(console, report)
    if report.what_would_change:
        console.print("[bold]What would change the answer[/]")
        for w in report.what_would_change:
            parts = [
                "/".join(_value(x) for x in sc.values.values())
                + f" → {sc.status}"
                + (f" (+{', '.join(sc.findings)})" if sc.findings else "")
                for sc in w.scenarios
            ]
            console.print(f"  {escape(w.label)} unknown: " + escape("; ".join(parts)), soft_wrap=True)
    if report.explanation is not None:
        render_explanation(report.explanation, console)
    console.print(Text(report.disclaimer, style="italic"))


def _input_source(console: Console, report: Report) -> None:
    src = report.input_source
    if src is None:
        return
    console.print(
        f"[bold]Mapped from a FHIR R4 Bundle[/] ({escape(src.patient_id or 'no Patient')}, "
        f"{src.resources_read} resources): lists from the record are not complete answers; "
        "what it does not say is unknown."
    )
    for warning in src.warnings[:5]:
        console.print(f"  ! {escape(_short(warning))}")
    if len(src.warnings) > 5:
        console.print(f"  [dim](+{len(src.warnings) - 5} more warnings: see --format json)[/]")
    if src.unmapped:
        codes = ", ".join(f"{u.code} {u.display or ''}".strip() for u in src.unmapped[:4])
        more = f" (+{len(src.unmapped) - 4} more)" if len(src.unmapped) > 4 else ""
        console.print(f"  [dim]codes not mapped (not used): {escape(_short(codes + more))}[/]")


def _findings(console: Console, report: Report) -> None:
    """Findings by kind, then what could not be checked, stale data, medications, derived values,
    unrecognised entries and the data to collect."""
    for kind, title, colour in SECTIONS:
        items = [f for f in report.findings if f.kind == kind]
        if items:
            console.print(f"[bold {colour}]{title} ({len(items)})[/]")
            for f in items:
                _finding(console, f)
    if report.not_checked:
        console.print(f"[bold yellow]Could not be checked ({len(report.not_checked)})[/]")
        for n in report.not_checked:
            console.print(f"  ? {escape(n.title)} [dim]({n.rule_id}; needs {escape(', '.join(n.needs))})[/]")
    for item in report.stale_data:
        console.print(f"[bold yellow]Stale data[/] {escape(item.message)}")
    if report.medications.not_checked or not report.medications.recorded:
        console.print(f"[bold yellow]Medications[/] {escape(report.medications.message)}")
    for d in report.derived:
        console.print(f"[bold]Derived, not recorded:[/] {escape(d.reason)}")
    if report.unrecognised:
        console.print(f"[bold yellow]Not recognised — review by hand ({len(report.unrecognised)})[/]")
        for u in report.unrecognised:
            console.print(f"  ? {escape(u.entry)} [dim]({escape(u.path)})[/]: {escape(u.message)}")
    if report.missing_data:
        console.print(f"[bold]Data to collect:[/] {escape(', '.join(report.missing_data))}")


def _substances_and_options(console: Console, report: Report) -> None:
    if report.substances:
        console.print("[bold]Evidence by substance[/]")
        for s in report.substances:
            ids = ", ".join(e.id for e in s.evidence)
            console.print(f"  • {escape(s.statement)}" + (f" [dim][{escape(ids)}][/]" if ids else ""))
    _options(console, report)
    for checklist in report.session_checklists:
        _checklist(console, checklist)
    if report.next_steps:
        console.print("[bold]Next steps:[/] " + escape("; ".join(step.label for step in report.next_steps)))
    for care in report.standard_care:
        console.print(f"[bold]Standard care (always):[/] {escape(care)}")


def _finding(console: Console, f: Finding) -> None:
    mark = "!!" if f.urgent else "•"
    console.print(f"  {mark} [bold]{escape(f.title)}[/]: {escape(f.message)}")
    console.print(f"     → {escape(f.action)}")
    ids = ", ".join(e.id for e in f.evidence)
    console.print(f"     [dim]{f.rule_id} · {escape(ids)}[/]")
    if f.sources:
        shown = ", ".join(f.sources[:4]) + (f" (+{len(f.sources) - 4} more)" if len(f.sources) > 4 else "")
        console.print(f"     [dim]from {escape(shown)}[/]")


def _options(console: Console, report: Report) -> None:
    rows = [o for o in report.options if o.state != "not_applicable"]
    console.print("[bold]Ketamine options[/] [dim](off-label; ordered by certainty of evidence)[/]")
    if not rows:
        console.print("  None applies to this patient's recorded indications.")
        return
    from kapdecide.assessment.options import STATUS_OPTION_REASON

    shared = STATUS_OPTION_REASON.get(report.status)
    if shared:
        console.print(f"  {escape(shared)} Listed for planning:")
    for o in rows:
        mark = "[green]✓ offered[/]" if o.state == "offered" else "[red]✗ not offered[/]"
        grade = GRADE_LABEL.get(o.grade or "", "-")
        indication = (o.indication or "").replace("_", " ")
        console.print(f"  {mark} · GRADE {grade} · {escape(o.title)} · for {escape(indication)}")
        detail = " · ".join(x for x in (o.dose.text if o.dose else "", o.sessions or "") if x)
        ids = ", ".join(e.id for e in o.evidence)
        console.print(f"     {escape(detail)} [dim][{escape(ids)}][/]")
        if o.state == "offered" and o.psychotherapy:
            console.print(f"     with {escape(o.psychotherapy)}")
        if o.supported_by:
            console.print(f"     [dim]strengthened by: {escape(', '.join(o.supported_by))}[/]")
        own = [r for r in o.reasons if r != shared]
        for reason in own[:MAX_REASONS]:
            console.print(f"     – {escape(_short(reason))}")
        if len(own) > MAX_REASONS:
            console.print(f"     [dim](+{len(own) - MAX_REASONS} more reasons: see --format json)[/]")


def _checklist(console: Console, c: SessionChecklist) -> None:
    console.print(
        f"[bold]Session checklist[/] [dim](for {escape(', '.join(c.applies_to))}; protocol {c.protocol_id})[/]"
    )
    console.print("  Before dosing, on the session day, do not dose if:")
    for check in c.pre_dose:
        console.print(f"    – {escape(check.do_not_dose_if)} [dim]({check.rule_id})[/]")
    for item in c.pre_dose_checks:
        console.print(f"    – {escape(item)}")
    console.print("  Pause or stop dosing if:")
    for hold in c.in_session_holds:
        console.print(f"    – {escape(hold.when)} → {escape(hold.action)}")
    console.print(f"  Observe at least {c.observation_minutes} min: {escape(c.observation)}")
    console.print(f"  Discharge: {escape('; '.join(c.discharge))}")
    if c.follow_up:
        console.print(f"  Follow-up: {escape('; '.join(c.follow_up))}")


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    console.print("[bold]Explanation[/] [dim](rule → result; leaf: value  operator threshold → result)[/]")
    for e in explanations:
        console.print(f"  {_RESULT_MARK[e.result]} {escape(e.rule_id)} [dim]({e.kind})[/] {escape(e.title)}")
        for leaf in e.leaves:
            threshold = "" if leaf.threshold is None else f" {_value(leaf.threshold)}"
            console.print(
                f"      {escape(leaf.label)} = {escape(_value(leaf.value))}  {escape(leaf.operator)}"
                f"{escape(threshold)} → {_RESULT_MARK[leaf.result]} [dim]{escape(leaf.field)}[/]",
                soft_wrap=True,
            )


def render_impact(result: Impact, console: Console) -> None:
    """``kapdecide diff``: one block per changed profile."""
    old = ", ".join(f"{p.id} {p.version}" for p in result.old) or "-"
    new = ", ".join(f"{p.id} {p.version}" for p in result.new) or "-"
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
