"""The generated reference: fact fields, vocabularies and the medication table, as Markdown.

``python -m kapdecide.reference > docs/reference.md`` regenerates it; a test keeps it current.
"""

from __future__ import annotations

from . import vocabulary as v
from .facts import FIELDS


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
        "### Medication table (`medications`, `substance_use[].treatment`)",
        "",
        "Ingredient names map to interaction classes. RxNorm ingredient codes are from the clinical reference;",
        "apart from ketamine (6130) they are unverified there and are not used as the sole basis of any rule.",
        "A name not in this table is kept and reported as *not checked for interactions*.",
        "",
        "| class | ingredient (RxCUI) |",
        "|---|---|",
    ]
    for cls in v.DRUG_CLASSES:
        members = [m for m in v.MEDICATIONS.values() if m.drug_class == cls]
        out.append(f"| `{cls}` | " + ", ".join(f"{m.name} ({m.rxcui or 'n/a'})" for m in members) + " |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
