"""``kapdecide serve``: a CDS Hooks 2.0 service, so an EHR can call kapdecide where clinicians work.

An ASGI application (Starlette, served by uvicorn), installed with the ``service`` extra. Modules:
``definitions`` (the services and discovery), ``config`` (the configuration file), ``auth`` (the
CDS Hooks JWT), ``request`` (the hook request), ``prefetch`` (prefetch and draft orders into one
Bundle), ``fetch`` (opt-in reads from the client's FHIR server), ``assessor`` (the protocols and
kapdecide's one pipeline), ``cards`` (the report as a CDS Hooks response), ``feedback``, ``logs``
(audit and feedback logs), ``errors`` (every refusal as a JSON error) and ``app`` (the routes).
Nothing here is imported unless ``kapdecide serve`` runs.
"""

from __future__ import annotations

from kapdecide.service.app import create_app
from kapdecide.service.config import ServiceConfig, load_config

__all__ = ["ServiceConfig", "create_app", "load_config"]
