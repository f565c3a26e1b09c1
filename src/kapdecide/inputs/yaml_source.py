"""Load YAML or JSON as plain data, keeping where every value stands in the file.

Stock PyYAML silently keeps the last of two duplicate keys, reads ``no`` as False, turns dates into
objects and follows aliases (a "billion laughs" document). This loader composes the node tree with
no implicit resolvers, refuses aliases, tags, duplicate keys and deep nesting, and types plain
scalars itself (null, true/false, decimal int and float; everything else stays a string), so the
pydantic models decide what a date or an enum is. Nothing in a file is ever constructed or run.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

try:  # libyaml scans and parses ten times faster; the composer (and every check below) stays in Python
    from yaml._yaml import CParser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    HAVE_LIBYAML = False

from kapdecide.core.errors import Problem

Path = tuple[str | int, ...]

#: Inputs larger than this are refused before parsing (profiles; protocols use a larger limit).
MAX_PROFILE_BYTES = 1 << 20
MAX_PROTOCOL_BYTES = 4 << 20
MAX_DEPTH = 64
MAX_NODES = 200_000

_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"
_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT_RE = re.compile(
    r"[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?:0|[1-9][0-9]*)[eE][-+]?[0-9]+"
)
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass
class SourceMap:
    """Where each value (and each mapping key) stands: path -> (line, col), 1-based."""

    file: str
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    syntax: str = "yaml"
    """The input's syntax, ``yaml`` or ``json`` (error messages show examples in it)."""

    def locate(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        """The position of ``path``, or of its nearest recorded ancestor."""
        p = tuple(path)
        while True:
            if key and p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            if not p:
                return None, None
            p = p[:-1]

    def problem(self, path: Path, code: str, message: str, *, key: bool = False, severity: str = "error") -> Problem:
        """A Problem located at ``path`` in this file."""
        line, col = self.locate(path, key=key)
        return Problem(self.file, line, col, code, message, format_path(path), severity)


def format_path(path: Path) -> str:
    """``('vitals', 'blood_pressure', 0, 'systolic_mmhg')`` -> ``vitals.blood_pressure[0].systolic_mmhg``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class SourceError(Exception):
    """The text could not be read as plain data; carries located problems."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.format() for p in problems))
        self.problems = problems


class _Refused(yaml.MarkedYAMLError):
    """Valid YAML that kapdecide refuses (tags, aliases, size), with a stable problem code."""

    def __init__(self, code: str, problem: str, mark: Any):
        super().__init__(None, None, problem, mark)
        self.code = code


class _Checks(Composer, BaseResolver):
    """Composes nodes only: no implicit typing, no aliases, bounded depth."""

    yaml_implicit_resolvers: dict[Any, Any] = {}  # noqa: RUF012 (PyYAML's resolver API: an empty table means no implicit typing)

    def _start(self) -> None:
        Composer.__init__(self)
        BaseResolver.__init__(self)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event: Any = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, AliasEvent):
            raise _Refused("yaml-alias", "YAML aliases (*name) are not allowed: write the value out", event.start_mark)
        if getattr(event, "tag", None) is not None:
            raise _Refused("yaml-tag", f"YAML tag {event.tag!r} is not allowed: plain data only", event.start_mark)
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_DEPTH:
            raise _Refused("too-deep", f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
        if self._nodes > MAX_NODES:
            raise _Refused("too-large", f"more than {MAX_NODES} values", event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PyLoader(_Checks, Parser, Scanner, Reader):
    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        self._start()


if HAVE_LIBYAML:

    class _CLoader(_Checks, CParser):
        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            self._start()


def _new_loader(text: str, pure: bool) -> Any:
    """Libyaml's parser when PyYAML has it (the same events, ten times faster), else PyYAML's own."""
    return _PyLoader(text) if pure or not HAVE_LIBYAML else _CLoader(text)


def decode(raw: bytes, file: str, limit: int) -> str:
    """Bytes to text, refusing oversized, non-UTF-8 and BOM-prefixed input with a clear problem."""
    if len(raw) > limit:
        raise SourceError(
            [Problem(file, None, None, "too-large", f"input is {len(raw)} bytes; the limit is {limit} bytes")]
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raise SourceError(
            [Problem(file, 1, 1, "byte-order-mark", "file starts with a byte-order mark; save it as UTF-8 without BOM")]
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            [Problem(file, line, col, "not-utf8", f"byte 0x{raw[exc.start]:02x} is not valid UTF-8")]
        ) from None


def looks_like_json(text: str, file: str) -> bool:
    """JSON by file name, or by a document that opens with ``{`` (YAML profiles never need to)."""
    return file.endswith(".json") or text.lstrip().startswith("{")


def load(text: str, file: str) -> tuple[Any, SourceMap]:
    """Parse ``text`` (YAML, or JSON when it looks like JSON) into plain data and a SourceMap."""
    if looks_like_json(text, file):
        try:
            data = load_json(text, file)
        except SourceError as exc:
            if exc.problems[0].code == "json-invalid":
                _locate_json_error(text, file)  # raises a located duplicate-key problem where YAML finds one
            raise
        try:
            _, smap = _load_yaml(text, file)
        except SourceError:
            smap = SourceMap(file)  # valid JSON that YAML cannot compose: positions unknown
        smap.syntax = "json"
        return data, smap
    return _load_yaml(text, file)


def _locate_json_error(text: str, file: str) -> None:
    try:
        _load_yaml(text, file)
    except SourceError as exc:
        located = [p for p in exc.problems if p.code == "duplicate-key"]
        if located:
            raise SourceError(located) from None


def load_json(text: str, file: str) -> Any:
    """Parse JSON strictly: duplicate keys, NaN and Infinity refused, located."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    def bad_constant(name: str) -> Any:
        raise ValueError(f"{name} is not a number kapdecide accepts")

    def parse_float(s: str) -> float:
        value = float(s)
        if not math.isfinite(value):
            raise ValueError(f"{s} is out of range")
        return value

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=bad_constant, parse_float=parse_float)
    except json.JSONDecodeError as exc:
        raise SourceError([Problem(file, exc.lineno, exc.colno, "json-syntax", exc.msg)]) from None
    except (ValueError, RecursionError) as exc:
        msg = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise SourceError([Problem(file, None, None, "json-invalid", msg)]) from None


def _load_yaml(text: str, file: str, *, pure: bool = False) -> tuple[Any, SourceMap]:
    try:
        loader = _new_loader(text, pure)  # the reader rejects control characters already here
    except yaml.reader.ReaderError as exc:
        where = exc.position
        raise SourceError(
            [
                Problem(
                    file,
                    text.count("\n", 0, where) + 1,
                    where - text.rfind("\n", 0, where),
                    "yaml-syntax",
                    f"control character {_char(exc.character)} is not allowed in YAML",
                )
            ]
        ) from None
    try:
        node = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        raise SourceError(
            [
                Problem(
                    file, None, None, "yaml-syntax", f"control character {_char(exc.character)} is not allowed in YAML"
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in str(exc.context or ""):
            what = "several YAML documents in one file; give exactly one"
        elif mark and _char_at(text, mark.line, mark.column) == "\t":
            what = "a tab character: indent YAML with spaces, not tabs"
        code = exc.code if isinstance(exc, _Refused) else "yaml-syntax"
        raise SourceError([Problem(file, line, col, code, what)]) from None
    except yaml.YAMLError as exc:
        raise SourceError([Problem(file, None, None, "yaml-syntax", str(exc))]) from None
    except RecursionError:
        raise SourceError([Problem(file, None, None, "yaml-syntax", "nested too deeply")]) from None
    finally:
        loader.dispose()
    smap = SourceMap(file)
    if node is None:
        return None, smap
    problems: list[Problem] = []
    data = _convert(node, (), smap, problems)
    if problems:
        raise SourceError(problems)
    return data, smap


def _char_at(text: str, line: int, column: int) -> str:
    start = 0
    for _ in range(line):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    return text[start + column : start + column + 1]


def _char(value: object) -> str:
    code = value if isinstance(value, int) else ord(str(value)[:1] or "\0")
    return f"U+{code:04X}"


def _pos(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: Node, path: Path, smap: SourceMap, problems: list[Problem]) -> Any:
    smap.values[path] = _pos(node)
    expected = {ScalarNode: _STR_TAG, SequenceNode: _SEQ_TAG, MappingNode: _MAP_TAG}[type(node)]
    if node.tag != expected:
        line, col = _pos(node)
        problems.append(
            Problem(
                smap.file,
                line,
                col,
                "yaml-tag",
                f"YAML tag {node.tag!r} is not allowed: plain data only",
                format_path(path),
            )
        )
        return None
    if isinstance(node, ScalarNode):
        try:
            return _scalar(node)
        except ValueError as exc:
            line, col = _pos(node)
            problems.append(Problem(smap.file, line, col, "out-of-range", str(exc), format_path(path)))
            return None
    if isinstance(node, SequenceNode):
        return [_convert(item, (*path, i), smap, problems) for i, item in enumerate(node.value)]
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag != _STR_TAG:
            line, col = _pos(key_node)
            problems.append(Problem(smap.file, line, col, "yaml-key", "keys must be plain text", format_path(path)))
            continue
        key = str(key_node.value)
        if key in out:
            line, col = _pos(key_node)
            first = smap.keys.get((*path, key), (None, None))[0]
            problems.append(
                Problem(
                    smap.file,
                    line,
                    col,
                    "duplicate-key",
                    f"duplicate key {key!r} (first given on line {first})",
                    format_path((*path, key)),
                )
            )
            continue
        smap.keys[(*path, key)] = _pos(key_node)
        out[key] = _convert(value_node, (*path, key), smap, problems)
    return out


def _scalar(node: ScalarNode) -> Any:
    value: str = node.value
    if node.style:  # quoted or block scalars are always text (plain is None, or "" from libyaml)
        return value
    if value in _NULLS:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if _INT_RE.fullmatch(value):
        if len(value) > 30:
            raise ValueError(f"a number with {len(value)} digits is out of range")
        return int(value)
    if _FLOAT_RE.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else value
    return value
