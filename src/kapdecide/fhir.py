"""FHIR R4 import: a patient Bundle (JSON) becomes a kapdecide profile, with provenance.

Plain ``json`` data and dict access, one indexing pass and one mapping pass over the entries (no
typed FHIR model: importing one costs about a second per call, see ``shared/fhir-samples/README.md``).
Code tables live in :mod:`kapdecide.fhir_codes`; FHIR patterns follow ``shared/fhir-mapping.md``.

Fail safe. What the bundle does not say stays unknown: nothing is set to ``none``, ``false`` or ``[]``
from absence. Every list the importer fills is named in ``incomplete_lists``, because a record's list
is not a complete answer. Codes the tables do not know are reported in ``unmapped``, never guessed;
a *current* Condition whose codes map to nothing is also kept in ``medical_conditions`` as a coded
entry, so the assessment lists it as not recognised and never reads it as absent. Codes are read
through :mod:`kapdecide.terminology` (value-set tables, ICD-10-CM structure, curated codes); a
medication or allergy with no known code is read by its text or display like a clinician's free
text (brands, salts, doses, combinations).
Skipped data (implausible, dated after the assessment, malformed) is reported in ``warnings``.

Conservative choices (DESIGN CHOICE, documented here and in the importer's report):

- Age: from a full ``birthDate``. A partial one (``1988`` or ``1988-10``) that leaves the age
  ambiguous on the assessment date gives *no* age (warned): either end of the range can cross a
  protocol threshold (under 18, 65 or over), so neither end is conservative for every rule.
- Sex at birth: the US Core birthsex extension (F/M); otherwise administrative ``gender`` (male or
  female only) as a proxy, with a warning. Positive evidence of pregnancy or breastfeeding in a
  patient recorded as male drops ``sex_at_birth`` (warned) and keeps the pregnancy evidence.
- Pregnancy: ``pregnant`` from a current pregnancy Condition, a pregnancy-status Observation or a
  positive qualitative hCG, if dated within 300 days (an older "current" pregnancy is a stale record:
  status left unknown, warned); ``not_pregnant`` only from a pregnancy-status Observation "Not
  pregnant" within 30 days and never against positive evidence. ``last_negative_test`` is the latest
  negative qualitative hCG not followed by a positive one. For a male patient without positive
  evidence the pregnancy section is left out (so the profile's male default applies), warned.
- Point-in-time values are taken from the latest usable reading and only if recent: heart rate and
  PHQ-9 within 30 days, weight within 90 days, AUDIT within 365 days. Blood pressure: every usable
  reading is kept; kapdecide itself applies the protocol's freshness limit.
- Conditions: clinicalStatus active/recurrence/relapse is current; inactive/remission/resolved is
  history; absent falls back to ``abatement[x]``. refuted and entered-in-error are dropped;
  unconfirmed, provisional and differential are *used* (a possible contraindication is not dropped)
  and warned. Psychosis, aneurysm, haemorrhage, stroke, MI and similar are lifetime history
  (``fhir_codes.LIFETIME_MEDICAL``); other medical and psychiatric co-occurring conditions are listed
  only while current. A substance use disorder is listed whatever its status (remission is history of
  the disorder) with severity, remission, last use and withdrawal left unknown.
- Suicidality: a current suicidal-ideation Condition dated within 30 days is recorded as
  ``active_without_plan`` (severity is never coded; the conservative reading), otherwise it is only
  warned. A suicide attempt dated within 90 days sets ``suicidal_behavior_past_3_months: true``.
- Medications: MedicationRequest active/on-hold and MedicationStatement active/intended are current;
  completed/stopped are history (not listed); cancelled and entered-in-error are ignored; ``unknown``
  is listed with a warning. A product the tables do not know keeps its name, so that the report shows
  it as "not checked for interactions".
- Dispensed and administered drugs are current medications when recent (the record of a supply is
  evidence of use; an interaction is flagged rather than missed):

  - MedicationDispense with status completed, in-progress or on-hold (or no status) is current if
    ``whenHandedOver`` (else ``whenPrepared``) is at most ``daysSupply`` + 30 days
    (``DISPENSE_GRACE_DAYS``) before the assessment date when ``daysSupply`` is a Quantity in days
    (unit ``d``, ``day`` or ``days``), else at most 90 days (``DISPENSE_DEFAULT_DAYS``) before it.
  - MedicationAdministration with status completed, in-progress or on-hold is current if
    ``effectiveDateTime`` (or ``effectivePeriod``: its end, else its start) is at most 30 days
    (``ADMINISTRATION_MAX_AGE_DAYS``) before the assessment date; an in-progress administration with
    an open period (no end) is ongoing, so current whatever its start.
  - entered-in-error, cancelled, declined, not-done and stopped are ignored. Any other status
    (``preparation``, ``unknown``, unrecognised) and a record with no date are listed as current with
    a warning. Older records are not current (grouped in a warning); records dated after the
    assessment date are ignored (grouped in a warning), as for requests and statements.
- Proposed medications: a MedicationRequest with status ``draft``, or intent ``proposal`` with status
  active, draft or on-hold, is a drug being considered, not taken: its names go to
  ``proposed_medications`` (provenance ``proposed_medications.<name>``, not in ``incomplete_lists``),
  with a warning, so that the report checks it for interactions instead of silently dropping it.
- The input must say whose record it is: a Bundle with no Patient resource is invalid input
  (``InvalidInputError``, exit 2), never an empty profile. FHIR XML (:func:`is_fhir_xml`) and a
  CDS Hooks request (:func:`cds_hooks_hook`) are recognised by the callers and refused with a message
  that says what the input is.
- Allergies: active and not refuted/entered-in-error. "No known allergy" (716186003) never becomes an
  allergy; alone, it gives ``allergies: []`` as a recorded answer (the one list not marked incomplete).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import clock
from . import fhir_codes as fc
from . import terminology as term
from . import vocabulary as v
from .errors import InvalidInputError

HR_MAX_AGE_DAYS = 30
PHQ9_MAX_AGE_DAYS = 30
WEIGHT_MAX_AGE_DAYS = 90
AUDIT_MAX_AGE_DAYS = 365
PREGNANT_MAX_AGE_DAYS = 300  # about 43 weeks: a longer "current" pregnancy is a stale record
NOT_PREGNANT_MAX_AGE_DAYS = 30
BREASTFEEDING_TRUE_MAX_AGE_DAYS = 365
SUICIDAL_IDEATION_DAYS = 30  # the profile field means "past month"
SUICIDAL_BEHAVIOR_DAYS = 90
#: DESIGN CHOICE (conservative: an interaction is flagged rather than missed). A dispense is current
#: for its days' supply plus this grace (late refills, tablets left over), or DISPENSE_DEFAULT_DAYS
#: when the supply is not given in days.
DISPENSE_GRACE_DAYS = 30
DISPENSE_DEFAULT_DAYS = 90
ADMINISTRATION_MAX_AGE_DAYS = 30

READ_TYPES = frozenset(
    {
        "Patient",
        "Condition",
        "Observation",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationDispense",
        "MedicationAdministration",
        "AllergyIntolerance",
    }
)
NO_PATIENT_MESSAGE = (
    "the FHIR Bundle has no Patient resource: kapdecide cannot tell whose record this is; "
    "export the Bundle with the Patient"
)
FHIR_XML_MESSAGE = "FHIR XML is not supported; send the Bundle as FHIR JSON (application/fhir+json)"
FHIR_NAMESPACE = "http://hl7.org/fhir"
_OBS_USE = frozenset({"final", "amended", "corrected"})
_OBS_DROP = frozenset({"entered-in-error", "cancelled", "registered", "unknown"})
_COND_CURRENT = frozenset({"active", "recurrence", "relapse"})
_COND_HISTORY = frozenset({"inactive", "remission", "resolved"})
_VER_DROP = frozenset({"refuted", "entered-in-error"})
_VER_UNCONFIRMED = frozenset({"unconfirmed", "provisional", "differential"})
_MEDREQ_CURRENT = frozenset({"active", "on-hold"})
_MEDREQ_HISTORY = frozenset({"completed", "stopped"})
_MEDSTMT_CURRENT = frozenset({"active", "intended"})
_MEDREQ_INTENT_OK = frozenset({"order", "plan", "original-order", "reflex-order", "filler-order", "instance-order"})
_MEDREQ_PROPOSAL_STATUS = frozenset({"active", "draft", "on-hold"})
_SUPPLY_CURRENT = frozenset({"completed", "in-progress", "on-hold"})  # MedicationDispense and -Administration
_SUPPLY_DROP = frozenset({"entered-in-error", "cancelled", "declined", "not-done", "stopped"})
_DAY_UNITS = frozenset({"d", "day", "days"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class FhirImport:
    """The result of mapping one Bundle."""

    profile: dict[str, Any]
    """Plain data in the profile format (validates with ``profile.validate_profile_data``)."""
    provenance: dict[str, list[str]]
    """Profile item (e.g. ``medications.diazepam``) -> sorted unique ``ResourceType/id`` references."""
    unmapped: list[dict[str, str | None]]
    """Codes the tables do not know: ``{resource, system, code, display, reason}``, one per
    (resource type, system, code), naming the first resource that carried it."""
    warnings: list[str]
    resources_read: int
    """Resources of the types the importer reads that belong to the imported Patient (incl. it)."""
    patient_id: str | None


def is_fhir_bundle(data: object) -> bool:
    """Whether parsed JSON is a FHIR Bundle."""
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def map_bundle(bundle: dict[str, Any], as_of: dt.date) -> FhirImport:
    """Map a FHIR R4 Bundle to a profile for an assessment on ``as_of``.

    Raises :class:`InvalidInputError` when the Bundle has no Patient resource."""
    return _Mapper(as_of).run(bundle)


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
    return _clean(hook if isinstance(hook, str) else repr(hook), 60) or "?"


def cds_hooks_message(hook: str) -> str:
    """The message for a CDS Hooks request given where a profile or a Bundle is expected."""
    return (
        f"this is a CDS Hooks request (hook '{hook}'), not a profile or a FHIR Bundle: pass its prefetch "
        "Bundle, or call the CDS Hooks service"
    )


# ---------------------------------------------------------------- small helpers


def _s(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codings(cc: Any) -> list[tuple[str, str, str | None]]:
    """(system, code, display) of a CodeableConcept; systems canonicalised."""
    out = []
    for c in _list(_dict(cc).get("coding")):
        c = _dict(c)
        system, code = _s(c.get("system")), _s(c.get("code"))
        if system and code:
            out.append((fc.system_of(system), code, _s(c.get("display"))))
    return out


def _label(cc: Any) -> str | None:
    """A CodeableConcept's text or first display, for messages and names."""
    cc = _dict(cc)
    text = _s(cc.get("text"))
    if text:
        return text
    for _, _, display in _codings(cc):
        if display:
            return display
    return None


def _status_code(cc: Any) -> str | None:
    for _, code, _ in _codings(cc):
        return code
    return None


def _clean(text: str, limit: int = 200) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())[:limit].strip()


def _round(x: float) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _number(value: Any) -> float | None:
    """A finite number, or None ("NaN", "inf" and non-numbers are not values)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class _When:
    """A FHIR date/dateTime/instant: ``key`` (aware UTC, for ordering) and ``day`` (as written)."""

    key: dt.datetime
    day: dt.date
    precise: bool  # a full date at least


def _when(value: Any) -> _When | None:
    """Parse a FHIR date, dateTime or instant; partial dates take their *latest* possible day."""
    text = _s(value)
    if text is None:
        return None
    try:
        if len(text) == 4:
            day = dt.date(int(text), 12, 31)
            return _When(dt.datetime(day.year, 12, 31, tzinfo=dt.UTC), day, False)
        if len(text) == 7:
            y, m = int(text[:4]), int(text[5:7])
            nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
            day = nxt - dt.timedelta(days=1)
            return _When(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), day, False)
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return _When(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC), day, True)
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    # an instant with an offset falls on its day in the run's zone (clock.py), not the day as written:
    # 2026-11-22T08:00+11:00 is still 2026-11-21 in UTC, so it is not "after" an assessment that day
    day = clock.local_day(stamp)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=clock.zone())
    return _When(stamp.astimezone(dt.UTC), day, True)


def _effective(r: dict[str, Any]) -> _When | None:
    """Observation time: effectiveDateTime, effectiveInstant, effectivePeriod (end, else start), issued."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if key in r:
            return _when(r[key])
    if "effectivePeriod" in r:
        period = _dict(r["effectivePeriod"])
        return _when(period.get("end")) or _when(period.get("start"))
    return _when(r.get("issued"))


def _onset(r: dict[str, Any]) -> _When | None:
    """Condition date: onsetDateTime, onsetPeriod.start, else recordedDate."""
    if "onsetDateTime" in r:
        w = _when(r["onsetDateTime"])
        if w:
            return w
    if "onsetPeriod" in r:
        period = _dict(r["onsetPeriod"])
        w = _when(period.get("start")) or _when(period.get("end"))
        if w:
            return w
    return _when(r.get("recordedDate"))


def _version_key(r: dict[str, Any]) -> tuple[int, str]:
    meta = _dict(r.get("meta"))
    version = _s(meta.get("versionId")) or ""
    when = _when(meta.get("lastUpdated"))
    return (int(version) if version.isdigit() else -1, when.key.isoformat() if when else "")


def _entered_in_error(r: dict[str, Any]) -> bool:
    return r.get("status") == "entered-in-error" or _status_code(r.get("verificationStatus")) == "entered-in-error"


def _strip_history(ref: str) -> str:
    i = ref.find("/_history/")
    return ref[:i] if i >= 0 else ref


# ---------------------------------------------------------------- the mapper


@dataclass
class _Reading:
    when: _When
    value: float
    ref: str


class _Mapper:
    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self.prov: dict[str, set[str]] = {}
        self.unmapped: dict[tuple[str, str, str], dict[str, str | None]] = {}
        self.warnings: list[str] = []
        self.grouped: dict[str, list[str]] = {}
        self.read = 0
        # patient
        self.patient: dict[str, Any] = {}
        self.patient_id: str | None = None
        self.patient_keys: set[str] = set()
        self.patient_identifiers: set[str] = set()
        self.other_patient_keys: set[str] = set()
        self.sex_from_proxy = False
        # indexes
        self.by_url: dict[str, dict[str, Any]] = {}
        # observations
        self.bp: list[tuple[_When, int, int, list[str]]] = []
        self.bp_parts: dict[tuple[dt.datetime, str | None], tuple[_When, dict[str, tuple[float, str]]]] = {}
        self.hr: list[_Reading] = []
        self.weight: list[_Reading] = []
        self.phq9: list[_Reading] = []
        self.audit: list[_Reading] = []
        self.preg_obs: list[tuple[_When, str, str]] = []
        self.hcg: list[tuple[_When, bool, str]] = []
        self.bf_obs: list[tuple[_When, bool, str]] = []
        # conditions
        self.substances: dict[str, set[str]] = {}
        self.psychosis: str | None = None
        self.bipolar: str | None = None
        self.mania: str | None = None
        self.suicidal_ideation: str | None = None
        self.suicidal_behavior: bool | None = None
        self.last_suicidal_behavior: dt.date | None = None
        self.psych: set[str] = set()
        self.medical: dict[tuple[str, str | None], None] = {}
        self.unrecognised_conditions: dict[str, dict[str, str]] = {}
        self.coded_allergies: dict[str, dict[str, str]] = {}
        self.preg_conditions: list[tuple[_When | None, str]] = []
        self.bf_condition = False
        # medications, allergies
        self.meds: set[str] = set()
        self.proposed: set[str] = set()
        self.allergies: set[str] = set()
        self.nka: list[str] = []

    # -------------------------------------------------- bookkeeping

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def group(self, message: str, ref: str) -> None:
        self.grouped.setdefault(message, []).append(ref)

    def cite(self, key: str, *refs: str) -> None:
        self.prov.setdefault(key, set()).update(refs)

    def report_unmapped(self, ref: str, codings: list[tuple[str, str, str | None]], cc: Any, reason: str) -> None:
        rtype = ref.split("/", 1)[0]
        if not codings:
            key = (rtype, "", _label(cc) or "")
            self.unmapped.setdefault(
                key, {"resource": ref, "system": None, "code": None, "display": _label(cc), "reason": reason}
            )
            return
        system, code, display = codings[0]
        self.unmapped.setdefault(
            (rtype, system, code),
            {"resource": ref, "system": system, "code": code, "display": display or _label(cc), "reason": reason},
        )

    def days_ago(self, when: _When) -> int:
        return (self.as_of - when.day).days

    # -------------------------------------------------- passes

    def run(self, bundle: dict[str, Any]) -> FhirImport:
        entries = _list(bundle.get("entry")) if isinstance(bundle, dict) else []
        if not is_fhir_bundle(bundle):
            self.warn("input is not a FHIR Bundle: nothing imported")
        resources: list[tuple[int, str | None, dict[str, Any]]] = []
        patients: list[tuple[str | None, dict[str, Any]]] = []
        for i, entry in enumerate(entries):
            resource = _dict(entry).get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not _s(resource.get("resourceType")):
                self.warn(f"entry {i} skipped: no resource with a resourceType")
                continue
            url = _s(_dict(entry).get("fullUrl"))
            rtype = resource["resourceType"]
            rid = _s(resource.get("id"))
            if url:
                self.by_url[url] = resource
            if rid:
                self.by_url[f"{rtype}/{rid}"] = resource
            if rtype == "Patient":
                patients.append((url, resource))
            elif rtype in READ_TYPES:
                resources.append((i, url, resource))
        self.choose_patient([(url, p) for _, url, p in self.latest_versions([(0, url, p) for url, p in patients])])
        if self.patient_id is not None or self.patient_keys:
            for i, _url, resource in self.latest_versions(resources):
                ref = self.ref_of(resource, i)
                try:
                    self.dispatch(resource, ref)
                except Exception as exc:  # one malformed resource must not sink the import
                    self.warn(f"{ref} skipped: malformed resource ({type(exc).__name__}: {_clean(str(exc), 120)})")
        elif resources:
            self.warn(
                "the Patient has no id and no fullUrl: no resource can be attributed to it, only its demographics "
                "were imported"
            )
        return self.result()

    def latest_versions(
        self, items: list[tuple[int, str | None, dict[str, Any]]]
    ) -> list[tuple[int, str | None, dict[str, Any]]]:
        """One resource per type and id: the latest version (meta.versionId, then meta.lastUpdated,
        then the later entry) wins, and a latest version marked entered-in-error cancels the resource.
        The same reading twice in a Bundle would otherwise count twice (a blood-pressure mean)."""
        groups: dict[tuple[str, str], list[tuple[int, str | None, dict[str, Any]]]] = {}
        out: list[tuple[int, str | None, dict[str, Any]]] = []
        for item in items:
            rid = _s(item[2].get("id"))
            if rid is None:
                out.append(item)
            else:
                groups.setdefault((item[2]["resourceType"], rid), []).append(item)
        for (rtype, rid), versions in groups.items():
            if len(versions) > 1:
                self.group(
                    "resources that appeared more than once were read once (their latest version)", f"{rtype}/{rid}"
                )
            latest = max(enumerate(versions), key=lambda iv: (_version_key(iv[1][2]), iv[0]))[1]
            if _entered_in_error(latest[2]):
                if len(versions) > 1:
                    self.group("resources whose latest version is entered-in-error were cancelled", f"{rtype}/{rid}")
                continue
            out.append(latest)
        out.sort(key=lambda item: item[0])
        return out

    def ref_of(self, resource: dict[str, Any], index: int) -> str:
        rid = _s(resource.get("id"))
        return f"{resource['resourceType']}/{rid}" if rid else f"{resource['resourceType']}/(entry {index})"

    def choose_patient(self, patients: list[tuple[str | None, dict[str, Any]]]) -> None:
        if not patients:
            raise InvalidInputError(NO_PATIENT_MESSAGE, code="fhir-no-patient")
        if len(patients) > 1:
            ids = ", ".join(f"Patient/{_s(p.get('id')) or '?'}" for _, p in patients)
            self.warn(
                f"the bundle holds {len(patients)} Patients ({ids}); only the first was imported and the "
                "others' resources were ignored: check that this is the right patient"
            )
        for n, (url, p) in enumerate(patients):
            keys = {url} if url else set()
            pid = _s(p.get("id"))
            if pid:
                keys.add(f"Patient/{pid}")
            if n == 0:
                self.patient_id, self.patient_keys = pid, keys
                for ident in _list(p.get("identifier")):
                    ident = _dict(ident)
                    value, system = _s(ident.get("value")), _s(ident.get("system"))
                    if value:
                        self.patient_identifiers.add(value)
                        if system:
                            self.patient_identifiers.add(f"{system}|{value}")
            else:
                self.other_patient_keys |= keys
        self.read += 1
        try:
            self.map_patient(patients[0][1], f"Patient/{self.patient_id or '(entry)'}")
        except Exception as exc:
            self.warn(f"the Patient resource could not be read ({type(exc).__name__}); demographics left unknown")

    def belongs(self, reference: Any) -> bool:
        ref = _s(_dict(reference).get("reference"))
        if ref is None:
            return False
        ref = _strip_history(ref)
        if ref in self.patient_keys:
            return True
        pid = self.patient_id
        if pid and (ref == f"Patient/{pid}" or ref.endswith(f"/Patient/{pid}")):
            return True
        if ref.startswith("Patient?"):
            for part in ref[len("Patient?") :].split("&"):
                name, _, value = part.partition("=")
                if name == "identifier" and value in self.patient_identifiers:
                    return True
        return False

    def dispatch(self, r: dict[str, Any], ref: str) -> None:
        rtype = r["resourceType"]
        subject = r.get("patient") if rtype == "AllergyIntolerance" else r.get("subject")
        if not self.belongs(subject):
            target = _s(_dict(subject).get("reference"))
            if target is None:
                self.group(f"{rtype} resources without a subject were ignored", ref)
            else:
                self.group(f"{rtype} resources about another subject were ignored", ref)
            return
        self.read += 1
        if rtype == "Observation":
            self.map_observation(r, ref)
        elif rtype == "Condition":
            self.map_condition(r, ref)
        elif rtype in ("MedicationRequest", "MedicationStatement"):
            self.map_medication(r, ref)
        elif rtype in ("MedicationDispense", "MedicationAdministration"):
            self.map_supply(r, ref)
        elif rtype == "AllergyIntolerance":
            self.map_allergy(r, ref)

    # -------------------------------------------------- Patient

    def map_patient(self, p: dict[str, Any], ref: str) -> None:
        if self.patient_id and len(self.patient_id) <= 190:
            self.patient["ref"] = _clean(f"Patient/{self.patient_id}")
        birth = _s(p.get("birthDate"))
        if birth:
            self.map_age(birth, ref)
        sex = None
        birthsex = [_dict(x) for x in _list(p.get("extension")) if _dict(x).get("url") == fc.BIRTHSEX_EXTENSION]
        for ext in birthsex:
            sex = {"F": "female", "M": "male"}.get(str(ext.get("valueCode")))
        if birthsex and sex is None:
            self.warn("the birthsex extension records sex at birth as unknown: left unknown (gender not used)")
        elif sex is None and p.get("gender") in ("male", "female"):
            sex = p["gender"]
            self.sex_from_proxy = True
            self.warn(
                f"sex at birth taken from administrative gender ({sex}) because the record has no US Core "
                "birthsex extension: gender is only a proxy, confirm it"
            )
        if sex:
            self.patient["sex_at_birth"] = sex
            self.cite("patient.sex_at_birth", ref)
        if p.get("deceasedBoolean") is True or "deceasedDateTime" in p:
            when = _s(p.get("deceasedDateTime"))
            self.warn(
                f"the Patient is recorded as deceased{f' ({when})' if when else ''}: this record cannot describe "
                "a patient to assess; check that the right record was exported"
            )

    def map_age(self, birth: str, ref: str) -> None:
        parts = birth.split("-")
        try:
            year = int(parts[0])
            month = int(parts[1]) if len(parts) > 1 else None
            day = int(parts[2][:2]) if len(parts) > 2 else None
            if day is not None and month is not None:
                earliest = latest = dt.date(year, month, day)
            elif month is not None:
                earliest = dt.date(year, month, 1)
                latest = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
            else:
                earliest, latest = dt.date(year, 1, 1), dt.date(year, 12, 31)
        except (ValueError, IndexError):
            self.warn(f"birthDate {birth!r} is not a date: age left unknown")
            return

        def age(born: dt.date) -> int:
            a = self.as_of
            return a.year - born.year - ((a.month, a.day) < (born.month, born.day))

        oldest, youngest = age(earliest), age(latest)
        if oldest != youngest:
            self.warn(
                f"birthDate {birth} is partial: age is {youngest} or {oldest} on {self.as_of.isoformat()}, "
                "left unknown (record the age)"
            )
            return
        if not 0 <= youngest <= 120:
            self.warn(f"birthDate {birth} gives an implausible age ({youngest}) on {self.as_of}: age left unknown")
            return
        self.patient["age"] = youngest
        self.cite("patient.age", ref)

    # -------------------------------------------------- Observation

    def map_observation(self, r: dict[str, Any], ref: str) -> None:
        status = _s(r.get("status"))
        if status in _OBS_DROP:
            return
        codings = _codings(r.get("code"))
        loinc = [code for system, code, _ in codings if system == fc.LOINC]
        components = [_dict(c) for c in _list(r.get("component"))]
        comp_codes = {code for c in components for system, code, _ in _codings(c.get("code")) if system == fc.LOINC}
        is_bp_panel = any(c in fc.BP_PANELS for c in loinc) or bool(
            comp_codes & fc.SYSTOLIC and comp_codes & fc.DIASTOLIC
        )
        kind = "bp_panel" if is_bp_panel else next((k for c in loinc if (k := _obs_kind(c))), None)
        if kind is None:
            reason = next((fc.OBSERVATION_NOT_MAPPED[c] for c in loinc if c in fc.OBSERVATION_NOT_MAPPED), None)
            self.report_unmapped(ref, codings, r.get("code"), reason or "observation code not in the importer's tables")
            return
        if status not in _OBS_USE:
            self.warn(f"{ref}: status {status or 'missing'} (not final): used with low confidence")
        when = _effective(r)
        if when is None or not when.precise:
            self.group("Observations without a usable effective date were skipped", ref)
            return
        if when.day > self.as_of:
            self.group(f"Observations dated after the assessment date {self.as_of} were skipped", ref)
            return
        if kind == "bp_panel":
            self.bp_panel(r, components, when, ref)
            return
        if "dataAbsentReason" in r and not any(k.startswith("value") for k in r):
            self.group("Observations with no value (dataAbsentReason) were not used", ref)
            return
        if kind in ("systolic", "diastolic"):
            value, unit = _quantity(r)
            if value is None:
                self.group("Observations with no usable value were skipped", ref)
                return
            if unit is not None and unit not in fc.MMHG_UNITS:
                self.warn(f"{ref}: blood pressure in unit {unit!r}, not mm[Hg]: skipped")
                return
            enc = _s(_dict(r.get("encounter")).get("reference"))
            _, slot = self.bp_parts.setdefault((when.key, enc), (when, {}))
            if kind in slot:
                self.warn(f"{ref}: a second {kind} reading at the same time: skipped")
            else:
                slot[kind] = (value, ref)
        elif kind == "hr":
            self.numeric(r, ref, when, self.hr, fc.PER_MIN_UNITS, "heart rate")
        elif kind == "weight":
            self.map_weight(r, ref, when)
        elif kind == "phq9":
            self.numeric(r, ref, when, self.phq9, None, "PHQ-9")
        elif kind == "audit":
            self.numeric(r, ref, when, self.audit, None, "AUDIT")
        elif kind == "pregnancy_status":
            answer = next((fc.PREGNANCY_STATUS_ANSWERS[c] for s, c, _ in _codings(r.get("valueCodeableConcept"))
                           if s == fc.SNOMED and c in fc.PREGNANCY_STATUS_ANSWERS), None)  # fmt: skip
            if answer is None:
                self.report_unmapped(ref, _codings(r.get("valueCodeableConcept")), r.get("valueCodeableConcept"),
                                     "pregnancy status answer not recognised")  # fmt: skip
            elif answer != "unknown":
                self.preg_obs.append((when, answer, ref))
        elif kind == "hcg":
            result = _hcg_result(r)
            if result is None:
                self.warn(f"{ref}: hCG result not recognised as positive or negative: not used")
            else:
                self.hcg.append((when, result, ref))
        elif kind == "breastfeeding":
            answer_bf = next((fc.BREASTFEEDING_ANSWERS[c] for _, c, _ in _codings(r.get("valueCodeableConcept"))
                              if c in fc.BREASTFEEDING_ANSWERS), None)  # fmt: skip
            if answer_bf is None:
                self.warn(f"{ref}: breastfeeding answer not recognised: not used")
            else:
                self.bf_obs.append((when, answer_bf, ref))
        elif kind == "phq9_item9":
            answers = {c for _, c, _ in _codings(r.get("valueCodeableConcept"))}
            score = _number(r.get("valueInteger", _dict(r.get("valueQuantity")).get("value")))
            if answers & fc.PHQ9_ITEM9_POSITIVE or (score is not None and score > 0):
                self.warn(
                    f"{ref}: PHQ-9 item 9 (thoughts of self-harm) positive on {when.day}: suicidal ideation is not "
                    "imported from it; assess it now (C-SSRS)"
                )

    def numeric(
        self,
        r: dict[str, Any],
        ref: str,
        when: _When,
        into: list[_Reading],
        units: frozenset[str] | None,
        what: str,
    ) -> None:
        value, unit = _quantity(r)
        if value is None:
            self.group("Observations with no usable value were skipped", ref)
            return
        if units is not None and unit is not None and unit not in units:
            self.warn(f"{ref}: {what} in unit {unit!r}: skipped")
            return
        into.append(_Reading(when, value, ref))

    def map_weight(self, r: dict[str, Any], ref: str, when: _When) -> None:
        value, unit = _quantity(r)
        if value is None:
            self.group("Observations with no usable value were skipped", ref)
            return
        factor = fc.WEIGHT_UNITS.get(unit or "")
        if factor is None:
            self.warn(f"{ref}: body weight with unit {unit!r} (expected kg, g or [lb_av]): skipped")
            return
        self.weight.append(_Reading(when, round(value * factor, 1), ref))

    def bp_panel(self, r: dict[str, Any], components: list[dict[str, Any]], when: _When, ref: str) -> None:
        systolic = diastolic = None
        for comp in components:
            codes = {code for system, code, _ in _codings(comp.get("code")) if system == fc.LOINC}
            part = "s" if codes & fc.SYSTOLIC else "d" if codes & fc.DIASTOLIC else None
            if part is None:
                continue
            value, unit = _quantity(comp)
            if value is None:  # dataAbsentReason, or no value: never read as 0
                continue
            if unit is not None and unit not in fc.MMHG_UNITS:
                self.warn(f"{ref}: blood pressure component in unit {unit!r}, not mm[Hg]: skipped")
                continue
            if part == "s" and systolic is None:
                systolic = value
            elif part == "d" and diastolic is None:
                diastolic = value
        if systolic is None or diastolic is None:
            self.group("blood pressure panels without both a systolic and a diastolic value were skipped", ref)
            return
        self.add_bp(systolic, diastolic, when, [ref])

    def add_bp(self, systolic: float, diastolic: float, when: _When, refs: list[str]) -> None:
        s, d = _round(systolic), _round(diastolic)
        if not 50 <= s <= 300 or not 20 <= d <= 200 or s <= d:
            self.warn(f"{', '.join(refs)}: implausible blood pressure {s}/{d} mmHg on {when.day}: skipped")
            return
        self.bp.append((when, s, d, refs))

    # -------------------------------------------------- Condition

    def map_condition(self, r: dict[str, Any], ref: str) -> None:
        verification = _status_code(r.get("verificationStatus"))
        if verification in _VER_DROP:
            return
        clinical = _status_code(r.get("clinicalStatus"))
        if clinical is None:
            current = not any(k.startswith("abatement") for k in r)
        elif clinical in _COND_CURRENT:
            current = True
        elif clinical in _COND_HISTORY:
            current = False
        else:
            current = True
            self.warn(f"{ref}: unknown clinicalStatus {clinical!r}: treated as current")
        codings = _codings(r.get("code"))
        concepts: list[fc.Concept] = []
        for system, code, _ in codings:
            if system == fc.SNOMED:
                concepts.extend(term.condition_code_concepts("snomed", code))
            elif system == fc.ICD10CM:
                concepts.extend(term.condition_code_concepts("icd-10-cm", code))
            elif system == fc.ICD10:
                found = fc.icd10_concepts(code)
                if found:
                    self.warn(f"{ref}: WHO ICD-10 code {code} read as ICD-10-CM (lower confidence)")
                concepts.extend(found)
        concepts = list(dict.fromkeys(concepts))
        if any(c.kind != "not_mapped" for c in concepts):  # one coding maps: the others' notes do not apply
            concepts = [c for c in concepts if c.kind != "not_mapped"]
        label = _label(r.get("code")) or (codings[0][1] if codings else "?")
        mapped = [c for c in concepts if c.kind != "not_mapped"]
        for c in concepts:
            if c.kind == "not_mapped":
                self.report_unmapped(ref, codings, r.get("code"), c.value)
        if not concepts:
            self.report_unmapped(ref, codings, r.get("code"), "condition code not in the importer's tables")
            if fc.ALERT_WORDS.search(label):
                self.warn(
                    f"{ref}: {label!r} is not in the code tables but its name suggests a safety-relevant "
                    "condition: review it"
                )
        onset = _onset(r)
        if onset is not None and onset.day > self.as_of:
            self.group(f"Conditions dated after the assessment date {self.as_of} were ignored", ref)
            return
        if not mapped:
            # kept as a coded entry, reported as not recognised, never read as absent: a current one,
            # or a past one whose name suggests a lifetime contraindication
            if current or fc.ALERT_WORDS.search(label):
                self.keep_unrecognised(codings, label, ref)
            return
        if verification in _VER_UNCONFIRMED:
            self.warn(f"{ref}: {label!r} is {verification}: included as a possible contraindication; confirm it")
        bipolar = [c.value for c in mapped if c.kind == "bipolar"]
        for c in mapped:
            self.apply_condition(c, current, onset, ref, label)
        if bipolar:  # the most specific code (longest ICD prefix) comes last; bipolar I wins across resources
            kind = bipolar[-1]
            self.bipolar = kind if self.bipolar in (None, kind) else "bipolar_i"
            self.cite("psychiatric.bipolar_disorder", ref)

    def keep_unrecognised(self, codings: list[tuple[str, str, str | None]], label: str, ref: str) -> None:
        short = {fc.SNOMED: "snomed", fc.ICD10CM: "icd-10-cm"}
        coded = next(((short[sy], co, d) for sy, co, d in codings if sy in short), None)
        if coded is not None and 0 < len(coded[1]) <= 40:
            entry: dict[str, str] = {"system": coded[0], "code": coded[1]}
            display = coded[2] or (label if label not in ("?", coded[1]) else None)
            if display:
                entry["display"] = _clean(display)
            key = f"{coded[0]}|{coded[1]}"
        elif label and label != "?":
            entry = {"condition": _clean(label)}
            key = f"text|{entry['condition']}"
        else:
            return
        self.unrecognised_conditions.setdefault(key, entry)
        self.cite(f"medical_conditions.{key}", ref)

    def apply_condition(self, c: fc.Concept, current: bool, onset: _When | None, ref: str, label: str) -> None:
        if c.kind == "substance":
            self.substances.setdefault(c.value, set()).add(ref)
            self.cite(f"substance_use.{c.value}", ref)
        elif c.kind == "psychosis":
            level = "active" if current else "past"
            if self.psychosis != "active":
                self.psychosis = level
            self.cite("psychiatric.psychotic_disorder", ref)
        elif c.kind == "mania":
            level = "active" if current else "past"
            if self.mania != "active":
                self.mania = level
            self.cite("psychiatric.mania", ref)
        elif c.kind == "psych":
            if current:
                self.psych.add(c.value)
                self.cite(f"psychiatric.conditions.{c.value}", ref)
        elif c.kind == "medical":
            if not (current or c.value in fc.LIFETIME_MEDICAL):
                return
            date = onset.day.isoformat() if onset is not None and c.value in fc.DATED_MEDICAL else None
            self.medical[(c.value, date)] = None
            self.cite(f"medical_conditions.{c.value}", ref)
            if c.value == "interstitial_cystitis":
                self.warn(
                    f"{ref}: {label!r} recorded as interstitial_cystitis; its cause is not coded: if it is "
                    "ketamine-associated, record ketamine_uropathy"
                )
        elif c.kind == "pregnancy":
            if current:
                self.preg_conditions.append((onset, ref))
        elif c.kind == "breastfeeding":
            if current:
                self.bf_condition = True
                self.cite("pregnancy.breastfeeding", ref)
        elif c.kind == "suicidal_ideation":
            recent = onset is not None and self.days_ago(onset) <= SUICIDAL_IDEATION_DAYS
            if current and recent:
                self.suicidal_ideation = "active_without_plan"
                self.cite("psychiatric.suicidal_ideation", ref)
                self.warn(
                    f"{ref}: suicidal ideation recorded on {onset.day if onset else '?'}; its severity is not "
                    "coded: imported as active_without_plan (conservative); assess it now (C-SSRS)"
                )
            else:
                self.warn(
                    f"{ref}: suicidal ideation recorded ({'current' if current else 'history'}, "
                    f"{onset.day if onset else 'undated'}), not within the past month or not current: not "
                    "imported; assess it now (C-SSRS)"
                )
        elif c.kind == "suicidal_behavior":
            if onset is not None:  # the most recent dated behaviour (3-month flag and 12-month rules)
                if self.last_suicidal_behavior is None or onset.day > self.last_suicidal_behavior:
                    self.last_suicidal_behavior = onset.day
                self.cite("psychiatric.last_suicidal_behavior", ref)
                if self.days_ago(onset) <= SUICIDAL_BEHAVIOR_DAYS:
                    self.suicidal_behavior = True
                    self.cite("psychiatric.suicidal_behavior_past_3_months", ref)
            else:
                self.warn(f"{ref}: suicidal behaviour recorded without a date: not imported; review it")

    # -------------------------------------------------- medications

    def map_medication(self, r: dict[str, Any], ref: str) -> None:
        rtype = r["resourceType"]
        status = _s(r.get("status"))
        if rtype == "MedicationRequest":
            intent = _s(r.get("intent"))
            if r.get("doNotPerform") is True:
                return
            when = _when(r.get("authoredOn"))
            proposed_order = status == "draft" and (intent is None or intent in _MEDREQ_INTENT_OK)
            if proposed_order or (intent == "proposal" and status in _MEDREQ_PROPOSAL_STATUS):
                self.map_proposed(r, ref, when)
                return
            if intent is not None and intent not in _MEDREQ_INTENT_OK:
                return
            current = status in _MEDREQ_CURRENT
            history = status in _MEDREQ_HISTORY
        else:
            current = status in _MEDSTMT_CURRENT
            history = status in ("completed", "stopped", "not-taken", "on-hold")
            period = _dict(r.get("effectivePeriod"))
            when = _when(r.get("effectiveDateTime")) or _when(period.get("start")) or _when(r.get("dateAsserted"))
        if not (current or history) and status != "unknown":
            return  # cancelled, entered-in-error
        if when is not None and when.day > self.as_of:
            self.group(f"medication records dated after the assessment date {self.as_of} were ignored", ref)
            return
        concept, ingredients, by_name = self.drug(r, ref)
        if not current and status != "unknown":
            return
        if status == "unknown":
            self.warn(f"{ref}: medication status unknown: listed as current (possible interaction)")
        self.add_current(self.drug_names(concept, ingredients, by_name, ref, "current medication"), ref)

    def map_proposed(self, r: dict[str, Any], ref: str, when: _When | None) -> None:
        """A draft or proposed MedicationRequest: a drug being considered, checked for interactions."""
        if when is not None and when.day > self.as_of:
            self.group(f"medication records dated after the assessment date {self.as_of} were ignored", ref)
            return
        concept, ingredients, by_name = self.drug(r, ref)
        names = self.drug_names(concept, ingredients, by_name, ref, "proposed medication")
        if not names:
            return
        self.warn(
            f"{ref}: draft/proposed order for {', '.join(names)}: reported as a proposed medication and checked "
            "for interactions"
        )
        for name in names:
            self.proposed.add(name)
            self.cite(f"proposed_medications.{name}", ref)

    def map_supply(self, r: dict[str, Any], ref: str) -> None:
        """MedicationDispense and MedicationAdministration: current when recent (module docstring)."""
        rtype = r["resourceType"]
        status = _s(r.get("status"))
        if status in _SUPPLY_DROP:
            return
        open_ended = False
        if rtype == "MedicationDispense":
            when = _when(r.get("whenHandedOver")) or _when(r.get("whenPrepared"))
            supply = _days_supply(r.get("daysSupply"))
            if supply is None and "daysSupply" in r:
                self.group(
                    f"MedicationDispense daysSupply not given in days: the {DISPENSE_DEFAULT_DAYS}-day window was used",
                    ref,
                )
            window = DISPENSE_DEFAULT_DAYS if supply is None else supply + DISPENSE_GRACE_DAYS
            rule = (
                f"{DISPENSE_DEFAULT_DAYS} days; no daysSupply in days"
                if supply is None
                else f"daysSupply + {DISPENSE_GRACE_DAYS} days"
            )
        else:
            period = _dict(r.get("effectivePeriod"))
            when = _when(r.get("effectiveDateTime")) or _when(period.get("end")) or _when(period.get("start"))
            open_ended = status == "in-progress" and "effectivePeriod" in r and _when(period.get("end")) is None
            window = ADMINISTRATION_MAX_AGE_DAYS
            rule = f"{ADMINISTRATION_MAX_AGE_DAYS} days"
        if when is not None and when.day > self.as_of:
            self.group(f"medication records dated after the assessment date {self.as_of} were ignored", ref)
            return
        concept, ingredients, by_name = self.drug(r, ref)
        if when is not None and not open_ended and self.days_ago(when) > window:
            self.group(f"{rtype} records older than their recency window ({rule}) were not listed as current", ref)
            return
        if status is not None and status not in _SUPPLY_CURRENT:
            self.warn(f"{ref}: {rtype} status {_clean(status, 40)}: listed as current (possible interaction)")
        if when is None:
            self.warn(f"{ref}: {rtype} with no usable date: listed as current (possible interaction); confirm it")
        self.add_current(self.drug_names(concept, ingredients, by_name, ref, "current medication"), ref)

    def drug(self, r: dict[str, Any], ref: str) -> tuple[Any, tuple[str, ...], bool]:
        """The drug's concept, its ingredient names and whether they were found by name; a drug the
        tables do not know is reported in ``unmapped``."""
        concept, where = self.medication_concept(r, ref)
        ingredients, by_name = self.ingredients(concept, where)
        if not ingredients:
            self.report_unmapped(ref, _codings(concept), concept, "medication not in the importer's tables")
        elif by_name and _codings(concept):
            self.report_unmapped(ref, _codings(concept), concept, "medication code not in the tables: read by its name")
        return concept, ingredients, by_name

    def drug_names(self, concept: Any, ingredients: tuple[str, ...], by_name: bool, ref: str, what: str) -> list[str]:
        """The names to list: the ingredients, else the product's own name (kept, so that the report
        shows it as not checked for interactions)."""
        names = list(ingredients)
        if not names:
            label = _label(concept)
            if not label:
                self.warn(f"{ref}: {what} with no code the tables know and no name: not listed")
                return []
            names = [v.normalise_name(_clean(label))]
        elif by_name:
            self.warn(f"{ref}: {_label(concept)!r} matched to {', '.join(names)} by name (no known RxNorm code)")
        return names

    def add_current(self, names: list[str], ref: str) -> None:
        for name in names:
            self.meds.add(name)
            self.cite(f"medications.{name}", ref)

    def medication_concept(self, r: dict[str, Any], ref: str) -> tuple[Any, dict[str, Any]]:
        """The drug's CodeableConcept, and the Medication resource it came from (or {})."""
        if "medicationCodeableConcept" in r:
            return r["medicationCodeableConcept"], {}
        target = _s(_dict(r.get("medicationReference")).get("reference"))
        med: dict[str, Any] | None = None
        if target:
            if target.startswith("#"):
                med = next(
                    (_dict(c) for c in _list(r.get("contained")) if _dict(c).get("id") == target[1:]),
                    None,
                )
            else:
                target = _strip_history(target)
                med = self.by_url.get(target)
                if med is None and "/Medication/" in target:
                    med = self.by_url.get("Medication/" + target.rsplit("/Medication/", 1)[1])
        if med is None:
            self.warn(f"{ref}: medicationReference {target!r} not found in the bundle: drug unknown")
            return {}, {}
        return med.get("code"), med

    def ingredients(self, concept: Any, med: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
        """Ingredient names by RxNorm code, then Medication.ingredient codes, then by name."""

        def by_code(codings: Iterable[tuple[str, str, str | None]]) -> tuple[str, ...]:
            out: list[str] = []
            for system, code, _ in codings:
                if system == fc.RXNORM:
                    out.extend(term.rxnorm_ingredients(code))
                elif system == fc.SNOMED:
                    out.extend(term.snomed_substance(code))
            return tuple(dict.fromkeys(out))

        found = by_code(_codings(concept))
        if not found:
            items = [_codings(_dict(i).get("itemCodeableConcept")) for i in _list(med.get("ingredient"))]
            found = by_code(c for item in items for c in item)
        if found:
            return found, False
        # the name fallback reads text and displays as a clinician's free text (brands, salts, doses)
        texts = [_s(_dict(concept).get("text"))] + [d for _, _, d in _codings(concept)]
        for text in texts:
            if text:
                m = term.match_drug_text(_clean(text))
                if m.recognised:
                    return m.ingredients, True
        return (), True

    # -------------------------------------------------- allergies

    def map_allergy(self, r: dict[str, Any], ref: str) -> None:
        verification = _status_code(r.get("verificationStatus"))
        if verification in _VER_DROP:
            return
        clinical = _status_code(r.get("clinicalStatus"))
        if clinical is not None and clinical != "active":
            return
        codings = _codings(r.get("code"))
        if any(s == fc.SNOMED and c in fc.NO_KNOWN_ALLERGY for s, c, _ in codings):
            if verification not in _VER_UNCONFIRMED:
                self.nka.append(ref)
            return
        agents, by_name = self.ingredients(r.get("code"), {})
        if not agents:
            label = _label(r.get("code"))
            short = {fc.SNOMED: "snomed", fc.RXNORM: "rxnorm"}
            coded = next(((short[sy], co) for sy, co, _ in codings if sy in short and 0 < len(co) <= 40), None)
            if label:
                reason = "allergy code not in the tables: kept by its name"
            elif coded:
                reason = "allergy code not in the tables: kept as a coded entry, reported as not recognised"
            else:
                reason = "allergy with no usable code or name"
            self.report_unmapped(ref, codings, r.get("code"), reason)
            if not label:
                if coded:  # never dropped: the assessment lists it for review
                    self.coded_allergies[f"{coded[0]}|{coded[1]}"] = {"system": coded[0], "code": coded[1]}
                    self.cite(f"allergies.{coded[0]}|{coded[1]}", ref)
                return
            agents = (v.normalise_name(_clean(label)),)
        elif by_name and any(a not in v.KETAMINE_AGENTS for a in agents):
            self.warn(f"{ref}: allergy {_label(r.get('code'))!r} matched to {', '.join(agents)} by name")
        if verification in _VER_UNCONFIRMED:
            self.warn(f"{ref}: allergy {', '.join(agents)} is {verification}: included; confirm it")
        for agent in agents:
            self.allergies.add(agent)
            self.cite(f"allergies.{agent}", ref)

    # -------------------------------------------------- assembling the profile

    def latest(self, readings: list[_Reading], max_age: int, what: str, key: str) -> float | None:
        if not readings:
            return None
        best = max(readings, key=lambda x: (x.when.key, x.ref))
        age = self.days_ago(best.when)
        if age > max_age:
            self.warn(
                f"latest {what} ({best.ref}, {best.when.day}) is {age} days old, older than {max_age} days: "
                "not imported"
            )
            return None
        self.cite(key, best.ref)
        return best.value

    def result(self) -> FhirImport:
        profile: dict[str, Any] = {"assessed_on": self.as_of.isoformat()}
        incomplete: list[str] = []
        patient = dict(self.patient)
        weight = self.latest(self.weight, WEIGHT_MAX_AGE_DAYS, "body weight", "patient.weight_kg")
        if weight is not None:
            if 0 < weight <= 650:
                patient["weight_kg"] = weight
                patient["weight_date"] = max(self.weight, key=lambda x: (x.when.key, x.ref)).when.day.isoformat()
            else:
                self.warn(f"implausible body weight {weight} kg: skipped")
                self.prov.pop("patient.weight_kg", None)
        pregnancy = self.pregnancy_section(patient)
        if patient:
            profile["patient"] = patient
        if pregnancy:
            profile["pregnancy"] = pregnancy
        vitals = self.vitals_section()
        if vitals:
            profile["vitals"] = vitals
        if self.substances:
            profile["substance_use"] = [{"substance": s} for s in sorted(self.substances)]
            incomplete.append("substance_use")
        psychiatric: dict[str, Any] = {}
        for key, value in (
            ("psychotic_disorder", self.psychosis),
            ("bipolar_disorder", self.bipolar),
            ("mania", self.mania),
            ("suicidal_ideation", self.suicidal_ideation),
            ("suicidal_behavior_past_3_months", self.suicidal_behavior),
            (
                "last_suicidal_behavior",
                None if self.last_suicidal_behavior is None else self.last_suicidal_behavior.isoformat(),
            ),
        ):
            if value is not None:
                psychiatric[key] = value
        if self.psych:
            psychiatric["conditions"] = sorted(self.psych)
            incomplete.append("psychiatric.conditions")
        if psychiatric:
            profile["psychiatric"] = psychiatric
        if self.medical or self.unrecognised_conditions:
            profile["medical_conditions"] = [
                slug if date is None else {"condition": slug, "date": date}
                for slug, date in sorted(self.medical, key=lambda x: (x[0], x[1] or ""))
            ] + [self.unrecognised_conditions[k] for k in sorted(self.unrecognised_conditions)]
            incomplete.append("medical_conditions")
        if self.meds:
            profile["medications"] = sorted(self.meds)
            incomplete.append("medications")
        if self.proposed:
            profile["proposed_medications"] = sorted(self.proposed)  # what the record proposes: not a list to complete
        if self.allergies or self.coded_allergies:
            profile["allergies"] = sorted(self.allergies) + [
                self.coded_allergies[k] for k in sorted(self.coded_allergies)
            ]
            incomplete.append("allergies")
            if self.nka:
                self.warn(f"'no known allergy' ({', '.join(self.nka)}) contradicts active allergies: allergies listed")
        elif self.nka:
            profile["allergies"] = []  # an explicit "no known allergy" assertion: a recorded answer
            self.cite("allergies", *self.nka)
        screening: dict[str, Any] = {}
        for name, readings, max_age, hi in (
            ("phq9", self.phq9, PHQ9_MAX_AGE_DAYS, 27),
            ("audit", self.audit, AUDIT_MAX_AGE_DAYS, 40),
        ):
            score = self.latest(readings, max_age, name.upper().replace("PHQ9", "PHQ-9"), f"screening.{name}")
            if score is None:
                continue
            if score != int(score) or not 0 <= score <= hi:
                self.warn(f"implausible {name} score {score}: skipped")
                self.prov.pop(f"screening.{name}", None)
                continue
            screening[name] = int(score)
        if screening:
            profile["screening"] = screening
        if incomplete:
            profile["incomplete_lists"] = incomplete
        for message, refs in self.grouped.items():
            shown = ", ".join(refs[:5]) + (f" and {len(refs) - 5} more" if len(refs) > 5 else "")
            self.warn(f"{message} ({len(refs)}): {shown}")
        return FhirImport(
            profile=profile,
            provenance={k: sorted(refs) for k, refs in sorted(self.prov.items())},
            unmapped=list(self.unmapped.values()),
            warnings=list(self.warnings),
            resources_read=self.read,
            patient_id=self.patient_id,
        )

    def vitals_section(self) -> dict[str, Any]:
        for when, parts in self.bp_parts.values():
            sys_part, dia_part = parts.get("systolic"), parts.get("diastolic")
            if sys_part and dia_part:
                self.add_bp(sys_part[0], dia_part[0], when, [sys_part[1], dia_part[1]])
            else:
                for _, ref in parts.values():
                    self.group("standalone systolic/diastolic Observations without a matching pair were skipped", ref)
        vitals: dict[str, Any] = {}
        if self.bp:
            readings = sorted(self.bp, key=lambda x: (x[0].key, x[3]))
            vitals["blood_pressure"] = [
                {"systolic_mmhg": s, "diastolic_mmhg": d, "taken_at": w.day.isoformat()} for w, s, d, _ in readings
            ][-500:]
            for _, _, _, refs in readings[-500:]:
                self.cite("vitals.blood_pressure", *refs)
        hr = self.latest(self.hr, HR_MAX_AGE_DAYS, "heart rate", "vitals.heart_rate_bpm")
        if hr is not None:
            rate = _round(hr)
            if 20 <= rate <= 250:
                vitals["heart_rate_bpm"] = rate
            else:
                self.warn(f"implausible heart rate {rate}/min: skipped")
                self.prov.pop("vitals.heart_rate_bpm", None)
        return vitals

    def pregnancy_section(self, patient: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        positive: list[str] = []
        negative_status: list[str] = []
        for onset, ref in self.preg_conditions:
            if onset is None or self.days_ago(onset) <= PREGNANT_MAX_AGE_DAYS:
                positive.append(ref)
            else:
                self.warn(
                    f"{ref}: pregnancy recorded as current since {onset.day} (more than {PREGNANT_MAX_AGE_DAYS} "
                    "days): a stale record, pregnancy status left unknown; confirm it"
                )
        if self.preg_obs:
            when, answer, ref = max(self.preg_obs, key=lambda x: (x[0].key, x[2]))
            age = self.days_ago(when)
            if answer == "pregnant" and age <= PREGNANT_MAX_AGE_DAYS:
                positive.append(ref)
            elif answer == "not_pregnant" and age <= NOT_PREGNANT_MAX_AGE_DAYS:
                negative_status.append(ref)
            else:
                self.warn(f"{ref}: pregnancy status '{answer}' of {when.day} is too old to use: not imported")
        last_negative: tuple[_When, str] | None = None
        if self.hcg:
            when, is_positive, ref = max(self.hcg, key=lambda x: (x[0].key, x[2]))
            if is_positive and self.days_ago(when) <= PREGNANT_MAX_AGE_DAYS:
                positive.append(ref)
            if not is_positive:
                last_negative = (when, ref)
        if positive:
            out["status"] = "pregnant"
            out["can_become_pregnant"] = True
            self.cite("pregnancy.status", *positive)
            if negative_status:
                self.warn(
                    f"'not pregnant' ({', '.join(negative_status)}) contradicts pregnancy evidence: pregnant kept"
                )
        elif negative_status:
            out["status"] = "not_pregnant"
            self.cite("pregnancy.status", *negative_status)
        if last_negative is not None:
            out["last_negative_test"] = last_negative[0].day.isoformat()
            self.cite("pregnancy.last_negative_test", last_negative[1])
        bf: bool | None = True if self.bf_condition else None
        if self.bf_obs:
            when, feeding, ref = max(self.bf_obs, key=lambda x: (x[0].key, x[2]))
            age = self.days_ago(when)
            if feeding and age <= BREASTFEEDING_TRUE_MAX_AGE_DAYS:
                bf = True
                self.cite("pregnancy.breastfeeding", ref)
            elif not feeding and age <= NOT_PREGNANT_MAX_AGE_DAYS and bf is None:
                bf = False
                self.cite("pregnancy.breastfeeding", ref)
        if bf is not None:
            out["breastfeeding"] = bf
        if patient.get("sex_at_birth") == "male":
            if out.get("status") == "pregnant" or out.get("breastfeeding") is True:
                del patient["sex_at_birth"]
                self.prov.pop("patient.sex_at_birth", None)
                self.warn(
                    "the record says male but holds pregnancy or breastfeeding evidence: sex at birth left unknown "
                    "and the pregnancy evidence kept; check the record"
                )
            elif out:
                self.warn(
                    "pregnancy data for a patient recorded as male (e.g. 'not pregnant') was not imported: "
                    "kapdecide treats a male patient without a pregnancy section as unable to become pregnant"
                )
                for key in ("pregnancy.status", "pregnancy.last_negative_test", "pregnancy.breastfeeding"):
                    self.prov.pop(key, None)
                return {}
        return out


def _obs_kind(code: str) -> str | None:
    if code in fc.SYSTOLIC:
        return "systolic"
    if code in fc.DIASTOLIC:
        return "diastolic"
    if code in fc.HEART_RATE:
        return "hr"
    if code in fc.WEIGHT:
        return "weight"
    if code == fc.PREGNANCY_STATUS:
        return "pregnancy_status"
    if code in fc.HCG_QUALITATIVE:
        return "hcg"
    if code == fc.BREASTFEEDING_STATUS:
        return "breastfeeding"
    if code in fc.PHQ9_TOTAL:
        return "phq9"
    if code in fc.AUDIT_TOTAL:
        return "audit"
    if code == fc.PHQ9_ITEM9:
        return "phq9_item9"
    return None


def _quantity(r: dict[str, Any]) -> tuple[float | None, str | None]:
    """A numeric value and its unit code: valueQuantity, valueInteger or a numeric valueString."""
    if "valueQuantity" in r:
        q = _dict(r["valueQuantity"])
        unit = _s(q.get("code")) or _s(q.get("unit"))
        return _number(q.get("value")), unit
    if "valueInteger" in r:
        return _number(r["valueInteger"]), None
    if "valueString" in r:
        return _number(r["valueString"]), None
    return None, None


def _days_supply(value: Any) -> float | None:
    """A MedicationDispense.daysSupply in days (UCUM ``d``, or unit day/days), else None."""
    q = _dict(value)
    amount = _number(q.get("value"))
    unit = _s(q.get("code")) or _s(q.get("unit"))
    if amount is None or amount < 0 or amount != amount or unit is None or unit.lower() not in _DAY_UNITS:
        return None
    return amount


def _hcg_result(r: dict[str, Any]) -> bool | None:
    for system, code, _ in _codings(r.get("valueCodeableConcept")):
        if system == fc.SNOMED and code in fc.HCG_POSITIVE:
            return True
        if system == fc.SNOMED and code in fc.HCG_NEGATIVE:
            return False
    text = (_s(r.get("valueString")) or _s(_dict(r.get("valueCodeableConcept")).get("text")) or "").lower()
    if text in ("positive", "pos", "detected"):
        return True
    if text in ("negative", "neg", "not detected"):
        return False
    return None
