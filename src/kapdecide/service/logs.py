"""The audit log (one JSON line per request) and the feedback log (one JSON line per feedback item).

The audit line names what an auditor needs to find a call again and nothing about the patient:
time, method, path, service id, hook, hookInstance, HTTP status, error code, the report's status and
receipt hash (``Receipt.sha256()``: replayable with the same input), the number of cards, the
duration, and the JWT's issuer and jti. Never a patient id, name, resource, prefetch key value or
problem message (those can quote patient data). Lines are written whole under a lock.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
from typing import IO, Any

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
    """Appends JSON lines to standard error (``-``) or a file, each line whole."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        if target != "-":
            self._file = open(target, "a", encoding="utf-8")  # kept open for the server's life

    def write(self, record: dict[str, Any]) -> None:
        """One line, flushed."""
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"
        stream = self._file or sys.stderr
        with self._lock:
            stream.write(line)
            stream.flush()

    def close(self) -> None:
        """Close the file (standard error is left open)."""
        if self._file is not None:
            self._file.close()
            self._file = None


class AuditLog(JsonLines):
    """The audit log: only the fields in AUDIT_FIELDS are ever written."""

    def record(self, **fields: Any) -> None:
        """One request's line; unknown fields are a programming error."""
        extra = set(fields) - set(AUDIT_FIELDS)
        assert not extra, extra
        self.write({"time": utc_now(), "event": "request", **{k: v for k, v in fields.items() if v is not None}})
