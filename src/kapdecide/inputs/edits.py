"""What-if edits of the profile itself: ``--what-if vitals.blood_pressure=150/95``.

A profile path names a field of the profile model (``patient.weight_lb``, ``vitals.blood_pressure``,
``psychiatric.last_suicidal_behavior``, ``medications``); a substance use disorder is named by its
substance (``substance_use.alcohol.last_use``). The edit is applied to the profile's data before
validation, so every check (types, plausibility, contradictions) runs on the edited profile; a
problem in an edited value is located at the ``--what-if`` that wrote it, not in the file.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from kapdecide.core.errors import InvalidInputError, Problem
from kapdecide.core.vocabulary import SUBSTANCES
from kapdecide.inputs.messages import members, slot_at
from kapdecide.inputs.profile import Profile
from kapdecide.inputs.yaml_source import Path, SourceError, format_path, load

_READING = re.compile(r"\s*(\d{2,3})\s*/\s*(\d{2,3})\s*")


@dataclass(frozen=True)
class ProfileEdit:
    """One profile field replaced (None: removed, so unknown)."""

    name: str
    """The path as written: ``substance_use.alcohol.last_use``."""
    path: tuple[str, ...]
    value: Any
    readings: tuple[tuple[int, int], ...] = ()
    """``vitals.blood_pressure=150/95``: readings taken on the assessment day (``value`` is unused)."""

    def data(self, day: dt.date) -> Any:
        """The value written into the profile for an assessment on ``day``."""
        if self.readings:
            return [{"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": day.isoformat()} for s, d in self.readings]
        return self.value


def profile_paths() -> list[str]:
    """Every path a what-if may name (for did-you-mean hints)."""
    out: list[str] = []

    def walk(model: Any, prefix: str) -> None:
        for name, info in model.model_fields.items():
            here = f"{prefix}{info.alias or name}"
            out.append(here)
            for t, _ in members(info.annotation):
                if isinstance(t, type) and hasattr(t, "model_fields"):
                    walk(t, here + ".")
                elif get_origin(t) is list and here == "substance_use":
                    for substance in SUBSTANCES:
                        walk(get_args(t)[0], f"substance_use.{substance}.")

    walk(Profile, "")
    return out


def is_profile_path(name: str) -> bool:
    """Whether ``name`` names a field of the profile (a substance use disorder by its substance)."""
    parts: list[str | int] = list(name.split("."))
    if not all(parts) or any(str(p).isdigit() for p in parts):  # a list is replaced whole, not by index
        return False
    if parts[0] == "substance_use" and len(parts) > 1:
        if parts[1] not in SUBSTANCES or len(parts) == 2:
            return False
        parts = ["substance_use", 0, *parts[2:]]
    return slot_at(Profile, tuple(parts)) is not None


def parse_edit(name: str, text: str) -> ProfileEdit:
    """``PATH=VALUE`` as an edit: VALUE is YAML (``[]``, ``none``, ``2026-11-18``, ``{...}``), ``unknown``
    removes the field, and ``vitals.blood_pressure`` also takes ``150/95`` (or ``150/95,148/92``):
    readings taken on the assessment day. Raises ValueError with what to write."""
    path = tuple(name.split("."))
    if name == "vitals.blood_pressure" and text and all(_READING.fullmatch(t) for t in text.split(",")):
        readings = tuple((int(m[1]), int(m[2])) for m in (_READING.fullmatch(t) for t in text.split(",")) if m)
        return ProfileEdit(name, path, None, readings)
    if text == "unknown":
        return ProfileEdit(name, path, None)
    try:
        value, _ = load(text, f"--what-if {name}")
    except SourceError as exc:
        raise ValueError(f"{name}: {exc.problems[0].message} (VALUE is written as in a YAML profile)") from None
    return ProfileEdit(name, path, value)


def apply_edits(
    data: Any, edits: Sequence[ProfileEdit], as_of: dt.date | None, today: dt.date | None
) -> tuple[Any, dict[str, Any], list[tuple[str, ProfileEdit]]]:
    """The profile data with ``edits`` applied (a copy), the values written by name (for the report),
    and the data path each edit wrote (to locate problems in edited values)."""
    if not edits or not isinstance(data, dict):
        return data, {}, []
    out = copy.deepcopy(data)
    dated = next((e.value for e in reversed(edits) if e.path == ("assessed_on",)), out.get("assessed_on"))
    day = as_of or _date(dated) or today
    written: list[tuple[str, ProfileEdit]] = []
    for edit in edits:
        if edit.readings and day is None:
            raise InvalidInputError(f"--what-if {edit.name}: readings need the assessment date (give --as-of)")
        node, parts, where = _target(out, edit)
        value = edit.data(day or dt.date.min)
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
        written.append((format_path((*where, parts[-1])), edit))
    applied = {e.name: e.data(day or dt.date.min) for e in {e.name: e for e in edits}.values()}
    return out, dict(sorted(applied.items())), written


def _target(data: dict[str, Any], edit: ProfileEdit) -> tuple[dict[str, Any], tuple[str, ...], Path]:
    """The mapping an edit writes into (intermediate sections created), the key left, its data path."""
    parts, node = edit.path, data
    where: Path = ()
    if parts[0] == "substance_use" and len(parts) > 2:
        raw = data.get("substance_use")
        entries: list[Any] = raw if isinstance(raw, list) else []
        found = [i for i, e in enumerate(entries) if isinstance(e, dict) and e.get("substance") == parts[1]]
        if not found:
            raise InvalidInputError(
                f"--what-if {edit.name}: the profile records no {parts[1]} use disorder; "
                f"give the whole list instead, e.g. --what-if 'substance_use=[{{substance: {parts[1]}}}]'"
            )
        node, parts, where = entries[found[0]], parts[2:], ("substance_use", found[0])
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise InvalidInputError(f"--what-if {edit.name}: {format_path((*where, part))} is not a mapping")
        node, where = child, (*where, part)
    return node, parts, where


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def relocate(problems: Sequence[Problem], written: Sequence[tuple[str, ProfileEdit]]) -> list[Problem]:
    """Problems in an edited value, located at the ``--what-if`` that wrote it."""
    out = []
    for p in problems:
        edit = next((e for path, e in written if p.path == path or p.path.startswith((f"{path}.", f"{path}["))), None)
        out.append(p if edit is None else dataclasses.replace(p, file=f"--what-if {edit.name}", line=None, col=None))
    return out
