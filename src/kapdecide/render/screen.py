"""The clinician's screen (rich): one screen by default, everything with ``--details``.

The default shows what ``summary.summarise`` chooses: the status with the single most important
action in the box, what blocks, what to collect, what to review, what is offered and what to do
next. ``--details`` adds each finding's action and sources, the evidence, each option with its dose
or every reason it is not offered, the session checklist, full citations and the receipt.
Every line wraps with a hanging indent; nothing is cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kapdecide.assessment.report import receipt_sha256
from kapdecide.assessment.wording import show_value
from kapdecide.render.plain import GRADE_LABEL, clinician_text, short_keys
from kapdecide.render.summary import STATUS_LOOK, Summary, cited_evidence, patient_facts, summarise

if TYPE_CHECKING:
    from kapdecide.assessment.report import Finding, OptionOut, Report, SessionChecklist

KIND_MARK = {"contraindication": "✖", "deferral": "‖", "caution": "!", "interaction": "!", "info": "•"}
KIND_COLOUR = {"contraindication": "red", "deferral": "yellow", "caution": "cyan", "interaction": "cyan"}
MAX_SHOWN = 5


def row(console: Console, mark: str, body: RenderableType | str, indent: int = 2) -> None:
    """``mark body`` with every wrapped line of ``body`` starting under its first character."""
    grid = Table.grid(padding=0, expand=True)
    grid.add_column(width=indent)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    grid.add_row("", Text.from_markup(mark + " ") if mark else "", body)
    console.print(grid)


def render_report(report: Report, console: Console, details: bool = False) -> None:
    """Print the report for a clinician: one screen, or with ``details`` everything."""
    s = summarise(report)
    _header(console, report)
    _status_box(console, report, s)
    _input_source(console, report, details)
    _blocking(console, s, details)
    _recognition(console, report)
    _collect(console, s)
    _review(console, s, details)
    if details:
        _next_steps(console, s)
        _details(console, report)
    else:
        _options_summary(console, s)
        _next_steps(console, s)
    if not details:
        console.print(
            "[dim]Standard SUD care always continues. --details: evidence, doses, excluded options, checklist.[/]"
        )
    if report["explanation"] is not None:
        from kapdecide.render.text import render_explanation, render_what_would_change

        render_explanation(report["explanation"], console)
        render_what_would_change(report, console)
    console.print(Text(report["disclaimer"], style="italic"))


def _next_steps(console: Console, s: Summary) -> None:
    if s.next_steps:
        row(console, "[bold]Next steps:[/]", escape("; ".join(s.next_steps)), indent=0)


def _header(console: Console, report: Report) -> None:
    console.print(Text("kapdecide · decision support for clinician review, not an order", style="bold"))
    who = patient_facts(report)
    row(console, "", escape(" · ".join(who)), indent=0)
    refs = ", ".join(f"{x['id']} {x['version']}" for x in report["protocols"])
    console.print(
        escape(f"Protocol {refs} · kapdecide {report['kapdecide_version']} · assessed for {report['assessed_on']}")
        + f" · receipt {receipt_sha256(report['receipt'])[:12]}"
    )
    if report["what_if_overrides"]:
        shown = ", ".join(f"{k}={show_value(v)}" for k, v in report["what_if_overrides"].items())
        row(console, "", Text(f"HYPOTHETICAL — values overridden with --what-if: {shown}", style="bold reverse"), 0)


def _status_box(console: Console, report: Report, s: Summary) -> None:
    label, symbol, style = STATUS_LOOK[report["status"]]
    head = Text(f"{symbol} {label}", style=style)
    head.append(Text(f" — {s.headline}", style="bold red" if s.urgent else "bold"))
    console.print(Panel(head + Text("\n") + Text(clinician_text(report["status_summary"])), expand=True))


def _input_source(console: Console, report: Report, details: bool) -> None:
    src = report["input_source"]
    if src is None:
        return
    row(
        console,
        "",
        escape(
            f"From a FHIR R4 Bundle ({src['patient_id'] or 'no Patient'}, {src['resources_read']} resources): what the "
            "record does not say is unknown."
        ),
        indent=0,
    )
    shown = src["warnings"] if details else src["warnings"][:3]
    for warning in shown:
        row(console, "[yellow]![/]", escape(warning))
    if len(shown) < len(src["warnings"]):
        row(console, "", f"[dim]+{len(src['warnings']) - len(shown)} more import warnings: --details[/]")
    if src["unmapped"] and details:
        codes = "; ".join(f"{u['code']} {u['display'] or ''}".strip() for u in src["unmapped"])
        row(console, "[dim]codes not mapped (not used):[/]", f"[dim]{escape(codes)}[/]")
    elif src["unmapped"]:
        row(console, "", f"[dim]{len(src['unmapped'])} codes not mapped (not used): --details[/]")


def _finding_line(f: Finding, details: bool) -> Text:
    colour = "bold red" if f["urgent"] else KIND_COLOUR.get(f["kind"], "")
    line = Text()
    if f["urgent"]:
        line.append("URGENT ", style="bold red")
    line.append(f["title"], style=f"bold {colour}".strip())
    line.append(f": {clinician_text(f['message'])}")
    ids = [e["id"] for e in f["evidence"]]
    line.append(" " + (f"[{', '.join(ids)}]" if details else short_keys(ids)), style="dim")
    return line


def _blocking(console: Console, s: Summary, details: bool) -> None:
    if not s.blocking:
        return
    console.print(f"[bold]Contraindications and deferrals ({len(s.blocking)})[/]")
    for f in s.blocking:
        mark = "[bold red]!![/]" if f["urgent"] else f"[{KIND_COLOUR[f['kind']]}]{KIND_MARK[f['kind']]}[/]"
        row(console, mark, _finding_line(f, details))
        row(console, "→", escape(clinician_text(f["action"])), indent=4)
        if details and f["sources"]:
            row(console, "", f"[dim]from {escape(', '.join(f['sources']))}[/]", indent=4)


def _recognition(console: Console, report: Report) -> None:
    """What kapdecide could not read, and what it derived: never hidden behind --details."""
    if report["unrecognised"]:
        console.print(f"[bold yellow]Not recognised — review by hand ({len(report['unrecognised'])})[/]")
        for u in report["unrecognised"]:
            row(console, "[yellow]?[/]", escape(f"{u['entry']} ({u['path']}): {clinician_text(u['message'])}"))
    if not report["medications"]["recorded"]:
        row(console, "[yellow]?[/]", escape(clinician_text(report["medications"]["message"])), indent=0)
    for d in report["derived"]:
        row(console, "[bold]Derived, not recorded:[/]", escape(clinician_text(d["reason"])), indent=0)


def _collect(console: Console, s: Summary) -> None:
    if not s.to_collect:
        return
    console.print(f"[bold yellow]Data to collect ({len(s.to_collect)})[/]")
    for item in s.to_collect:
        why = " ".join(item.why)
        waits = f" {item.blocks} safety check{'s' if item.blocks != 1 else ''} wait on it." if item.blocks else ""
        body = Text(item.path, style="bold")
        body.append(f" — {item.ask}" + (f" {why}" if why else "") + waits)
        row(console, "[yellow]?[/]", body)


def _review(console: Console, s: Summary, details: bool) -> None:
    if s.review:
        console.print(f"[bold cyan]Review before dosing ({len(s.review)})[/]")
        for f in s.review:
            if details:
                row(console, f"[cyan]{KIND_MARK[f['kind']]}[/]", _finding_line(f, details=True))
                row(console, "→", escape(clinician_text(f["action"])), indent=4)
                continue
            body = Text(f["title"], style="bold")
            body.append(f" → {clinician_text(f['action'])} ")
            body.append(short_keys([e["id"] for e in f["evidence"]]), style="dim")
            row(console, f"[cyan]{KIND_MARK[f['kind']]}[/]", body)
    if not s.notes:
        return
    if details:
        console.print(f"[bold]Notes ({len(s.notes)})[/]")
        for f in s.notes:
            row(console, "•", _finding_line(f, details=True))
            row(console, "→", escape(clinician_text(f["action"])), indent=4)
        return
    row(console, "[bold]Notes:[/]", escape(" · ".join(f["title"] for f in s.notes)) + " [dim](--details)[/]", indent=0)


def _option_head(o: OptionOut) -> tuple[str, str]:
    mark = "[green]✓[/]" if o["state"] == "offered" else "[red]✗[/]"
    state = "offered" if o["state"] == "offered" else "not offered"
    grade = GRADE_LABEL.get(o["grade"] or "", "-")
    indication = clinician_text(o["indication"] or "")
    return mark, f"{state} · GRADE {grade} · {escape(o['title'])} · for {escape(indication)}"


def _options_summary(console: Console, s: Summary) -> None:
    if not s.offered:
        later = f" {s.not_offered} listed for planning under --details." if s.not_offered else ""
        row(console, "[bold]Options:[/]", escape(f"none now — {s.none_now}.{later}"), indent=0)
        return
    by_option: dict[str, list[OptionOut]] = {}
    for o in s.offered:  # one line per option; its regimens (indication, grade) on that line
        by_option.setdefault(f"{o['protocol_id']}/{o['option_id']}", []).append(o)
    console.print(f"[bold]Options offered ({len(by_option)})[/] [dim](off-label; by certainty of evidence)[/]")
    for regimens in by_option.values():
        uses = dict.fromkeys(
            f"{clinician_text(o['indication'] or '')} (GRADE {GRADE_LABEL.get(o['grade'] or '', '-')})"
            for o in regimens
        )
        keys = short_keys(list(dict.fromkeys(e["id"] for o in regimens for e in o["evidence"])))
        body = f"{escape(regimens[0]['title'])} — for {escape(', '.join(uses))} [dim]{escape(keys)}[/]"
        row(console, "[green]✓[/]", body)
    if s.not_offered:
        row(console, "", f"[dim]{s.not_offered} more listed, not offered now: --details[/]")


def _details(console: Console, report: Report) -> None:
    from kapdecide.render.text import render_details_extra

    for n in report["not_checked"]:
        row(console, "[yellow]? could not check[/]", escape(f"{n['title']} (needs {', '.join(n['needs'])})"), indent=0)
    if report["substances"]:
        console.print("[bold]Evidence by substance[/]")
        for sub in report["substances"]:
            keys = f" [{', '.join(e['id'] for e in sub['evidence'])}]" if sub["evidence"] else ""
            text = clinician_text(sub["statement"]) + (f" {clinician_text(sub['summary'])}" if sub["summary"] else "")
            row(console, "•", escape(text + keys))
    _options_details(console, report)
    for checklist in report["session_checklists"]:
        _checklist(console, checklist)
    render_details_extra(report, console)
    _references(console, report)


def _options_details(console: Console, report: Report) -> None:
    rows = [o for o in report["options"] if o["state"] != "not_applicable"]
    console.print("[bold]Ketamine options[/] [dim](off-label; ordered by certainty of evidence)[/]")
    if not rows:
        row(console, "", "None applies to this patient's recorded indications.")
        return
    from kapdecide.assessment.options import STATUS_OPTION_REASON

    shared = STATUS_OPTION_REASON.get(report["status"])
    if shared:  # said once, not on every option
        row(console, "", escape(f"{shared} Listed for planning:"))
    titles = {f["rule_id"]: f["title"] for f in report["findings"]}
    for o in rows:
        row(console, *_option_head(o))
        keys = f"[dim][{escape(', '.join(e['id'] for e in o['evidence']))}][/]"
        if o["state"] == "offered":
            detail = " · ".join(x for x in (o["dose"]["text"] if o["dose"] else "", o["sessions"] or "") if x)
            row(console, "", escape(detail) + " " + keys, indent=4)
            if o["psychotherapy"]:
                row(console, "with", escape(clinician_text(o["psychotherapy"])), indent=4)
            for m in o["monitoring"]:
                row(console, "monitor:", escape(clinician_text(m)), indent=4)
        else:
            row(console, "", escape(clinician_text(o["sessions"] or "")) + " " + keys, indent=4)  # no dose: not offered
            for reason in o["reasons"]:
                if reason != shared:
                    row(console, "–", escape(clinician_text(reason)), indent=4)
        if o["supported_by"]:
            by = ", ".join(titles.get(x, clinician_text(x)) for x in o["supported_by"])
            row(console, "", f"[dim]strengthened by: {escape(by)}[/]", indent=4)


def _checklist(console: Console, c: SessionChecklist) -> None:
    console.print(f"[bold]Session checklist[/] [dim](for {escape(', '.join(c['applies_to']))})[/]")
    console.print("  Before dosing, on the session day, do not dose if:")
    for check in c["pre_dose"]:
        row(console, "–", escape(clinician_text(check["do_not_dose_if"])), indent=4)
    for item in c["pre_dose_checks"]:
        row(console, "–", escape(clinician_text(item)), indent=4)
    console.print("  Pause or stop dosing if:")
    for hold in c["in_session_holds"]:
        row(console, "–", escape(f"{clinician_text(hold['when'])} → {clinician_text(hold['action'])}"), indent=4)
    row(console, "", escape(f"Observe at least {c['observation_minutes']} min: {clinician_text(c['observation'])}"))
    row(console, "", escape("Discharge: " + "; ".join(clinician_text(x) for x in c["discharge"])))
    if c["follow_up"]:
        row(console, "", escape("Follow-up: " + "; ".join(clinician_text(x) for x in c["follow_up"])))


def _references(console: Console, report: Report) -> None:
    """Every source cited above, once, in full."""
    seen = cited_evidence(report)
    if not seen:
        return
    console.print(f"[bold]References ({len(seen)})[/]")
    for e in seen:
        where = f" https://doi.org/{e['doi']}" if e["doi"] else f" {e['identifier']}" if e["identifier"] else ""
        row(console, "", f"[dim]{escape(e['id'])}[/] " + escape(e["citation"] + where))
    r = report["receipt"]
    prot = ", ".join(f"{p['id']} {p['version']} sha256 {p['sha256']}" for p in r["protocols"])
    body = escape(
        f"{receipt_sha256(report['receipt'])} · profile sha256 {r['profile_sha256']} · {prot} · as of {r['as_of']}"
    )
    row(console, "", "[bold]Receipt[/] " + body, indent=0)
