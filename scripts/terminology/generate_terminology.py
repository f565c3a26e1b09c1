"""Generate kapdecide's terminology tables from published FHIR ValueSets plus curated additions.

Reads every ValueSet in ``../shared/valuesets`` (eCQM/VSAC, CDC Opioid CDS and US Core content;
see that folder's README for sources, versions and licences) and ``curated.yaml`` beside this
script, and writes two compact, committed JSON files:

- ``src/kapdecide/inputs/data/terminology-names.json``: ingredient -> interaction classes (with the value
  sets or curated source of each class), brand -> ingredients, ingredient aliases, salt and form
  words, condition names and synonyms -> concepts. Small: loaded for any free-text entry.
- ``src/kapdecide/inputs/data/terminology-codes.json``: RxNorm product and ingredient codes -> ingredients,
  SNOMED CT and ICD-10-CM codes -> concepts, each with the source value set keys. Loaded only
  for coded entries (profiles with ``{system, code}``, FHIR Bundles).

Derivation rules (documented in the README, "Terminology"):

- Product displays (``acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet [Percocet]``)
  give the ingredients (salts removed) and the brand in brackets.
- A medication value set declares the class its products belong to. In a "derive" set, a
  single-ingredient product gives its ingredient that class (flurazepam from the benzodiazepine
  sets, meperidine from the opioid sets). Every product of a class set must end with at least one
  ingredient of one of the set's classes, or generation fails: nothing in a class set is silently
  left unclassified.
- The broad CNS-depressant sets (falls-risk lists mixing antiepileptics, antipsychotics, hypnotics)
  add ``cns_depressant`` only to single ingredients that have no interaction class of their own.
- Conditions: each condition value set maps to a concept; mixed sets (stroke or TIA, liver disease,
  glaucoma, substance use, the broad mental-health groupers) are split by words in each code's
  published display; any display naming psychosis, bipolar disorder or mania adds that concept.
  ICD-10-CM codes already mapped by the code-system structure (``fhir_codes.ICD10_PREFIXES``) are
  not repeated.

Run: ``python scripts/terminology/generate_terminology.py [--valuesets DIR] [--check]``. ``--check`` exits 1
when the committed files differ from what the generator produces (tests/unit/inputs/test_terminology.py).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from kapdecide.core import vocabulary as vocab  # noqa: E402
from kapdecide.inputs import fhir_codes  # noqa: E402
from kapdecide.inputs.terminology import safety_concepts  # noqa: E402

DEFAULT_VALUESETS = ROOT.parent / "shared" / "valuesets"
OUT = ROOT / "src" / "kapdecide" / "inputs" / "data"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"

# ---------------------------------------------------------------- medication value sets

#: value set key -> (classes, mode). derive: single-ingredient products take the (one) class;
#: check: every product needs an ingredient of one of the classes; fallback: see the docstring.
MED_SETS: dict[str, tuple[tuple[str, ...], str]] = {
    **dict.fromkeys(
        (
            "2.16.840.1.113762.1.4.1046.241",
            "2.16.840.1.113762.1.4.1111.165",
            "2.16.840.1.113762.1.4.1196.226",
            "2.16.840.1.113762.1.4.1248.120",
            "opioid-analgesics-with-ambulatory-misuse-potential",
            "extended-release-opioid-with-ambulatory-misuse-potential",
            "non-synthetic-opioid-medications",
            "synthetic-opioid-medications",
            "fentanyl-type-medications",
            "oxycodone-medications",
            "buprenorphine-medications",
            "methadone-medications",
            "buprenorphine-and-methadone-medications",
        ),
        (("opioid",), "derive"),
    ),
    "2.16.840.1.113762.1.4.1046.269": (("opioid", "opioid_antagonist"), "check"),
    "2.16.840.1.113883.3.464.1003.1149": (("opioid", "opioid_antagonist", "sud_pharmacotherapy"), "check"),
    "2.16.840.1.113883.3.464.1003.1150": (("opioid", "opioid_antagonist", "sud_pharmacotherapy"), "check"),
    "2.16.840.1.113762.1.4.1248.119": (("opioid_antagonist", "opioid_reversal"), "check"),
    "naloxone-medications": (("opioid_reversal",), "derive"),
    **dict.fromkeys(
        (
            "2.16.840.1.113762.1.4.1125.1",
            "benzodiazepine-medications",
            "2.16.840.1.113883.3.464.1003.196.12.1522",
        ),
        (("benzodiazepine",), "derive"),
    ),
    **dict.fromkeys(
        (
            "2.16.840.1.113883.3.464.1003.1055",
            "barbiturate-medications",
            "2.16.840.1.113883.3.464.1003.1057",
            "2.16.840.1.113883.3.464.1003.196.12.1480",
        ),
        (("cns_depressant",), "derive"),
    ),
    "2.16.840.1.113762.1.4.1248.134": (("cns_depressant",), "fallback"),
    "cns-depressant-medications": (("cns_depressant",), "fallback"),
    "2.16.840.1.113883.3.464.1003.196.12.1523": (("antipsychotic",), "derive"),
    **dict.fromkeys(
        (
            "2.16.840.1.113883.3.464.1003.196.12.1213",
            "2.16.840.1.113762.1.4.1248.163",
            "2.16.840.1.113883.3.526.3.1566",
            "2.16.840.1.113883.3.526.3.1567",
            "2.16.840.1.113883.3.464.1003.1054",
        ),
        (("antidepressant",), "derive"),
    ),
    **dict.fromkeys(
        ("2.16.840.1.113762.1.4.1248.164", "2.16.840.1.113883.3.526.1577"),
        (("antihypertensive",), "derive"),
    ),
    **dict.fromkeys(
        (
            "amphetamines-class-medications",
            "2.16.840.1.113883.3.464.1003.1172",
            "2.16.840.1.113883.3.464.1003.1173",
            "2.16.840.1.113883.3.464.1003.1174",
            "2.16.840.1.113883.3.464.1003.1176",
        ),
        (("psychostimulant",), "derive"),
    ),
    "2.16.840.1.113883.3.464.1003.1170": (("adhd_nonstimulant",), "derive"),
    "2.16.840.1.113883.3.464.1003.196.12.1171": (
        ("psychostimulant", "adhd_nonstimulant", "antihypertensive"),
        "check",
    ),
    "2.16.840.1.113883.3.464.1003.196.12.1510": (("dementia_drug",), "derive"),
    # tobacco-cessation pharmacotherapy mixes classes (clonidine, nortriptyline, topiramate): products
    # are read for their ingredients, with no class of their own
    "2.16.840.1.113883.3.526.3.1190": ((), "members"),
}
#: Classes clinical reference b assesses (an interaction, or "no interaction found"): an ingredient
#: with one of these keeps the reference's verdict and is not given cns_depressant by a broad
#: falls-risk set (acamprosate, valproate, clonidine).
OWN_INTERACTION = frozenset(
    {
        "sud_pharmacotherapy",
        "antihypertensive",
        "benzodiazepine",
        "opioid",
        "opioid_antagonist",
        "maoi",
        "psychostimulant",
        "lamotrigine",
        "nmda_antagonist",
        "theophylline",
        "cyp_inhibitor",
        "cyp_inducer",
        "thyroid_hormone",
        "ssri_snri",
        "mood_stabilizer",
        "bupropion",
        "ketamine",
        "cns_depressant",
    }
)
ALLERGY_SET = "us-core-allergy-substance"

# ---------------------------------------------------------------- condition value sets

FIXED = "fixed"
COND_SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "2.16.840.1.113883.3.464.1003.105.12.1104": (FIXED, ("psychosis",)),
    "2.16.840.1.113883.3.464.1003.105.12.1205": (FIXED, ("psychosis",)),
    "2.16.840.1.113883.3.67.1.101.1.128": ("bipolar", ()),
    "2.16.840.1.113883.3.464.1003.105.12.1007": (FIXED, ("psych:major_depressive_disorder",)),
    "2.16.840.1.113883.3.526.3.1491": (FIXED, ("psych:major_depressive_disorder",)),
    "2.16.840.113883.3.67.1.101.3.2444": (FIXED, ("psych:major_depressive_disorder",)),
    "2.16.840.1.113883.3.67.1.101.1.254": (FIXED, ("psych:persistent_depressive_disorder",)),
    # the GAD set holds other anxiety disorders (PTSD, panic): split by display
    "2.16.840.1.113883.3.464.1003.105.12.1210": ("keywords", ()),
    "2.16.840.1.113762.1.4.1108.101": (FIXED, ("medical:myocardial_infarction",)),
    "2.16.840.1.113883.3.526.3.403": (FIXED, ("medical:myocardial_infarction",)),
    "2.16.840.1.113883.3.526.3.376": (FIXED, ("medical:heart_failure",)),
    "2.16.840.1.113883.3.117.1.7.1.212": (FIXED, ("medical:intracerebral_hemorrhage",)),
    "2.16.840.1.113883.3.117.1.7.1.247": (FIXED, ("medical:ischemic_stroke",)),
    "2.16.840.1.113762.1.4.1047.44": ("cerebrovascular", ()),
    "2.16.840.1.113762.1.4.1248.176": ("cerebrovascular", ()),
    "2.16.840.1.113883.3.464.1003.117.12.1015": (FIXED, ("medical:hyperthyroidism",)),
    "2.16.840.1.113762.1.4.1029.296": (FIXED, ("medical:hyperthyroidism",)),
    "2.16.840.1.113762.1.4.1029.219": (FIXED, ("medical:aneurysmal_vascular_disease",)),
    "2.16.840.1.113883.3.3157.4028": (FIXED, ("medical:aneurysmal_vascular_disease",)),
    "2.16.840.1.113883.3.464.1003.199.12.1035": ("liver", ()),
    "2.16.840.1.113762.1.4.1047.42": ("liver", ()),
    "2.16.840.1.113762.1.4.1248.137": ("liver", ("medical:hepatic_impairment",)),
    "2.16.840.1.113762.1.4.1248.171": (FIXED, ("medical:seizure_disorder",)),
    "2.16.840.1.113883.3.464.1003.105.12.1206": (FIXED, ("medical:seizure_disorder",)),
    "2.16.840.1.113883.3.526.3.1005": (FIXED, ("medical:dementia",)),
    "2.16.840.1.113883.3.3157.4043": ("keywords", ()),
    "2.16.840.1.113883.3.526.3.378": (FIXED, ("pregnancy",)),
    "2.16.840.1.113883.3.600.1.1623": ("pregnancy", ()),
    "2.16.840.1.113883.3.3157.4055": (FIXED, ("pregnancy",)),
    "2.16.840.1.113762.1.4.1029.332": (FIXED, ("medical:hypertension",)),
    "2.16.840.1.113883.3.464.1003.104.12.1011": (FIXED, ("medical:hypertension",)),
    "2.16.840.1.113883.3.600.263": (FIXED, ("medical:hypertension",)),
    "2.16.840.1.113883.3.526.3.1002": (FIXED, ("medical:chronic_kidney_disease",)),
    "2.16.840.1.113883.3.526.3.353": (FIXED, ("medical:chronic_kidney_disease",)),
    "2.16.840.1.113762.1.4.1248.130": (FIXED, ("suicidal_behavior",)),
    "2.16.840.1.113762.1.4.1111.171": (FIXED, ("substance:opioids",)),
    "opioid-misuse-disorders": (FIXED, ("substance:opioids",)),
    "2.16.840.1.113883.3.464.1003.106.12.1001": ("substance", ()),
    "2.16.840.1.113762.1.4.1029.320": ("substance", ()),
    "conditions-documenting-substance-misuse": ("substance", ()),
    "2.16.840.1.113883.3.464.1003.105.12.1004": ("keywords", ()),
    "2.16.840.1.113883.3.464.1003.105.12.1203": ("keywords", ()),
    "2.16.840.1.113762.1.4.1029.314": ("keywords", ()),
    "2.16.840.1.113883.3.117.1.7.1.299": ("keywords", ()),
    "2.16.840.1.113762.1.4.1248.168": ("keywords", ()),
    "2.16.840.1.113883.3.526.3.1423": ("glaucoma", ()),
    "2.16.840.1.113883.3.526.3.326": (FIXED, ("medical:open_angle_glaucoma",)),
    "conditions-documenting-sleep-disordered-breathing": ("sleep", ()),
}

_SUBSTANCE_WORDS = (
    (r"alcohol|ethanol", "alcohol"),
    (r"opioid|opiate|heroin|morphine|methadone|fentanyl|oxycodone", "opioids"),
    (r"cannabi|marijuana|marihuana", "cannabis"),
    (r"cocaine", "cocaine"),
    (r"methamphetamine", "methamphetamine"),
    (r"amphetamine|stimulant|caffeine", "other_stimulants"),
    (r"sedative|hypnotic|anxiolytic|benzodiazepine|barbiturate", "sedatives"),
    (r"hallucinogen|phencyclidine|\bpcp\b|lysergic|\blsd\b", "hallucinogens"),
    (r"ketamine", "ketamine"),
    (r"nicotine|tobacco", "nicotine"),
    (r"inhalant|volatile solvent", "other"),
)
_PSYCH_WORDS = (
    (r"post-?traumatic stress", "psych:ptsd"),
    (r"panic disorder", "psych:panic_disorder"),
    (r"obsessive", "psych:obsessive_compulsive_disorder"),
    (r"attention deficit|attention-deficit", "psych:adhd"),
    (r"anorexia nervosa|bulimi|binge eating", "psych:eating_disorder"),
    (r"borderline personality", "psych:borderline_personality_disorder"),
    (r"generali[sz]ed anxiety", "psych:generalized_anxiety_disorder"),
    (r"social phobia|social anxiety", "psych:social_anxiety_disorder"),
    (r"major depress|recurrent depress|severe depress", "psych:major_depressive_disorder"),
    (r"dysthymi|persistent depressive", "psych:persistent_depressive_disorder"),
    (r"insomnia", "psych:insomnia"),
    (r"dementia|alzheimer", "medical:dementia"),
    (r"delirium", "medical:delirium"),
)


def _refine(display: str) -> list[str]:
    """Concepts any condition display implies: psychosis, bipolar disorder, mania (the same words the
    runtime reads in free text: terminology.safety_concepts)."""
    return [c.kind + (f":{c.value}" if c.value else "") for c in safety_concepts(display)]


def _condition_concepts(rule: str, fixed: tuple[str, ...], display: str) -> list[str]:
    d = display.lower()
    out = list(fixed) if rule in (FIXED, "liver") else []
    if rule == "bipolar":
        out += [c for c in _refine(display) if c.startswith("bipolar")] or ["bipolar:bipolar_i"]
    elif rule == "cerebrovascular":
        if "transient" in d:
            out.append("medical:transient_ischemic_attack")
        elif re.search(r"hemorrhag|haemorrhag|bleed", d):
            out.append("medical:intracerebral_hemorrhage")
        elif "aneurysm" in d:
            out.append("medical:aneurysmal_vascular_disease")
        elif re.search(r"infarct|isch|emboli|thromb|occlusion|stroke|cerebrovascular accident", d):
            out.append("medical:ischemic_stroke")
    elif rule == "liver":
        if "cirrhosis" in d:
            out = ["medical:cirrhosis"]
        elif not out:
            out.append("not_mapped:liver disease: record cirrhosis (with child_pugh_class) or hepatic_impairment")
    elif rule == "glaucoma":
        if re.search(r"angle-closure|angle closure|closed-angle|narrow angle|narrow-angle", d):
            out.append("medical:angle_closure_glaucoma")
        elif re.search(r"open-angle|open angle", d):
            out.append("medical:open_angle_glaucoma")
        else:
            out.append("not_mapped:glaucoma of this type: record angle_closure_glaucoma or open_angle_glaucoma")
    elif rule == "pregnancy":
        if not re.search(r"postpartum|puerper|post-partum|after delivery|following delivery", d):
            out.append("pregnancy")
    elif rule == "sleep":
        if "apnea" in d or "apnoea" in d:
            out.append("medical:obstructive_sleep_apnea")
    elif rule == "substance":
        found = [sub for pattern, sub in _SUBSTANCE_WORDS if re.search(pattern, d)]
        if "methamphetamine" in found and "other_stimulants" in found:
            found.remove("other_stimulants")
        out += [f"substance:{s}" for s in found[:1]] or [
            "not_mapped:substance use disorder without a coded substance: record the substance use disorder"
        ]
        if re.search(r"induced psycho|psychotic disorder", d):
            out.append("medical:substance_induced_psychosis")
    elif rule == "keywords":
        out += [c for pattern, c in _PSYCH_WORDS if re.search(pattern, d)]
    out += [c for c in _refine(display) if not (rule == "bipolar" and c.startswith("bipolar"))]
    return list(dict.fromkeys(out))


# ---------------------------------------------------------------- reading value sets


def set_key(vs: dict[str, Any]) -> str:
    url = str(vs.get("url") or vs.get("id"))
    return url.rstrip("/").rsplit("/", 1)[-1]


def read_valuesets(folder: Path) -> list[dict[str, Any]]:
    out = []
    for path in sorted(folder.glob("*.json")):
        vs = json.loads(path.read_text(encoding="utf-8"))
        contains = (vs.get("expansion") or {}).get("contains")
        if not contains:
            contains = [
                {"system": inc.get("system"), "code": c["code"], "display": c.get("display", "")}
                for inc in (vs.get("compose") or {}).get("include", [])
                for c in inc.get("concept", [])
            ]
        out.append(
            {
                "key": set_key(vs),
                "title": vs.get("title") or vs.get("name"),
                "url": vs.get("url"),
                "version": vs.get("version") or str(vs.get("date", ""))[:10] or None,
                "file": path.name,
                "contains": [c for c in contains if c.get("code")],
            }
        )
    return out


# ---------------------------------------------------------------- product displays


class Names:
    """Ingredient-name normalisation shared with the runtime (same salt list)."""

    def __init__(self, salts: list[str], aliases: dict[str, str]) -> None:
        self.salts = set(salts)
        self.aliases = aliases

    def ingredient(self, text: str) -> str:
        words = text.lower().replace(",", " ").split()
        while len(words) > 1 and words[-1] in self.salts:
            words.pop()
        name = " ".join(words)
        return self.aliases.get(name, name)


# Qualifiers RxNorm writes before the ingredient ("Sprinkle 24 HR topiramate ...").
_PREFIX = re.compile(
    r"^(?:(?:Sprinkle|Smoking Cessation|Once-Daily|Sensor|Abuse-Deterrent|Chewable|Matrix Delivery"
    r"|\d+/\d+ Release|\d+-Bead)\s+)*"
    r"(?:\d+(?:\.\d+)? (?:HR|ML|ACTUAT|MG|DAY)\s+)*",
    re.I,
)
_PACK_PART = re.compile(r"\(([^()]*)\)")


def parse_display(display: str, names: Names) -> tuple[list[str], str | None]:
    """Ingredients and brand of an RxNorm product display."""
    brand = None
    m = re.search(r"\[([^\]]+)\]\s*$", display)
    if m:
        brand = m.group(1).strip()
        display = display[: m.start()].strip()
    if display.startswith("{"):
        parts = _PACK_PART.findall(display)
        ings: list[str] = []
        for p in parts:
            if re.fullmatch(r"[\d.]+ ML", p.strip()):
                continue  # "(0.1 ML)": a volume, not a product
            ings += parse_display(p, names)[0]
        return list(dict.fromkeys(ings)), brand
    out: list[str] = []
    for part in display.split(" / "):
        part = _PREFIX.sub("", part.strip())
        m2 = re.match(r"^(.*?)\s+\d", part)
        name = (m2.group(1) if m2 else part).strip()
        if name and not re.search(r"(^|\s)[\d.]+(\s|$)|/", name):  # "0.1 ml", "20/80": parsing leftovers
            out.append(names.ingredient(name))
    return list(dict.fromkeys(out)), brand


# ---------------------------------------------------------------- build


def build(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    curated = yaml.safe_load((Path(__file__).parent / "curated.yaml").read_text(encoding="utf-8"))
    aliases = {k: v for src in curated["ingredient_aliases"].values() for k, v in src.items()}
    names = Names(curated["salts"], aliases)
    sets = read_valuesets(folder)
    by_key = {s["key"]: s for s in sets}
    missing = sorted((set(MED_SETS) | set(COND_SETS) | {ALLERGY_SET}) - set(by_key))
    if missing:
        raise SystemExit(f"value sets named in the generator are missing from {folder}: {', '.join(missing)}")

    classes: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for source, table in curated["ingredient_classes"].items():
        for cls, items in table.items():
            for ing in items:
                classes[ing][cls].add(source)
    rx_products: dict[str, list[str]] = {}
    rx_sources: dict[str, set[str]] = defaultdict(set)
    brands: dict[str, set[str]] = defaultdict(set)
    brand_sources: dict[str, set[str]] = defaultdict(set)
    known: set[str] = set(classes)
    for key, (_, _) in MED_SETS.items():
        for c in by_key[key]["contains"]:
            if c.get("system") != RXNORM:
                continue
            ings, brand = parse_display(c.get("display", ""), names)
            rx_products[c["code"]] = ings
            rx_sources[c["code"]].add(key)
            known.update(ings)
            if brand:
                b = brand.lower()
                brands[b].update(ings)
                brand_sources[b].add(key)
    # derive: single-ingredient products give their ingredient the set's class
    for key, (set_classes, mode) in MED_SETS.items():
        if mode != "derive":
            continue
        for c in by_key[key]["contains"]:
            ings = rx_products.get(c["code"], [])
            if len(ings) == 1:
                classes[ings[0]][set_classes[0]].add(key)
    for key, (_, mode) in MED_SETS.items():
        if mode != "fallback":
            continue
        for c in by_key[key]["contains"]:
            ings = rx_products.get(c["code"], [])
            if len(ings) == 1 and not (set(classes.get(ings[0], {})) & OWN_INTERACTION):
                classes[ings[0]]["cns_depressant"].add(key)
    # every product of a class set must carry the class through one of its ingredients
    unclassified: list[str] = []
    for key, (set_classes, mode) in MED_SETS.items():
        if mode in ("fallback", "members"):
            continue
        for c in by_key[key]["contains"]:
            ings = rx_products.get(c["code"], [])
            if not any(set(classes.get(i, {})) & set(set_classes) for i in ings):
                unclassified.append(f"{key}: {c['code']} {c.get('display')} -> {ings}")
    if unclassified:
        raise SystemExit("products without an ingredient of their set's class:\n" + "\n".join(unclassified))
    # ingredient-level codes (US Core allergy substances; RxNorm IN codes)
    rx_ingredient: dict[str, str] = {}
    for c in by_key[ALLERGY_SET]["contains"]:
        if c.get("system") == RXNORM:
            ings, _ = parse_display(c.get("display", ""), names)
            rx_products.setdefault(c["code"], ings)
            rx_sources[c["code"]].add(ALLERGY_SET)
            known.update(ings)
            if len(ings) == 1:
                rx_ingredient.setdefault(ings[0], c["code"])
    snomed_substances: dict[str, list[str]] = {}
    allergens: dict[str, set[str]] = defaultdict(set)
    for c in by_key[ALLERGY_SET]["contains"]:
        if c.get("system") == SNOMED:
            name = re.sub(r"\s*\((substance|product)\)\s*$", "", c.get("display", "")).lower()
            snomed_substances[c["code"]] = [name]
            allergens[name].add(ALLERGY_SET)
    for items in curated["snomed_substances"].values():
        for code, name in items.items():
            snomed_substances.setdefault(str(code), [name])
    for source, items in curated["allergens"].items():
        for name in items:
            allergens[name].add(source)
    for source, table in curated["brands"].items():
        for brand, ings in table.items():
            brands[brand].update(ings)
            brand_sources[brand].add(source)
            known.update(ings)
    known.update(aliases.values())
    for slug, ing in vocab.MEDICATIONS.items():
        if ing.rxcui:
            rx_ingredient.setdefault(slug, ing.rxcui)

    # conditions
    snomed: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    icd: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for key, (rule, fixed) in COND_SETS.items():
        for c in by_key[key]["contains"]:
            system = c.get("system")
            if system not in (SNOMED, ICD10CM):
                continue
            concepts = _condition_concepts(rule, fixed, c.get("display", ""))
            if system == ICD10CM:
                code = fhir_codes.normalise_icd10(c["code"])
                if fhir_codes.icd10_concepts(code) or code[:1] in ("O", "Z"):
                    # the ICD-10-CM structure maps it, or deliberately does not (chapter 15: abortive
                    # outcomes, delivery and the puerperium are not a current pregnancy; Z: status codes)
                    continue
                target = icd
            else:
                code = c["code"]
                target = snomed
            for concept in concepts:
                target[code][concept].add(key)
    for table in (snomed, icd):
        for found in table.values():
            if any(not k.startswith("not_mapped") for k in found):
                for k in [k for k in found if k.startswith("not_mapped")]:
                    del found[k]

    used = {s for srcs in rx_sources.values() for s in srcs} | set(COND_SETS) | set(MED_SETS)
    order = [s["key"] for s in sets if s["key"] in used]
    index = {k: i for i, k in enumerate(order)}

    def refs(keys: set[str] | list[str]) -> list[int | str]:
        # value sets by their index in "value_sets"; curated sources by their key
        return sorted((index[k] for k in keys if k in index), key=int) + sorted(k for k in keys if k not in index)

    def concepts_out(table: dict[str, dict[str, set[str]]]) -> dict[str, Any]:
        return {
            code: [sorted(found), refs({s for srcs in found.values() for s in srcs})]
            for code, found in sorted(table.items())
            if found
        }

    ingredients = {
        name: {
            "classes": {cls: refs(srcs) for cls, srcs in sorted(classes.get(name, {}).items())},
            "rxcui": rx_ingredient.get(name),
        }
        for name in sorted(known)
        if name
    }

    cond_names: dict[str, list[Any]] = {}
    for source, table in curated["condition_names"].items():
        for name, concepts in table.items():
            cond_names[name] = [list(concepts), source]

    by_order = {s["key"]: s for s in sets}
    sources = [
        {"key": k, "title": by_order[k]["title"], "url": by_order[k]["url"], "version": by_order[k]["version"]}
        for k in order
    ]
    curated_sources = {k: " ".join(str(v).split()) for k, v in curated["sources"].items()}
    header = {
        "format": 1,
        "generated_by": "scripts/terminology/generate_terminology.py",
        "value_sets": sources,
        "curated_sources": curated_sources,
    }
    names_out = {
        **header,
        "ingredients": ingredients,
        "aliases": dict(sorted(aliases.items())),
        "brands": {b: [sorted(i), refs(brand_sources[b])] for b, i in sorted(brands.items())},
        "allergens": {a: refs(srcs) for a, srcs in sorted(allergens.items())},
        "salts": sorted(set(curated["salts"])),
        "forms": sorted(set(curated["forms"])),
        "condition_names": dict(sorted(cond_names.items())),
    }
    codes_out = {
        **header,
        "rxnorm": {code: [ings, refs(rx_sources[code])] for code, ings in sorted(rx_products.items())},
        "snomed_substances": dict(sorted(snomed_substances.items())),
        "snomed": concepts_out(snomed),
        "icd10cm": concepts_out(icd),
    }
    return names_out, codes_out


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=False, ensure_ascii=False, separators=(",", ":")) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--valuesets", type=Path, default=DEFAULT_VALUESETS)
    ap.add_argument("--check", action="store_true", help="exit 1 if the committed tables differ")
    args = ap.parse_args(argv)
    names_out, codes_out = build(args.valuesets)
    files = {OUT / "terminology-names.json": dump(names_out), OUT / "terminology-codes.json": dump(codes_out)}
    if args.check:
        stale = [p.name for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        if stale:
            rerun = "python scripts/terminology/generate_terminology.py"
            print(f"out of date: {', '.join(stale)}; run {rerun}", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
