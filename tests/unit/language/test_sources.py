"""Every fact a rule can miss is named as a profile field the profile accepts, with a question."""

from __future__ import annotations

import re
import typing

import pytest
from pydantic import BaseModel

from kapdecide.inputs.profile import Profile
from kapdecide.language.facts import FIELDS
from kapdecide.language.sources import source_of


def _model_of(annotation: object) -> type[BaseModel] | None:
    """The model inside an annotation (through Optional, list and Annotated), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _accepted(path: str) -> bool:
    model: type[BaseModel] | None = Profile
    for part in re.sub(r"\[[^\]]*\]", "", path).split("."):
        if model is None or part not in model.model_fields:
            return False
        model = _model_of(model.model_fields[part].annotation)
    return True


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_every_fact_names_a_profile_field_and_a_question(field: str) -> None:
    path, ask = source_of(field)
    assert _accepted(path), f"{field} -> {path}: not a profile field"
    assert ask and "_" not in ask, ask  # plain words, not a slug


def test_the_facts_the_profile_rejects_are_translated() -> None:
    assert source_of("pregnancy.possible") == ("pregnancy.can_become_pregnant", "can the patient become pregnant?")
    assert source_of("vitals.bp_systolic_mmhg")[0] == "vitals.blood_pressure"
    assert source_of("substance_use.other_stimulants.days_since_last_use") == (
        "substance_use[other_stimulants].last_use",
        "other stimulants: date of last use",
    )
