"""The ASGI application: discovery, the three CDS Services, feedback; every answer JSON.

Each handler runs inside one guard that turns a ``ServiceError`` into its status and JSON body and
anything unexpected into a 500 with a fixed message (the exception's type goes to the audit log,
never its text or a traceback: either could quote patient data), and writes the request's one audit
line. Requests are authenticated (``auth.py``) before their body is read, limited in size (413) and
time (503, or 504 for a FHIR server that did not answer), and assessed in a worker thread with at
most ``max_concurrent`` requests admitted at once.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kapdecide.assessment.report import receipt_sha256
from kapdecide.core.errors import KapdecideError
from kapdecide.service.assessor import Assessed, Assessor
from kapdecide.service.auth import Verifier
from kapdecide.service.cards import card_config, cds_cards
from kapdecide.service.config import ServiceConfig
from kapdecide.service.definitions import SERVICES, Service, discovery_document
from kapdecide.service.errors import ServiceError, error_body, from_kapdecide
from kapdecide.service.feedback import feedback_records
from kapdecide.service.logs import AuditLog, JsonLines, utc_now
from kapdecide.service.prefetch import assemble, missing_required, unsatisfied
from kapdecide.service.request import HookRequest, parse_hook_request

if TYPE_CHECKING:
    from kapdecide.protocol.loader import LoadedProtocol

_NO_STORE = {"Cache-Control": "no-store"}
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
"""A FHIR id: a draft order with another id is assessed but gets no delete suggestion (it cannot be named)."""
_T = TypeVar("_T")
_Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


class Endpoints:
    """The application's state: configuration, protocols, verifier, logs and admission slots."""

    def __init__(
        self, config: ServiceConfig, assessor: Assessor, *, allow_fhir_fetch: bool, insecure_dev: bool
    ) -> None:
        self.config = config
        self.assessor = assessor
        self.allow_fhir_fetch = allow_fhir_fetch
        self.verifier = None if insecure_dev else Verifier(config)
        self.audit = AuditLog(config.audit_log)
        self.feedback_log = JsonLines(config.feedback_log) if config.feedback_log else None
        self.slots = asyncio.Semaphore(config.max_concurrent)
        self.cards = card_config(config)

    # -- the guard around every handler

    def guarded(self, handler: _Handler, route: str) -> Callable[[Request], Awaitable[Response]]:
        """``handler`` as an endpoint: errors as JSON, one audit line per request (the route's
        template as its path: a path the client made up is never logged)."""

        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            audit: dict[str, Any] = {"method": request.method, "path": route}
            try:
                response = await handler(request, audit)
            except ServiceError as err:
                audit["error_code"] = err.code
                response = Response(error_body(err), err.status, {**err.headers, **_NO_STORE}, "application/json")
            except Exception as exc:  # never a traceback: a fixed message, the type in the audit log only
                audit["error_code"] = f"internal-error:{type(exc).__name__}"
                internal = ServiceError(500, "internal error: no assessment was made", code="internal-error")
                response = Response(error_body(internal), 500, _NO_STORE, "application/json")
            audit["http_status"] = response.status_code
            audit["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            self.audit.record(**audit)
            return response

        return endpoint

    async def authorize(self, request: Request, paths: Sequence[str], audit: dict[str, Any]) -> None:
        """Verify the request's JWT for one of ``paths`` (its ``aud``); 401 otherwise."""
        if self.verifier is None:  # --insecure-dev
            return
        header = request.headers.get("authorization")
        claims = await run_in_threadpool(self.verifier.verify, header, [self.config.audience(p) for p in paths])
        audit["iss"], audit["jti"] = claims.get("iss"), claims.get("jti")

    async def not_found(self, request: Request, exc: Exception) -> Response:
        """404 and 405 from the router, as JSON errors with an audit line."""
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        if status == 405:
            err = ServiceError(405, "method not allowed here", code="method-not-allowed")
        else:
            err = ServiceError(404, "no such endpoint (see GET /cds-services)", code="unknown-service")
        self.audit.record(method=request.method, path="(other)", http_status=err.status, error_code=err.code)
        return Response(error_body(err), err.status, media_type="application/json")

    # -- endpoints

    async def discovery(self, request: Request, audit: dict[str, Any]) -> Response:
        """``GET /cds-services``."""
        if self.config.discovery_requires_jwt:
            await self.authorize(request, ["/cds-services"], audit)
        return JSONResponse(discovery_document())

    async def call(self, request: Request, audit: dict[str, Any]) -> Response:
        """``POST /cds-services/{id}``: a hook request in, the cards out."""
        service = self.service_of(request, audit)
        await self.authorize(request, [f"/cds-services/{service.id}"], audit)
        req = parse_hook_request(await self.json_body(request), service)
        audit["hook"], audit["hookInstance"] = req.hook, req.hook_instance
        prefetch, notes = await self.prefetch(req)
        assembled = assemble(prefetch, req.patient_id, req.draft_orders)
        assembled.notes += notes
        drafts = _draft_refs(req.draft_orders)

        def job() -> tuple[Assessed, bytes, int]:  # in the worker thread: assessment, cards, JSON
            assessed = self.assessor.assess(assembled.bundle, assembled.notes, drafts)
            doc = cds_cards(assessed.report, hook_instance=req.hook_instance, drafts=assessed.drafts, config=self.cards)
            return assessed, json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8"), len(doc["cards"])

        assessed, body, cards = await self.in_worker(job)
        audit["report_status"] = assessed.report["status"]
        audit["receipt_sha256"] = receipt_sha256(assessed.report["receipt"])
        audit["cards"] = cards
        return Response(body, 200, _NO_STORE, "application/json")

    async def feedback(self, request: Request, audit: dict[str, Any]) -> Response:
        """``POST /cds-services/{id}/feedback``: checked, then appended to the feedback log."""
        service = self.service_of(request, audit)
        path = f"/cds-services/{service.id}"
        await self.authorize(request, [path, f"{path}/feedback"], audit)
        records = feedback_records(await self.json_body(request), service.id, self.config.feedback_store_comments)
        audit["event"] = "feedback"
        if self.feedback_log is not None:
            received = utc_now()
            written = [self.feedback_log.write({"time": received, **record}) for record in records]
            if not all(written):
                raise ServiceError(503, "the feedback could not be stored; retry", code="feedback-not-stored")
        return JSONResponse({"accepted": len(records)}, headers=_NO_STORE)

    # -- the steps

    def service_of(self, request: Request, audit: dict[str, Any]) -> Service:
        """The service the path names; 404 for an unknown id."""
        service = SERVICES.get(request.path_params["service_id"])
        if service is None:
            raise ServiceError(404, "no CDS Service with this id (see GET /cds-services)", code="unknown-service")
        audit["service"] = service.id
        return service

    async def json_body(self, request: Request) -> Any:
        """The JSON body: 415 when not JSON, 413 over the size limit, 400 when it does not parse."""
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json" and not kind.endswith("+json"):
            raise ServiceError(415, "the body must be JSON (Content-Type: application/json)", code="not-json")
        limit = self.config.max_request_bytes
        declared = request.headers.get("content-length", "")
        too_large = ServiceError(413, f"the request is larger than {limit} bytes", code="request-too-large")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large
        from kapdecide.inputs.yaml_source import SourceError, decode, load_json

        try:  # in a worker thread: parsing a large prefetch takes milliseconds the event loop needs
            return await run_in_threadpool(lambda: load_json(decode(bytes(body), "<request>", limit), "<request>"))
        except SourceError as exc:
            raise ServiceError(400, "the body is not valid JSON", code="not-json", problems=exc.problems) from None

    async def prefetch(self, req: HookRequest) -> tuple[dict[str, Any], list[str]]:
        """The prefetch, completed from the FHIR server when allowed, with notes on what could not be
        read; 412 when the Patient is still missing."""
        prefetch = dict(req.prefetch)
        notes: list[str] = []
        keys = unsatisfied(prefetch)
        if keys and self.allow_fhir_fetch and req.fhir_server and req.access_token:
            from kapdecide.service.fetch import fetch_missing

            got, notes = await fetch_missing(req.fhir_server, req.access_token, req.patient_id, keys, self.config)
            prefetch.update(got)
        missing = missing_required(prefetch)
        if missing:
            how = "" if self.allow_fhir_fetch else " (this service does not fetch from fhirServer)"
            raise ServiceError(
                412,
                f"required prefetch missing: {', '.join(missing)}{how}; no assessment was made",
                code="prefetch-missing",
            )
        return prefetch, notes

    async def in_worker(self, job: Callable[[], _T]) -> _T:
        """``job`` (the assessment) in a worker thread: admitted within ``queue_seconds`` (else 503),
        answered within ``request_timeout_seconds`` (else 503; the slot is freed when the thread ends)."""
        try:
            await asyncio.wait_for(self.slots.acquire(), self.config.queue_seconds)
        except TimeoutError:
            raise ServiceError(503, "the service is busy; retry", code="busy", headers={"Retry-After": "1"}) from None
        task = asyncio.ensure_future(run_in_threadpool(job))
        task.add_done_callback(_release(self.slots))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.config.request_timeout_seconds)
        except TimeoutError:
            raise ServiceError(
                503, "the assessment did not finish in time; retry", code="timeout", headers={"Retry-After": "2"}
            ) from None
        except KapdecideError as exc:
            raise from_kapdecide(exc) from None


def _draft_refs(orders: list[dict[str, Any]]) -> dict[str, str | None]:
    """The client's draft MedicationRequests (``MedicationRequest/<id>`` -> the drug in words, if given)."""
    out: dict[str, str | None] = {}
    for r in orders:
        rid = r.get("id")
        if r.get("resourceType") == "MedicationRequest" and isinstance(rid, str) and _FHIR_ID.fullmatch(rid):
            concept = r.get("medicationCodeableConcept")
            text = concept.get("text") if isinstance(concept, dict) else None
            out[f"MedicationRequest/{r['id']}"] = text if isinstance(text, str) and text.strip() else None
    return out


def _release(slots: asyncio.Semaphore) -> Callable[[asyncio.Future[Any]], None]:
    def done(task: asyncio.Future[Any]) -> None:
        slots.release()
        if not task.cancelled():
            task.exception()  # retrieved (a timed-out request's error is not reported twice)

    return done


def create_app(
    config: ServiceConfig,
    protocols: Sequence[LoadedProtocol],
    *,
    allow_fhir_fetch: bool = False,
    insecure_dev: bool = False,
) -> Starlette:
    """The CDS Hooks application for ``protocols`` (compiled once, here)."""
    state = Endpoints(config, Assessor(protocols), allow_fhir_fetch=allow_fhir_fetch, insecure_dev=insecure_dev)
    state.assessor.warm_up()
    routes = [
        Route("/cds-services", state.guarded(state.discovery, "/cds-services"), methods=["GET"]),
        Route("/cds-services/{service_id}", state.guarded(state.call, "/cds-services/{id}"), methods=["POST"]),
        Route(
            "/cds-services/{service_id}/feedback",
            state.guarded(state.feedback, "/cds-services/{id}/feedback"),
            methods=["POST"],
        ),
    ]
    origins = list(config.cors_origins) or (["*"] if insecure_dev else [])
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    ]
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={404: state.not_found, 405: state.not_found}
    )
    app.state.service = state
    return app
