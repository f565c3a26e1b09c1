"""The chart report (``--format html``): one self-contained, printable HTML file.

Inline CSS and SVG, no script and nothing fetched: a summary page first (what ``summary.summarise``
chooses, as the text screen shows it), then pictures (render/figures.py), findings with their values
and sources, options with doses, the session checklist, the evidence with full citations and DOI
links, the receipt and a signature line. Every page says it is decision support for clinician
review (the page footer). The words are ``plain``'s, as on the screen: no slug or author tag.

Written with Jinja2 templates (templates/) with autoescaping on for every template: each string from
the profile, the protocol or the report is escaped where it is placed, never concatenated into HTML.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from kapdecide.assessment.report import receipt_sha256
from kapdecide.language.facts import label
from kapdecide.render import figures
from kapdecide.render.chart import ChartInputs
from kapdecide.render.plain import (
    GRADE_LABEL,
    clinician_text,
    condition_words,
    plain_value,
    plain_word,
    rule_test_words,
)
from kapdecide.render.summary import STATUS_LOOK, cited_evidence, summarise

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kapdecide.assessment.report import Finding, Report, Trigger
    from kapdecide.language.facts import Value
    from kapdecide.pipeline import Checked
    from kapdecide.protocol.loaded import LoadedProtocol

#: Findings in the details, by kind, most severe first.
KIND_TITLE = {
    "contraindication": "Contraindications",
    "deferral": "Reasons to defer",
    "required_data": "Missing safety data",
    "caution": "Cautions",
    "interaction": "Interactions",
    "info": "Notes",
}
#: What the summary page shows at most of each list, so that it stays one page for a real record;
#: the rest is counted there ("and 3 more") and listed in the details.
MAX_BLOCKING = 4
MAX_COLLECT = 5
#: Cautions and interactions: what the clinician acts on when nothing blocks; fewer beside blockers.
MAX_REVIEW = 4
MAX_REVIEW_BESIDE_BLOCKERS = 2
MAX_HAND_CHECKS = 2
MAX_NAMED = 3


def _test(t: Trigger) -> str:
    return rule_test_words(t["operator"], t["threshold"])


def _doi_url(doi: str) -> str:
    return "https://doi.org/" + quote(doi, safe="/")


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The templates, with autoescaping for every template and undefined names as errors."""
    env = Environment(
        loader=PackageLoader("kapdecide.render", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        clean=clinician_text,
        show=plain_value,
        word=plain_word,
        label=label,
        test=_test,
        condition=condition_words,
        doi_url=_doi_url,
        sentence_case=_sentence_case,
        grade=lambda g: GRADE_LABEL.get(g or "", "-"),
    )
    return env


def _sections(report: Report) -> list[tuple[str, list[Finding]]]:
    """Findings by kind, most severe first, urgent ones first within a kind."""
    out = []
    for kind, title in KIND_TITLE.items():
        items = sorted((f for f in report["findings"] if f["kind"] == kind), key=lambda f: not f["urgent"])
        if items:
            out.append((title, items))
    return out


def header_facts(report: Report) -> dict[str, str]:
    """The header's weight and blood pressure in words, from ``report.patient``."""
    p = report["patient"]
    if p["weight_kg"] is None:
        weight = "not recorded"
    else:
        when = f"weighed {p['weight_date']}" if p["weight_date"] else "date of weighing not recorded"
        weight = f"{p['weight_kg']:g} kg, {when}"
    bp = p["blood_pressure"]
    if bp is None:
        used = "not recorded"
    else:
        mean = f"mean of {bp['readings']} readings" if bp["readings"] > 1 else "1 reading"
        value = f"{bp['systolic_mmhg']}/{bp['diastolic_mmhg']} mmHg"
        used = f"{value} ({mean}, {bp['taken_on']})"
        if not bp["used"]:  # too old for the protocol (a stale item says its limit), or --what-if made it unknown
            stale = [s for s in report["stale_data"] if s["source"] == "blood_pressure"]
            why = f"is {stale[0]['days_old']} days old, over the {stale[0]['max_age_days']}-day limit" if stale else ""
            used = f"none used: the latest ({value}, {bp['taken_on']}) {why or 'is set aside by --what-if'}"
    return {"weight": weight, "bp_used": used}


def _hand_checks(report: Report) -> list[tuple[str, str]]:
    """What to check by hand (the screen shows the same, never behind --details): entries not
    recognised, medications not recorded, values derived rather than recorded."""
    out = []
    if report["unrecognised"]:
        entries = "; ".join(f"{u['entry']} ({u['path']})" for u in report["unrecognised"][:MAX_NAMED])
        more = len(report["unrecognised"]) - MAX_NAMED
        out.append(("Not recognised: review by hand", entries + (f"; and {more} more" if more > 0 else "")))
    if not report["medications"]["recorded"]:
        out.append(("Medications", clinician_text(report["medications"]["message"])))
    out += [("Derived, not recorded", clinician_text(d["reason"])) for d in report["derived"]]
    return out


def render_html(report: Report, chart: ChartInputs | None = None) -> str:
    """The chart report of ``report``; ``chart`` brings what the pictures need beyond the report (the
    protocols' thresholds and freshness limit, dates of last use; without it they are left out)."""
    from kapdecide.assessment.options import STATUS_OPTION_REASON

    chart = chart or ChartInputs(as_of=dt.date.fromisoformat(report["assessed_on"]))
    receipt = receipt_sha256(report["receipt"])
    s = summarise(report)
    review = MAX_REVIEW_BESIDE_BLOCKERS if s.blocking or s.to_collect else MAX_REVIEW
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            s=s,
            look=STATUS_LOOK[report["status"]],
            head=header_facts(report),
            hand_checks=_hand_checks(report),
            chart=chart,
            bp=figures.bp_figure(report["patient"]["blood_pressure_readings"], chart),
            ladders=figures.ladders(report["what_would_change"], dict(chart.rule_titles)),
            uses=figures.use_figure(chart),
            sections=_sections(report),
            options=[o for o in report["options"] if o["state"] != "not_applicable"],
            shared_reason=STATUS_OPTION_REASON.get(report["status"], ""),
            evidence=sorted(cited_evidence(report), key=lambda e: e["id"]),
            option_titles={o["option_id"]: clinician_text(o["title"]) for o in report["options"]},
            rule_titles=dict(chart.rule_titles),
            limits={"blocking": MAX_BLOCKING, "collect": MAX_COLLECT, "review": review, "hand": MAX_HAND_CHECKS},
            receipt=receipt,
        )
    )


def chart_report(
    checked: Checked,
    protocols: Sequence[LoadedProtocol],
    overrides: Mapping[str, Value | None] | None = None,
    *,
    explain: bool = False,
) -> tuple[Report, str]:
    """The report of a checked input and its chart HTML (what ``assess --format html`` writes). The
    "what would change" pictures need the explanation's scenarios, so they are always computed; the
    rule-by-rule explanation is printed only with ``explain``."""
    from kapdecide import pipeline
    from kapdecide.render.chart import chart_inputs

    report = pipeline.report(checked, protocols, overrides, explain=True)
    if not explain:
        report = {**report, "explanation": None}
    return report, render_html(report, chart_inputs(checked.profile, protocols, checked.as_of))
