"""Code tables for the FHIR R4 importer (:mod:`kapdecide.fhir`), kept as data.

Sources. Unless marked otherwise, codes come from the project's FHIR mapping reference
(``shared/fhir-mapping.md``), which checked them against VSAC value-set expansions
(``cqframework/ecqm-content-qicore-2024``, CC0), US Core, Synthea's modules and sample data, or the
CPIC drug table. Codes marked ``unverified=True`` (``†`` in that reference, or added here from the
importer author's knowledge and seen only in sample data) could not be cross-checked: confirm them
(LOINC search, SNOMED browser, RxNav) before a rule depends on them alone. Codes that appear in the
public sample bundles (``shared/fhir-samples``) are noted ``seen in samples``.

Matching rules (mapping reference section 1): match on ``system`` + ``code``, never on ``display``,
except for the documented medication-name fallback. ICD-10-CM codes are matched by prefix on the
dotted, upper-case code (``F1010`` is read as ``F10.10``); every matching prefix contributes, so
``F12.159`` is both a cannabis use disorder and a substance-induced psychosis. SNOMED CT has no usable
prefix structure: only the listed concepts match, and coverage of their descendants is incomplete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from kapdecide.core import vocabulary as v

# ---------------------------------------------------------------- systems (mapping reference, section 1)

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
"""WHO ICD-10: accepted as a lower-confidence fallback for ICD-10-CM (a warning names it)."""
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
BIRTHSEX_EXTENSION = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"


def system_of(uri: str) -> str:
    """The canonical system of ``uri``: SNOMED edition/version URIs collapse to :data:`SNOMED`."""
    uri = uri.strip()
    if uri.startswith("http://snomed.info/sct"):
        return SNOMED
    return uri


def normalise_icd10(code: str) -> str:
    """Upper-case, dotted ICD-10-CM code: ``f1010`` -> ``F10.10``."""
    c = code.strip().upper()
    if "." not in c and len(c) > 3:
        c = c[:3] + "." + c[3:]
    return c


# ---------------------------------------------------------------- condition concepts

ConceptKind = Literal[
    "substance",  # value: a kapdecide substance (profile substance_use[].substance)
    "psychosis",  # psychiatric.psychotic_disorder (active/past by clinical status)
    "bipolar",  # value: bipolar_i | bipolar_ii (unspecified type is bipolar_i: see below)
    "mania",  # psychiatric.mania (a manic, hypomanic or mixed episode code)
    "psych",  # value: a PSYCHIATRIC_CONDITIONS slug
    "medical",  # value: a MEDICAL_CONDITIONS slug
    "pregnancy",  # pregnancy.status evidence
    "breastfeeding",  # pregnancy.breastfeeding evidence
    "suicidal_ideation",  # psychiatric.suicidal_ideation evidence (severity is never coded)
    "suicidal_behavior",  # psychiatric.suicidal_behavior_past_3_months evidence
    "not_mapped",  # a known concept deliberately not mapped; value: the reason (reported as unmapped)
]


@dataclass(frozen=True)
class Concept:
    """What one condition code means to kapdecide."""

    kind: ConceptKind
    value: str = ""
    unverified: bool = False


def _c(kind: ConceptKind, value: str = "", unverified: bool = False) -> tuple[Concept, ...]:
    return (Concept(kind, value, unverified),)


def _sub(substance: str, unverified: bool = False) -> tuple[Concept, ...]:
    return _c("substance", substance, unverified)


def _med(slug: str, unverified: bool = False) -> tuple[Concept, ...]:
    return _c("medical", slug, unverified)


def _psy(slug: str, unverified: bool = False) -> tuple[Concept, ...]:
    return _c("psych", slug, unverified)


_PSYCHOSIS = _c("psychosis")
_SUBSTANCE_PSYCHOSIS = (Concept("psychosis"), Concept("medical", "substance_induced_psychosis"))
_PREGNANCY = _c("pregnancy")

#: Medical slugs that record lifetime history (a resolved Condition still counts); all others are
#: listed only while the Condition is current (mapping reference, section 6, "Condition").
LIFETIME_MEDICAL = frozenset(
    {
        "hypertensive_encephalopathy",
        "aneurysmal_vascular_disease",
        "arteriovenous_malformation",
        "intracerebral_hemorrhage",
        "ischemic_stroke",
        "transient_ischemic_attack",
        "myocardial_infarction",
        "acute_coronary_syndrome",
        "coronary_revascularization",
        "cirrhosis",
        "seizure_disorder",
        "substance_induced_psychosis",
        "ketamine_uropathy",
    }
)
#: Medical slugs whose date matters (vocabulary.CORONARY_EVENTS): the entry carries the Condition's
#: onset (or recorded) date. For "history of" codes that date is on or after the event itself, so the
#: days since the event can only be under-estimated: the conservative direction.
DATED_MEDICAL = frozenset(v.CORONARY_EVENTS)

# Substance use disorders, ICD-10-CM F10-F19 (mapping reference, section 3). The 4th character is
# abuse (1), dependence (2) or use NOS (9); severity is never derived from it (DSM-5 severity does not
# map one-to-one). ".x1" is "in remission": the disorder is still listed, remission left unknown.
_ICD_SUBSTANCE = {
    "F10": "alcohol",
    "F11": "opioids",
    "F12": "cannabis",
    "F13": "sedatives",
    "F14": "cocaine",
    "F15": "other_stimulants",  # amphetamine-type; ICD-10-CM does not separate methamphetamine
    "F16": "hallucinogens",  # includes PCP-type use (DSM-5-TR); ketamine has no ICD-10-CM code
    "F17": "nicotine",
    "F18": "other",  # inhalants
    "F19": "other",  # other / multiple psychoactive substances
}

#: ICD-10-CM prefixes (dotted, upper case) -> concepts. Every matching prefix contributes.
ICD10_PREFIXES: dict[str, tuple[Concept, ...]] = {
    **{p: _sub(s) for p, s in _ICD_SUBSTANCE.items()},
    # psychosis: schizophrenia spectrum, and mood disorders "with psychotic features"
    **dict.fromkeys(("F20", "F21", "F22", "F23", "F24", "F25", "F28", "F29"), _PSYCHOSIS),
    "F06.0": _c("psychosis", unverified=True),
    "F06.2": _c("psychosis", unverified=True),
    "F30.2": (Concept("psychosis"), Concept("mania")),
    "F31.2": (Concept("psychosis"), Concept("mania")),
    "F31.5": _PSYCHOSIS,
    "F31.64": _PSYCHOSIS,  # current episode mixed, severe, with psychotic features
    "F32.3": _PSYCHOSIS,
    "F33.3": _PSYCHOSIS,
    # bipolar and mania. F31 without a type code is recorded as bipolar_i (the profile has no
    # "unspecified"; both types trigger the same rules). F31.81 is bipolar II.
    "F31": _c("bipolar", "bipolar_i"),
    "F31.81": _c("bipolar", "bipolar_ii", unverified=True),
    "F30": _c("mania"),
    "F31.0": _c("mania"),  # current episode hypomanic
    "F31.1": _c("mania"),  # current episode manic without psychotic features
    "F31.6": _c("mania"),  # current episode mixed
    "F34.0": _c("not_mapped", "cyclothymia: not bipolar I/II in the profile vocabulary; review"),
    # depression, trauma, anxiety and other co-occurring conditions
    "F32": _psy("major_depressive_disorder"),
    "F33": _psy("major_depressive_disorder"),
    "F34.1": _psy("persistent_depressive_disorder", unverified=True),
    "F43.1": _psy("ptsd"),
    "F41.0": _psy("panic_disorder"),
    "F41.1": _psy("generalized_anxiety_disorder"),
    "F40.1": _psy("social_anxiety_disorder", unverified=True),
    "F42": _psy("obsessive_compulsive_disorder", unverified=True),
    "F90": _psy("adhd", unverified=True),
    "F50": _psy("eating_disorder", unverified=True),
    "F60.3": _psy("borderline_personality_disorder", unverified=True),
    "F51.0": _psy("insomnia", unverified=True),
    "G47.0": _psy("insomnia", unverified=True),
    "G89.2": _psy("chronic_pain", unverified=True),
    # suicidality
    "R45.851": _c("suicidal_ideation", unverified=True),
    "T14.91": _c("suicidal_behavior"),
    "Z91.51": _c("suicidal_behavior", unverified=True),
    # cardiovascular and cerebrovascular
    **{p: _med("hypertension") for p in ("I10", "I11", "I12", "I13", "I15", "I16")},
    "I67.4": _med("hypertensive_encephalopathy", unverified=True),
    "I71": _med("aneurysmal_vascular_disease"),
    "I79.0": _med("aneurysmal_vascular_disease"),
    "I72": _med("aneurysmal_vascular_disease", unverified=True),
    "I67.1": _med("aneurysmal_vascular_disease"),
    "Q28.2": _med("arteriovenous_malformation"),
    "Q28.0": _med("arteriovenous_malformation"),
    "Q28.3": _med("arteriovenous_malformation", unverified=True),
    "I60": _med("intracerebral_hemorrhage"),  # subarachnoid (e.g. ruptured aneurysm)
    "I61": _med("intracerebral_hemorrhage"),
    "I62": _med("intracerebral_hemorrhage"),
    **{p: _med("intracerebral_hemorrhage", unverified=True) for p in ("S06.3", "S06.4", "S06.5", "S06.6")},
    "I63": _med("ischemic_stroke", unverified=True),
    "G45": _med("transient_ischemic_attack", unverified=True),
    "I64": _c("not_mapped", "stroke of unspecified type: record ischemic_stroke or intracerebral_hemorrhage"),
    "I21": _med("myocardial_infarction"),
    "I22": _med("myocardial_infarction"),
    "I25.2": _med("myocardial_infarction"),
    "I24": _med("acute_coronary_syndrome", unverified=True),
    "I20.0": _med("unstable_angina", unverified=True),
    "I25.1": _med("stable_coronary_disease", unverified=True),
    "Z95.1": _med("coronary_revascularization", unverified=True),
    "Z95.5": _med("coronary_revascularization", unverified=True),
    "I50": _med("heart_failure", unverified=True),
    **{p: _med("arrhythmia", unverified=True) for p in ("I47", "I48", "I49")},
    **{p: _med("valvular_heart_disease", unverified=True) for p in ("I34", "I35", "I36", "I37")},
    # eye, thyroid, liver, bladder
    "H40.2": _med("angle_closure_glaucoma"),
    "E05": _med("hyperthyroidism"),
    "K70.3": _med("cirrhosis", unverified=True),
    "K74.6": _med("cirrhosis", unverified=True),
    **{p: _med("hepatic_impairment") for p in ("K70.4", "K72.1", "K72.9", "K76.6", "K76.7", "I85")},
    "N30.1": _med("interstitial_cystitis"),
    # neurology, cognition, lungs, sleep, other
    "G40": _med("seizure_disorder", unverified=True),
    **{p: _med("dementia", unverified=True) for p in ("F01", "F02", "F03", "G30")},
    "G31.84": _med("mild_cognitive_impairment", unverified=True),
    "F05": _med("delirium", unverified=True),
    "J44": _med("copd", unverified=True),
    "J43": _med("copd", unverified=True),
    "G47.33": _med("obstructive_sleep_apnea", unverified=True),
    **{p: _med("diabetes", unverified=True) for p in ("E08", "E09", "E10", "E11", "E13")},
    "N18": _med("chronic_kidney_disease", unverified=True),
    # pregnancy: chapter 15 O09-O9A, except abortive outcomes (O00-O08), delivery (O80-O84), the
    # puerperium (O85-O92) and sequelae (O94). Hypertension in pregnancy (O10-O16) is both.
    **{f"O{n:02d}": _PREGNANCY for n in (9, *range(20, 30), *range(30, 49), *range(60, 78), 98, 99)},
    "O9A": _PREGNANCY,
    **{f"O{n:02d}": (Concept("pregnancy"), Concept("medical", "hypertension")) for n in range(10, 17)},
    "Z33.1": _PREGNANCY,
    "Z33.3": _PREGNANCY,
    "Z34": _PREGNANCY,
    "Z3A": _PREGNANCY,
    "Z39.1": _c("breastfeeding", unverified=True),
    "O92": _c("breastfeeding", unverified=True),
}

#: ICD-10-CM substance-induced psychotic disorder: F1x.x5x (e.g. F12.159, F10.950).
ICD10_SUBSTANCE_PSYCHOSIS = re.compile(r"^F1\d\.[129]5")


def icd10_concepts(code: str) -> tuple[Concept, ...]:
    """Every concept an ICD-10-CM code maps to (union over matching prefixes), in a stable order."""
    c = normalise_icd10(code)
    out: list[Concept] = []
    for k in range(3, len(c) + 1):
        out.extend(ICD10_PREFIXES.get(c[:k], ()))
    if ICD10_SUBSTANCE_PSYCHOSIS.match(c):
        out.extend(_SUBSTANCE_PSYCHOSIS)
    return tuple(dict.fromkeys(out))


#: SNOMED CT concept id -> concepts (exact match only).
SNOMED_CONDITIONS: dict[str, tuple[Concept, ...]] = {
    # substance use disorders
    "7200002": _sub("alcohol"),  # Alcoholism; seen in samples
    "66590003": _sub("alcohol"),
    "15167005": _sub("alcohol"),
    "5602001": _sub("opioids"),  # Opioid abuse; seen in samples
    "75544000": _sub("opioids"),
    "1081000119105": _sub("opioids"),
    "37344009": _sub("cannabis"),
    "85005007": _sub("cannabis"),
    "64386003": _sub("sedatives"),
    "427327003": _sub("sedatives"),
    "231473004": _sub("sedatives"),
    "78267003": _sub("cocaine"),
    "31956009": _sub("cocaine"),
    "441527004": _sub("other_stimulants"),
    "442406005": _sub("other_stimulants"),
    "21647008": _sub("other_stimulants"),
    "699449003": _sub("methamphetamine"),
    "426873000": _sub("methamphetamine"),
    "268646008": _sub("hallucinogens"),
    "38247002": _sub("hallucinogens"),
    "7071007": _sub("hallucinogens"),  # PCP abuse
    "58727001": _sub("hallucinogens"),  # PCP dependence
    "724713006": _sub("ketamine"),
    "724715004": _sub("ketamine"),
    "724719005": (Concept("substance", "ketamine"), *_SUBSTANCE_PSYCHOSIS),
    "56294008": _sub("nicotine", unverified=True),
    # Synthea risk findings: deliberately not diagnoses (mapping reference, section 5)
    "10939881000119105": _c("not_mapped", "unhealthy alcohol drinking is a risk finding, not a use-disorder diagnosis"),
    "6525002": _c("not_mapped", "drug dependence without a coded substance: record the substance use disorder"),
    "361055000": _c("not_mapped", "'misuses drugs' is a finding without a substance or diagnosis: review"),
    "55680006": _c("not_mapped", "drug overdose is an event, not a use-disorder diagnosis: review"),
    "1149222004": _c("not_mapped", "drug overdose is an event, not a use-disorder diagnosis: review"),
    "449868002": _c("not_mapped", "'smokes tobacco daily' is a finding, not a nicotine use-disorder diagnosis"),
    "77176002": _c("not_mapped", "'smoker' is a finding, not a nicotine use-disorder diagnosis"),
    "8517006": _c("not_mapped", "'ex-smoker' is a finding, not a use-disorder diagnosis"),
    # psychosis (111482003: seen in samples without display; README names it schizophrenia)
    "58214004": _PSYCHOSIS,
    "69322001": _PSYCHOSIS,
    "68890003": _PSYCHOSIS,
    "111482003": _c("psychosis", unverified=True),
    # bipolar, mania
    "13746004": _c("bipolar", "bipolar_i"),  # bipolar disorder, type not coded
    "371596008": _c("bipolar", "bipolar_i"),
    "83225003": _c("bipolar", "bipolar_ii"),
    # depression, trauma, anxiety, other
    "370143000": _psy("major_depressive_disorder"),  # seen in samples
    "36923009": _psy("major_depressive_disorder"),
    "66344007": _psy("major_depressive_disorder"),
    "35489007": _c("not_mapped", "depressive disorder NOS is not major depressive disorder: review"),
    "1153570009": (Concept("psych", "treatment_resistant_depression"), Concept("psych", "major_depressive_disorder")),
    "47505003": _psy("ptsd"),  # seen in samples
    "21897009": _psy("generalized_anxiety_disorder"),
    "371631005": _psy("panic_disorder"),
    "197480006": _c("not_mapped", "anxiety disorder of unspecified type: no matching vocabulary slug"),
    "80583007": _c("not_mapped", "severe anxiety (panic) is a finding, not panic disorder: review"),
    "192127007": _psy("adhd", unverified=True),  # Child attention deficit disorder; seen in samples
    "82423001": _psy("chronic_pain", unverified=True),  # seen in samples
    # suicidality
    "6471006": _c("suicidal_ideation"),
    "82313006": _c("suicidal_behavior", unverified=True),  # suicide attempt
    "225444004": _c("not_mapped", "'at increased risk for suicide' is a risk finding: assess ideation (C-SSRS)"),
    # hypertension
    "38341003": _med("hypertension"),  # Synthea <= 2019; seen in samples
    "59621000": _med("hypertension"),  # newer Synthea; seen in samples
    "371125006": _med("hypertension"),  # labile; seen in samples
    "1201005": _med("hypertension"),
    "443482000": _med("hypertension"),
    "50490005": _med("hypertensive_encephalopathy", unverified=True),
    # aneurysm, AVM, haemorrhage, stroke
    "73067008": _med("aneurysmal_vascular_disease"),
    "14336007": _med("aneurysmal_vascular_disease"),
    "308546005": _med("aneurysmal_vascular_disease"),
    "67362008": _med("aneurysmal_vascular_disease", unverified=True),
    "128609009": _med("aneurysmal_vascular_disease", unverified=True),
    "230719004": (Concept("medical", "aneurysmal_vascular_disease"), Concept("medical", "intracerebral_hemorrhage")),
    "234142008": _med("arteriovenous_malformation"),
    "277299009": (Concept("medical", "arteriovenous_malformation"), Concept("medical", "intracerebral_hemorrhage")),
    "274100004": _med("intracerebral_hemorrhage"),
    "1386000": _med("intracerebral_hemorrhage"),
    "422504002": _med("ischemic_stroke", unverified=True),
    "266257000": _med("transient_ischemic_attack", unverified=True),
    "230690007": _c("not_mapped", "stroke of unspecified type: record ischemic_stroke or intracerebral_hemorrhage"),
    # coronary
    "22298006": _med("myocardial_infarction"),
    "57054005": _med("myocardial_infarction"),
    "401303003": _med("myocardial_infarction"),
    "401314000": _med("myocardial_infarction"),
    "399211009": _med("myocardial_infarction"),  # history of MI (Synthea)
    "399261000": _med("coronary_revascularization", unverified=True),  # history of CABG; seen in samples
    "53741008": _med("stable_coronary_disease", unverified=True),  # CHD; seen in samples
    "414545008": _med("stable_coronary_disease", unverified=True),  # IHD; seen in samples
    "84114007": _med("heart_failure", unverified=True),
    "42343007": _med("heart_failure", unverified=True),
    "88805009": _med("heart_failure", unverified=True),  # chronic CHF; seen in samples
    "49436004": _med("arrhythmia", unverified=True),  # atrial fibrillation
    # eye, thyroid, liver, bladder
    "392291006": _med("angle_closure_glaucoma"),
    "23986001": _c("not_mapped", "glaucoma of unspecified type: record angle_closure or open_angle glaucoma"),
    "84494001": _c("not_mapped", "open-angle glaucoma: record open_angle_glaucoma if treated and controlled"),
    "90739004": _med("hyperthyroidism"),
    "34486009": _med("hyperthyroidism", unverified=True),
    "19943007": _med("cirrhosis"),
    "420054005": _med("cirrhosis"),
    "59927004": _med("hepatic_impairment"),
    "197834003": _med("interstitial_cystitis"),
    "111409009": _med("interstitial_cystitis"),  # ulcerative cystitis; cause (ketamine?) not coded: warned
    # neurology, cognition, lungs, sleep, other
    "84757009": _med("seizure_disorder", unverified=True),  # epilepsy; seen in samples
    "128613002": _med("seizure_disorder", unverified=True),  # seen in samples
    "26929004": _med("dementia", unverified=True),  # Alzheimer's disease; seen in samples
    "52448006": _med("dementia", unverified=True),
    "386805003": _med("mild_cognitive_impairment", unverified=True),
    "2776000": _med("delirium", unverified=True),
    "13645005": _med("copd", unverified=True),
    "185086009": _med("copd", unverified=True),
    "87433001": _med("copd", unverified=True),
    "78275009": _med("obstructive_sleep_apnea", unverified=True),
    "44054006": _med("diabetes", unverified=True),
    "73211009": _med("diabetes", unverified=True),
    "709044004": _med("chronic_kidney_disease", unverified=True),
    # pregnancy (10231000132102 IVF pregnancy: seen in samples)
    "77386006": _PREGNANCY,
    "72892002": _PREGNANCY,  # Normal pregnancy (Synthea); seen in samples
    "47200007": _PREGNANCY,
    "10231000132102": _PREGNANCY,
    "398254007": _PREGNANCY,
    "198992004": (Concept("pregnancy"), Concept("medical", "hypertension")),  # antepartum eclampsia
    "79586000": _PREGNANCY,
    # breastfeeding
    "866041003": _c("breastfeeding"),
    "1260078007": _c("breastfeeding"),
    "69840006": _c("breastfeeding"),
    "413712001": _c("breastfeeding", unverified=True),
}

#: Words in a Condition's display/text that make an *unmapped* code worth a warning (never a
#: mapping): a contraindication the tables may have missed because SNOMED children are not expanded.
ALERT_WORDS = re.compile(
    r"psychos|psychotic|schizo|bipolar|mani[ac]|suicid|pregnan|aneurysm|arteriovenous|haemorrhag|hemorrhag"
    r"|infarct|ketamine|glaucoma|cystitis|breast ?feed|lactat",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- medications (RxNorm, section 4)

#: RxNorm ingredient (IN) codes -> ingredient, from the medication table (vocabulary.MEDICATIONS;
#: unverified there apart from ketamine 6130), plus ingredients the mapping reference names.
RXNORM_INGREDIENTS: dict[str, str] = {
    **{ing.rxcui: ing.name for ing in v.MEDICATIONS.values() if ing.rxcui},
    "7242": "naloxone",
    "7407": "nicotine",
    "6816": "methamphetamine",
}

#: Product-level RxCUIs (SCD/SBD/GPCK) -> every ingredient. From the mapping reference (section 4)
#: and the sample bundles (displays checked there); all other product codes need the name fallback
#: or an offline RxNav ``related?tty=IN`` expansion. Co-ingredients that the medication table does
#: not know (naloxone, acetaminophen, donepezil) are kept: they are reported as not checked.
RXNORM_PRODUCTS: dict[str, tuple[str, ...]] = {
    "563026": ("diazepam",),  # Diazepam [Valium] (Synthea 2019)
    "197591": ("diazepam",),  # diazepam 5 MG Oral Tablet
    "1153378": ("clonazepam",),  # Clonazepam [Klonopin] (Synthea 2019)
    "204892": ("clonazepam",),  # clonazepam 0.25 MG
    "351266": ("buprenorphine", "naloxone"),  # buprenorphine / naloxone sublingual tablet
    "1010600": ("buprenorphine", "naloxone"),  # buprenorphine 2 MG / naloxone 0.5 MG film (eCQM)
    "864706": ("methadone",),  # methadone 10 MG
    "1483744": ("naltrexone",),  # naltrexone 50 MG
    "1091392": ("methylphenidate",),  # Methylphenidate Hydrochloride 20 MG Oral Tablet
    "1599803": ("donepezil", "memantine"),  # 24 HR donepezil 10 MG / memantine 28 MG
    "198031": ("nicotine",),  # 24hr nicotine transdermal patch
    "328670": ("sertraline",),  # Sertraline 100MG
    "856980": ("acetaminophen", "hydrocodone"),  # Acetaminophen/Hydrocodone
    "316049": ("hydrochlorothiazide",),  # Hydrochlorothiazide 25 MG
    "310798": ("hydrochlorothiazide",),  # Hydrochlorothiazide 25 MG Oral Tablet
    "314076": ("lisinopril",),  # lisinopril 10 MG Oral Tablet
    "308136": ("amlodipine",),  # amLODIPine 2.5 MG Oral Tablet
    "197361": ("amlodipine",),  # Amlodipine 5 MG Oral Tablet (seen in samples)
    "866412": ("metoprolol",),  # 24 HR metoprolol succinate 100 MG
    "1049630": ("diphenhydramine",),  # diphenhydrAMINE Hydrochloride 25 MG (seen in samples)
}
