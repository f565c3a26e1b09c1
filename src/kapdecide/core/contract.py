"""Fixed values of the machine contract that every output carries, in a module light enough for
the error and problem renderers to import without building the report models."""

from __future__ import annotations

from typing import Literal

SCHEMA_VERSION = "1.1"
DISCLAIMER = (
    "Decision support for clinician review. kapdecide does not make or order treatment decisions. "
    "Ketamine and esketamine are not approved for any substance use disorder: every such use is off-label. "
    "Findings are only as complete as the data given; verify them against the patient record."
)

#: What a rule is: the kind decides how a finding weighs on the status (reference 0.1).
RuleKind = Literal["contraindication", "deferral", "required_data", "caution", "interaction", "info"]
#: What ``explain`` can explain: a rule, or an option's exclusion.
ExplainedKind = RuleKind | Literal["option_exclusion"]

Status = Literal["contraindicated", "deferred", "incomplete", "eligible_with_precautions", "eligible"]
#: Most severe first (reference 0.1).
STATUS_ORDER: tuple[Status, ...] = (
    "contraindicated",
    "deferred",
    "incomplete",
    "eligible_with_precautions",
    "eligible",
)
