"""The terminology layer: names, brands, salts, doses, combinations and codes -> concepts.

The per-class counts check that every RxNorm product in the published value sets for each class
the protocol tests maps to that class; a drop fails. The generator test regenerates the committed
tables from ../shared/valuesets (skipped when that folder is absent).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kapdecide.inputs import terminology as t

ROOT = Path(__file__).resolve().parents[3]
VALUESETS = ROOT.parent / "shared" / "valuesets"
GENERATOR = ROOT / "scripts" / "terminology" / "generate_terminology.py"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.mark.parametrize(
    ("written", "ingredients", "cls"),
    [
        ("Xanax", ("alprazolam",), "benzodiazepine"),
        ("XANAX 0.5 mg tablet", ("alprazolam",), "benzodiazepine"),
        ("Ativan 1mg", ("lorazepam",), "benzodiazepine"),
        ("Valium", ("diazepam",), "benzodiazepine"),
        ("Klonopin 0.5 mg bid", ("clonazepam",), "benzodiazepine"),
        ("flurazepam 30 mg", ("flurazepam",), "benzodiazepine"),
        ("buprenorphine/naloxone", ("buprenorphine", "naloxone"), "opioid"),
        ("buprenorphine-naloxone 8-2 mg film", ("buprenorphine", "naloxone"), "opioid"),
        ("Suboxone 8/2 mg", ("buprenorphine", "naloxone"), "opioid"),
        ("Subutex", ("buprenorphine",), "opioid"),
        ("Sublocade 300 mg monthly", ("buprenorphine",), "opioid"),
        ("Methadose 95 mg", ("methadone",), "opioid"),
        ("meperidine", ("meperidine",), "opioid"),
        ("oxycodone and acetaminophen", ("oxycodone", "acetaminophen"), "opioid"),
        ("Percocet 5/325", ("acetaminophen", "oxycodone"), "opioid"),
        ("Vivitrol 380 mg IM", ("naltrexone",), "opioid_antagonist"),
        ("Adderall XR 20 mg", ("amphetamine", "dextroamphetamine"), "psychostimulant"),
        ("Ritalin", ("methylphenidate",), "psychostimulant"),
        ("Lamictal 100 mg", ("lamotrigine",), "lamotrigine"),
        ("Nardil", ("phenelzine",), "maoi"),
        ("Parnate", ("tranylcypromine",), "maoi"),
        ("Emsam patch", ("selegiline",), "maoi"),
        ("dextromethorphan/bupropion", ("dextromethorphan", "bupropion"), "nmda_antagonist"),
        ("Auvelity", ("bupropion", "dextromethorphan"), "bupropion"),
        ("carbamazepine", ("carbamazepine",), "cyp_inducer"),
        ("verapamil ER 240 mg", ("verapamil",), "cyp_inhibitor"),
        ("cobicistat", ("cobicistat",), "cyp_inhibitor"),
        ("ritonavir", ("ritonavir",), "cyp_inhibitor"),
        ("lithium carbonate 300 mg", ("lithium",), "mood_stabilizer"),
        ("ketamine hydrochloride", ("ketamine",), "ketamine"),
        ("Spravato 56 mg", ("esketamine",), "ketamine"),
        ("amlodipine besylate 5 mg", ("amlodipine",), "antihypertensive"),
        ("olmesartan medoxomil", ("olmesartan",), "antihypertensive"),
        ("sertraline 100mg daily", ("sertraline",), "ssri_snri"),
    ],
)
def test_medication_text_is_read_as_written(written: str, ingredients: tuple[str, ...], cls: str) -> None:
    m = t.match_drug_text(written)
    assert m.recognised, m
    assert set(m.ingredients) == set(ingredients)
    assert any(cls in t.ingredient_classes(i) for i in m.ingredients)


def test_a_combination_with_an_unknown_part_keeps_the_known_part_and_reports_the_rest() -> None:
    m = t.match_drug_text("oxycodone / frobnicol")
    assert m.ingredients == ("oxycodone",)
    assert m.unknown == ("frobnicol",)
    assert not m.recognised


def test_an_unknown_medication_is_not_recognised_with_a_did_you_mean() -> None:
    m = t.match_drug_text("Zoloftt")
    assert not m.recognised and m.ingredients == ()
    assert m.suggestion == "zoloft"
    assert t.match_drug_text("Unknownium").suggestion is None


@pytest.mark.parametrize(
    "written", ["Ketalar", "KETALAR", "Spravato", "ketamine hydrochloride", "esketamine", "arketamine", "Ketanest S"]
)
def test_every_ketamine_product_salt_or_brand_is_a_ketamine_allergy(written: str) -> None:
    m = t.match_drug_text(written)
    assert t.is_ketamine_allergy(m, written)


def test_an_unrecognised_allergen_naming_ketamine_is_still_a_ketamine_allergy() -> None:
    written = "ketamine-containing anaesthetic (unknown product)"
    assert t.is_ketamine_allergy(t.match_drug_text(written), written)
    assert not t.is_ketamine_allergy(t.match_drug_text("penicillin"), "penicillin")


@pytest.mark.parametrize(
    ("code", "ingredients"),
    [
        ("1010600", {"buprenorphine", "naloxone"}),  # buprenorphine 2 MG / naloxone 0.5 MG film (MOUD set)
        ("6130", {"ketamine"}),  # ingredient code (US Core allergy substances)
        ("6470", {"lorazepam"}),
    ],
)
def test_rxnorm_codes(code: str, ingredients: set[str]) -> None:
    assert set(t.match_drug(None, "rxnorm", code).ingredients) == ingredients


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("schizophrenia", "psychosis", ""),
        ("Schizoaffective disorder", "psychosis", ""),
        ("bipolar ii", "bipolar", "bipolar_ii"),
        ("Heart attack", "medical", "myocardial_infarction"),
        ("history of stroke", "medical", "ischemic_stroke"),
        ("Alzheimer's disease", "medical", "dementia"),
        ("major_depressive_disorder", "psych", "major_depressive_disorder"),
        ("heart failure", "medical", "heart_failure"),
        ("PTSD", "psych", "ptsd"),
        ("MDD, recurrent", "psych", "major_depressive_disorder"),  # course and severity as EHRs write them
        ("Major depressive disorder, recurrent, moderate", "psych", "major_depressive_disorder"),
        ("MDD single episode, severe", "psych", "major_depressive_disorder"),
    ],
)
def test_condition_names_and_synonyms(text: str, kind: str, value: str) -> None:
    m = t.match_condition_text(text)
    assert m.recognised
    assert any(c.kind == kind and c.value == value for c in m.concepts), m


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("Schizophrenia, paranoid type", {"psychosis"}),
        ("schizophrenia (in remission)", {"psychosis"}),
        ("bipolar affective disorder, current episode manic", {"bipolar", "mania"}),
        ("manic episode", {"mania"}),
        ("Psychostimulant dependence", set()),  # not a psychosis
        ("schizoid personality disorder", set()),
        ("MDD, severe, with psychotic features", {"psychosis"}),  # a qualifier never hides a safety word
        ("Psychotic depression, recurrent", {"psychosis", "psych"}),
    ],
)
def test_safety_words_in_qualified_names(text: str, kinds: set[str]) -> None:
    assert {c.kind for c in t.match_condition_text(text).concepts} == kinds


@pytest.mark.parametrize(
    ("written", "ingredients", "unknown"),
    [
        ("Tylenol (with codeine)", {"acetaminophen", "codeine"}, ()),
        ("acetaminophen (+ oxycodone)", {"acetaminophen", "oxycodone"}, ()),
        ("Tylenol #3", {"acetaminophen", "codeine"}, ()),
        ("hydrocodone-APAP 5/325", {"hydrocodone", "acetaminophen"}, ()),
        ("lorazepam (Ativan) 1 mg", {"lorazepam"}, ()),
        ("methadone (discontinued)", set(), ("methadone (discontinued)",)),
        ("Tylenol (frobnicol)", {"acetaminophen"}, ("frobnicol",)),
    ],
)
def test_brackets_status_words_and_numbered_brands(
    written: str, ingredients: set[str], unknown: tuple[str, ...]
) -> None:
    m = t.match_drug_text(written)
    assert set(m.ingredients) == ingredients
    assert m.unknown == unknown


@pytest.mark.parametrize("written", ["Ketamin", "ketamnie", "KETAMINE HCL 50MG/ML"])
def test_a_misspelt_ketamine_allergy_is_still_a_ketamine_allergy(written: str) -> None:
    assert t.is_ketamine_allergy(t.match_drug_text(written), written)


@pytest.mark.parametrize(
    "text", ["asthma", "hiv", "complex_regional_pain_syndrome", "MDD, recurrent, in full remission"]
)
def test_conditions_outside_the_vocabulary_are_not_recognised(text: str) -> None:
    assert not t.match_condition_text(text).recognised


def test_a_misspelt_condition_gets_a_suggestion_close_in_spelling_not_an_unrelated_word() -> None:
    assert t.match_condition_text("arrythmia").suggestion == "arrhythmia"
    assert t.match_condition_text("hypertensoin").suggestion == "hypertension"
    # a safety word inside a misspelt or qualified name still counts (fail safe)
    assert t.match_condition_text("schizophrenai").recognised
    assert t.match_condition_text("asthma").suggestion is None  # never "arrhythmia"


@pytest.mark.parametrize(
    ("system", "code", "kinds"),
    [
        # SNOMED CT codes from the published value sets, not from a hand list
        ("snomed", "35252006", {"psychosis"}),  # from the schizophrenia / psychotic disorder set
        ("snomed", "230690007", {"medical:ischemic_stroke"}),  # stroke, type not coded (conservative)
        ("icd-10-cm", "F31.64", {"bipolar:bipolar_i", "psychosis", "mania"}),
        ("icd-10-cm", "F3164", {"bipolar:bipolar_i", "psychosis", "mania"}),
        ("icd-10-cm", "I63.9", {"medical:ischemic_stroke"}),
        ("icd-10-cm", "G30.0", {"medical:dementia"}),
    ],
)
def test_condition_codes(system: str, code: str, kinds: set[str]) -> None:
    got = {f"{c.kind}:{c.value}" if c.value else c.kind for c in t.condition_code_concepts(system, code)}
    assert kinds <= got, got


def _published(cls_files: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in cls_files:
        for path in VALUESETS.glob(f"{name}*.json"):
            vs = json.loads(path.read_text(encoding="utf-8"))
            for c in (vs.get("expansion") or {}).get("contains", []):
                if c.get("system") == RXNORM:
                    out[c["code"]] = c.get("display", "")
    return out


#: class -> (value-set files, classes every product must map to, products counted at generation: a drop fails).
CLASS_SETS: dict[str, tuple[list[str], set[str], int]] = {
    "opioids": (
        [
            "2.16.840.1.113762.1.4.1046.241",
            "2.16.840.1.113762.1.4.1196.226",
            "2.16.840.1.113762.1.4.1248.120",
            "opioid-analgesics",
            "synthetic-opioid",
            "non-synthetic-opioid",
            "fentanyl-type",
        ],
        {"opioid"},
        804,
    ),
    "benzodiazepines": (
        ["2.16.840.1.113762.1.4.1125.1", "benzodiazepine-medications", "2.16.840.1.113883.3.464.1003.196.12.1522"],
        {"benzodiazepine"},
        208,
    ),
    "moud": (["2.16.840.1.113762.1.4.1046.269", "buprenorphine-and-methadone"], {"opioid", "opioid_antagonist"}, 86),
    "z-drugs and barbiturates": (
        ["2.16.840.1.113883.3.464.1003.196.12.1480", "2.16.840.1.113883.3.464.1003.1055", "barbiturate-medications"],
        {"cns_depressant"},
        134,
    ),
    "antidepressants": (
        ["2.16.840.1.113883.3.464.1003.196.12.1213", "2.16.840.1.113762.1.4.1248.163"],
        {"antidepressant"},
        184,
    ),
    "stimulants": (["amphetamines-class-medications", "2.16.840.1.113883.3.464.1003.1176"], {"psychostimulant"}, 224),
    "antihypertensives": (
        ["2.16.840.1.113762.1.4.1248.164", "2.16.840.1.113883.3.526.1577"],
        {"antihypertensive"},
        437,
    ),
    "dementia drugs": (["2.16.840.1.113883.3.464.1003.196.12.1510"], {"dementia_drug"}, 33),
}


@pytest.mark.skipif(not VALUESETS.is_dir(), reason="../shared/valuesets is not beside the project")
@pytest.mark.parametrize("group", sorted(CLASS_SETS))
def test_every_published_product_of_a_class_maps_to_the_class(group: str) -> None:
    files, classes, minimum = CLASS_SETS[group]
    products = _published(files)
    unmapped = [
        f"{code} {display}"
        for code, display in products.items()
        if not any(set(t.ingredient_classes(i)) & classes for i in t.rxnorm_ingredients(code))
    ]
    assert not unmapped, unmapped[:10]
    assert len(products) - len(unmapped) >= minimum


def test_maois_in_the_antidepressant_sets_are_maois() -> None:
    for name in ("phenelzine", "tranylcypromine", "isocarboxazid", "selegiline"):
        assert {"maoi", "antidepressant"} <= set(t.ingredient_classes(name)), name


def test_every_table_entry_names_its_source() -> None:
    names = json.loads((ROOT / "src/kapdecide/inputs/data/terminology-names.json").read_text(encoding="utf-8"))
    curated = set(names["curated_sources"])
    for name, entry in names["ingredients"].items():
        for cls, refs in entry["classes"].items():
            assert refs, (name, cls)
            assert all(isinstance(r, int) or r in curated for r in refs), (name, cls, refs)
    for brand, (_, refs) in names["brands"].items():
        assert refs and all(isinstance(r, int) or r in curated for r in refs), brand
    for cond, (_, source) in names["condition_names"].items():
        assert source in curated, cond


@pytest.mark.skipif(not VALUESETS.is_dir(), reason="../shared/valuesets is not beside the project")
def test_committed_tables_are_what_the_generator_produces() -> None:
    out = subprocess.run(
        [sys.executable, str(GENERATOR), "--check", "--valuesets", str(VALUESETS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
