"""The protocols, compiled once, and one assessment per request through kapdecide's one pipeline.

``pipeline.from_data`` (FHIR import, profile model, consistency check, date rule) and
``pipeline.report`` (the assessment with its engine-vs-evaluator guard, FHIR provenance): the same
calls, checks and report as ``kapdecide assess``. The rules engine (durable-rules' C module) keeps
per-ruleset session state that is not safe to share between threads, so assessments run one at a
time under a lock; the FHIR import before it runs unlocked. Callers run ``assess`` in a worker
thread so the event loop keeps answering.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kapdecide import pipeline
from kapdecide.service.cards import DraftOrder
from kapdecide.service.definitions import ORDER_DRUGS

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report
    from kapdecide.protocol.loader import LoadedProtocol

_PROPOSED = "proposed_medications."


@dataclass(frozen=True)
class Assessed:
    """A request's report, and the draft orders of the drugs the order services act on."""

    report: Report
    drafts: list[DraftOrder]


class Assessor:
    """Holds the compiled protocols; ``assess`` is safe to call from any thread."""

    def __init__(self, protocols: Sequence[LoadedProtocol]) -> None:
        from kapdecide.assessment.compiled import compile_protocol

        self.protocols = list(protocols)
        for lp in self.protocols:
            compile_protocol(lp)  # once, at start (cached by the protocol's sha256)
        self._lock = threading.Lock()

    def assess(
        self, bundle: dict[str, Any], notes: Sequence[str] = (), draft_refs: Mapping[str, str | None] | None = None
    ) -> Assessed:
        """The report for an assembled Bundle; ``notes`` are added to the import warnings, and
        ``draft_refs`` name the client's draft orders (``MedicationRequest/<id>`` -> its text)."""
        from kapdecide.core import clock
        from kapdecide.inputs.yaml_source import SourceMap

        checked = pipeline.from_data(bundle, SourceMap("<prefetch> (mapped from FHIR)"), today=clock.today())
        with self._lock:
            report = pipeline.report(checked, self.protocols)
        if notes and report["input_source"] is not None:
            source = report["input_source"]
            report = {**report, "input_source": {**source, "warnings": [*source["warnings"], *notes]}}
        drafts: list[DraftOrder] = []
        if checked.imported is not None and draft_refs:
            for key, refs in sorted(checked.imported.provenance.items()):
                drug = key.removeprefix(_PROPOSED)
                if key.startswith(_PROPOSED) and drug in ORDER_DRUGS:
                    drafts += [_draft(ref, draft_refs[ref] or drug) for ref in refs if ref in draft_refs]
        return Assessed(report, drafts)

    def warm_up(self) -> None:
        """One assessment of a minimal Bundle at start, so the first request does not build the engine."""
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": "warm-up", "gender": "female"}}],
        }
        self.assess(bundle)


def _draft(reference: str, display: str) -> DraftOrder:
    rtype, _, rid = reference.partition("/")
    return DraftOrder(rid, rtype, display)
