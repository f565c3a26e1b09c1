"""One error hierarchy for kapdecide, and the one place exit codes are defined."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Exit codes, the same for every command (documented in the README)."""

    OK = 0
    FINDINGS = 1
    INVALID_INPUT = 2
    PROTOCOLS_UNLOADABLE = 3
    INTERNAL = 4
    #: ``assess --fail-on LEVEL``: the status reached LEVEL (the report is written either way).
    CONTRAINDICATED = 20
    DEFERRED = 21
    INCOMPLETE = 22
    PRECAUTIONS = 23
    INTERRUPTED = 130


#: The exit code ``--fail-on`` gives each status it covers.
STATUS_EXIT: dict[str, ExitCode] = {
    "contraindicated": ExitCode.CONTRAINDICATED,
    "deferred": ExitCode.DEFERRED,
    "incomplete": ExitCode.INCOMPLETE,
    "eligible_with_precautions": ExitCode.PRECAUTIONS,
}


EXIT_MEANING: dict[int, str] = {
    ExitCode.OK: "success",
    ExitCode.FINDINGS: "findings (validate found problems)",
    ExitCode.INVALID_INPUT: "bad usage or invalid profile",
    ExitCode.PROTOCOLS_UNLOADABLE: "protocols could not be loaded",
    ExitCode.INTERNAL: "internal error",
    ExitCode.CONTRAINDICATED: "--fail-on: contraindicated",
    ExitCode.DEFERRED: "--fail-on: deferred or worse",
    ExitCode.INCOMPLETE: "--fail-on: incomplete or worse",
    ExitCode.PRECAUTIONS: "--fail-on: eligible with precautions or worse",
    ExitCode.INTERRUPTED: "interrupted",
}


@dataclass(frozen=True, order=True)
class Problem:
    """A located problem in an input file: file:line:col, a stable code, the field path."""

    file: str
    line: int | None
    col: int | None
    code: str
    message: str
    path: str = ""
    severity: str = "error"

    def location(self) -> str:
        """``file:line:col`` (line and column only where they are known)."""
        parts = [self.file or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def format(self) -> str:
        """One line: ``file:line:col: severity [code] path: message``."""
        where = f"{self.path}: " if self.path else ""
        return f"{self.location()}: {self.severity} [{self.code}] {where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-ready data (stable field names)."""
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "code": self.code,
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
        }


@dataclass
class KapdecideError(Exception):
    """Base of every error kapdecide reports to a user; carries its exit code."""

    message: str
    problems: list[Problem] = field(default_factory=list)
    hint: str | None = None
    exit_code: int = ExitCode.INTERNAL
    code: str = "error"

    def __str__(self) -> str:
        return self.message


@dataclass
class InvalidInputError(KapdecideError):
    """The profile (or a command-line argument) is invalid: exit 2."""

    exit_code: int = ExitCode.INVALID_INPUT
    code: str = "invalid-input"


@dataclass
class ProtocolLoadError(KapdecideError):
    """The protocols could not be loaded for an assessment: exit 3."""

    exit_code: int = ExitCode.PROTOCOLS_UNLOADABLE
    code: str = "protocols-unloadable"


@dataclass
class EngineDisagreementError(KapdecideError):
    """The rules engine and the independent evaluator disagree: no assessment, exit 4."""

    exit_code: int = ExitCode.INTERNAL
    code: str = "engine-disagreement"


@dataclass
class EngineError(KapdecideError):
    """The rules engine failed or returned a truncated result: exit 4."""

    exit_code: int = ExitCode.INTERNAL
    code: str = "engine-error"
