"""The chart report (``--format html``): one self-contained, printable HTML file.

Inline CSS and SVG, no script and nothing fetched: a summary page first (render/summary.py), then
pictures (render/figures.py), findings with their values and sources, options with doses, the
session checklist, the evidence with full citations and DOI links, the receipt and a signature line.
Every page says it is decision support for clinician review (the page footer).

Written with Jinja2 templates (templates/) with autoescaping on for every template: each string from
the profile, the protocol or the report is escaped where it is placed, never concatenated into HTML.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined

from kapdecide.language.facts import label
from kapdecide.render import figures
from kapdecide.render.cds_text import receipt_key
from kapdecide.render.chart import ChartInputs
from kapdecide.render.plain import GRADE_LABEL, KIND_TITLE, clean, show, test_words, word
from kapdecide.render.summary import MAX_BLOCKING, MAX_COLLECT, summarise

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from kapdecide.assessment.report import EvidenceRef, Finding, Report
    from kapdecide.language.facts import Value
    from kapdecide.pipeline import Checked
    from kapdecide.protocol.loaded import LoadedProtocol

_KINDS = ("contraindication", "deferral", "required_data", "caution", "interaction", "info")


def _test(t: Any) -> str:
    return test_words(t.operator, t.threshold)


def _condition(text: str) -> str:
    """A printed rule condition in plainer words ("acutely intoxicated is yes" -> "acutely intoxicated")."""
    out = re.sub(r" is yes\b", "", clean(text))
    return re.sub(r"(\b[\w -]+?) is no\b", r"not \1", out)


def _doi_url(doi: str) -> str:
    return "https://doi.org/" + quote(doi, safe="/")


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
        clean=clean,
        show=show,
        word=word,
        label=label,
        test=_test,
        condition=_condition,
        doi_url=_doi_url,
        grade=lambda g: GRADE_LABEL.get(g or "", "-"),
    )
    return env


def _evidence(report: Report) -> list[EvidenceRef]:
    """Every cited source in the report, once, by id."""
    found: dict[str, EvidenceRef] = {}
    groups: list[list[EvidenceRef]] = [f.evidence for f in report.findings]
    groups += [s.evidence for s in report.substances]
    groups += [o.evidence for o in report.options if o.state != "not_applicable"]
    groups += [c.evidence for c in report.session_checklists]
    for group in groups:
        for e in group:
            found.setdefault(e.id, e)
    return [found[k] for k in sorted(found)]


def _sections(report: Report) -> list[tuple[str, str, list[Finding]]]:
    """Findings by kind, most severe first, urgent ones first within a kind."""
    out = []
    for kind in _KINDS:
        items = sorted((f for f in report.findings if f.kind == kind), key=lambda f: not f.urgent)
        if items:
            out.append((kind, KIND_TITLE[kind], items))
    return out


def render_html(report: Report, chart: ChartInputs | None = None) -> str:
    """The chart report of ``report``; ``chart`` brings the profile's readings and dates (without it
    the pictures that need them are left out)."""
    from kapdecide.assessment.options import STATUS_OPTION_REASON

    chart = chart or ChartInputs(as_of=dt.date.fromisoformat(report.assessed_on))
    key = receipt_key(report)
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            r=report,
            s=summarise(report),
            chart=chart,
            bp=figures.bp_figure(chart),
            ladders=figures.ladders(report.what_would_change, dict(chart.rule_titles)),
            uses=figures.use_figure(chart),
            sections=_sections(report),
            options=[o for o in report.options if o.state != "not_applicable"],
            shared_reason=STATUS_OPTION_REASON.get(report.status, ""),
            evidence=_evidence(report),
            receipt_key=key[:12],
            option_titles={o.option_id: clean(o.title) for o in report.options},
            rule_titles=dict(chart.rule_titles),
            max_blocking=MAX_BLOCKING,
            max_collect=MAX_COLLECT,
            receipt_full=key,
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
        report = report.model_copy(update={"explanation": None})
    return report, render_html(report, chart_inputs(checked.profile, protocols, checked.as_of))
