"""The compact batch line: a report with everything the protocols alone decide taken out.

A compact line keeps what is patient-specific (status, findings with their values, missing and
stale data, option states, reasons and doses, the receipt) and refers to the protocol-constant rest
(evidence, trials, titles, checklists, texts) through the *header*, which ``kapdecide protocol-info``
prints once. ``expand(compact(report, h), h) == report`` exactly, key order included (a test checks
it on every example and on generated profiles), so a reader can always rebuild the full report.

How it stays exact: each object in the report's lists is compared, field by field, with a template
built from the protocol by the same functions that build the report, with no patient data. A line
item carries its template's key (``$t``) and only the fields whose values differ; an item with no
template is carried whole. Field order comes from the report's TypedDicts, its one declaration.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from kapdecide import __version__
from kapdecide.assessment.assess import STATUS_SUMMARY, finding_data
from kapdecide.assessment.compiled import CompiledProtocol, compile_protocol
from kapdecide.assessment.options import build_checklist, option_row
from kapdecide.assessment.sections import substance_out
from kapdecide.core import vocabulary as v
from kapdecide.core.contract import DISCLAIMER, SCHEMA_VERSION
from kapdecide.protocol.loaded import LoadedProtocol

Data = dict[str, Any]
HEADER_FORMAT = "kapdecide-compact-header"
#: report list -> the template kind of its items
LISTS = {
    "findings": "finding",
    "not_checked": "not_checked",
    "options": "option",
    "substances": "substance",
    "session_checklists": "checklist",
}


def _orders() -> dict[str, list[str]]:
    from kapdecide.assessment import report as r

    models: dict[str, type] = {
        "report": r.Report,
        "finding": r.Finding,
        "not_checked": r.NotChecked,
        "option": r.OptionOut,
        "substance": r.SubstanceEvidenceOut,
        "checklist": r.SessionChecklist,
        "receipt": r.Receipt,
    }
    return {kind: list(model.__annotations__) for kind, model in models.items()}


def _key(kind: str, item: Mapping[str, Any]) -> str:
    if kind in ("finding", "not_checked"):
        return f"{item['protocol_id']}/{item['rule_id']}"
    if kind == "option":
        return f"{item['protocol_id']}/{item['option_id']}/{item['indication'] or '-'}"
    if kind == "substance":
        return str(item["substance"])
    return str(item["protocol_id"])


def _templates(cp: CompiledProtocol, out: dict[str, Data]) -> None:
    pid = cp.protocol.id
    for rule in cp.protocol.rules:
        out["finding"][f"{pid}/{rule.id}"] = finding_data(cp, rule, {}, True)
        out["not_checked"][f"{pid}/{rule.id}"] = {
            "rule_id": rule.id,
            "protocol_id": pid,
            "kind": rule.kind,
            "title": rule.title,
        }
    for option in cp.protocol.options:
        for reg in option.regimens:
            row = option_row(cp, option, reg, {}, "", "excluded", [])
            out["option"][_key("option", row)] = row
        row = option_row(cp, option, None, {}, "", "not_applicable", [])
        out["option"][_key("option", row)] = row
    for se in cp.protocol.substances:
        out["substance"].setdefault(se.substance, substance_out(cp, se.substance))  # the first protocol's
    if cp.protocol.session is not None:
        out["checklist"][pid] = build_checklist(cp, cp.protocol.session, [])


def header(protocols: Sequence[LoadedProtocol]) -> Data:
    """The constant part of every compact line for these protocols (``kapdecide protocol-info``)."""
    templates: dict[str, Data] = {kind: {} for kind in LISTS.values()}
    refs: list[Data] = []
    care: list[str] = []
    for lp in protocols:
        cp = compile_protocol(lp)
        _templates(cp, templates)
        refs.append(lp.ref_data())
        if cp.protocol.standard_care and cp.protocol.standard_care not in care:
            care.append(cp.protocol.standard_care)
    body: Data = {
        "format": HEADER_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "kapdecide_version": __version__,
        "orders": _orders(),
        "report": {
            "schema_version": SCHEMA_VERSION,
            "kapdecide_version": __version__,
            "what_if_overrides": {},
            "disclaimer": DISCLAIMER,
            "protocols": refs,
            "standard_care": care,
            "input_source": None,
            "explanation": None,
            "what_would_change": None,
        },
        "receipt": {"protocols": refs, "kapdecide_version": __version__, "what_if_overrides": {}},
        "status_summary": dict(STATUS_SUMMARY),
        "next_steps": dict(v.NEXT_STEPS),
        "templates": templates,
    }
    return {"header_sha256": _sha256(body), **body}


def _sha256(data: Data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _diff(item: Mapping[str, Any], template: Data) -> Data:
    return {k: val for k, val in item.items() if k not in template or not (val is template[k] or val == template[k])}


def compact(report: Mapping[str, Any], head: Data) -> Data:
    """``report`` (JSON-ready data) as a compact line against ``head``."""
    templates = head["templates"]
    out: Data = {"header": head["header_sha256"][:16]}
    for k, val in _diff(report, head["report"]).items():
        if k in LISTS:
            kind = LISTS[k]
            val = [_compact_item(item, kind, templates[kind]) for item in val]
        elif k == "status_summary" and val == head["status_summary"].get(report["status"]):
            continue
        elif k == "next_steps" and all(head["next_steps"].get(s["id"]) == s["label"] for s in val):
            val = [s["id"] for s in val]
        elif k == "receipt":
            val = _diff(val, head["receipt"])
        out[k] = val
    return out


def _compact_item(item: Data, kind: str, templates: Data) -> Data:
    key = _key(kind, item)
    template = templates.get(key)
    return item if template is None else {"$t": key, **_diff(item, template)}


def expand(line: Data, head: Data) -> Data:
    """The full report a compact ``line`` stands for (the exact data ``assess --batch`` writes)."""
    if line.get("header") != head["header_sha256"][:16]:
        raise ValueError(
            f"this line was written against protocol-info header {line.get('header')}, not "
            f"{head['header_sha256'][:16]}: use the header of the same protocols and kapdecide version"
        )
    orders, templates = head["orders"], head["templates"]
    full: Data = {}
    for k in orders["report"]:
        if k in line:
            val = line[k]
        elif k == "status_summary":
            val = head["status_summary"][line["status"]]
        else:
            val = head["report"][k]
        if k in LISTS:
            kind = LISTS[k]
            val = [_expand_item(item, orders[kind], templates[kind]) for item in val]
        elif k == "next_steps":
            val = [{"id": s, "label": head["next_steps"][s]} if isinstance(s, str) else s for s in val]
        elif k == "receipt":
            val = {f: val[f] if f in val else head["receipt"][f] for f in orders["receipt"]}
        full[k] = val
    return full


def _expand_item(item: Data, order: list[str], templates: Data) -> Data:
    if "$t" not in item:
        return item
    template = templates[item["$t"]]
    return {f: item[f] if f in item else template[f] for f in order}
