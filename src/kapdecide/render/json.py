"""JSON output for programs: one document, stable field names, byte-identical for the same input."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kapdecide.core.contract import DISCLAIMER, SCHEMA_VERSION
from kapdecide.core.errors import EXIT_MEANING, ExitCode, KapdecideError, Problem

if TYPE_CHECKING:  # types only: an error or a problem list is printed without importing the assessment
    from kapdecide.assessment.report import Report
    from kapdecide.authoring.cases import Coverage, Suite


def dumps(data: Any) -> str:
    """Deterministic JSON text with a final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def one_line(data: Any) -> str:
    """``data`` as compact JSON on one line: orjson, the same bytes as pydantic-core's writer (which
    wrote batch lines before; tests/unit/test_batch.py), three times faster. Like it, and unlike
    ``json.dumps``, it writes a float below 1e-4 without an exponent's zero padding (0.00001)."""
    import orjson

    try:
        return orjson.dumps(data).decode("utf-8")
    except TypeError:  # what orjson does not write (an integer over 64 bits): pydantic-core's writer
        from pydantic_core import to_json

        return to_json(data).decode("utf-8")


def render_report(report: Report) -> str:
    """The report as JSON (fields in model order; lists are already in a fixed order)."""
    return dumps(report)


def render_error(error: KapdecideError | None, exit_code: int, message: str | None = None) -> str:
    """The error object printed on stdout in JSON mode, so a caller always has a document to parse."""
    problems = error.problems if error else []
    return dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "status": "error",
            "disclaimer": DISCLAIMER,
            "error": {
                "exit_code": exit_code,
                "meaning": EXIT_MEANING.get(exit_code, "error"),
                "code": error.code if error else ("internal-error" if exit_code == ExitCode.INTERNAL else "usage"),
                "message": message if message is not None else str(error),
                "hint": error.hint if error else None,
                "problems": [p.to_dict() for p in problems],
            },
        }
    )


def render_problems(problems: list[Problem], files: list[str], listed: list[Problem] | None = None) -> str:
    """The result of ``validate`` as data. ``status``, ``errors`` and ``warnings`` count every
    problem; with ``--select``/``--ignore``, ``problems`` holds the ``listed`` ones and
    ``not_listed`` counts the rest."""
    errors = sum(p.severity == "error" for p in problems)
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "status": "fail" if errors else "ok",
        "files": files,
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": [p.to_dict() for p in (problems if listed is None else listed)],
    }
    if listed is not None:
        hidden = errors - sum(p.severity == "error" for p in listed)
        doc["not_listed"] = {"errors": hidden, "warnings": len(problems) - len(listed) - hidden}
    return dumps(doc)


def render_suite(suite: Suite, coverages: list[Coverage] | None) -> str:
    """``kapdecide test --format json``: every case with its outcome, and coverage when asked."""
    return dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "status": "ok" if suite.ok else "fail",
            "files": suite.files,
            "protocols": [
                {**lp.ref_data(), "file": lp.path, "cases_files": [f for f in suite.files if lp in suite.tested(f)]}
                for lp in suite.tested()
            ],
            "summary": {k: suite.count(k) for k in ("passed", "failed", "todo", "fixed")},
            "problems": [p.to_dict() for p in suite.problems],
            "cases": [
                {
                    "name": r.case.model.name,
                    "file": r.case.file,
                    "line": r.case.line,
                    "outcome": r.outcome,
                    "status": r.report["status"] if r.report else None,
                    "error": r.error,
                    "failures": r.failures,
                }
                for r in suite.results
            ],
            "coverage": None
            if coverages is None
            else [
                {
                    "protocol_id": c.protocol_id,
                    "rules_percent": c.rule_pct,
                    "options_percent": c.option_pct,
                    "condition_leaves_percent": c.leaf_pct,
                    "uncovered_rules": c.uncovered_rules,
                    "uncovered_options": c.uncovered_options,
                    "uncovered_condition_leaves": c.uncovered_leaves,
                }
                for c in coverages
            ],
        }
    )
