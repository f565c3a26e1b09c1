"""The one-screen summary of a report: the status with the single most important action, what
blocks the decision, the data to collect, the options offered (or "none now" and why) and the next
steps. Built from the report alone; the HTML report's first page shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kapdecide.language.facts import label
from kapdecide.render.plain import (
    GRADE_LABEL,
    STATUS_LABEL,
    STATUS_SYMBOL,
    Collect,
    clean,
    collect_list,
    first_clause,
    word,
)

if TYPE_CHECKING:
    from kapdecide.assessment.report import Finding, OptionOut, Report

BLOCKING_KINDS = ("contraindication", "deferral", "required_data")
PRECAUTION_KINDS = ("caution", "interaction")
#: The most data items named in the headline; more are counted.
MAX_NAMED = 3
#: On the summary page at most this many blocking items and data to collect; the rest are in the details.
MAX_BLOCKING = 4
MAX_COLLECT = 5


@dataclass(frozen=True)
class Item:
    """A finding (or a group of items) on one or two lines."""

    title: str
    text: str
    urgent: bool = False
    kind: str = ""


@dataclass(frozen=True)
class OptionLine:
    """An offered option in one line: what, for which indication, certainty, dose."""

    title: str
    indication: str
    grade: str
    dose: str


@dataclass(frozen=True)
class Summary:
    """What the clinician must see first."""

    status: str
    label: str
    symbol: str
    headline: str
    urgent: bool
    sentence: str
    blocking: tuple[Item, ...]
    precautions: tuple[Item, ...]
    review: tuple[Item, ...]
    collect: tuple[Collect, ...]
    collect_short: tuple[str, ...]
    offered: tuple[OptionLine, ...]
    none_now: str | None
    next_steps: tuple[str, ...]


def _order(f: Finding) -> tuple[int, int]:
    kinds = (*BLOCKING_KINDS, *PRECAUTION_KINDS, "info")
    return (0 if f.urgent else 1, kinds.index(f.kind) if f.kind in kinds else len(kinds))


def _item(f: Finding) -> Item:
    return Item(clean(f.title), clean(f.message), f.urgent, f.kind)


def summarise(report: Report) -> Summary:
    """The summary of ``report``."""
    findings = sorted(report.findings, key=_order)
    blocking = [_item(f) for f in findings if f.kind in BLOCKING_KINDS]
    if report.not_checked:
        titles = "; ".join(clean(n.title) for n in report.not_checked)
        blocking.append(Item("Could not be checked", titles, False, "not_checked"))
    precautions = [
        Item(clean(f.title), _without_status(first_clause(f.action)), f.urgent, f.kind)
        for f in findings
        if f.kind in PRECAUTION_KINDS
    ]
    stale = {s.source: (s.days_old, s.max_age_days) for s in report.stale_data}
    collect = collect_list(report.missing_data, stale)
    short = _short_names(report.missing_data)
    offered = tuple(_option_line(o) for o in report.options if o.state == "offered")
    urgent = any(f.urgent for f in report.findings)
    return Summary(
        status=report.status,
        label=STATUS_LABEL[report.status],
        symbol=STATUS_SYMBOL[report.status],
        headline=_headline(report, findings, short, precautions, offered, len(collect)),
        urgent=urgent,
        sentence=clean(report.status_summary),
        blocking=tuple(blocking),
        precautions=tuple(precautions) if report.status in ("eligible", "eligible_with_precautions") else (),
        review=tuple(_review(report)),
        collect=tuple(collect),
        collect_short=short,
        offered=offered,
        none_now=None if offered else _none_now(report),
        next_steps=tuple(clean(s.label) for s in report.next_steps),
    )


def _short_names(fact_fields: list[str]) -> tuple[str, ...]:
    names = ["blood pressure" if f.startswith("vitals.bp_") else label(f) for f in fact_fields]
    return tuple(dict.fromkeys(names))


def _without_status(text: str) -> str:
    """An action without a leading status ("Eligible with precautions: recheck ..." -> "Recheck ...")."""
    for status_label in STATUS_LABEL.values():
        prefix = f"{status_label}:"
        if text.lower().startswith(prefix.lower()):
            rest = text[len(prefix) :].strip()
            return rest[:1].upper() + rest[1:]
    return text


def _headline(
    report: Report,
    findings: list[Finding],
    short: tuple[str, ...],
    precautions: list[Item],
    offered: tuple[OptionLine, ...],
    n_collect: int,
) -> str:
    """The single most important action."""
    urgent = [f for f in findings if f.urgent]
    if urgent:
        return f"URGENT: {first_clause(urgent[0].action)}"
    labels = {s.id: s.label for s in report.next_steps}
    if report.status in ("contraindicated", "deferred"):
        first = next(f for f in findings if f.kind in BLOCKING_KINDS)
        steps = [labels[s] for s in first.next_steps if s in labels]
        return clean(steps[0]) if steps else _without_status(first_clause(first.action))
    if report.status == "incomplete":
        if not short or len(short) > MAX_NAMED:
            return f"Collect before deciding: {n_collect} safety data items (below)"
        return "Collect before deciding: " + ", ".join(short)
    if not offered:
        return "No ketamine option applies: standard evidence-based care"
    head = f"{len(offered)} option{'s' if len(offered) != 1 else ''} can be offered"
    if len(precautions) == 1:
        return f"{head}; precaution: {precautions[0].text[:1].lower()}{precautions[0].text[1:]}"
    if precautions:
        return f"{head}, with the {len(precautions)} precautions below"
    return head


def _review(report: Report) -> list[Item]:
    """What to check by hand: entries not recognised, medications not checked, values derived."""
    out = []
    if report.unrecognised:
        entries = "; ".join(f"{u.entry} ({u.path})" for u in report.unrecognised[:MAX_NAMED])
        more = len(report.unrecognised) - MAX_NAMED
        out.append(Item("Not recognised: review by hand", entries + (f"; and {more} more" if more > 0 else "")))
    if report.medications.not_checked or not report.medications.recorded:
        out.append(Item("Medications", clean(report.medications.message)))
    for d in report.derived:
        out.append(Item("Derived, not recorded", clean(d.reason)))
    return out


def _option_line(o: OptionOut) -> OptionLine:
    dose = o.dose.text if o.dose else ""
    return OptionLine(clean(o.title), word(o.indication or ""), GRADE_LABEL.get(o.grade or "", "-"), clean(dose))


def _none_now(report: Report) -> str:
    """Why no option is offered."""
    from kapdecide.assessment.options import STATUS_OPTION_REASON

    if report.status in STATUS_OPTION_REASON:
        return STATUS_OPTION_REASON[report.status]
    applicable = [o for o in report.options if o.state != "not_applicable"]
    if applicable:
        return "Every option that applies is excluded for this patient (reasons under Options)."
    insufficient = [clean(s.statement) for s in report.substances if s.insufficient_evidence]
    why = " ".join(insufficient)
    return "None applies to the recorded indications." + (f" {why}" if why else "")
