"""Opt-in (``--allow-fhir-fetch``): the prefetch keys a client did not satisfy, read from its FHIR server.

Only when the request gives ``fhirServer`` and ``fhirAuthorization``; only from a server the
configuration allows (``fhir_servers``; any when empty); https unless the server is on this machine
(loopback); with the client's access token, per-request timeouts, at most ``fhir_max_pages`` pages
per search (``next`` links on the same server only), no redirects, and the request size limit on
every response. Without the flag the service makes no outbound connection at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from kapdecide.service.config import ServiceConfig
from kapdecide.service.definitions import PREFETCH, REQUIRED_KEYS
from kapdecide.service.errors import ServiceError

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def check_server(server: str, config: ServiceConfig) -> None:
    """ServiceError 400 for a FHIR server the service may not call."""
    parts = urlsplit(server)
    local = (parts.hostname or "") in _LOOPBACK
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ServiceError(400, "fhirServer must be https (http only on this machine)", code="fhir-server-refused")
    allowed = [s.rstrip("/") for s in config.fhir_servers]
    if allowed and server.rstrip("/") not in allowed:
        raise ServiceError(400, "fhirServer is not one this service is configured to call", code="fhir-server-refused")


async def fetch_missing(
    server: str, token: str, patient_id: str, keys: list[str], config: ServiceConfig
) -> tuple[dict[str, Any], list[str]]:
    """The data for ``keys`` as prefetch values, and notes on keys that could not be read.

    A required key that cannot be read is 412 (timeout: 504); another key is left out (its data
    stays unknown) with a note."""
    check_server(server, config)
    base = server.rstrip("/")
    got: dict[str, Any] = {}
    notes: list[str] = []
    timeout = httpx.Timeout(config.fhir_timeout_seconds)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    async with httpx.AsyncClient(timeout=timeout, headers=headers, follow_redirects=False) as client:
        for key in keys:
            url = f"{base}/{PREFETCH[key].replace('{{context.patientId}}', quote(patient_id, safe=''))}"
            try:
                got[key] = await _read(client, url, base, config)
            except httpx.TimeoutException:
                if key in REQUIRED_KEYS:
                    raise ServiceError(504, "the FHIR server did not answer in time", code="fhir-timeout") from None
                notes.append(f"FHIR server: {key} not read in time (that data is unknown)")
            except (httpx.HTTPError, _Unusable) as exc:
                if key in REQUIRED_KEYS:
                    raise ServiceError(
                        412,
                        f"the required {key} could not be read from the FHIR server ({exc})",
                        code="prefetch-missing",
                    ) from None
                notes.append(f"FHIR server: {key} could not be read ({exc}); that data is unknown")
    return got, notes


class _Unusable(Exception):
    """A FHIR server answer that cannot be used (status, size, not FHIR JSON)."""


async def _read(client: httpx.AsyncClient, url: str, base: str, config: ServiceConfig) -> Any:
    first = await _get_json(client, url, config)
    if first.get("resourceType") != "Bundle":
        return first
    entries = list(first.get("entry") or [])
    page, pages = first, 1
    while (nxt := _next_link(page)) is not None and pages < config.fhir_max_pages:
        if not nxt.startswith(base + "/") and not nxt.startswith(base + "?"):
            break  # never follow a link to another server
        page = await _get_json(client, nxt, config)
        entries += list(page.get("entry") or [])
        pages += 1
    return {"resourceType": "Bundle", "type": "searchset", "entry": entries}


async def _get_json(client: httpx.AsyncClient, url: str, config: ServiceConfig) -> Mapping[str, Any]:
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            raise _Unusable(f"HTTP {response.status_code}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > config.max_request_bytes:
                raise _Unusable("answer over the size limit")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _Unusable("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        raise _Unusable("not a FHIR resource")
    return data


def _next_link(bundle: Mapping[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            return str(link["url"])
    return None
