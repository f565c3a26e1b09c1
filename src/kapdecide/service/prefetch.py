"""Prefetch (and draft orders) into the one FHIR Bundle the importer reads.

A prefetch value is a single resource, a ``searchset`` Bundle, ``null`` (the client has no data
for the key) or an OperationOutcome (the client could not get the data). Absent keys were not
satisfied. Resources are collected into one ``collection`` Bundle, deduplicated by
``resourceType/id`` (the first wins, so a draft order wins over the same request in prefetch), in
a fixed order: the Patient, the draft orders, then the prefetch keys in the discovery order.

Draft orders are put in the Bundle so that the importer's own rule reads them (``status`` draft, or
intent ``proposal``: ``proposed_medications``). An order in ``context.draftOrders`` is unsigned by
definition: a MedicationRequest there whose status is missing, active, on-hold or unknown (a
re-signed order) is read as a draft (DESIGN CHOICE: its drug is checked as proposed rather than
missed); cancelled, stopped, completed and entered-in-error orders are left as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kapdecide.core.errors import Problem
from kapdecide.service.definitions import PATIENT_KEY, PREFETCH, REQUIRED_KEYS
from kapdecide.service.errors import ServiceError, located

_READ_AS_DRAFT = frozenset({None, "active", "on-hold", "unknown"})
_Entry = tuple[str | None, dict[str, Any]]


@dataclass
class Assembled:
    """The Bundle for the pipeline, and what the prefetch did not give."""

    bundle: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    """Prefetch keys not sent, or answered with an OperationOutcome."""
    notes: list[str] = field(default_factory=list)
    """Caveats for the clinician (reported with the importer's warnings; no patient data)."""


def unsatisfied(prefetch: Mapping[str, Any]) -> list[str]:
    """The keys the service asked for that the client did not satisfy (absent, or an OperationOutcome)."""
    return [k for k in PREFETCH if k not in prefetch or _is_outcome(prefetch[k])]


def missing_required(prefetch: Mapping[str, Any]) -> list[str]:
    """Required keys with no usable data: absent, null or an OperationOutcome (412 unless fetched)."""
    return [k for k in PREFETCH if k in REQUIRED_KEYS and (prefetch.get(k) is None or _is_outcome(prefetch[k]))]


def assemble(prefetch: Mapping[str, Any], patient_id: str, drafts: Iterable[dict[str, Any]] = ()) -> Assembled:
    """One ``collection`` Bundle of the prefetch and draft orders; ServiceError 400 for a value that
    is not FHIR, or a Patient that is not the context patient."""
    problems: list[Problem] = []
    out = Assembled({"resourceType": "Bundle", "type": "collection", "entry": []})
    seen: set[tuple[str, str]] = set()
    ordered = [PATIENT_KEY] + [k for k in PREFETCH if k != PATIENT_KEY]
    groups: list[tuple[str, list[_Entry]]] = [(PATIENT_KEY, _resources(prefetch, PATIENT_KEY, out, problems))]
    groups.append(("context.draftOrders", [(None, _as_draft(r)) for r in drafts]))
    groups += [(k, _resources(prefetch, k, out, problems)) for k in ordered[1:]]
    for where, entries in groups:
        for url, r in entries:
            rid = r.get("id")
            if r["resourceType"] == "Patient" and rid is not None and rid != patient_id:
                problems.append(
                    located(where, "holds a Patient that is not context.patientId", code="prefetch-wrong-patient")
                )
                continue
            if isinstance(rid, str):
                key = (r["resourceType"], rid)
                if key in seen:
                    continue
                seen.add(key)
            out.bundle["entry"].append({"fullUrl": url, "resource": r} if url else {"resource": r})
    if problems:
        raise ServiceError(400, "the prefetch is not usable", code="prefetch-invalid", problems=problems)
    out.missing = unsatisfied(prefetch)
    if out.missing:
        out.notes.append(
            "prefetch not provided for " + ", ".join(out.missing) + ": that data is unknown (not checked, never absent)"
        )
    return out


def _resources(prefetch: Mapping[str, Any], key: str, out: Assembled, problems: list[Problem]) -> list[_Entry]:
    """The resources of one prefetch value, each with its ``fullUrl`` (references may use it)."""
    value = prefetch.get(key)
    if value is None or _is_outcome(value):
        return []
    if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
        problems.append(
            located(f"prefetch.{key}", "must be a FHIR resource, a Bundle or null", code="prefetch-invalid")
        )
        return []
    if value["resourceType"] != "Bundle":
        return [(None, value)]
    found: list[_Entry] = []
    entries = value.get("entry", [])
    for i, entry in enumerate(entries if isinstance(entries, list) else [None]):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            problems.append(
                located(f"prefetch.{key}.entry[{i}]", "each entry needs a FHIR resource", code="prefetch-invalid")
            )
        elif _is_outcome(resource):
            out.notes.append(
                f"prefetch {key}: the client reported a problem (OperationOutcome); its data may be partial"
            )
        else:
            url = entry.get("fullUrl") if isinstance(entry, dict) else None
            found.append((url if isinstance(url, str) else None, resource))
    if any(isinstance(link, dict) and link.get("relation") == "next" for link in value.get("link") or []):
        out.notes.append(f"prefetch {key} is paginated: only the pages sent were read (the rest is unknown)")
    return found


def _as_draft(resource: dict[str, Any]) -> dict[str, Any]:
    if resource.get("resourceType") == "MedicationRequest" and resource.get("status") in _READ_AS_DRAFT:
        return {**resource, "status": "draft"}
    return resource


def _is_outcome(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"
