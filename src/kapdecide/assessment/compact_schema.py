"""The models behind the published schemas of the compact batch line and its header
(``kapdecide schema compact-line``, ``kapdecide schema protocol-info``); ``compact`` builds both as data."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from kapdecide.core.contract import Status


class CompactItem(BaseModel):
    """A report list item: ``$t`` names its template in the header and only the fields that differ
    from it are present; an item without ``$t`` is carried whole (it has no template)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    template: str | None = Field(default=None, alias="$t")
    """The template key: ``protocol/rule`` for findings and not_checked, ``protocol/option/indication``
    (``-`` when not applicable) for options, the substance, or the protocol for checklists."""


class CompactLine(BaseModel):
    """One ``assess --batch --line compact`` line: the patient-specific parts of a report.

    Every top-level field of the full report that is not here takes the header's value
    (``report``, ``status_summary`` by status, next-step labels by id); ``expand`` rebuilds the
    full report exactly."""

    model_config = ConfigDict(extra="allow")

    header: str = Field(pattern=r"^[0-9a-f]{16}$")
    """The first 16 hex digits of the header's ``header_sha256`` (``kapdecide protocol-info --format json``)."""
    status: Status
    input_line: int
    findings: list[CompactItem] = []
    not_checked: list[CompactItem] = []
    options: list[CompactItem] = []
    substances: list[CompactItem] = []
    session_checklists: list[CompactItem] = []
    next_steps: list[str | dict[str, str]] = []
    """Next-step ids (labels in the header); a step whose label is not the header's is written whole."""
    receipt: dict[str, Any]
    """The receipt's fields that differ from the header's ``receipt`` (profile_sha256, as_of, ...)."""


class ProtocolInfo(BaseModel):
    """The header of compact lines: what every report for these protocols shares."""

    model_config = ConfigDict(extra="forbid")

    header_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """sha256 of the rest of the header as sorted, compact JSON; a compact line names its first 16 digits."""
    format: Literal["kapdecide-compact-header"]
    schema_version: str
    kapdecide_version: str
    orders: dict[str, list[str]]
    """The field order of each object kind (report, finding, not_checked, option, substance, checklist, receipt)."""
    report: dict[str, Any]
    """Top-level report fields every report for these protocols shares."""
    receipt: dict[str, Any]
    status_summary: dict[Status, str]
    next_steps: dict[str, str]
    templates: dict[str, dict[str, dict[str, Any]]]
    """By kind, then key: the object as the protocol alone builds it."""
