"""The chart report (--format html): golden files, escaping, self-containment, its words and pictures.
The real-browser test is tests/render/test_html_browser.py. Regenerate the golden files:
KAPDECIDE_UPDATE_GOLDEN=1 pytest tests/render."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from kapdecide import pipeline
from kapdecide.assessment.report import DataToCollect, Report, validate_report
from kapdecide.protocol.loader import LoadedProtocol, load_protocols
from kapdecide.render import figures
from kapdecide.render.chart import chart_inputs
from kapdecide.render.html import chart_report, header_facts, render_html
from kapdecide.render.summary import STATUS_LOOK, summarise

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
UPDATE = os.environ.get("KAPDECIDE_UPDATE_GOLDEN") == "1"
HOSTILE = "<script>alert(1)</script>"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture(scope="module")
def protocols() -> list[LoadedProtocol]:
    return load_protocols([ROOT / "protocols"])


def _checked(name: str) -> pipeline.Checked:
    path = ROOT / "examples" / f"{name}.yaml"
    return pipeline.from_bytes(path.read_bytes(), str(path), today=dt.date(2026, 11, 21))


def _html(name: str, protocols: list[LoadedProtocol], **kw: Any) -> tuple[Report, str]:
    return chart_report(_checked(name), protocols, **kw)


@pytest.mark.parametrize("name", ["deferred-bp-alcohol", "incomplete-stale-bp"])
def test_html_report_golden(name: str, protocols: list[LoadedProtocol]) -> None:
    _, html = _html(name, protocols)
    target = GOLDEN / f"{name}.html"
    if UPDATE:
        target.write_text(html, encoding="utf-8")
    assert target.exists(), f"missing golden file {target}; run with KAPDECIDE_UPDATE_GOLDEN=1"
    assert html == target.read_text(encoding="utf-8")


# ---------------------------------------------------------------- escaping


def _hostile_report(report: Report) -> Report:
    """The report with every free-text field the model accepts replaced by a script tag (fields whose
    type is a fixed vocabulary keep their values: the model refuses anything else; so do the dates,
    which the report writes from dates the profile's checks accepted, never from free text)."""
    data = report
    original = json.loads(json.dumps(data))

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: replace(v) for k, v in node.items()}
        if isinstance(node, list):
            return [replace(v) for v in node]
        return HOSTILE if isinstance(node, str) and not ISO_DATE.fullmatch(node) else node

    data = replace(data)
    for _ in range(50):
        try:
            return validate_report(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [p for p in err["loc"] if not ((isinstance(p, str) and p[:1].isupper()) or "[" in str(p))]
                _restore(data, original, loc)
    raise AssertionError("could not build a hostile report")


def _restore(data: Any, original: Any, loc: list[Any]) -> None:
    for i in range(len(loc), 0, -1):  # the deepest location that exists in both
        try:
            target, source = data, original
            for key in loc[: i - 1]:
                target, source = target[key], source[key]
            target[loc[i - 1]] = source[loc[i - 1]]
            return
        except (KeyError, IndexError, TypeError):
            continue


@pytest.mark.parametrize("name", ["precautions-alcohol", "incomplete-missing-bp", "deferred-suicidality-alcohol"])
def test_every_text_field_of_the_report_is_escaped(name: str, protocols: list[LoadedProtocol]) -> None:
    report, _ = _html(name, protocols, explain=True)
    hostile = _hostile_report(report)
    fields = sum(1 for _ in re.finditer(re.escape(HOSTILE), json.dumps(hostile, ensure_ascii=False)))
    assert fields > 30, fields  # the substitution reached the report's text
    html = render_html(hostile, chart_inputs(_checked(name).profile, protocols, dt.date(2026, 11, 21)))
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_patient_supplied_strings_are_escaped(protocols: list[LoadedProtocol]) -> None:
    profile = (ROOT / "examples" / "precautions-alcohol.yaml").read_text(encoding="utf-8")
    profile = profile.replace('ref: "MRN-204117"', f'ref: "{HOSTILE}"')
    profile += f'\nproposed_medications: ["{HOSTILE}"]\n'
    profile = profile.replace("allergies: []", f'allergies: ["{HOSTILE}"]')
    entry = f'{{condition: "{HOSTILE}", display: "<b>x"}}'
    profile = profile.replace("medical_conditions: []", f"medical_conditions: [{entry}]")
    assert profile.count(HOSTILE) == 4
    checked = pipeline.from_bytes(profile.encode(), "hostile.yaml", today=dt.date(2026, 11, 21))
    report, html = chart_report(checked, protocols)
    assert report["patient_ref"] == HOSTILE and report["unrecognised"]
    assert "<script" not in html.lower() and "<b>x" not in html
    assert html.count("&lt;script&gt;") >= 4


# ---------------------------------------------------------------- self-contained, its words


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_is_one_self_contained_file(name: str, protocols: list[LoadedProtocol]) -> None:
    report, html = _html(name, protocols)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    lowered = html.lower()
    for banned in ("<script", "<link", "<img", "<iframe", "<object", "@import", "url(", " src=", "javascript:"):
        assert banned not in lowered, banned
    links = re.findall(r"https?://[^\s\"<]+", html)
    assert all(link.startswith("https://doi.org/10.") for link in links), links
    assert all(f'href="#ev-{k}"' in html or f'id="ev-{k}"' in html for k in re.findall(r'href="#ev-([^"]+)"', html))
    # the decision-support statement, the status, the signature line and the receipt
    assert "Decision support for clinician review" in html and "@bottom-left" in html
    assert STATUS_LOOK[report["status"]][0] in html
    assert "Reviewed by (name, role)" in html and report["receipt"]["profile_sha256"] in html
    # no author tag and no vocabulary slug reaches the clinician
    for tag in ("DESIGN CHOICE", "CONSERVATIVE", "DISAGREEMENT", "VERIFY"):
        assert tag not in html, tag
    for slug in ("active_with_plan", "major_depressive_disorder", "positive_active", "not_pregnant"):
        assert slug not in html, slug


def test_doses_are_shown_only_for_offered_options(protocols: list[LoadedProtocol]) -> None:
    report, html = _html("deferred-bp-alcohol", protocols)
    assert not any(o["state"] == "offered" for o in report["options"])
    assert "mg/kg x" not in html and "Dose:" not in html
    assert "Not offered now: a deferral applies" in html
    report, html = _html("precautions-alcohol", protocols)
    assert "0.8 mg/kg x 84.5 kg = 67.6 mg" in html and "Session checklist" in html


def test_the_summary_puts_the_urgent_action_in_the_status_box(protocols: list[LoadedProtocol]) -> None:
    report, html = _html("deferred-suicidality-alcohol", protocols)
    s = summarise(report)  # the text screen's summary: one choice of the most important action
    assert s.urgent and s.headline == "URGENT: same-day suicide risk assessment and safety plan"
    box = html[html.index('<div class="status') : html.index("</div>\n</div>", html.index('<div class="status'))]
    assert "DEFERRED" in box and "URGENT" in box and "Same-day suicide risk assessment and safety plan" in box
    assert s.blocking[0]["urgent"] and "active, with a plan" in html[: html.index("At a glance")]


def test_data_to_collect_names_profile_fields_and_asks_in_plain_words(protocols: list[LoadedProtocol]) -> None:
    report, html = _html("incomplete-female-no-pregnancy-section", protocols)
    assert "pregnancy.possible" in report["missing_data"]
    page_one = html[: html.index("At a glance")]
    for item in report["data_to_collect"]:  # the report's field -> question table (language/sources.py)
        assert f'<td class="mono">{item["path"]}</td>' in page_one
        assert item["ask"][:1].upper() + item["ask"][1:] in page_one
    assert "Can the patient become pregnant?" in page_one and "pregnancy.possible" not in html
    assert "Collect patient.sex_at_birth, pregnancy.breastfeeding and 1 more, then reassess" in page_one


def test_a_stale_reading_is_one_item_with_the_checks_that_wait_on_it(protocols: list[LoadedProtocol]) -> None:
    report, html = _html("incomplete-stale-bp", protocols)
    page_one = html[: html.index("At a glance")]
    assert page_one.count('<td class="mono">vitals.blood_pressure</td>') == 1
    assert "3 safety checks wait on it." in page_one
    assert header_facts(report)["bp_used"] == (
        "none used: the latest (116/74 mmHg, 2026-10-07) is 45 days old, over the 30-day limit"
    )


def test_the_summary_page_counts_what_it_leaves_to_the_details(protocols: list[LoadedProtocol]) -> None:
    report, _ = _html("incomplete-missing-bp", protocols)
    first = report["data_to_collect"][0]
    more: list[DataToCollect] = [{**first, "path": f"x.field_{i}", "ask": f"item {i}?"} for i in range(7)]
    html = render_html({**report, "data_to_collect": more})
    page_one = html[: html.index("At a glance")]
    assert page_one.count("Item ") == 5 and "and 2 more: see" in page_one
    details = html[html.index('<h3 id="collect">') :]
    assert all(f"Item {i}?" in details for i in range(7))


# ---------------------------------------------------------------- pictures


def test_the_blood_pressure_picture_draws_the_thresholds_and_the_freshness_cut_off(
    protocols: list[LoadedProtocol],
) -> None:
    report, _ = _html("incomplete-stale-bp", protocols)
    chart = chart_inputs(_checked("incomplete-stale-bp").profile, protocols, dt.date(2026, 11, 21))
    fig = figures.bp_figure(report["patient"]["blood_pressure_readings"], chart)
    assert fig is not None
    labels = [line.label for line in fig.thresholds]
    expected = {"130 systolic: caution", "80 diastolic: caution", "140 systolic: defer", "90 diastolic: defer"}
    assert expected <= set(labels)
    assert fig.cutoff is not None and fig.stale_x is not None and fig.cutoff.label.startswith("30-day limit")
    assert all(m.x < fig.stale_x for m in fig.systolic)  # the 45-day-old readings fall in the stale region
    report, _ = _html("deferred-bp-alcohol", protocols)
    chart = chart_inputs(_checked("deferred-bp-alcohol").profile, protocols, dt.date(2026, 11, 21))
    fig = figures.bp_figure(report["patient"]["blood_pressure_readings"], chart)
    assert fig is not None and len(fig.systolic) == 3 and fig.stale_x is not None
    assert all(m.x > fig.stale_x for m in fig.systolic)  # every reading is within 30 days
    assert header_facts(report) == {
        "weight": "92 kg, date of weighing not recorded",
        "bp_used": "152/94 mmHg (mean of 2 readings, 2026-11-21)",
    }


def test_the_what_would_change_ladder_shows_each_value_and_its_status(protocols: list[LoadedProtocol]) -> None:
    report, html = _html("incomplete-missing-bp", protocols)
    (ladder,) = figures.ladders(report["what_would_change"])
    steps = [(s.value, s.status) for s in ladder.steps]
    assert steps[0] == ("129/79", "eligible") and ("140/90", "deferred") in steps
    assert ("130/80", "eligible_with_precautions") in steps
    assert "What would change the answer" in html and report["explanation"] is None


def test_the_last_use_picture_places_each_substance_against_the_windows(protocols: list[LoadedProtocol]) -> None:
    profile = _checked("precautions-polysubstance-alcohol-cocaine").profile
    chart = chart_inputs(profile, protocols, dt.date(2026, 11, 21))
    fig = figures.use_figure(chart)
    assert fig is not None and [r.substance for r in fig.rows] == ["alcohol", "cocaine"]
    assert [b.label.split(":")[0] for b in fig.bands] == ["first 5 days", "5-14 days", "up to 90 days"]
    for row, use in zip(fig.rows, chart.last_use, strict=True):
        assert row.mark is not None and use.days is not None and row.note.startswith(f"{use.days} day")


def test_explain_adds_the_rule_by_rule_appendix(protocols: list[LoadedProtocol]) -> None:
    report, html = _html("deferred-bp-alcohol", protocols, explain=True)
    assert report["explanation"] and "Explanation: every rule and exclusion" in html
    _, plain = _html("deferred-bp-alcohol", protocols)
    assert "Explanation: every rule and exclusion" not in plain


def test_a_hypothetical_report_says_so(protocols: list[LoadedProtocol]) -> None:
    _, html = _html("precautions-alcohol", protocols, overrides={"vitals.bp_systolic_mmhg": 150})
    assert "HYPOTHETICAL" in html and "vitals.bp_systolic_mmhg = 150" in html
