"""One way in: input bytes (or parsed data) → a checked profile → a report.

Every caller uses it: ``assess`` and ``explain`` on one input, each batch line, ``diff``, protocol
test cases, ``replay`` (and the CDS Hooks service to come). A safety check (the size limits, the
refusal of FHIR XML and CDS Hooks requests, FHIR import, the model, the consistency check, the date
rule) therefore changes in one place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kapdecide.core.errors import InvalidInputError
from kapdecide.inputs.yaml_source import SourceError, SourceMap, decode, load_json

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report
    from kapdecide.inputs.edits import ProfileEdit
    from kapdecide.inputs.fhir import FhirImport
    from kapdecide.inputs.profile import Profile
    from kapdecide.language.facts import Value
    from kapdecide.protocol.loader import LoadedProtocol

#: A single input is read at most this many bytes + 1 (so /dev/zero or an endless pipe is refused).
MAX_INPUT_BYTES = 64 << 20
#: FHIR Bundles are larger than profiles (the real samples reach 2.2 MB); refused above this.
MAX_BUNDLE_BYTES = 64 << 20
CONTRADICTORY = "the profile has contradictory or impossible values"
NO_DATE = "no assessment date: give assessed_on in the profile (or as_of in a test case)"


@dataclass(frozen=True)
class Checked:
    """A profile that passed every input check, ready to assess."""

    profile: Profile
    smap: SourceMap
    """Where each value stands in the input (for located warnings)."""
    as_of: dt.date
    imported: FhirImport | None = None
    """The FHIR import it came from (provenance, warnings, unmapped codes), if any."""
    edits: dict[str, Any] = field(default_factory=dict)
    """What-if edits of the profile (path -> the value written; None: removed), already applied."""
    edited_at: tuple[tuple[str, ProfileEdit], ...] = ()
    """The data path each edit wrote, to locate a warning about an edited value at its --what-if."""


def assessment_date(explicit: dt.date | None, profile: Profile, today: dt.date | None) -> dt.date:
    """The one date rule: an explicit date (``--as-of``, a case's ``as_of``) wins, then the profile's
    ``assessed_on``, then today."""
    day = explicit or profile.assessed_on or today
    if day is None:
        raise InvalidInputError(NO_DATE)
    return day


def check_size(raw: bytes, label: str) -> None:
    """Refuse an input over MAX_INPUT_BYTES (the reader reads at most one byte more)."""
    if len(raw) > MAX_INPUT_BYTES:
        raise InvalidInputError(
            f"{label} is larger than {MAX_INPUT_BYTES >> 20} MiB: not a profile or a FHIR Bundle kapdecide reads"
        )


def read_bundle(raw: bytes, name: str, input_format: str = "auto") -> dict[str, Any] | None:
    """The FHIR Bundle in ``raw`` (by content, or forced with ``input_format="fhir"``), else None.

    Inputs that are neither a profile nor a FHIR JSON Bundle but are recognisably something else are
    refused (exit 2) with a message that says what they are, whatever ``input_format`` says: FHIR
    XML, and a CDS Hooks request (an object with ``hook`` and ``hookInstance``, ``context`` or
    ``prefetch``).
    """
    from kapdecide.inputs.sniff import FHIR_XML_MESSAGE, is_fhir_bundle, is_fhir_xml

    if is_fhir_xml(raw):  # starts with "<": never a YAML or JSON profile
        raise InvalidInputError(FHIR_XML_MESSAGE, code="fhir-xml")
    # A Bundle is JSON that names resourceType somewhere (often after its entries), a CDS Hooks request
    # JSON that names "hook"; YAML profiles, and JSON profiles without these keys, go straight to the
    # profile loader.
    json_object = raw[:4096].lstrip().startswith(b"{")
    maybe_hooks = json_object and b'"hook"' in raw
    if input_format == "profile" and not maybe_hooks:
        return None
    if input_format == "auto" and not (json_object and (maybe_hooks or b'"resourceType"' in raw)):
        return None
    try:
        data = load_json(decode(raw, name, MAX_BUNDLE_BYTES), name)
    except SourceError as exc:
        if input_format == "fhir":
            raise InvalidInputError("the FHIR Bundle could not be read", exc.problems) from None
        return None
    refuse_cds_hooks_request(data)
    if input_format == "profile":
        return None
    if is_fhir_bundle(data):
        return dict(data)
    if input_format == "fhir":
        raise InvalidInputError(f'{name} is not a FHIR R4 Bundle (resourceType must be "Bundle")')
    return None


def refuse_cds_hooks_request(data: Any) -> None:
    """A CDS Hooks request is not a profile: say what it is and where it belongs (exit 2)."""
    from kapdecide.inputs.sniff import cds_hooks_hook, cds_hooks_message

    hook = cds_hooks_hook(data)
    if hook is not None:
        raise InvalidInputError(cds_hooks_message(hook), code="cds-hooks-request")


def import_bundle(bundle: dict[str, Any], smap: SourceMap, day: dt.date) -> tuple[FhirImport, Profile]:
    """Map a Bundle for an assessment on ``day`` and validate the profile it maps to."""
    from kapdecide.inputs.fhir import map_bundle
    from kapdecide.inputs.profile import validate_profile_data

    imported = map_bundle(bundle, day)
    return imported, validate_profile_data(imported.profile, smap)


def _edited(
    data: Any, smap: SourceMap, edits: Sequence[ProfileEdit], as_of: dt.date | None, today: dt.date | None
) -> Checked:
    """Profile data with what-if edits applied, then every check (problems in an edited value are
    located at its --what-if)."""
    from kapdecide.inputs.edits import apply_edits, relocate
    from kapdecide.inputs.profile import validate_profile_data

    data, applied, written = apply_edits(data, edits, as_of, today)
    try:
        model = validate_profile_data(data, smap)
        checked = _checked(model, smap, assessment_date(as_of, model, today))
    except InvalidInputError as exc:
        exc.problems = relocate(exc.problems, written)
        raise
    return Checked(checked.profile, smap, checked.as_of, edits=applied, edited_at=tuple(written))


def from_bytes(
    raw: bytes,
    name: str,
    *,
    input_format: str = "auto",
    as_of: dt.date | None = None,
    today: dt.date | None,
    edits: Sequence[ProfileEdit] = (),
) -> Checked:
    """A profile file's or a Bundle's bytes, checked; ``as_of`` is an explicit date (it wins);
    ``edits`` (what-if profile paths) are applied before any check."""
    from kapdecide.inputs.profile import load_profile_bytes

    bundle = read_bundle(raw, name, input_format)
    if bundle is not None:
        return _from_bundle(bundle, SourceMap(f"{name} (mapped from FHIR)"), as_of, today, edits)
    if edits:
        from kapdecide.inputs.yaml_source import MAX_PROFILE_BYTES, load

        try:
            data, smap = load(decode(raw, name, MAX_PROFILE_BYTES), name)
        except SourceError as exc:
            raise InvalidInputError("the profile could not be read", exc.problems) from None
        return _edited(data, smap, edits, as_of, today)
    model, smap = load_profile_bytes(raw, name)
    return _checked(model, smap, assessment_date(as_of, model, today))


def from_data(data: Any, smap: SourceMap, *, as_of: dt.date | None = None, today: dt.date | None) -> Checked:
    """Parsed data (a JSON line, a test case's merged profile), checked: a FHIR Bundle is imported, a
    CDS Hooks request refused, anything else validated as a profile."""
    from kapdecide.inputs.profile import validate_profile_data
    from kapdecide.inputs.sniff import is_fhir_bundle

    refuse_cds_hooks_request(data)
    if is_fhir_bundle(data):
        return _from_bundle(data, smap, as_of, today)
    model = validate_profile_data(data, smap)
    return _checked(model, smap, assessment_date(as_of, model, today))


def _from_bundle(
    bundle: dict[str, Any],
    smap: SourceMap,
    as_of: dt.date | None,
    today: dt.date | None,
    edits: Sequence[ProfileEdit] = (),
) -> Checked:
    """A Bundle mapped for the explicit date, else today (ages and recency depend on it), then checked."""
    when = as_of or today
    if when is None:
        raise InvalidInputError(NO_DATE)
    if edits:
        from dataclasses import replace

        from kapdecide.inputs.fhir import map_bundle

        imported = map_bundle(bundle, when)
        checked = _edited(imported.profile, smap, edits, as_of, today)
        return replace(checked, imported=imported)
    imported, model = import_bundle(bundle, smap, when)
    return _checked(model, smap, assessment_date(as_of, model, today), imported)


def _checked(model: Profile, smap: SourceMap, day: dt.date, imported: FhirImport | None = None) -> Checked:
    from kapdecide.inputs.consistency import check_consistency

    problems = check_consistency(model, day, smap)
    if problems:
        raise InvalidInputError(CONTRADICTORY, problems)
    return Checked(model, smap, day, imported)


def report(
    checked: Checked,
    protocols: Sequence[LoadedProtocol],
    overrides: Mapping[str, Value | None] | None = None,
    *,
    explain: bool = False,
) -> Report:
    """The report for a checked input: the assessment, its FHIR sources, and (``explain``) why."""
    from kapdecide.assessment.assess import assess

    out = assess(checked.profile, protocols, checked.as_of, overrides, edits=checked.edits)
    if checked.imported is not None:
        from kapdecide.assessment.provenance import annotate, input_source

        imp = checked.imported
        source = input_source(imp.patient_id, imp.resources_read, imp.warnings, imp.unmapped)
        out = annotate(out, imp.provenance, source)
    if explain:
        from kapdecide.assessment.explain import with_explanation

        out = with_explanation(out, checked.profile, protocols, checked.as_of, overrides)
    return out
