"""What an input is, from its first bytes or its top-level keys: FHIR XML, a FHIR JSON Bundle, or a
CDS Hooks request. Light on purpose: the pipeline asks on every input, and a YAML profile must not
pay for importing the FHIR mapping."""

from __future__ import annotations

import re

FHIR_XML_MESSAGE = "FHIR XML is not supported; send the Bundle as FHIR JSON (application/fhir+json)"
FHIR_NAMESPACE = "http://hl7.org/fhir"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def is_fhir_bundle(data: object) -> bool:
    """Whether parsed JSON is a FHIR Bundle."""
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def is_fhir_xml(raw: bytes) -> bool:
    """Whether ``raw`` is FHIR XML: after an optional byte-order mark and whitespace it starts with
    ``<`` (an XML declaration or an element) and it names the FHIR namespace. A YAML or JSON profile
    never starts with ``<``."""
    encoding = "utf-8"
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            raw, encoding = raw[len(bom) :], enc
            break
    head = raw[:4096].decode(encoding, errors="replace").lstrip()
    if not head.startswith("<"):
        return False
    return FHIR_NAMESPACE.encode(encoding) in raw


def cds_hooks_hook(data: object) -> str | None:
    """For a CDS Hooks request (an object with ``hook`` and ``hookInstance``, ``context`` or
    ``prefetch``), its hook name, cleaned for a message (control characters removed, truncated);
    otherwise None. A profile or a Bundle never has a ``hook`` key."""
    if not isinstance(data, dict) or "hook" not in data:
        return None
    if not any(key in data for key in ("hookInstance", "context", "prefetch")):
        return None
    hook = data["hook"]
    text = hook if isinstance(hook, str) else repr(hook)
    return " ".join(_CONTROL.sub(" ", text).split())[:60].strip() or "?"


def cds_hooks_message(hook: str) -> str:
    """The message for a CDS Hooks request given where a profile or a Bundle is expected."""
    return (
        f"this is a CDS Hooks request (hook '{hook}'), not a profile or a FHIR Bundle: pass its prefetch "
        "Bundle, or call the CDS Hooks service"
    )
