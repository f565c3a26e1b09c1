"""Contradictory or impossible values in a profile (reference 0.4), each located in the source.

A profile that passes the model can still say two things that cannot both be true (pregnant and
male, sustained remission and use last week, systolic below diastolic). These are exit-2 errors,
never a silent choice between the two.
"""

from __future__ import annotations

import datetime as dt

from kapdecide.core.errors import Problem
from kapdecide.inputs.profile import PREGNANCY_ENTRY_MAX_DAYS, Profile
from kapdecide.inputs.resolution import current_classes, nonprescribed_use, resolve
from kapdecide.inputs.yaml_source import Path, SourceMap


def check_consistency(profile: Profile, as_of: dt.date, smap: SourceMap) -> list[Problem]:
    """Contradictory or impossible values (reference 0.4), located in the source."""
    c = _Checker(profile, as_of, smap)
    c.blood_pressure()
    c.pregnancy()
    c.substance_use()
    if profile.patient is not None:
        c.not_future(("patient", "weight_date"), profile.patient.weight_date, "weight measured")
    c.suicidality()
    for i, m in enumerate(profile.medical_conditions or []):
        c.not_future(("medical_conditions", i, "date"), m.date, f"{m.condition or m.display or m.code} date")
    c.out.extend(_diagnosis_contradictions(profile, as_of, smap))
    return c.out


class _Checker:
    def __init__(self, profile: Profile, as_of: dt.date, smap: SourceMap):
        self.profile, self.as_of, self.smap = profile, as_of, smap
        self.out: list[Problem] = []

    def bad(self, path: Path, code: str, msg: str) -> None:
        self.out.append(self.smap.problem(path, code, msg))

    def not_future(self, path: Path, when: dt.date | None, what: str) -> None:
        if when is not None and when > self.as_of:
            self.bad(
                path,
                "date-after-assessment",
                f"{what} {when.isoformat()} is after the assessment date {self.as_of.isoformat()}",
            )

    def blood_pressure(self) -> None:
        vit = self.profile.vitals
        for i, r in enumerate(vit.blood_pressure or [] if vit else []):
            if r.systolic_mmhg <= r.diastolic_mmhg:
                self.bad(
                    ("vitals", "blood_pressure", i),
                    "invalid_bp_systolic_not_above_diastolic",
                    f"systolic {r.systolic_mmhg} mmHg is not above diastolic {r.diastolic_mmhg} mmHg; "
                    "check the reading",
                )
            self.not_future(("vitals", "blood_pressure", i, "taken_at"), r.taken_at, "blood pressure taken")

    def pregnancy(self) -> None:
        preg, pat = self.profile.pregnancy, self.profile.patient
        if preg is not None:
            if preg.can_become_pregnant is False and preg.status == "pregnant":
                self.bad(
                    ("pregnancy", "status"),
                    "invalid_pregnancy_contradiction",
                    "status is pregnant but can_become_pregnant is false",
                )
            if preg.can_become_pregnant is False and preg.test_pending:
                self.bad(
                    ("pregnancy", "test_pending"),
                    "invalid_pregnancy_contradiction",
                    "a pregnancy test is pending but can_become_pregnant is false",
                )
            self.not_future(("pregnancy", "last_negative_test"), preg.last_negative_test, "negative pregnancy test")
        if pat and pat.sex_at_birth == "male" and preg is not None and preg.status == "pregnant":
            self.bad(
                ("pregnancy", "status"),
                "invalid_pregnancy_contradiction",
                "status is pregnant but sex_at_birth is male; check the record",
            )

    def substance_use(self) -> None:
        seen: set[str] = set()
        as_of, profile = self.as_of, self.profile
        classes = current_classes(resolve(profile), profile.medications is not None)
        for i, s in enumerate(profile.substance_use or []):
            if s.substance in seen:
                self.bad(
                    ("substance_use", i, "substance"),
                    "duplicate-substance",
                    f"{s.substance} is listed twice; give one entry per substance use disorder",
                )
            seen.add(s.substance)
            self.not_future(("substance_use", i, "last_use"), s.last_use, "last use")
            self.not_future(
                ("substance_use", i, "last_nonprescribed_use"), s.last_nonprescribed_use, "last non-prescribed use"
            )
            used = nonprescribed_use(s, classes)  # on MOUD or a taper, last_use may be a prescribed dose
            if s.remission == "sustained" and used is not None and (as_of - used).days < 365:
                self.bad(
                    ("substance_use", i, "remission"),
                    "invalid_remission_contradiction",
                    f"sustained remission (DSM-5: >=12 months) contradicts the last non-prescribed use on "
                    f"{used.isoformat()} ({(as_of - used).days} days before the assessment): correct one of them",
                )
            last, nonprescribed = s.last_use, s.last_nonprescribed_use
            if nonprescribed is not None and last is not None and nonprescribed > last:
                self.bad(
                    ("substance_use", i, "last_nonprescribed_use"),
                    "invalid_last_use_contradiction",
                    f"last non-prescribed use {nonprescribed.isoformat()} is after the last use "
                    f"{last.isoformat()} (any use): correct one of them",
                )
            if s.intoxicated and last is not None and last < as_of - dt.timedelta(days=1):
                self.bad(
                    ("substance_use", i, "intoxicated"),
                    "invalid_intoxication_contradiction",
                    f"intoxicated at assessment but last use was {last.isoformat()}",
                )

    def suicidality(self) -> None:
        psy = self.profile.psychiatric
        if psy is not None and isinstance(psy.last_suicidal_behavior, dt.date):
            when = psy.last_suicidal_behavior
            self.not_future(("psychiatric", "last_suicidal_behavior"), when, "suicidal behaviour")
            ago = (self.as_of - when).days
            # "3 months" is 89 to 92 days by the calendar: only a clear disagreement is a contradiction
            past_3 = psy.suicidal_behavior_past_3_months
            if (past_3 is True and ago > 92) or (past_3 is False and ago < 89):
                self.bad(
                    ("psychiatric", "suicidal_behavior_past_3_months"),
                    "invalid_suicidality_contradiction",
                    f"suicidal_behavior_past_3_months is {str(past_3).lower()} but the "
                    f"last suicidal behaviour was on {when.isoformat()} ({ago} days before the "
                    "assessment): correct one of them",
                )
        elif psy is not None and psy.last_suicidal_behavior == "none" and psy.suicidal_behavior_past_3_months:
            self.bad(
                ("psychiatric", "last_suicidal_behavior"),
                "invalid_suicidality_contradiction",
                "last_suicidal_behavior is none but suicidal_behavior_past_3_months is true: correct one of them",
            )


def _diagnosis_contradictions(profile: Profile, as_of: dt.date, smap: SourceMap) -> list[Problem]:
    """A diagnosis in a condition list against a structured field that says "none"."""
    res = resolve(profile)
    out: list[Problem] = []
    preg = profile.pregnancy
    for path, _ in res.current("pregnancy", as_of, PREGNANCY_ENTRY_MAX_DAYS)[:1]:
        male = profile.patient is not None and profile.patient.sex_at_birth == "male"
        if (preg is not None and (preg.status == "not_pregnant" or preg.can_become_pregnant is False)) or male:
            out.append(
                smap.problem(
                    path,
                    "invalid_pregnancy_contradiction",
                    "this entry names a pregnancy, but the pregnancy section or sex at birth says the patient "
                    "is not or cannot be pregnant: correct one of them",
                )
            )
    psy = profile.psychiatric
    if psy is None:
        return out
    recorded: tuple[tuple[str, str, object], ...] = (
        ("suicidal_ideation", "suicidal_ideation", psy.suicidal_ideation),
        ("suicidal_behavior", "last_suicidal_behavior", psy.last_suicidal_behavior),
    )
    for kind, field, value in recorded:
        paths = [p for p, _ in res.named.get(kind, [])]
        if paths and value == "none":
            out.append(
                smap.problem(
                    paths[0],
                    "invalid_suicidality_contradiction",
                    f"this entry names {kind.replace('_', ' ')}, but psychiatric.{field} is none: correct one of them",
                )
            )
    last = psy.last_suicidal_behavior
    for path, when in res.named.get("suicidal_behavior", []):
        if isinstance(when, dt.date) and isinstance(last, dt.date) and when > last:
            out.append(
                smap.problem(
                    path,
                    "invalid_suicidality_contradiction",
                    f"this entry dates suicidal behaviour on {when.isoformat()}, after "
                    f"psychiatric.last_suicidal_behavior {last.isoformat()}: record the most recent date there",
                )
            )
    for paths, field, value, what in (
        (res.psychosis, "psychotic_disorder", psy.psychotic_disorder, "a psychotic disorder"),
        ([p for p, _ in res.bipolar], "bipolar_disorder", psy.bipolar_disorder, "bipolar disorder"),
        ([p for p, _ in res.mania], "mania", psy.mania, "mania or hypomania"),
    ):
        if value == "none" and paths:
            out.append(
                smap.problem(
                    paths[0],
                    "invalid_diagnosis_contradiction",
                    f"this entry names {what}, but psychiatric.{field} is none: correct one of them "
                    f"(psychiatric.{field}: past or active, or remove the entry)",
                )
            )
    return out
