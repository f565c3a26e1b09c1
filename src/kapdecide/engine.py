"""The durable-rules adapter: the only module that touches the engine.

durable-rules 2.0.28 segfaults, hangs or silently drops facts outside a narrow subset
(notes-durable-rules.md). This adapter stays inside the subset measured safe:

- rules are built as JSON for the C module directly (no ``durable.lang`` host, threads or actions);
- every rule is a single-fact ``$and`` of plain tests, prefixed by a ``kind == 'profile'``
  discriminator; ``$or`` is expanded into one rule per branch beforehand (``conditions.dnf``);
- rules are split into rulesets of at most ``CHUNK`` branches, so no node can have more than 64
  sibling tests true at once (error 303), nor 255 identical conditions, nor 511 leading tests;
- each profile is asserted in one batch framed by a start fact and an end fact; the end rule has
  the lowest priority, so a batch the engine cut short is detected and a rule always fired, which
  makes ``delete_state`` safe;
- facts are typed and bounded upstream; nulls are absent; floats never use exponents;
- each ruleset receives only the fields its rules test: the engine's cost grows with the fields it
  parses, and a field no rule tests cannot change which rules fire; branches are grouped by the
  fields they test so that each ruleset tests few;
- field names are checked for 32-bit FNV-1a collisions, the engine's only field identity.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kapdecide.core.errors import EngineError
from kapdecide.core.operators import OPERATORS
from kapdecide.language.conditions import Conjunction, Leaf
from kapdecide.language.facts import Facts

#: Branches per ruleset: below the 64 simultaneous sibling matches measured to corrupt a session.
CHUNK = 48
END = "__end__"
_ABANDON_LIMIT = 900  # sids per ruleset before rebuilding (the engine allows 1,024 live sessions)
#: Engine answers kept per ruleset, by the values and types of the facts it tests. Once full it keeps
#: what it has (the common questions come early), so memory stops growing with the batch.
_MEMO_MAX = 1024
#: After this many questions, a ruleset whose answers were found in the memo less often than
#: _MEMO_MIN_HITS stops keeping them (it tests values that rarely repeat: blood pressure, dates).
_MEMO_TRIAL = 2048
_MEMO_MIN_HITS = 0.25
# A JSON string (left alone), or an integer mantissa followed by an exponent (rewritten).
_STRING_OR_EXP_INT = re.compile(r'"(?:[^"\\]|\\.)*"|(?<![\d.])(-?\d+)([eE])')


# ---------------------------------------------------------------- the durable-rules dialect

#: A list of known values is never empty in the engine: ``not_contains`` on [] must match, and the
#: engine's allItems does not match an empty array.
LIST_SENTINEL = "__none__"
_ENGINE_CMP = {op: spec.engine for op, spec in OPERATORS.items() if spec.engine}


def reserved_value(leaf: Leaf) -> list[tuple[str, str]]:
    """A protocol may never test for the sentinel (every list the engine sees carries it)."""
    if leaf.value == LIST_SENTINEL or (isinstance(leaf.value, list) and LIST_SENTINEL in leaf.value):
        return [("reserved-value", f"{LIST_SENTINEL!r} is reserved by kapdecide's engine adapter")]
    return []


def closed_flag(field: str) -> str:
    """The engine-only companion of a list field: true when the list is complete (see facts.OpenList)."""
    return f"{field}{CLOSED_SUFFIX}"


CLOSED_SUFFIX = "__closed"


def engine_tests(leaf: Leaf) -> list[dict[str, Any]]:
    """One leaf as durable-rules tests (single fact, plain comparisons)."""
    f, op, value = leaf.field, leaf.op, leaf.value
    if op == "==":
        return [{f: value}]
    if op in _ENGINE_CMP:
        return [{_ENGINE_CMP[op]: {f: value}}]
    if op == "contains":
        return [{"$iany": {f: {"$i": value}}}]
    if op == "not_contains":
        # Absence proves nothing in an incomplete list: only a complete list can say "not included".
        return [{"$iall": {f: {"$neq": {"$i": value}}}}, {closed_flag(f): True}]
    if op == "is_unknown":
        return [{"$nex": {f: 1}}]
    if op == "is_known":
        return [{"$ex": {f: 1}}]
    raise ValueError(f"operator {op} is expanded before it reaches the engine")


def dumps(data: Any) -> str:
    """JSON the engine accepts: no NaN/Infinity, and ``1e-05`` written as ``1.0e-05`` (pitfall P3)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return _STRING_OR_EXP_INT.sub(lambda m: m.group(0) if m.group(1) is None else f"{m.group(1)}.0{m.group(2)}", text)


#: JSON text of recent fact values. Profiles repeat the same values (booleans, vocabulary words,
#: small numbers), so each is encoded once; cleared when full, so memory stays flat in a batch.
_ENCODED: dict[tuple[type, Any], str] = {}
_ENCODED_MAX = 20_000


def _encode(value: Any) -> str:
    key = (type(value), value)
    text = _ENCODED.get(key)
    if text is None:
        text = dumps([*value, LIST_SENTINEL] if isinstance(value, tuple) else value)
        if len(_ENCODED) >= _ENCODED_MAX:
            _ENCODED.clear()
        _ENCODED[key] = text
    return text


def encode_facts(facts: Facts) -> dict[str, str]:
    """The profile fact as the engine sees it, each value already written as engine JSON, so that each
    ruleset's fact is assembled from text. Lists are never empty (see LIST_SENTINEL) and carry a
    ``__closed`` flag: only a complete list can say an item is absent."""
    from kapdecide.language.facts import OpenList

    out = {"kind": '"profile"'}
    for name, value in facts.items():
        out[name] = _encode(value)
        if isinstance(value, tuple):
            out[closed_flag(name)] = "false" if isinstance(value, OpenList) else "true"
    return out


def fnv1a_32(text: str) -> int:
    """The engine's field-name hash."""
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def hash_collisions(names: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of names (whole dotted names and their segments) that share an FNV-1a hash."""
    seen: dict[int, str] = {}
    out = []
    pool = {"kind", "id", "sid", END, "$i", LIST_SENTINEL}
    for name in names:
        pool.add(name)
        pool.update(name.split("."))
    for name in sorted(pool):
        h = fnv1a_32(name)
        if h in seen and seen[h] != name:
            out.append((seen[h], name))
        seen.setdefault(h, name)
    return out


@dataclass(frozen=True)
class EngineRule:
    """One named condition in disjunctive normal form."""

    name: str
    branches: tuple[Conjunction, ...]


def tested_fields(definition: Mapping[str, Any]) -> frozenset[str]:
    """The fact fields a ruleset's tests read (``kind`` included), found by walking its JSON."""
    found: set[str] = {"kind"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not key.startswith("$") and key not in ("all", "m", "pri"):
                    found.add(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for rule in definition.values():
        walk(rule["all"])
    return frozenset(found)


class _Ruleset:
    def __init__(self, name: str, definition: Mapping[str, Any]):
        import durable_rules_engine as dre

        self._dre = dre
        self._name = name
        self._text = dumps(definition)
        self._handle = dre.create_ruleset(name, self._text)
        self._sid_n = 0
        self.fields = tested_fields(definition)
        self._keys = tuple((f, json.dumps(f) + ":") for f in sorted(self.fields))
        #: the profile facts behind the tested fields (a list's closed flag comes from its list's type)
        self.facts = tuple(sorted({f.removesuffix(CLOSED_SUFFIX) for f in self.fields} - {"kind"}))
        # The same values of the tested facts always get the same answer from the same ruleset, and
        # most rulesets test few, coarse facts (classes, flags, vocabularies), so a batch asks the
        # same question again and again: the engine's answer is kept, by value and type (True is
        # not 1, an open list is not a complete one). The guard still compares the answer with the
        # evaluator's for every profile.
        self._memo: dict[tuple[object, ...], list[str]] | None = {}
        self._asked = self._hits = 0

    def answer(self, facts: Facts, encoded: Callable[[], Mapping[str, str]]) -> list[str]:
        """The rules that fire for ``facts``; ``encoded`` gives them as engine text when the engine
        must be asked."""
        memo = self._memo
        if memo is None:
            return self.fired(encoded())
        key = tuple([_typed(facts.get(f, _ABSENT)) for f in self.facts])
        found = memo.get(key)
        self._asked += 1
        if found is not None:
            self._hits += 1
            return found
        found = self.fired(encoded())
        if len(memo) < _MEMO_MAX:
            memo[key] = found
        if self._asked == _MEMO_TRIAL and self._hits < _MEMO_MIN_HITS * _MEMO_TRIAL:
            self._memo = None
        return found

    def _abandon(self) -> None:
        # A session the engine failed in is corrupt: never touch it again (pitfall P2).
        self._sid_n += 1
        if self._sid_n >= _ABANDON_LIMIT:
            self._handle = self._dre.create_ruleset(self._name, self._text)
            self._sid_n = 0

    def fired(self, encoded: Mapping[str, str]) -> list[str]:
        """The rules that fire for one fact, given as ``encode_facts`` text; only tested fields are sent."""
        return self._run(",".join([key + text for name, key in self._keys if (text := encoded.get(name)) is not None]))

    def _run(self, body: str) -> list[str]:
        dre = self._dre
        sid = f"p{self._sid_n}"
        frame = f'"sid":"{sid}"'
        batch = f'[{{{frame},"id":"s"}},{{{body},{frame},"id":"f"}},{{"{END}":1,{frame},"id":"e"}}]'
        try:
            code, offset = dre.assert_facts(self._handle, batch)
        except Exception as exc:  # the engine raises bare Exceptions with numeric codes
            self._abandon()
            raise EngineError(f"the rules engine rejected the profile ({exc})") from None
        names: list[str] = []
        result = dre.start_action_for_state(self._handle, offset) if code in (0, 1) else None
        while result is not None:
            message = result[1] if isinstance(result, tuple) else result
            names.append(message[2 : message.index('"', 2)])
            result = dre.complete_and_start_action(self._handle, offset)
        if not names or names[-1] != END:
            self._abandon()
            raise EngineError("the rules engine did not evaluate the whole profile (truncated batch)")
        dre.delete_state(self._handle, sid)  # safe: the end rule fired in this session
        return names[:-1]


class Engine:
    """A protocol's conditions compiled into durable-rules rulesets, evaluated one profile at a time."""

    _counter = 0

    def __init__(self, rules: Iterable[EngineRule]):
        branches: list[tuple[str, Conjunction]] = [(rule.name, conj) for rule in rules for conj in rule.branches]
        # branches that test the same fields share a ruleset, so each call sends fewer fields (the
        # engine parses every field it is sent): 108 -> 74 field sends per profile for kap_sud
        branches.sort(key=lambda b: sorted({leaf.field for leaf in b[1]}))
        self._rulesets: list[_Ruleset] = []
        self._branch_owner: dict[str, str] = {}
        for start in range(0, len(branches), CHUNK):
            definition: dict[str, Any] = {}
            for i, (name, conj) in enumerate(branches[start : start + CHUNK], start):
                key = f"b{i}"
                self._branch_owner[key] = name
                tests = [{"kind": "profile"}, *(t for leaf in conj for t in engine_tests(leaf))]
                definition[key] = {"all": [{"m": {"$and": tests}}], "pri": 1}
            definition[END] = {"all": [{"m": {"$ex": {END: 1}}}], "pri": 65535}
            Engine._counter += 1
            self._rulesets.append(_Ruleset(f"kapdecide{Engine._counter}", definition))

    def fired(self, facts: Facts) -> set[str]:
        """Names of the rules with at least one branch true for these facts."""
        if any(isinstance(v, float) and not math.isfinite(v) for v in facts.values()):
            # NaN or infinity: refused, as the engine would mishandle them (and NaN is never a memo hit)
            raise EngineError("the rules engine rejected the profile (a number is NaN or infinite)")
        text: dict[str, str] = {}

        def encoded() -> Mapping[str, str]:  # once per profile, and only if a ruleset must be asked
            if not text:
                try:
                    text.update(encode_facts(facts))
                except ValueError as exc:  # NaN or infinity inside a list: refused like a bare one
                    raise EngineError(f"the rules engine rejected the profile ({exc})") from None
            return text

        out: set[str] = set()
        for ruleset in self._rulesets:
            out.update(self._branch_owner[key] for key in ruleset.answer(facts, encoded))
        return out


#: A fact the profile does not have: the engine is sent nothing, which is not the same as null.
_ABSENT = object()


def _typed(value: object) -> object:
    """A fact value as a memo key that tells True from 1, an open list from a complete one, and an
    absent fact from one that is None."""
    if isinstance(value, tuple):
        return (type(value), tuple([(type(x), x) for x in value]))
    return (type(value), value)
