"""A profile's entries read through the terminology: which are medications, allergies, conditions,
which concepts each names, and which the tables do not recognise (kept, reported, never read as "no").

``resolve`` runs once per profile (a single-entry cache), and the fact builder, the consistency
checks, the assessment and the command line's warnings all read its result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kapdecide.inputs.messages import NONE_WORDS, recorded_none
from kapdecide.inputs.terminology import (
    HISTORY_WORDS,
    DrugMatch,
    condition_key,
    ingredient_classes,
    is_ketamine_allergy,
    match_allergen,
    match_condition,
    match_drug,
    match_drug_text,
)
from kapdecide.inputs.yaml_source import Path, format_path

#: Concept kinds a condition list cannot carry by itself: the profile has a structured field for them.
_FIELD_FOR: dict[str, str] = {
    "substance": "substance_use (one entry per substance use disorder)",
    "pregnancy": "pregnancy.status",
    "breastfeeding": "pregnancy.breastfeeding",
    "suicidal_ideation": "psychiatric.suicidal_ideation",
    "suicidal_behavior": "psychiatric.last_suicidal_behavior (its date)",
}


@dataclass(frozen=True)
class Review:
    """An entry the tables do not recognise (or cannot use from where it is written): kept, reported
    for review by hand, and never read as absent."""

    list: str
    path: Path
    entry: str
    message: str
    suggestion: str | None = None

    def data(self) -> dict[str, Any]:
        """The review item as report data."""
        from kapdecide.inputs.yaml_source import format_path

        return {
            "list": self.list,
            "path": format_path(self.path),
            "entry": self.entry,
            "message": self.message,
            "suggestion": self.suggestion,
        }


@dataclass
class Resolved:
    """What a profile's medication, allergy and condition entries mean."""

    medications: list[tuple[Path, str, DrugMatch]] = field(default_factory=list)
    proposed: list[tuple[Path, str, DrugMatch]] = field(default_factory=list)
    treatments: dict[str, list[tuple[Path, str, DrugMatch]]] = field(default_factory=dict)
    allergies: list[tuple[Path, str, DrugMatch, bool]] = field(default_factory=list)
    """(path, text, match, is a ketamine allergy)"""
    medical: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    """Per ``medical_conditions`` entry: its index and the medical slugs it names."""
    extra_medical: list[tuple[Path, str]] = field(default_factory=list)
    """Medical slugs named in ``psychiatric.conditions``."""
    psych: list[tuple[Path, str]] = field(default_factory=list)
    psychosis: list[Path] = field(default_factory=list)
    bipolar: list[tuple[Path, str]] = field(default_factory=list)
    mania: list[tuple[Path, str]] = field(default_factory=list)
    """Entries naming mania, with the level they imply: active (a current entry, or a code with no
    timing: conservative) or past (written as history)."""
    review: list[Review] = field(default_factory=list)
    named: dict[str, list[tuple[Path, Any]]] = field(default_factory=dict)
    """Entries naming a concept that has its own structured field (pregnancy, suicidal ideation or
    behaviour, a substance use disorder), by concept kind, with the entry's date (or None). Entries
    written as history ("history of pregnancy") are not listed."""

    def current(self, kind: str, as_of: Any, max_days: int) -> list[tuple[Path, Any]]:
        """Named entries of ``kind`` that are undated or dated within ``max_days`` of ``as_of``."""
        return [(p, d) for p, d in self.named.get(kind, []) if d is None or (as_of - d).days <= max_days]


def _entry_text(entry: Any, name_field: str) -> str:
    text = getattr(entry, name_field, None)
    if text:
        return str(text)
    display = getattr(entry, "display", None)
    code = f"{entry.system} {entry.code}"
    return f"{display} ({code})" if display else code


def _drug(entry: Any, name_field: str) -> DrugMatch:
    text = getattr(entry, name_field, None) or getattr(entry, "display", None)
    return match_drug(text, getattr(entry, "system", None), getattr(entry, "code", None))


def _drug_review(where: str, path: Path, text: str, m: DrugMatch, what: str) -> Review | None:
    if m.recognised:
        return None
    parts = ", ".join(repr(u) for u in m.unknown)
    known = f" (recognised: {', '.join(m.ingredients)})" if m.ingredients else ""
    hint = f"; did you mean {m.suggestion!r}?" if m.suggestion else _none_hint(path, text)
    checked = "not checked" if what == "allergy" else "not checked for interactions"
    return Review(
        where,
        path,
        text,
        f"{what} {parts} not recognised{known}: {checked} — review by hand{hint}",
        m.suggestion,
    )


def _none_hint(path: Path, text: str) -> str:
    """An entry that says "none" is kept and reviewed (never read as "no allergies"): say how to record none."""
    if text.strip().lower() not in NONE_WORDS:
        return ""
    where = format_path(path[:-1])
    return f"; to record that there are none, write {where}: []" + (" (or none)" if recorded_none(path[:-1]) else "")


_LAST: list[tuple[Any, Resolved]] = []


def resolve(profile: Any) -> Resolved:
    """Read every medication, allergy and condition entry of a validated profile.

    The consistency check, the facts and the report all need this for the same (immutable) profile:
    the last result is kept, so a profile is read once."""
    if _LAST and _LAST[0][0] is profile:
        return _LAST[0][1]
    r = _resolve(profile)
    _LAST[:] = [(profile, r)]
    return r


def _resolve(profile: Any) -> Resolved:
    r = Resolved()
    _resolve_drugs(r, profile)
    for i, a in enumerate(profile.allergies or []):
        text = _entry_text(a, "agent")
        m = match_allergen(a.agent or a.display, a.system, a.code)
        ketamine = is_ketamine_allergy(m, text)
        r.allergies.append((("allergies", i), text, m, ketamine))
        if not ketamine:
            _add(r, _drug_review("allergies", ("allergies", i), text, m, "allergy"))
    lists: list[tuple[str, Path, Any]] = [
        ("medical_conditions", ("medical_conditions", i), c) for i, c in enumerate(profile.medical_conditions or [])
    ]
    psy = profile.psychiatric
    lists += [
        ("psychiatric.conditions", ("psychiatric", "conditions", i), c)
        for i, c in enumerate((psy.conditions if psy else None) or [])
    ]
    for where, path, entry in lists:
        _resolve_condition(r, where, path, entry)
    return r


def _add(r: Resolved, review: Review | None) -> None:
    if review:
        r.review.append(review)


def _resolve_drugs(r: Resolved, profile: Any) -> None:
    """Current and proposed medications, and each disorder's treatment."""
    for key, target in (("medications", r.medications), ("proposed_medications", r.proposed)):
        for i, med in enumerate(getattr(profile, key) or []):
            text = _entry_text(med, "ingredient")
            m = _drug(med, "ingredient")
            target.append(((key, i), text, m))
            _add(r, _drug_review(key, (key, i), text, m, "medication"))
    for i, s in enumerate(profile.substance_use or []):
        if s.treatment is None:
            continue
        rows = r.treatments.setdefault(s.substance, [])
        for j, t in enumerate(s.treatment):
            m = match_drug_text(t)
            path: Path = ("substance_use", i, "treatment", j)
            rows.append((path, t, m))
            _add(r, _drug_review("substance_use.treatment", path, t, m, "medication"))


def _resolve_condition(r: Resolved, where: str, path: Path, entry: Any) -> None:
    """One condition-list entry: its concepts go where they belong; what it names but the list does
    not hold (a pregnancy, an attempt), or what is not recognised, goes to review."""
    text = _entry_text(entry, "condition")
    cm = match_condition(entry.condition or entry.display, entry.system, entry.code)
    history = bool(HISTORY_WORDS.match(condition_key(text)))
    slugs: list[str] = []
    for c in cm.concepts:
        if c.kind == "medical":
            if where == "medical_conditions":
                slugs.append(c.value)
            else:
                r.extra_medical.append((path, c.value))
        elif c.kind == "psych":
            r.psych.append((path, c.value))
        elif c.kind == "psychosis":
            r.psychosis.append(path)
        elif c.kind == "bipolar":
            r.bipolar.append((path, c.value))
        elif c.kind == "mania":
            r.mania.append((path, "past" if history else "active"))
        elif c.kind in _FIELD_FOR:
            if not history:
                r.named.setdefault(c.kind, []).append((path, getattr(entry, "date", None)))
            r.review.append(
                Review(
                    where,
                    path,
                    text,
                    f"{text!r} belongs in {_FIELD_FOR[c.kind]}, not in this list: record it there and "
                    "review by hand (a pregnancy or a dated attempt is read from here only while that "
                    "field is not recorded, and is then listed as derived)",
                )
            )
    if where == "medical_conditions":
        r.medical.append((path[1], tuple(dict.fromkeys(slugs))))  # type: ignore[arg-type]
    notes = [c.value for c in cm.concepts if c.kind == "not_mapped"]
    if not cm.concepts or (notes and not cm.recognised):
        what = "; ".join(notes) if notes else "not recognised"
        hint = f"; did you mean {cm.suggestion!r}?" if cm.suggestion else _none_hint(path, text)
        r.review.append(Review(where, path, text, f"condition {text!r}: {what} — review by hand{hint}", cm.suggestion))


#: Prescribed drug classes that make a substance's last_use ambiguous (it may be today's prescribed dose).
PRESCRIBED_FOR: dict[str, tuple[str, ...]] = {"opioids": ("opioid",), "sedatives": ("benzodiazepine",)}


def current_classes(res: Resolved, meds_known: bool) -> set[str]:
    """Classes of the recorded current medications and disorder treatments (never proposed ones)."""
    rows = [*(row for group in res.treatments.values() for row in group), *(res.medications if meds_known else [])]
    return {c for _, _, m in rows for i in m.ingredients for c in ingredient_classes(i)}


def nonprescribed_use(s: Any, classes: set[str]) -> Any:
    """The date of the last use not as prescribed: last_nonprescribed_use when recorded; else
    last_use, unless a prescribed drug of the class is recorded (last_use may then be today's
    prescribed dose, so the date is unknown: None)."""
    if s.last_nonprescribed_use is not None:
        return s.last_nonprescribed_use
    if set(PRESCRIBED_FOR.get(s.substance, ())) & classes:
        return None
    return s.last_use
