"""The Patient (age, sex at birth) and the pregnancy section, from every source that bears on it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kapdecide.inputs import fhir_codes as fc
from kapdecide.inputs.fhir.state import _State
from kapdecide.inputs.fhir.values import (
    BREASTFEEDING_TRUE_MAX_AGE_DAYS,
    NOT_PREGNANT_MAX_AGE_DAYS,
    PREGNANT_MAX_AGE_DAYS,
    _clean,
    _dict,
    _list,
    _s,
    _When,
)


class Patients(_State):
    """The Patient (age, sex at birth) and the pregnancy section from every source that bears on it."""

    def map_patient(self, p: dict[str, Any], ref: str) -> None:
        """Demographics: reference, age from birthDate, sex at birth (birthsex extension, else gender as a proxy)."""
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
        """The age on the assessment date from a full birthDate (a partial one that leaves it ambiguous gives none)."""
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

    def pregnancy_section(self, patient: dict[str, Any]) -> dict[str, Any]:
        """The profile's pregnancy section from Conditions, status Observations and hCG tests."""
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
        bf = self.breastfeeding_now()
        if bf is not None:
            out["breastfeeding"] = bf
        return self.for_sex_at_birth(out, patient)

    def breastfeeding_now(self) -> bool | None:
        """True from a breastfeeding Condition or a recent "yes"; False only from a recent "no"."""
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
        return bf

    def for_sex_at_birth(self, out: dict[str, Any], patient: dict[str, Any]) -> dict[str, Any]:
        """For a patient recorded as male: positive evidence wins over the sex (dropped, warned); other
        pregnancy data is left out, so that the male default applies."""
        if patient.get("sex_at_birth") != "male":
            return out
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
