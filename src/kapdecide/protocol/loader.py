"""Find, read and check protocol files: schema, cross-references, types and engine limits.

Every problem in every file is collected (never just the first), each with file:line:col and a
stable code. ``load_protocols`` refuses to assess with a protocol that has any error.

A protocol cache (``protocol_cache.py``) may be passed in: a file whose sha256 was checked before
is then served from it, and neither YAML nor pydantic is imported to validate it. The Python API
uses no cache unless given one; the command line uses the default cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any

from kapdecide.core.errors import Problem, ProtocolLoadError
from kapdecide.protocol.loaded import IdSite, LoadedProtocol

if TYPE_CHECKING:
    from kapdecide.protocol.cache import ProtocolCache
    from kapdecide.protocol.model import Protocol

__all__ = ["IdSite", "LoadedProtocol", "default_protocol_dir", "load_protocols", "read_protocol", "validate_paths"]


def default_protocol_dir() -> FsPath:
    """The shipped protocols: inside the installed package, else the source tree's protocols/."""
    package = FsPath(__file__).resolve().parents[1]  # kapdecide/
    packaged = package / "protocols"
    return packaged if packaged.is_dir() else package.parents[1] / "protocols"


def protocol_files(paths: Iterable[str | FsPath]) -> tuple[list[FsPath], list[Problem]]:
    """Protocol files named directly, or the ``*.yaml``/``*.yml`` files directly inside a folder."""
    files: list[FsPath] = []
    problems: list[Problem] = []
    for raw in paths:
        p = FsPath(raw)
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file())
            for f in sorted(p.iterdir()):  # what a careless author expects to be read, but is not
                if f.suffix.lower() in (".yaml", ".yml") and f.suffix not in (".yaml", ".yml"):
                    problems.append(
                        Problem(
                            str(f),
                            None,
                            None,
                            "protocol-skipped",
                            f"skipped: rename it to {f.stem}.yaml (only lower-case .yaml and .yml files are protocols)",
                            severity="warning",
                        )
                    )
                elif f.suffix in (".yaml", ".yml") and not f.is_file():
                    what = "a dangling link" if f.is_symlink() and not f.exists() else "not a regular file"
                    problems.append(
                        Problem(str(f), None, None, "protocol-skipped", f"skipped: {what}", severity="warning")
                    )
            if not found:
                problems.append(
                    Problem(str(p), None, None, "no-protocols", "no protocol files (*.yaml) in this folder")
                )
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            problems.append(Problem(str(p), None, None, "not-found", "no such file or folder"))
    return files, problems


def read_protocol(path: FsPath) -> tuple[LoadedProtocol | None, list[Problem]]:
    """Read and check one protocol file; return it (if its schema is valid) and all its problems."""
    raw, problems = _read(path)
    return (None, problems) if raw is None else _check_bytes(raw, str(path))


def _read(path: FsPath) -> tuple[bytes | None, list[Problem]]:
    try:
        return path.read_bytes(), []
    except OSError as exc:
        return None, [Problem(str(path), None, None, "unreadable", exc.strerror or str(exc))]


def _check_bytes(raw: bytes, name: str) -> tuple[LoadedProtocol | None, list[Problem]]:
    from pydantic import ValidationError

    from kapdecide.inputs.problems import pydantic_problems
    from kapdecide.inputs.yaml_source import MAX_PROTOCOL_BYTES, SourceError, decode, format_path, load
    from kapdecide.protocol.checks import check_protocol, protocol_code
    from kapdecide.protocol.model import Protocol

    try:
        data, smap = load(decode(raw, name, MAX_PROTOCOL_BYTES), name)
    except SourceError as exc:
        return None, exc.problems
    if not isinstance(data, dict):
        return None, [Problem(name, 1, 1, "not-a-mapping", "a protocol file must be a mapping")]
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        return None, [protocol_code(p) for p in pydantic_problems(exc, data, smap, Protocol)]
    sites: list[IdSite] = []
    for what, ident, where in _id_paths(protocol):
        line, col = smap.locate(where)
        sites.append((what, ident, line, col, format_path(where)))
    loaded = LoadedProtocol(name, hashlib.sha256(raw).hexdigest(), tuple(sites), smap, protocol)
    return loaded, list(check_protocol(loaded))


def _id_paths(p: Protocol) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    yield "protocol", p.id, ("id",)
    for i, r in enumerate(p.rules):
        yield "rule", r.id, ("rules", i, "id")
    for i, o in enumerate(p.options):
        yield "option", o.id, ("options", i, "id")


# ---------------------------------------------------------------- cache


def _problem_row(p: Problem) -> list[Any]:
    return [p.line, p.col, p.code, p.message, p.path, p.severity]


def _problem(name: str, row: list[Any]) -> Problem:
    line, col, code, message, path, severity = row
    return Problem(name, line, col, code, message, path, severity)


def _check_file(
    path: FsPath, today: dt.date | None, cache: ProtocolCache | None
) -> tuple[LoadedProtocol | None, list[Problem]]:
    """Read, check and lint one file, through the cache when one is given."""
    name = str(path)
    raw, unreadable = _read(path)
    if raw is None:
        return None, unreadable
    sha = hashlib.sha256(raw).hexdigest()
    entry = cache.get(sha) if cache is not None else None
    if entry is not None:
        try:
            return _from_entry(entry, name, sha, today)
        except (KeyError, TypeError, ValueError):
            pass  # an entry of the wrong shape is not trusted: check the file again
    lp, problems = _check_bytes(raw, name)
    review: dict[str, Any] | None = None
    if lp is not None and not any(p.severity == "error" for p in problems):
        from kapdecide.protocol.lint import lint_protocol, review_due

        problems.extend(lint_protocol(lp, None))
        due, overdue = review_due(lp)
        review = {"due": due.isoformat(), "problem": _problem_row(overdue)}
        if today is not None and today > due:
            problems.append(overdue)
    if cache is not None:
        cache.put(
            sha,
            {
                "problems": [_problem_row(p) for p in problems if p.code != "review-overdue"],
                "review": review,
                "ids": [list(s) for s in lp.ids] if lp is not None else [],
                "protocol": lp.protocol.model_dump(mode="json", by_alias=True) if lp is not None else None,
            },
        )
    return lp, problems


def _from_entry(
    entry: dict[str, Any], name: str, sha: str, today: dt.date | None
) -> tuple[LoadedProtocol | None, list[Problem]]:
    problems = [_problem(name, row) for row in entry["problems"]]
    review = entry["review"]
    if review is not None and today is not None and today > dt.date.fromisoformat(review["due"]):
        problems.append(_problem(name, review["problem"]))
    data = entry["protocol"]
    if data is None:
        return None, problems
    if not isinstance(data, dict):
        raise TypeError("cached protocol is not a mapping")
    ids = tuple((str(w), str(i), line, col, str(p)) for w, i, line, col, p in entry["ids"])
    return LoadedProtocol(name, sha, ids, data=data), problems


def validate_paths(
    paths: Iterable[str | FsPath], today: dt.date | None = None, cache: ProtocolCache | None = None
) -> tuple[list[LoadedProtocol], list[Problem]]:
    """Read, check and lint every protocol file; also checks ids that must be unique across files.

    ``today`` (from the caller; the core reads no clock) enables the review-overdue check.
    A protocol is linted only once it has no error.
    """
    files, problems = protocol_files(paths)
    loaded: list[LoadedProtocol] = []
    for f in files:
        lp, probs = _check_file(f, today, cache)
        problems.extend(probs)
        if lp is not None:
            loaded.append(lp)
    problems.extend(_cross_file(loaded))
    order = {str(f): i for i, f in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0, p.col or 0, p.code))
    return loaded, problems


def _cross_file(loaded: list[LoadedProtocol]) -> Iterator[Problem]:
    owners: dict[tuple[str, str], str] = {}
    for lp in loaded:
        for what, ident, line, col, path in lp.ids:
            if (what, ident) in owners and owners[(what, ident)] != lp.path:
                yield Problem(
                    lp.path,
                    line,
                    col,
                    "duplicate-id",
                    f"{what} id {ident!r} is also defined in {owners[(what, ident)]}",
                    path,
                )
            owners.setdefault((what, ident), lp.path)


def _models_build(loaded: list[LoadedProtocol]) -> bool:
    from pydantic import ValidationError

    try:
        for lp in loaded:
            _ = lp.protocol
    except ValidationError:
        return False
    return True


def load_protocols(paths: Iterable[str | FsPath], cache: ProtocolCache | None = None) -> list[LoadedProtocol]:
    """Load protocols for an assessment; any error (not warning) makes them unusable (exit 3)."""
    paths = list(paths)
    loaded, problems = validate_paths(paths, None, cache)
    if cache is not None and not _models_build(loaded):
        loaded, problems = validate_paths(paths, None, None)  # a cached protocol failed its model: use the files
    errors = [p for p in problems if p.severity == "error"]
    if errors or not loaded:
        raise ProtocolLoadError(
            "the protocols could not be loaded" if errors else "no protocols were found",
            errors or problems,
            hint="run `kapdecide validate` on the protocol folder for the full list",
        )
    return loaded
