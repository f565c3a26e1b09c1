"""A CDS Hooks request body, checked against the specification before anything is assessed.

Every problem is collected (not only the first) and the request is refused with 400 and the list;
a request that names another hook than the service's, lacks ``hookInstance`` or ``context.patientId``,
or gives ``fhirAuthorization`` without ``fhirServer`` never reaches the pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kapdecide.core.errors import Problem
from kapdecide.service.definitions import Service
from kapdecide.service.errors import ServiceError, located

_MAX_ID = 256


@dataclass(frozen=True)
class HookRequest:
    """The parts of a valid request the service uses."""

    hook: str
    hook_instance: str
    patient_id: str
    prefetch: Mapping[str, Any]
    """As sent: a key absent was not satisfied; a key with ``null`` has no data."""
    draft_orders: list[dict[str, Any]] = field(default_factory=list)
    """The resources of ``context.draftOrders`` (order hooks only)."""
    selections: list[str] = field(default_factory=list)
    fhir_server: str | None = None
    access_token: str | None = None


def parse_hook_request(data: Any, service: Service) -> HookRequest:
    """The request, or ServiceError 400 listing every problem found."""
    problems: list[Problem] = []
    if not isinstance(data, dict):
        raise ServiceError(
            400, "the request body must be a JSON object (a CDS Hooks request)", code="hook-request-invalid"
        )
    hook = _string(data, "hook", "hook", problems)
    if hook is not None and hook != service.hook:
        problems.append(located("hook", f"this service answers {service.hook!r}, not {hook!r}", code="hook-mismatch"))
    instance = _string(data, "hookInstance", "hookInstance", problems)
    context = data.get("context")
    patient_id = None
    drafts: list[dict[str, Any]] = []
    selections: list[str] = []
    if not isinstance(context, dict):
        problems.append(located("context", "context is required and must be an object", code="hook-request-invalid"))
    else:
        patient_id = _string(context, "patientId", "context.patientId", problems)
        if service.orders:
            drafts = _draft_orders(context.get("draftOrders"), problems)
        if service.hook == "order-select":
            selections = _selections(context.get("selections"), problems)
    prefetch = data.get("prefetch", {})
    if not isinstance(prefetch, dict):
        problems.append(located("prefetch", "prefetch must be an object", code="hook-request-invalid"))
        prefetch = {}
    server, token = _fhir_access(data, problems)
    if problems:
        raise ServiceError(400, "the CDS Hooks request is not valid", code="hook-request-invalid", problems=problems)
    assert hook is not None and instance is not None and patient_id is not None
    return HookRequest(hook, instance, patient_id, prefetch, drafts, selections, server, token)


def _string(obj: Mapping[str, Any], key: str, path: str, problems: list[Problem]) -> str | None:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_ID:
        problems.append(
            located(
                path,
                f"{path} is required: a non-empty string of at most {_MAX_ID} characters",
                code="hook-request-invalid",
            )
        )
        return None
    return value


def _draft_orders(bundle: Any, problems: list[Problem]) -> list[dict[str, Any]]:
    """The resources of ``context.draftOrders``, a FHIR Bundle (required by order-select and order-sign)."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        problems.append(
            located("context.draftOrders", "draftOrders is required: a FHIR Bundle", code="hook-request-invalid")
        )
        return []
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        problems.append(located("context.draftOrders.entry", "entry must be an array", code="hook-request-invalid"))
        return []
    out = []
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            problems.append(
                located(
                    f"context.draftOrders.entry[{i}]", "each entry needs a FHIR resource", code="hook-request-invalid"
                )
            )
            continue
        out.append(resource)
    return out


def _selections(value: Any, problems: list[Problem]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        problems.append(
            located("context.selections", "selections is required: an array of references", code="hook-request-invalid")
        )
        return []
    return list(value)


def _fhir_access(data: Mapping[str, Any], problems: list[Problem]) -> tuple[str | None, str | None]:
    server = data.get("fhirServer")
    auth = data.get("fhirAuthorization")
    if server is not None and (not isinstance(server, str) or not server.startswith(("https://", "http://"))):
        problems.append(located("fhirServer", "fhirServer must be an http(s) URL", code="hook-request-invalid"))
        server = None
    if auth is None:
        return server, None
    token = auth.get("access_token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token or not isinstance(auth, dict) or auth.get("token_type") != "Bearer":
        problems.append(
            located(
                "fhirAuthorization",
                "fhirAuthorization needs access_token and token_type Bearer",
                code="hook-request-invalid",
            )
        )
        return server, None
    if server is None:
        problems.append(
            located("fhirServer", "fhirServer is required with fhirAuthorization", code="hook-request-invalid")
        )
    return server, token
