"""Reading a protocol test-case file: its cases, the bases they build on, and the protocols it tests.

A cases file has ``cases``, named base profiles in ``bases``, and optionally ``extends`` (files of
shared bases, relative to the cases file; a bases file may extend others, and a cycle is refused)
and ``protocols`` (the protocols it tests, relative to the cases file). A case's ``profile`` is merged
onto its base: mappings key by key, lists replaced, ``null`` deletes a key so the value becomes unknown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr, ValidationError

from kapdecide.assessment.assess import Status
from kapdecide.core.errors import Problem
from kapdecide.core.vocabulary import suggest
from kapdecide.inputs.problems import pydantic_problems
from kapdecide.inputs.profile import IsoDate
from kapdecide.inputs.yaml_source import MAX_PROTOCOL_BYTES, Path, SourceError, SourceMap, decode, load


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Model):
    """What a protocol test case expects of the report."""

    status: Status = Field(description="the status the report must have")
    findings: list[StrictStr] = Field([], description="rule ids that must be reported as findings")
    absent: list[StrictStr] = Field([], description="rule ids that must not be findings (near misses)")
    not_checked: list[StrictStr] = Field([], description="rule ids that must be reported as could-not-be-checked")
    offered: list[StrictStr] = Field([], description="option ids that must be offered")
    not_offered: list[StrictStr] = Field([], description="option ids that must not be offered")


class CaseModel(_Model):
    """One test case as written: a base profile, changes to it, a date and what to expect."""

    name: StrictStr = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="unique in the file: a-z, 0-9, _ and -")
    description: StrictStr | None = Field(None, description="what the case is about, for the reader")
    base: StrictStr | None = Field(None, description="the base profile the case starts from (`bases` or `extends`)")
    profile: dict[str, Any] = Field(
        {}, description="merged onto the base: mappings key by key, lists replaced, null makes a value unknown"
    )
    as_of: IsoDate | None = Field(None, description="the assessment date, when the profile has no assessed_on")
    todo: StrictStr | None = Field(None, description="a known gap: the case runs, but a failure does not fail the run")
    expect: Expect = Field(description="what the report must show (below)")


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


#: ``extends: common.bases.yaml`` or ``extends: [a.bases.yaml, b.bases.yaml]``.
Extends = Annotated[list[StrictStr], BeforeValidator(_listed)]


class BasesFile(_Model):
    """A file of shared base profiles, named by ``extends`` in cases files (or other bases files)."""

    extends: Extends = Field(
        [], description="files of shared bases (a path or a list), relative to this file; no cycles"
    )
    bases: dict[str, dict[str, Any]] = Field(
        {}, description="named base profiles; a name may be defined once across a file and what it extends"
    )


class CasesFile(BasesFile):
    """A protocol's test-case file: the protocols it tests, its base profiles and the cases."""

    protocols: StrictStr | None = Field(
        None, description="the protocol file or folder these cases test, relative to this file (default: beside)"
    )
    cases: list[CaseModel] = Field(description="the test cases (below)")


@dataclass
class Case:
    """A test case ready to run: its merged profile and where it is written."""

    file: str
    line: int | None
    model: CaseModel
    data: dict[str, Any]
    source: SourceMap


@dataclass
class CasesDoc:
    """One cases file as read: its cases, its problems and where its protocols are."""

    file: str
    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    protocols: str | None = None
    """The protocols beside the file (``protocols:``, else the folder holding its ``tests/``), or None."""


@dataclass
class _MixedSource(SourceMap):
    """Positions for a merged profile whose values come from more than one file (an extended base)."""

    origins: dict[Path, str] = field(default_factory=dict)

    def problem(self, path: Path, code: str, message: str, *, key: bool = False, severity: str = "error") -> Problem:
        """A Problem located at ``path``, in the file that value was written in."""
        found = super().problem(path, code, message, key=key, severity=severity)
        p = tuple(path)
        while p and p not in self.values and p not in self.keys:
            p = p[:-1]
        file = self.origins.get(p, self.file)
        return found if file == self.file else Problem(file, found.line, found.col, code, message, found.path, severity)


@dataclass(frozen=True)
class _Base:
    """A named base profile and the file it is written in."""

    data: dict[str, Any]
    smap: SourceMap


def merge(base: Any, patch: Any) -> Any:
    """Deep merge: mappings key by key, ``None`` deletes, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def _case_source(smap: SourceMap, base: tuple[str, _Base] | None, index: int) -> SourceMap:
    """Positions for a merged profile: the case's own values first, then its base's (in its file)."""
    view = _MixedSource(smap.file)
    sources = [(base[1].smap, ("bases", base[0]))] if base else []
    for source, prefix in [*sources, (smap, ("cases", index, "profile"))]:
        n = len(prefix)
        for table, into in ((source.values, view.values), (source.keys, view.keys)):
            for path, pos in table.items():
                if path[:n] == prefix:
                    into[path[n:]] = pos
                    view.origins[path[n:]] = source.file
    view.values.setdefault((), smap.values.get(("cases", index), (1, 1)))
    view.origins[()] = smap.file
    return view


def _read(path: FsPath, model: type[BasesFile]) -> tuple[BasesFile | None, SourceMap, list[Problem]]:
    """A cases or bases file as its model, or the problems that stop it being read."""
    name = str(path)
    try:
        data, smap = load(decode(path.read_bytes(), name, MAX_PROTOCOL_BYTES), name)
    except OSError as exc:
        return None, SourceMap(name), [Problem(name, None, None, "unreadable", exc.strerror or str(exc))]
    except SourceError as exc:
        return None, SourceMap(name), exc.problems
    try:
        return model.model_validate(data), smap, []
    except ValidationError as exc:
        return None, smap, pydantic_problems(exc, data, smap, model)


def _beside(path: FsPath, relative: str) -> FsPath:
    """``relative`` read from beside ``path`` (a path starting at the file's folder, tidied)."""
    return FsPath(os.path.normpath(path.parent / relative))


def _bases(
    path: FsPath, doc: BasesFile, smap: SourceMap, chain: tuple[str, ...], seen: dict[str, _Base], done: set[str]
) -> list[Problem]:
    """Add the bases ``doc`` extends, then its own, to ``seen``; a name defined twice, an unreadable
    file and a cycle of extends are problems. A file reached twice (a diamond) is read once."""
    problems: list[Problem] = []
    for i, rel in enumerate(doc.extends):
        target = _beside(path, rel)
        if str(target) in chain:
            loop = " → ".join((*chain[chain.index(str(target)) :], str(target)))
            problems.append(smap.problem(("extends", i), "extends-cycle", f"extends cycle: {loop}; remove one link"))
            continue
        if str(target) in done:
            continue
        done.add(str(target))
        sub, sub_smap, sub_problems = _read(target, BasesFile)
        if sub_problems and sub_problems[0].code == "unreadable":
            msg = f"cannot read {target}: {sub_problems[0].message}"
            problems.append(smap.problem(("extends", i), "unreadable", msg))
            continue
        problems.extend(sub_problems)
        if sub is not None:
            problems.extend(_bases(target, sub, sub_smap, (*chain, str(target)), seen, done))
    for name, data in doc.bases.items():
        other = seen.get(name)
        if other is not None and other.smap.file != smap.file:
            msg = f"base {name!r} is also defined in {other.smap.file}; give one of them another name"
            problems.append(smap.problem(("bases", name), "duplicate-id", msg, key=True))
            continue
        seen[name] = _Base(data, smap)
    return problems


def _protocols_beside(path: FsPath, named: str | None) -> str | None:
    """The protocols a cases file tests: the ``protocols:`` it names, else the folder that holds
    its ``tests/`` folder (``PROTOCOLS/tests/NAME.cases.yaml``), else None."""
    if named is not None:
        return str(_beside(path, named))
    if path.parent.name == "tests":
        return os.path.normpath(path.parent.parent)
    return None


def read_cases(path: FsPath) -> CasesDoc:
    """Read a cases file and the bases it extends; every problem (schema, unknown base, duplicate
    name, extends cycle) is collected, and the cases that can be built are returned."""
    name = str(path)
    model, smap, problems = _read(path, CasesFile)
    if not isinstance(model, CasesFile):
        return CasesDoc(name, problems=problems)
    doc = CasesDoc(name, problems=problems, protocols=_protocols_beside(path, model.protocols))
    bases: dict[str, _Base] = {}
    doc.problems.extend(_bases(path, model, smap, (os.path.normpath(path),), bases, set()))
    names: set[str] = set()
    for i, c in enumerate(model.cases):
        where: Path = ("cases", i)
        if c.name in names:
            doc.problems.append(smap.problem((*where, "name"), "duplicate-id", f"case {c.name!r} is defined twice"))
        names.add(c.name)
        if c.base is not None and c.base not in bases:
            hint = suggest(c.base, sorted(bases))
            known = f"; did you mean {hint!r}?" if hint else f" (bases: {', '.join(sorted(bases)) or 'none'})"
            doc.problems.append(smap.problem((*where, "base"), "unknown-base", f"no base named {c.base!r}{known}"))
            continue
        base = (c.base, bases[c.base]) if c.base is not None else None
        merged = merge(base[1].data if base else {}, c.profile)
        line = smap.values.get(where, (None, None))[0]
        doc.cases.append(Case(name, line, c, merged, _case_source(smap, base, i)))
    return doc


def load_cases(path: FsPath) -> tuple[list[Case], list[Problem]]:
    """The cases of a file and its problems (see ``read_cases``)."""
    doc = read_cases(path)
    return doc.cases, doc.problems
