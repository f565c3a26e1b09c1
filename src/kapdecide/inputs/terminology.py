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
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path as _FsPath
from typing import Any

from kapdecide.core import vocabulary as v
from kapdecide.inputs import fhir_codes as fc
from kapdecide.inputs.fhir_codes import Concept

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
    """Whether the tables know this ingredient name."""
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
        """Whether the entry was read (at least one concept known, nothing left unread)."""
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
        """Whether the entry was read (at least one concept known, nothing left unread)."""
        return any(c.kind != "not_mapped" for c in self.concepts)


def _concept(text: str) -> Concept:
    kind, _, value = text.partition(":")
    return Concept(kind, value)  # type: ignore[arg-type]


_PSYCHOSIS_WORDS = re.compile(
    r"\bpsychos[ie]s\b|\bpsychotic\b|schizophren|schizoaffective|schizotypal|delusional disorder", re.I
)
_NOT_PSYCHOTIC = re.compile(r"without psycho(?:tic|sis)|non-?psychotic|no psycho(?:tic|sis)", re.I)
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
#: Leading words a condition name is also looked up without ("known epilepsy", "history of stroke",
#: "recurrent major depression").
_COND_STRIP = re.compile(rf"^(?:{_HISTORY}|known|chronic|recent|recurrent|mild|moderate|severe)\s+")
#: course, severity and specifiers written after a name ("MDD, recurrent, moderate", "PTSD, chronic",
#: "MDD recurrent severe without psychotic features", "depression NOS"): they do not change the
#: concept. Remission is not among them: "in full remission" stays a hand check, never a plain match;
#: nor is "with psychotic features", which adds psychosis.
_COND_QUALIFIERS = re.compile(
    r"(?:\s+(?:recurrent|single|current|episode|mild|moderate|severe|unspecified|chronic|acute|nos"
    r"|without psychotic features|without psychosis))+$"
)
#: An entry about a relative ("family history of schizophrenia", "FHx bipolar", "mother has bipolar
#: disorder"): not the patient's condition, so never read as one (nor as its absence). Only at the
#: start: "schizophrenia (mother also)" is the patient's.
_RELATIVE = re.compile(
    r"^(?:family (?:history|hx)|fhx|fh\b|f/h|(?:maternal|paternal)\b|(?:his|her|the patient's)?\s*"
    r"(?:mother|father|parent|sibling|brother|sister|son|daughter|twin|grand(?:mother|father|parent)|aunt|uncle"
    r"|cousin)s?\b)",
    re.I,
)
#: An entry written as a negation or as excluded ("denies psychosis", "no history of mania",
#: "negative for bipolar disorder", "psychosis ruled out"): kapdecide never reads a negation as an
#: answer, in either direction. "r/o" and "rule out" mean "to be ruled out", i.e. suspected: read.
_NEGATED = re.compile(
    r"^(?:no|not|never|denies|denied|negative for|free of|absence of|without)\b|\b(?:ruled out|excluded)\s*$",
    re.I,
)
RELATIVE_NOTE = (
    "an entry about a relative, not the patient's own condition: kapdecide reads only the patient's; remove it "
    "(a psychotic disorder in a first-degree relative is psychiatric.family_history_psychosis: true)"
)
NEGATED_NOTE = (
    "written as a negation or as ruled out: kapdecide never reads a negation as an answer; record the "
    "structured field instead (e.g. psychiatric.psychotic_disorder: none, psychiatric.mania: none) and remove "
    "the entry"
)


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
    if _RELATIVE.search(text.strip()):
        return ConditionMatch((Concept("not_mapped", RELATIVE_NOTE),), "")
    if _NEGATED.search(text.strip()):
        return ConditionMatch((Concept("not_mapped", NEGATED_NOTE),), "")
    key = condition_key(text)
    bare = _COND_STRIP.sub("", key)
    for k in dict.fromkeys((key, bare, _COND_QUALIFIERS.sub("", bare))):
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
