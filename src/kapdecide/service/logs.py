"""The audit log (one JSON line per request) and the feedback log (one JSON line per feedback item).

The audit line names what an auditor needs to find a call again and nothing about the patient:
time, method, path, service id, hook, hookInstance, HTTP status, error code, the report's status and
receipt hash (``report.receipt_sha256()``: replayable with the same input), the number of cards, the
duration, and the JWT's issuer and jti. Never a patient id, name, resource, prefetch key value or
problem message (those can quote patient data). Lines are written whole under a lock.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import Any

from kapdecide.core.errors import InvalidInputError

AUDIT_FIELDS = (
    "time",
    "event",
    "method",
    "path",
    "service",
    "hook",
    "hookInstance",
    "http_status",
    "error_code",
    "report_status",
    "receipt_sha256",
    "cards",
    "duration_ms",
    "iss",
    "jti",
)


def utc_now() -> str:
    """The time as RFC 3339 UTC with milliseconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLines:
    """Appends JSON lines to standard error (``-``) or a file, each line whole. The file is opened
    for each line (a rotated log is followed, and no handle is held); it is checked at start."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        if target != "-":
            try:  # fail at start, not at the first request, when the file cannot be written
                with open(target, "a", encoding="utf-8"):
                    pass
            except OSError as exc:
                raise InvalidInputError(f"cannot write the log {target}: {exc.strerror or exc}") from None

    def write(self, record: dict[str, Any]) -> bool:
        """One line, flushed; False (and a note on standard error) when it could not be written."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
        with self._lock:
            try:
                if self.target == "-":
                    sys.stderr.write(line)
                    sys.stderr.flush()
                else:
                    with open(self.target, "a", encoding="utf-8") as fh:
                        fh.write(line)
            except OSError as exc:
                sys.stderr.write(f"kapdecide serve: cannot write the log {self.target}: {exc.strerror or exc}\n")
                return False
        return True


class AuditLog(JsonLines):
    """The audit log: only the fields in AUDIT_FIELDS are ever written."""

    def record(self, **fields: Any) -> None:
        """One request's line; unknown fields are a programming error."""
        extra = set(fields) - set(AUDIT_FIELDS)
        assert not extra, extra
        self.write({"time": utc_now(), "event": "request", **{k: v for k, v in fields.items() if v is not None}})
