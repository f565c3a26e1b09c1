"""What the service answers when it cannot give cards: an HTTP status and one JSON error document.

Every refusal is a ``ServiceError`` raised where the problem is found and turned into a response in
one place (``app.py``), so no request ever ends in a traceback or an HTML error page. The body names
a stable ``code`` (catalogued in ``core/codes.py``), says what was wrong and, for an input the
pipeline refused, lists its located problems. It never repeats the patient data of the request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kapdecide.core.contract import DISCLAIMER
from kapdecide.core.errors import KapdecideError, Problem


@dataclass
class ServiceError(Exception):
    """A request the service refuses: ``status`` is the HTTP status, ``code`` the stable error code."""

    status: int
    message: str
    code: str
    problems: list[Problem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def from_kapdecide(exc: KapdecideError) -> ServiceError:
    """A pipeline refusal (invalid input: 400) or failure (protocols, engine: 500), with its problems."""
    status = 400 if exc.exit_code == 2 else 500
    return ServiceError(status, exc.message, code=exc.code, problems=list(exc.problems))


def error_body(err: ServiceError) -> bytes:
    """The JSON document of an error response."""
    doc: dict[str, Any] = {
        "status": "error",
        "error": {
            "http_status": err.status,
            "code": err.code,
            "message": err.message,
            "problems": [p.to_dict() for p in err.problems],
        },
        "disclaimer": DISCLAIMER,
    }
    return json.dumps(doc, ensure_ascii=False, allow_nan=False).encode("utf-8")


def located(path: str, message: str, *, code: str) -> Problem:
    """A problem in a request body, located by its JSON path (requests have no line numbers kept)."""
    return Problem("<request>", None, None, code, message, path)
