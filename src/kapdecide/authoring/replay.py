"""Replay a JSON report: re-run its assessment and confirm the result, or say what changed and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from kapdecide.assessment.assess import assess, profile_sha256
from kapdecide.assessment.report import Report, protocol_ref, validate_report
from kapdecide.authoring.diff import ProfileChange, VersionNotBumped, compare, not_bumped
from kapdecide.core.errors import InvalidInputError
from kapdecide.inputs.edits import ProfileEdit
from kapdecide.inputs.profile import Profile
from kapdecide.language.facts import FIELDS, Value
from kapdecide.protocol.loader import LoadedProtocol


class ReplayResult(BaseModel):
    """What replaying a report found: same or different, the change, and its causes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    same: bool
    causes: list[str]
    """Why the result may differ: profile, protocol or kapdecide version changes."""
    change: ProfileChange | None
    version_not_bumped: list[VersionNotBumped] = []
    """Protocols whose content differs from the report's while their version is the same."""


def read_report(data: Any, name: str) -> Report:
    """A report document as the model, or a clear invalid-input error."""
    try:
        return validate_report(data)
    except ValidationError as exc:
        raise InvalidInputError(
            f"{name} is not a kapdecide JSON report of this version ({exc.error_count()} schema errors)",
            hint="replay needs the JSON report (assess --format json) written by the same schema version",
        ) from None


def receipt_edits(old: Report) -> list[ProfileEdit]:
    """The what-if edits of the profile a report's receipt records (its names that are not fact
    fields), to apply to the profile again before replaying."""
    return [
        ProfileEdit(k, tuple(k.split(".")), v)
        for k, v in old["receipt"]["what_if_overrides"].items()
        if k not in FIELDS
    ]


def receipt_as_of(old: Report) -> dt.date:
    """The date the report was made for, from its receipt."""
    try:
        return dt.date.fromisoformat(old["receipt"]["as_of"])
    except ValueError:
        raise InvalidInputError(
            f"the report's receipt has an invalid as_of date {old['receipt']['as_of']!r:.40}: "
            "it is not a report kapdecide wrote"
        ) from None


def replay(old: Report, profile: Profile, protocols: Sequence[LoadedProtocol], version: str) -> ReplayResult:
    """Re-run ``old``'s assessment on ``profile`` with its date and overrides, and compare."""
    r = old["receipt"]
    causes: list[str] = []
    if profile_sha256(profile) != r["profile_sha256"]:
        causes.append("the profile is not the one the report was made from (its canonical sha256 differs)")
    before = {p["id"]: p for p in r["protocols"]}
    after = {ref["id"]: ref for ref in (protocol_ref(lp) for lp in protocols)}
    unbumped = {v.id: v for v in not_bumped(r["protocols"], list(after.values()))}
    for pid in sorted(set(before) | set(after)):
        sha = (
            f"(sha256 {before[pid]['sha256'][:12]}… → {after[pid]['sha256'][:12]}…)"
            if pid in before and pid in after
            else ""
        )
        if pid not in after:
            causes.append(f"protocol {pid} {before[pid]['version']} is no longer loaded")
        elif pid not in before:
            causes.append(f"protocol {pid} {after[pid]['version']} was not used by the report")
        elif pid in unbumped:
            causes.append(f"{unbumped[pid].message} {sha}")
        elif before[pid]["sha256"] != after[pid]["sha256"]:
            causes.append(f"protocol {pid} changed: {before[pid]['version']} → {after[pid]['version']} {sha}")
    if r["kapdecide_version"] != version:
        causes.append(f"kapdecide version changed: {r['kapdecide_version']} → {version}")
    # names that are not fact fields are what-if edits of the profile, already applied to it (receipt_edits)
    overrides: dict[str, Value | None] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in r["what_if_overrides"].items() if k in FIELDS
    }
    edits = {k: v for k, v in r["what_if_overrides"].items() if k not in FIELDS}
    new = assess(profile, protocols, receipt_as_of(old), overrides, edits=edits)
    change = compare(old, new, "profile")
    return ReplayResult(same=change is None, causes=causes, change=change, version_not_bumped=list(unbumped.values()))
