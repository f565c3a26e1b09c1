"""Protocol words made fit for a clinician: tags, slugs, inline citations, short keys."""

from __future__ import annotations

import pytest

from kapdecide.render.plain import (
    clinician_text,
    inline_citations,
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
