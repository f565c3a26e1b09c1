"""Terminology: what a record says (a name, a brand, a code) -> the concepts the protocol tests.

The tables are data generated from published FHIR ValueSets (eCQM/VSAC, CDC Opioid CDS, US Core)
plus small curated additions with their sources (``scripts/terminology/``); they are loaded lazily,
the code table only when a coded entry appears. Fail safe: a word or code the tables do not know is
*not recognised*, never "none" — callers keep it, report it and never let it pass silently.

Medication and allergy text is normalised the same way: lower case; trade marks, bracketed brands,
doses, units, forms and salts removed ("KETAMINE hydrochloride 50 mg/mL injection" -> ketamine);
brands mapped to their ingredients; combinations split on ``/``, ``+``, ``&``, ``,``, ``and``,
``with`` (and ``-`` when every part is a known ingredient).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path as _FsPath
from typing import Any

from . import fhir_codes as fc
from . import vocabulary as v
from .fhir_codes import Concept

# ---------------------------------------------------------------- tables


# Files beside the package (importlib.resources costs ~5 ms at start-up for the same answer).
_DATA = _FsPath(__file__).parent / "data"


@cache
def _names() -> dict[str, Any]:
    return json.loads((_DATA / "terminology-names.json").read_bytes())  # type: ignore[no-any-return]


@cache
def _codes() -> dict[str, Any]:
    return json.loads((_DATA / "terminology-codes.json").read_bytes())  # type: ignore[no-any-return]


@cache
def _salts() -> frozenset[str]:
    return frozenset(_names()["salts"])


@cache
def _forms() -> frozenset[str]:
    return frozenset(_names()["forms"])


@cache
def _all_names() -> tuple[str, ...]:
    n = _names()
    return tuple(sorted({*n["ingredients"], *n["brands"], *n["aliases"]}))


@lru_cache(maxsize=4096)
def ingredient_classes(name: str) -> tuple[str, ...]:
    """Interaction classes of a known ingredient (empty for a known ingredient of no class)."""
    found = _names()["ingredients"].get(name)
    return tuple(found["classes"]) if found else ()


def ingredient_rxcui(name: str) -> str | None:
    """The RxNorm ingredient code of a known ingredient, where the tables have one."""
    found = _names()["ingredients"].get(name)
    return str(found["rxcui"]) if found and found.get("rxcui") else None


def is_ingredient(name: str) -> bool:
    return name in _names()["ingredients"]


# ---------------------------------------------------------------- medications and allergies


@dataclass(frozen=True)
class DrugMatch:
    """A medication or allergy entry read against the tables."""

    ingredients: tuple[str, ...]
    """Recognised ingredients, in the order written."""
    unknown: tuple[str, ...]
    """Parts not recognised (the whole text when nothing was)."""
    how: str
    """ingredient, brand, code, combination, or "" (not recognised)."""
    suggestion: str | None = None
    """A close known name for an unrecognised entry (did you mean)."""

    @property
    def recognised(self) -> bool:
        return bool(self.ingredients) and not self.unknown


_MARKS = re.compile(r"[®™©]")
_BRACKET = re.compile(r"\[([^\]]*)\]|\(([^)]*)\)")
_SPLIT = re.compile(r"\s*(?:/|\+|&|,|;|\band\b|\bwith\b)\s*")
_DOSE = re.compile(r"\d")
_TRIM = ".,;:()[]{}*\"'"


def normalise(text: str) -> str:
    """Lower case, trade marks removed, single spaces."""
    return " ".join(_MARKS.sub("", text).lower().split())


def _lookup(name: str) -> tuple[tuple[str, ...], str] | None:
    """An ingredient or brand by its name, an alias, or the name with trailing salt words removed."""
    n = _names()
    words = name.strip(_TRIM + " ").split()
    while words:
        base = " ".join(words)
        base = n["aliases"].get(base, base)
        if base in n["ingredients"]:
            return (base,), "ingredient"
        if base in n["brands"]:
            return tuple(n["brands"][base][0]), "brand"
        if len(words) == 1 or words[-1] not in _salts():
            return None
        words.pop()
    return None


def _core(text: str) -> str:
    """Text without doses, units and dose forms."""
    words = [w.strip(_TRIM) for w in text.split()]
    return " ".join(w for w in words if w and not _DOSE.search(w) and w not in _forms())


#: Words that say an entry is not a current medication: the entry is not read as current (so it
#: never stands in for a current MOUD or taper) and is reported for review.
_NOT_CURRENT = re.compile(
    r"\b(?:discontinued|stopped|ceased|d/c|dc'd|not taking|no longer|previously|formerly|held|on hold|"
    r"completed|finished|declined|refused)\b",
    re.I,
)


@lru_cache(maxsize=4096)
def match_drug_text(text: str) -> DrugMatch:
    """Read a medication or allergen as written (ingredient, brand, salt, dose, combination)."""
    t = normalise(text)
    if _NOT_CURRENT.search(t):
        return DrugMatch((), (t,), "", None)
    found: list[str] = []
    unknown: list[str] = []
    for m in _BRACKET.finditer(t):  # "buprenorphine 8 mg [Subutex]", "Tylenol (with codeine)"
        inner = m.group(1) or m.group(2) or ""
        if not _core(inner):
            continue  # "(1 mg)": a dose only
        sub = _match_plain(inner)
        found.extend(sub.ingredients)
        unknown.extend(sub.unknown)
    outer = _match_plain(_BRACKET.sub(" ", t))
    found = list(dict.fromkeys([*outer.ingredients, *found]))
    unknown = list(dict.fromkeys([*outer.unknown, *unknown]))
    if found and not unknown:
        return DrugMatch(tuple(found), (), outer.how or "combination")
    if found:
        return DrugMatch(tuple(found), tuple(unknown), "combination")
    whole = _core(t) or t
    return DrugMatch((), (whole,), "", suggest_drug(whole))


def _match_plain(t: str) -> DrugMatch:
    """Text without brackets: whole, then without doses and forms, then split into combinations."""
    hit = _lookup(t)
    if hit:
        return DrugMatch(hit[0], (), hit[1])
    core = _core(t)
    if not core:
        return DrugMatch((), (), "")
    hit = _lookup(core)
    if hit:
        return DrugMatch(hit[0], (), hit[1])
    parts = [p for p in (_core(x) for x in _SPLIT.split(t)) if p]
    if len(parts) == 1 and "-" in parts[0]:
        dashed = [p for p in parts[0].split("-") if p.strip()]
        if len(dashed) > 1 and all(_lookup(p) for p in dashed):
            parts = dashed
    found: list[str] = []
    unknown: list[str] = []
    for part in parts:
        hit = _lookup(part)
        if hit:
            found.extend(hit[0])
        else:
            unknown.append(part)
    return DrugMatch(tuple(dict.fromkeys(found)), tuple(unknown), "combination" if len(parts) > 1 else "ingredient")


def suggest_drug(text: str) -> str | None:
    """A known ingredient or brand close in spelling (did you mean), or None."""
    found = difflib.get_close_matches(text, _all_names(), n=1, cutoff=0.8)
    return found[0] if found else None


def rxnorm_ingredients(code: str) -> tuple[str, ...]:
    """Ingredients of an RxNorm product or ingredient code (curated FHIR table, then value sets)."""
    code = code.strip()
    out = list(fc.RXNORM_PRODUCTS.get(code, ()))
    if code in fc.RXNORM_INGREDIENTS:
        out.append(fc.RXNORM_INGREDIENTS[code])
    entry = _codes()["rxnorm"].get(code)
    if entry:
        out.extend(entry[0])
    return tuple(dict.fromkeys(out))


def snomed_substance(code: str) -> tuple[str, ...]:
    """Allergen names for a SNOMED CT substance code (US Core allergy substances)."""
    return tuple(_codes()["snomed_substances"].get(code.strip(), ()))


def match_drug(text: str | None, system: str | None = None, code: str | None = None) -> DrugMatch:
    """Read a medication or allergen entry: its code first, then its text."""
    if code is not None and system == "rxnorm":
        found = rxnorm_ingredients(code)
        if found:
            return DrugMatch(found, (), "code")
    if code is not None and system == "snomed":
        found = snomed_substance(code)
        if found:
            hit = _lookup(found[0])
            return DrugMatch(hit[0] if hit else found, (), "code")
    if text:
        return match_drug_text(text)
    return DrugMatch((), (f"{system} {code}",), "")


def match_allergen(text: str | None, system: str | None = None, code: str | None = None) -> DrugMatch:
    """Read an allergy entry: a drug (as for medications), else an allergen name (a drug class, food
    or material that allergy lists name, e.g. "penicillins", "latex")."""
    m = match_drug(text, system, code)
    if m.recognised or not text:
        return m
    key = normalise(text)
    allergens = _names()["allergens"]
    for k in (key, key.rstrip("s"), _core(key)):
        if k in allergens:
            return DrugMatch((k,), (), "allergen")
    return m


_KETAMINE_WORDS = re.compile(r"keta(?:mine|lar|nest|set)|spravato|vesierra", re.IGNORECASE)


def is_ketamine_allergy(match: DrugMatch, text: str | None) -> bool:
    """An allergy to any ketamine product, salt or brand (or text naming one: fail safe)."""
    if any("ketamine" in ingredient_classes(i) for i in match.ingredients):
        return True
    if match.suggestion is not None:  # "Ketamin", "ketamnie": a misspelt ketamine product is one
        hit = _lookup(match.suggestion)
        if hit and any("ketamine" in ingredient_classes(i) for i in hit[0]):
            return True
    return bool(text and _KETAMINE_WORDS.search(text))


# ---------------------------------------------------------------- conditions


@dataclass(frozen=True)
class ConditionMatch:
    """A condition entry read against the tables."""

    concepts: tuple[Concept, ...]
    how: str
    """slug, name, code, or "" (not recognised)."""
    suggestion: str | None = None

    @property
    def recognised(self) -> bool:
        return any(c.kind != "not_mapped" for c in self.concepts)


def _concept(text: str) -> Concept:
    kind, _, value = text.partition(":")
    return Concept(kind, value)  # type: ignore[arg-type]


_PSYCHOSIS_WORDS = re.compile(
    r"\bpsychos[ie]s\b|\bpsychotic\b|schizophren|schizoaffective|schizotypal|delusional disorder", re.I
)
_NOT_PSYCHOTIC = re.compile(r"without psychotic|non-?psychotic|no psychotic", re.I)
_BIPOLAR_II = re.compile(r"bipolar (ii|2)\b|type (ii|2)\b", re.I)
_MANIA_WORDS = re.compile(r"\bmanic\b|hypomani|\bmania\b", re.I)
_MANIC_DEPRESSIVE = re.compile(r"manic[- ]depressi", re.I)


def safety_concepts(text: str) -> tuple[Concept, ...]:
    """Psychosis, bipolar disorder and mania named anywhere in a condition's text or display (a
    contraindication is never lost to an unlisted qualifier: "schizophrenia, paranoid type")."""
    out: list[Concept] = []
    if _PSYCHOSIS_WORDS.search(text) and not _NOT_PSYCHOTIC.search(text):
        out.append(Concept("psychosis"))
    if "bipolar" in text.lower() or _MANIC_DEPRESSIVE.search(text):
        out.append(Concept("bipolar", "bipolar_ii" if _BIPOLAR_II.search(text) else "bipolar_i"))
    if _MANIA_WORDS.search(text) and not _MANIC_DEPRESSIVE.search(text):
        out.append(Concept("mania"))
    return tuple(out)


_HISTORY = r"history of|hx of|h/o|past|prior|previous|former|resolved"
#: A condition entry written as history ("history of mania", "past hypomania"): not a current episode.
HISTORY_WORDS = re.compile(rf"^(?:{_HISTORY})\b", re.I)
#: Leading words a condition name is also looked up without ("known epilepsy", "history of stroke").
_COND_STRIP = re.compile(rf"^(?:{_HISTORY}|known|chronic|recent)\s+")


def condition_key(text: str) -> str:
    """Condition name as looked up: lower case, ``_``/``-``/apostrophes as spaces, single spaces."""
    t = normalise(text).replace("’", "'").replace("'s ", " ").replace("'s", "").replace("'", "")
    return " ".join(re.sub(r"[_\-,.]", " ", t).split())


@cache
def _slug_names() -> dict[str, tuple[Concept, ...]]:
    out: dict[str, tuple[Concept, ...]] = {}
    for slug in v.MEDICAL_CONDITIONS:
        out[slug.replace("_", " ")] = (Concept("medical", slug),)
    for slug in v.PSYCHIATRIC_CONDITIONS:
        out[slug.replace("_", " ")] = (Concept("psych", slug),)
    return out


@lru_cache(maxsize=4096)
def match_condition_text(text: str) -> ConditionMatch:
    """Read a condition as written: a vocabulary slug, a name or a synonym."""
    key = condition_key(text)
    for k in dict.fromkeys((key, _COND_STRIP.sub("", key))):
        if k in _slug_names():
            return ConditionMatch(_slug_names()[k], "slug")
        found = _names()["condition_names"].get(k)
        if found:
            return ConditionMatch(tuple(_concept(c) for c in found[0]), "name")
    words = safety_concepts(text)
    if words:
        return ConditionMatch(words, "words")
    return ConditionMatch((), "", suggest_condition(key))


def suggest_condition(key: str) -> str | None:
    """A condition name close in meaning or spelling: synonyms first, then vocabulary slugs."""
    synonyms: tuple[str, ...] = tuple(_names()["condition_names"])
    found = difflib.get_close_matches(key, synonyms, n=1, cutoff=0.8)
    if found:
        slug = found[0].replace(" ", "_")
        return slug if slug in v.MEDICAL_CONDITIONS or slug in v.PSYCHIATRIC_CONDITIONS else found[0]
    slugs = [s.replace("_", " ") for s in (*v.MEDICAL_CONDITIONS, *v.PSYCHIATRIC_CONDITIONS)]
    found = difflib.get_close_matches(key, slugs, n=1, cutoff=0.75)
    return found[0].replace(" ", "_") if found else None


@lru_cache(maxsize=4096)
def condition_code_concepts(system: str, code: str) -> tuple[Concept, ...]:
    """Concepts of an ICD-10-CM or SNOMED CT code: code-system structure and curated codes, then the
    value sets. A code that maps to a concept loses its "not mapped" notes."""
    out: list[Concept] = []
    if system == "icd-10-cm":
        c = fc.normalise_icd10(code)
        out.extend(fc.icd10_concepts(c))
        entry = _codes()["icd10cm"].get(c)
    elif system == "snomed":
        c = code.strip()
        out.extend(fc.SNOMED_CONDITIONS.get(c, ()))
        entry = _codes()["snomed"].get(c)
    else:
        return ()
    if entry:
        out.extend(_concept(x) for x in entry[0])
    out = list(dict.fromkeys(out))
    if any(x.kind != "not_mapped" for x in out):
        out = [x for x in out if x.kind != "not_mapped"]
    return tuple(out)


def match_condition(text: str | None, system: str | None = None, code: str | None = None) -> ConditionMatch:
    """Read a condition entry: its code first, then its text."""
    if code is not None and system is not None:
        found = condition_code_concepts(system, code)
        if found and any(c.kind != "not_mapped" for c in found):
            return ConditionMatch(found, "code")
        if text:
            by_text = match_condition_text(text)
            if by_text.recognised:
                return by_text
        return ConditionMatch(found, "code" if found else "")
    if text:
        return match_condition_text(text)
    return ConditionMatch((), "")


# ---------------------------------------------------------------- a profile's entries

Path = tuple[str | int, ...]

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
        from .yaml_source import format_path

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
    hint = f"; did you mean {m.suggestion!r}?" if m.suggestion else ""
    checked = "not checked" if what == "allergy" else "not checked for interactions"
    return Review(
        where,
        path,
        text,
        f"{what} {parts} not recognised{known}: {checked} — review by hand{hint}",
        m.suggestion,
    )


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
    for key, target in (("medications", r.medications), ("proposed_medications", r.proposed)):
        for i, med in enumerate(getattr(profile, key) or []):
            text = _entry_text(med, "ingredient")
            m = _drug(med, "ingredient")
            target.append(((key, i), text, m))
            rev = _drug_review(key, (key, i), text, m, "medication")
            if rev:
                r.review.append(rev)
    for i, s in enumerate(profile.substance_use or []):
        if s.treatment is None:
            continue
        rows = r.treatments.setdefault(s.substance, [])
        for j, t in enumerate(s.treatment):
            m = match_drug_text(t)
            path: Path = ("substance_use", i, "treatment", j)
            rows.append((path, t, m))
            rev = _drug_review("substance_use.treatment", path, t, m, "medication")
            if rev:
                r.review.append(rev)
    for i, a in enumerate(profile.allergies or []):
        text = _entry_text(a, "agent")
        m = match_allergen(a.agent or a.display, a.system, a.code)
        ketamine = is_ketamine_allergy(m, text)
        r.allergies.append((("allergies", i), text, m, ketamine))
        if not ketamine:
            rev = _drug_review("allergies", ("allergies", i), text, m, "allergy")
            if rev:
                r.review.append(rev)
    lists: list[tuple[str, Path, Any]] = [
        ("medical_conditions", ("medical_conditions", i), c) for i, c in enumerate(profile.medical_conditions or [])
    ]
    psy = profile.psychiatric
    lists += [
        ("psychiatric.conditions", ("psychiatric", "conditions", i), c)
        for i, c in enumerate((psy.conditions if psy else None) or [])
    ]
    for where, path, entry in lists:
        text = _entry_text(entry, "condition")
        cm = match_condition(entry.condition or entry.display, entry.system, entry.code)
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
                r.mania.append((path, "past" if HISTORY_WORDS.match(condition_key(text)) else "active"))
            elif c.kind in _FIELD_FOR:
                if not HISTORY_WORDS.match(condition_key(text)):
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
            hint = f"; did you mean {cm.suggestion!r}?" if cm.suggestion else ""
            r.review.append(
                Review(where, path, text, f"condition {text!r}: {what} — review by hand{hint}", cm.suggestion)
            )
    return r


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
