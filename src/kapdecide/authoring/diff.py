"""The clinical impact of a protocol change: profiles whose status, findings or options differ."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path as FsPath

from pydantic import BaseModel, ConfigDict

from kapdecide import pipeline
from kapdecide.assessment.assess import assess
from kapdecide.assessment.report import ProtocolRef, Report, protocol_ref
from kapdecide.core.errors import InvalidInputError
from kapdecide.protocol.loader import LoadedProtocol


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionChange(_Out):
    """One option whose state for a profile changes between two protocol versions."""

    option_id: str
    indication: str | None
    old: str | None
    new: str | None


class ProfileChange(_Out):
    """One profile whose status, findings or options change."""

    profile: str
    old_status: str | None
    new_status: str | None
    findings_added: list[str]
    findings_removed: list[str]
    not_checked_added: list[str]
    not_checked_removed: list[str]
    options: list[OptionChange]
    error: str | None = None


class VersionNotBumped(_Out):
    """A protocol whose file changed while its id and version stayed the same."""

    id: str
    version: str
    old_sha256: str
    new_sha256: str

    @property
    def message(self) -> str:
        """What the author should do, in one line."""
        return f"protocol {self.id} {self.version}: content changed but version did not: bump the version"


class Impact(_Out):
    """A protocol change's clinical impact on a set of profiles."""

    old: list[ProtocolRef]
    new: list[ProtocolRef]
    profiles: int
    changed: list[ProfileChange]
    version_not_bumped: list[VersionNotBumped] = []


def not_bumped(old: Sequence[ProtocolRef], new: Sequence[ProtocolRef]) -> list[VersionNotBumped]:
    """Protocols (by id) whose file's sha256 differs while the version is the same: a report's
    receipt names a protocol by id and version, so two different contents must not share them."""
    before = {r["id"]: r for r in old}
    return [
        VersionNotBumped(id=r["id"], version=r["version"], old_sha256=before[r["id"]]["sha256"], new_sha256=r["sha256"])
        for r in sorted(new, key=lambda r: r["id"])
        if r["id"] in before and before[r["id"]]["version"] == r["version"] and before[r["id"]]["sha256"] != r["sha256"]
    ]


def profile_files(folder: FsPath) -> list[FsPath]:
    """Profiles (*.yaml, *.yml, *.json) in a folder and its subfolders, in a stable order."""
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


def compare(old: Report, new: Report, name: str) -> ProfileChange | None:
    """What differs between two reports on the same profile, or None."""
    f_old, f_new = {f["rule_id"] for f in old["findings"]}, {f["rule_id"] for f in new["findings"]}
    n_old, n_new = {n["rule_id"] for n in old["not_checked"]}, {n["rule_id"] for n in new["not_checked"]}
    o_old = {(o["option_id"], o["indication"]): o["state"] for o in old["options"]}
    o_new = {(o["option_id"], o["indication"]): o["state"] for o in new["options"]}
    options = [
        OptionChange(option_id=k[0], indication=k[1], old=o_old.get(k), new=o_new.get(k))
        for k in sorted(set(o_old) | set(o_new), key=lambda k: (k[0], k[1] or ""))
        if o_old.get(k) != o_new.get(k)
    ]
    if old["status"] == new["status"] and f_old == f_new and n_old == n_new and not options:
        return None
    return ProfileChange(
        profile=name,
        old_status=old["status"],
        new_status=new["status"],
        findings_added=sorted(f_new - f_old),
        findings_removed=sorted(f_old - f_new),
        not_checked_added=sorted(n_new - n_old),
        not_checked_removed=sorted(n_old - n_new),
        options=options,
    )


def impact(
    old: Sequence[LoadedProtocol], new: Sequence[LoadedProtocol], files: Sequence[FsPath], default_date: dt.date
) -> Impact:
    """Assess every profile under both protocol sets; ``default_date`` where a profile has none."""
    changed: list[ProfileChange] = []
    old_refs = [protocol_ref(lp) for lp in old]
    new_refs = [protocol_ref(lp) for lp in new]
    for f in files:
        try:
            checked = pipeline.from_bytes(f.read_bytes(), str(f), today=default_date)
            profile, day = checked.profile, checked.as_of
        except InvalidInputError as exc:
            detail = "; ".join(p.format() for p in exc.problems) or exc.message
            changed.append(
                ProfileChange(
                    profile=str(f),
                    old_status=None,
                    new_status=None,
                    findings_added=[],
                    findings_removed=[],
                    not_checked_added=[],
                    not_checked_removed=[],
                    options=[],
                    error=detail,
                )
            )
            continue
        a, b = assess(profile, old, day), assess(profile, new, day)
        change = compare(a, b, str(f))
        if change is not None:
            changed.append(change)
    return Impact(
        old=old_refs,
        new=new_refs,
        profiles=len(files),
        changed=changed,
        version_not_bumped=not_bumped(old_refs, new_refs),
    )
