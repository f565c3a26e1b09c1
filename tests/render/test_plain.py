"""Protocol words made fit for a clinician: tags, slugs, inline citations, short keys."""

from __future__ import annotations

import pytest

from kapdecide.render.plain import (
    clinician_text,
    condition_words,
    first_sentence,
    inline_citations,
    plain_value,
    plain_word,
    rule_test_words,
    short_keys,
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (
            "Breath alcohol 0.00 before dosing (CONSERVATIVE) and a drug screen [KARE-REG][SPRAVATO-US]; no alcohol",
            "Breath alcohol 0.00 before dosing and a drug screen; no alcohol",
        ),
        ("DESIGN CHOICE: weekly contact for the first 90 days", "Weekly contact for the first 90 days"),
        ("Stop dosing. DESIGN CHOICE: the REMS sets no number.", "Stop dosing. The REMS sets no number."),
        ("every 15 minutes (DESIGN CHOICE) and continuous", "every 15 minutes and continuous"),
        (
            "about 1-2 hours (DISAGREEMENT; monitor until baseline).",
            "about 1-2 hours (sources disagree: monitor until baseline).",
        ),
        ("DISAGREEMENT: Canada says X", "Sources disagree: Canada says X"),
        ("its date not recorded: last_suicidal_behavior)", "its date not recorded: last suicidal behavior)"),
        ("ideation active_with_plan", "ideation active, with a plan"),
        ("for major_depressive_disorder", "for major depressive disorder"),
        ("vitals.blood_pressure stays", "vitals.blood_pressure stays"),
    ],
)
def test_clinician_text(raw: str, shown: str) -> None:
    assert clinician_text(raw) == shown


def test_inline_citations_are_kept_as_ids() -> None:
    assert inline_citations("screen [KARE-REG][SPRAVATO-US]; no alcohol") == ["KARE-REG", "SPRAVATO-US"]


def test_short_keys() -> None:
    assert short_keys([]) == ""
    assert short_keys(["A-1"]) == "[A-1]"
    assert short_keys(["A-1", "B", "C"]) == "[A-1+2]"


def test_first_sentence() -> None:
    assert first_sentence("Continue; no change.") == "Continue; no change."
    assert first_sentence("Do this now. Then that.") == "Do this now."
    assert (
        first_sentence("Breath alcohol 0.00 before dosing. Tell the patient.") == "Breath alcohol 0.00 before dosing."
    )


def test_values_and_tests_in_words() -> None:
    """What the chart report's findings table shows: a value as recorded and the test it met."""
    assert plain_word("active_with_plan") == "active, with a plan"
    assert plain_word("cyp_inhibitor") == "cyp inhibitor"
    assert plain_value(["antihypertensive", "cyp_inhibitor"]) == "antihypertensive, cyp inhibitor"
    assert (plain_value(True), plain_value(None), plain_value(84.5), plain_value([])) == (
        "yes",
        "unknown",
        "84.5",
        "none",
    )
    assert rule_test_words(">=", 140) == "≥ 140"
    assert rule_test_words("includes", "cyp_inhibitor") == "includes cyp inhibitor"
    assert rule_test_words("is_known", None) == "is recorded"


def test_a_printed_condition_reads_as_words() -> None:
    assert condition_words("acutely intoxicated is yes") == "acutely intoxicated"
    assert (
        condition_words("pregnancy test pending is yes or mania is active")
        == "pregnancy test pending or mania is active"
    )
