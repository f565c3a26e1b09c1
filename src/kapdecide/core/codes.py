"""The catalogue of problem codes: every stable code kapdecide can report, with its severity and
what it means. A code is part of the machine contract (JSON ``code`` fields, batch error records,
``file:line:col: severity [code]`` lines); ``tests/unit/core/test_codes.py`` asserts that every code the
source emits is listed here and documented in docs/reference.md, and that none is listed in vain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from kapdecide.core.errors import Problem

Stage = Literal["input", "profile", "fhir", "batch", "protocol", "lint", "cases", "run", "service"]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Code:
    """One problem code."""

    severity: Severity
    stage: Stage
    summary: str


E: Severity = "error"
W: Severity = "warning"

PROBLEM_CODES: dict[str, Code] = {
    # reading a file (profiles, protocols, cases, reports)
    "unreadable": Code(E, "input", "the file could not be read (missing, no permission)"),
    "too-large": Code(E, "input", "the input is over its size limit; it is refused before it is parsed"),
    "too-deep": Code(E, "input", "nested deeper than 64 levels"),
    "not-utf8": Code(E, "input", "a byte is not valid UTF-8; save or export the file as UTF-8"),
    "byte-order-mark": Code(E, "input", "the file starts with a byte-order mark; save it as UTF-8 without BOM"),
    "yaml-syntax": Code(E, "input", "not valid YAML (a tab in the indentation, a bad indent, several documents)"),
    "yaml-alias": Code(E, "input", "YAML aliases (*name) are refused: write the value out"),
    "yaml-tag": Code(E, "input", "YAML tags (!!python/…, !!str) are refused: plain data only"),
    "yaml-key": Code(E, "input", "a mapping key that is not plain text"),
    "duplicate-key": Code(E, "input", "a key given twice in one mapping (YAML or JSON)"),
    "json-syntax": Code(E, "input", "not valid JSON"),
    "json-invalid": Code(E, "input", "JSON that kapdecide refuses (NaN, Infinity, duplicate keys, too deep)"),
    "out-of-range": Code(E, "input", "a number outside its plausible range, or a list too long or too short"),
    "not-a-mapping": Code(E, "input", "the document is not a mapping of sections"),
    "invalid-input": Code(E, "input", "the input is invalid (the problems say where and why)"),
    "fhir-xml": Code(E, "input", "FHIR XML: kapdecide reads FHIR R4 JSON Bundles"),
    "cds-hooks-request": Code(E, "input", "a CDS Hooks request, not a profile or a Bundle"),
    "usage": Code(E, "input", "bad command-line usage"),
    # the profile model and its consistency
    "unknown-field": Code(E, "profile", "a key the model does not have (with a did-you-mean)"),
    "missing-field": Code(E, "profile", "a required key is missing"),
    "wrong-type": Code(E, "profile", "a value of the wrong type (text for a number, yes/no for true/false)"),
    "not-in-vocabulary": Code(E, "profile", "a value outside the field's vocabulary"),
    "invalid-value": Code(E, "profile", "a value the field rejects (an impossible date, a malformed code)"),
    "date-after-assessment": Code(E, "profile", "a date after the assessment date"),
    "duplicate-substance": Code(E, "profile", "one substance listed twice in substance_use"),
    "invalid_bp_systolic_not_above_diastolic": Code(E, "profile", "a blood pressure with systolic ≤ diastolic"),
    "invalid_pregnancy_contradiction": Code(E, "profile", "pregnancy entries that contradict each other"),
    "invalid_remission_contradiction": Code(E, "profile", "a remission that contradicts the last use"),
    "invalid_last_use_contradiction": Code(E, "profile", "use dates that contradict each other"),
    "invalid_intoxication_contradiction": Code(E, "profile", "intoxicated now with a last use long ago"),
    "invalid_suicidality_contradiction": Code(E, "profile", "suicidality entries that contradict each other"),
    "invalid_diagnosis_contradiction": Code(E, "profile", "a diagnosis listed against `none`"),
    "unrecognised-entry": Code(W, "profile", "a medication, condition or allergy the terminology does not know"),
    # FHIR import
    "fhir-no-patient": Code(E, "fhir", "a Bundle without a Patient resource"),
    # batch records
    "empty-line": Code(E, "batch", "an empty batch line"),
    "worker-died": Code(E, "batch", "the process assessing the line died; retry the line alone"),
    "population-error": Code(
        E, "batch", "`screen`: a worker saw other protocol files or kapdecide version, or a partition lost a line"
    ),
    "output-not-empty": Code(E, "batch", "`screen`: the output folder is not new or empty"),
    "internal-error": Code(E, "run", "kapdecide failed unexpectedly; no assessment was made"),
    "engine-disagreement": Code(E, "run", "the rules engine and the evaluator disagree; no assessment"),
    "engine-error": Code(E, "run", "the rules engine failed or returned a truncated result"),
    "protocols-unloadable": Code(E, "run", "the protocols could not be loaded for an assessment"),
    "error": Code(E, "run", "an error without a more specific code"),
    # protocol files
    "not-found": Code(E, "protocol", "a protocol path that does not exist"),
    "no-protocols": Code(E, "protocol", "a folder with no protocol files"),
    "protocol-skipped": Code(W, "protocol", "a file that looks like a protocol but is not read (.YAML, dangling link)"),
    "duplicate-id": Code(E, "protocol", "an id given twice (rules, options, evidence, cases, protocols)"),
    "undefined-evidence": Code(E, "protocol", "a citation of an evidence id that is not defined"),
    "unused-evidence": Code(W, "protocol", "evidence that nothing cites"),
    "evidence-without-identifier": Code(W, "protocol", "evidence with neither a DOI nor another identifier"),
    "value-not-in-vocabulary": Code(E, "protocol", "a condition or option value outside the field's vocabulary"),
    "interaction-without-severity": Code(E, "protocol", "an interaction rule without severity"),
    "unknown-option": Code(E, "protocol", "a reference to an option that does not exist"),
    "unknown-rule": Code(E, "protocol", "a reference to a rule that does not exist"),
    "unknown-placeholder": Code(E, "protocol", "a {placeholder} in a message that names no fact field"),
    "unknown-profile-field": Code(E, "protocol", "a condition on a fact field that does not exist"),
    "operator-type-mismatch": Code(E, "protocol", "an operator that does not apply to the field's type"),
    "type-mismatch": Code(E, "protocol", "a condition value of the wrong type for its field"),
    "unexpected-value": Code(E, "protocol", "a value given to is_known / is_unknown"),
    "reserved-value": Code(E, "protocol", "a value reserved by the engine adapter"),
    "empty-condition": Code(E, "protocol", "an all/any with no conditions"),
    "engine-limit": Code(E, "protocol", "over an engine limit (rules, branches, depth)"),
    "hash-collision": Code(E, "protocol", "two field names share the engine's 32-bit hash"),
    "option-without-grade": Code(E, "protocol", "an option regimen without a GRADE certainty"),
    "option-without-citation": Code(E, "protocol", "an option regimen without evidence"),
    "regimen-for-insufficient-substance": Code(E, "protocol", "a regimen for a substance graded insufficient"),
    "regimen-indication": Code(E, "protocol", "a regimen whose indication does not match its option"),
    "dose-ambiguous": Code(E, "protocol", "a dose that does not say per kg or total"),
    # lint (part of validate)
    "tier-gap": Code(E, "lint", "values between two tiers of a group belong to no tier"),
    "tier-overlap": Code(E, "lint", "two tiers of a group overlap without nested_in"),
    "never-true": Code(E, "lint", "a condition no profile can make true"),
    "never-false": Code(W, "lint", "a condition no known data can make false"),
    "shadowed-rule": Code(W, "lint", "a rule a more severe rule always accompanies"),
    "shadow-check-incomplete": Code(W, "lint", "the shadowed-rule check stopped at its bound; rules left unchecked"),
    "option-never-offered": Code(W, "lint", "an exclusion that always applies"),
    "review-overdue": Code(W, "lint", "last_reviewed is older than review_interval_days"),
    "evidence-without-doi": Code(W, "lint", "evidence with an identifier (PMID, NCT, label id) but no DOI"),
    "rule-without-rationale": Code(W, "lint", "a rule without a rationale"),
    # protocol test cases
    "unknown-base": Code(E, "cases", "a case names a base profile that does not exist (with a did-you-mean)"),
    "extends-cycle": Code(E, "cases", "cases or bases files that extend each other in a cycle"),
    "cases-without-protocols": Code(
        E, "cases", "a cases file outside PROTOCOLS/tests/ that names no `protocols:` (and no --protocols)"
    ),
    # the CDS Hooks service (kapdecide serve): the error code of a JSON error response
    "unauthorized": Code(E, "service", "401: no valid CDS Hooks JWT (the message names the check that failed)"),
    "unknown-service": Code(E, "service", "404: no CDS Service (or endpoint) with this id"),
    "method-not-allowed": Code(E, "service", "405: the endpoint does not take this HTTP method"),
    "not-json": Code(E, "service", "400 (or 415): the body is not JSON, or not declared application/json"),
    "request-too-large": Code(E, "service", "413: the body is over max_request_bytes"),
    "hook-request-invalid": Code(E, "service", "400: not a valid CDS Hooks request (the problems list each field)"),
    "hook-mismatch": Code(E, "service", "400: the request's hook is not the service's hook"),
    "prefetch-invalid": Code(E, "service", "400: a prefetch value that is not a FHIR resource, Bundle or null"),
    "prefetch-wrong-patient": Code(E, "service", "400: prefetch holds a Patient that is not context.patientId"),
    "prefetch-missing": Code(E, "service", "412: the Patient is not in the prefetch and could not be fetched"),
    "fhir-server-refused": Code(E, "service", "400: a fhirServer the service may not call (not https, not allowed)"),
    "fhir-timeout": Code(E, "service", "504: the client's FHIR server did not answer in time"),
    "busy": Code(E, "service", "503: no assessment slot free within queue_seconds; retry (Retry-After)"),
    "timeout": Code(E, "service", "503: the assessment did not finish within request_timeout_seconds; retry"),
    "feedback-invalid": Code(E, "service", "400: not a valid CDS Hooks feedback document"),
    "feedback-not-stored": Code(E, "service", "503: the feedback log could not be written; retry"),
}


def parse_codes(values: Iterable[str]) -> frozenset[str]:
    """The codes of a repeatable, comma-separated option (``--select a,b --select c``); an unknown
    code is a ValueError naming it, with the nearest catalogued code."""
    import difflib

    codes = {c.strip() for v in values for c in v.split(",") if c.strip()}
    for code in sorted(codes):
        if code not in PROBLEM_CODES:
            near = difflib.get_close_matches(code, list(PROBLEM_CODES), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ValueError(f"{code}: no such problem code{hint} (the codes are listed in docs/reference.md)")
    return frozenset(codes)


def shown(problems: Sequence[Problem], select: frozenset[str], ignore: frozenset[str]) -> list[Problem]:
    """The problems ``--select`` (when given) and ``--ignore`` leave to be listed."""
    return [p for p in problems if (not select or p.code in select) and p.code not in ignore]
