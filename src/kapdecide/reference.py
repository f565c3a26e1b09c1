"""The generated reference: fact fields, vocabularies, the medication table, the keys of a test-case
file and problem codes, as Markdown.

``python -m kapdecide.reference > docs/reference.md`` regenerates it; a test keeps it current.
"""

from __future__ import annotations

from kapdecide.core import vocabulary as v
from kapdecide.language.facts import FIELDS


def markdown() -> str:
    """docs/reference.md."""
    out = [
        "# kapdecide reference (generated)",
        "",
        "Generated from the source by `python -m kapdecide.reference`; do not edit by hand.",
        "",
        "## Fact fields that protocol conditions test",
        "",
        "Absent means unknown. `substance_use.<substance>.*` exists for every substance in the vocabulary;",
        "`medications.by_class.<class>` for every medication class.",
        "",
        "| field | type | values | meaning |",
        "|---|---|---|---|",
    ]
    for f in FIELDS.values():
        parts = f.name.split(".")
        if parts[0] == "substance_use" and len(parts) == 3 and parts[1] != "alcohol":
            continue
        if f.name.startswith("medications.by_class.") and not f.name.endswith(".benzodiazepine"):
            continue
        name = f.name.replace(".alcohol.", ".<substance>.").replace(".benzodiazepine", ".<class>")
        values = (
            ", ".join(f.vocabulary)
            if f.vocabulary and len(f.vocabulary) <= 12
            else ("see vocabulary below" if f.vocabulary else "")
        )
        desc = f.description.replace("alcohol: ", "").replace("benzodiazepine", "<class>")
        out.append(f"| `{name}` | {f.type} | {values} | {desc} |")
    out += ["", "## Profile vocabularies", ""]
    for title, items in (
        ("Substances (`substance_use[].substance`)", v.SUBSTANCES),
        ("Co-occurring conditions (`psychiatric.conditions`)", tuple(v.PSYCHIATRIC_CONDITIONS)),
    ):
        out.append(f"- {title}: " + ", ".join(f"`{x}`" for x in items))
    out += ["", "### Medical conditions (`medical_conditions`)", "", "| slug | meaning |", "|---|---|"]
    out += [f"| `{k}` | {d} |" for k, d in v.MEDICAL_CONDITIONS.items()]
    out += [
        "",
        "### Interaction classes (`medications`, `proposed_medications`, `substance_use[].treatment`)",
        "",
        "Medications are read through the terminology tables (README, Terminology): names, brands, salts,",
        "doses, combinations and RxNorm codes become ingredients, and each ingredient has the classes the",
        "published value sets and the curated additions give it. An entry the tables do not recognise is",
        "kept, reported under `unrecognised` and caps the status at eligible_with_precautions.",
        "",
        "| class | ingredients in the tables |",
        "|---|---|",
    ]
    from kapdecide.inputs import terminology as term

    names = term._names()["ingredients"]  # the committed table, read for the docs
    for cls in v.DRUG_CLASSES:
        members = sorted(n for n, e in names.items() if cls in e["classes"])
        shown = ", ".join(members[:40]) + (f" and {len(members) - 40} more" if len(members) > 40 else "")
        out.append(f"| `{cls}` | {shown} |")
    out += _cases_file()
    out += _codes()
    return "\n".join(out) + "\n"


def _cases_file() -> list[str]:
    from kapdecide.authoring.casefile import BasesFile, CaseModel, CasesFile, Expect

    out = [
        "",
        "## Protocol test-case files (`*.cases.yaml`)",
        "",
        "`kapdecide test` runs each cases file against the protocols beside it: the `protocols` it names,",
        "else the folder that holds its `tests/` folder (`PROTOCOLS/tests/NAME.cases.yaml` tests `PROTOCOLS/`);",
        "`--protocols` runs every file against the protocols given. A file named by `extends` (say",
        "`common.bases.yaml`, not `*.cases.yaml`, so it is not run as cases) holds `extends` and `bases` only.",
    ]
    for title, model in (
        ("A cases file", CasesFile),
        ("A bases file (named by `extends`)", BasesFile),
        ("A case (`cases[]`)", CaseModel),
        ("What a case expects (`cases[].expect`)", Expect),
    ):
        out += ["", f"### {title}", "", "| key | meaning |", "|---|---|"]
        out += [f"| `{name}` | {f.description} |" for name, f in model.model_fields.items()]
    return out


def _codes() -> list[str]:
    from kapdecide.core.codes import PROBLEM_CODES

    out = [
        "",
        "## Problem codes",
        "",
        "Every `code` kapdecide reports (in `file:line:col: severity [code]` lines, JSON problems and",
        "batch error records), from `codes.py`. Codes are stable: a new meaning gets a new code.",
        "",
        "| code | severity | stage | meaning |",
        "|---|---|---|---|",
    ]
    out += [f"| `{k}` | {c.severity} | {c.stage} | {c.summary} |" for k, c in PROBLEM_CODES.items()]
    return out


#: The lists ``kapdecide vocab`` prints, and where each is written in a profile.
VOCAB_LISTS: dict[str, str] = {
    "substances": "substance_use[].substance",
    "conditions": "psychiatric.conditions and medical_conditions",
    "medications": "medications, proposed_medications, substance_use[].treatment (read by name, brand or code)",
    "next-steps": "a rule's next_steps (protocol authors)",
}


def vocab(what: str) -> dict[str, dict[str, str]]:
    """The words kapdecide knows for one list, each with what it means (``kapdecide vocab``)."""
    if what == "substances":
        return {"substances": {s: s.replace("_", " ") for s in v.SUBSTANCES}}
    if what == "conditions":
        return {
            "psychiatric.conditions": dict(v.PSYCHIATRIC_CONDITIONS),
            "medical_conditions": dict(v.MEDICAL_CONDITIONS),
        }
    if what == "next-steps":
        return {"next_steps": dict(v.NEXT_STEPS)}
    from kapdecide.inputs import terminology as term

    names = term._names()["ingredients"]
    out = {}
    for cls in v.DRUG_CLASSES:
        members = sorted(n for n, e in names.items() if cls in e["classes"])
        out[cls] = ", ".join(members[:12]) + (f" and {len(members) - 12} more" if len(members) > 12 else "")
    return {"interaction classes (examples of ingredients)": out}


if __name__ == "__main__":
    print(markdown(), end="")
