"""``review-overdue``, ``evidence-without-doi`` and ``rule-without-rationale`` (warnings): stale or
unexplained content. The review date is checked only when a date is given (a cached lint result
stays valid on any day: ``review_due`` gives the warning apart)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from kapdecide.core.errors import Problem
from kapdecide.protocol.loaded import LoadedProtocol

CODES = ("review-overdue", "evidence-without-doi", "rule-without-rationale")


def check(lp: LoadedProtocol, today: dt.date | None) -> Iterator[Problem]:
    """Rules without a rationale, an overdue review, evidence with an identifier but no DOI."""
    p, src = lp.protocol, lp.smap()
    for i, r in enumerate(p.rules):
        if r.rationale is None and r.kind != "required_data":
            yield src.problem(
                ("rules", i, "id"), "rule-without-rationale", f"rule {r.id!r} has no rationale", severity="warning"
            )
    due, overdue = review_due(lp)
    if today is not None and today > due:
        yield overdue
    for i, e in enumerate(p.evidence):
        # NOTE: evidence with neither a DOI nor an identifier has its one warning from the checks
        # (evidence-without-identifier); this one is for evidence identified otherwise.
        if e.doi is None and e.identifier is not None:
            yield src.problem(
                ("evidence", i, "id"),
                "evidence-without-doi",
                f"evidence {e.id!r} has no DOI (identifier: {e.identifier})",
                severity="warning",
            )


def review_due(lp: LoadedProtocol) -> tuple[dt.date, Problem]:
    """The date a review falls due, and the warning to give after it (kept apart so that a cached
    lint result stays valid on any day)."""
    p = lp.protocol
    due = p.last_reviewed + dt.timedelta(days=p.review_interval_days)
    return due, lp.smap().problem(
        ("last_reviewed",),
        "review-overdue",
        f"last reviewed {p.last_reviewed.isoformat()}; review was due {due.isoformat()} "
        f"(every {p.review_interval_days} days)",
        severity="warning",
    )
