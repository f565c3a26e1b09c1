"""codes: the catalogue holds every problem code the source emits, each documented, none in vain."""

from __future__ import annotations

import ast
from pathlib import Path

from kapdecide.core.codes import PROBLEM_CODES
from kapdecide.inputs.messages import CODES as _CODES

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "src" / "kapdecide"


def _emitted() -> dict[str, set[str]]:
    """Code literals where problems are made: ``.problem(path, CODE, …)``, ``Problem(f, l, c, CODE, …)``,
    ``error_record(line, exit, CODE, …)``, ``code=CODE``, ``code: str = CODE`` (error classes), and
    the ``(CODE, message)`` pairs of the condition checks; with the severity each is given."""
    out: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            found: list[ast.expr] = []
            severity = "error"
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
                index = {"problem": 1, "bad": 1, "Problem": 3, "error_record": 2, "_Refused": 0}.get(name)
                if index is not None and len(node.args) > index:
                    found.append(node.args[index])
                for kw in node.keywords:
                    if kw.arg == "code":
                        found.append(kw.value)
                    if kw.arg == "severity" and isinstance(kw.value, ast.Constant):
                        severity = kw.value.value
            elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "code" and node.value:
                found.append(node.value)
            elif path.name in ("conditions.py", "engine.py") and isinstance(node, ast.Tuple) and len(node.elts) == 2:
                first, second = node.elts
                if isinstance(first, ast.Constant) and isinstance(second, ast.Constant | ast.JoinedStr | ast.BinOp):
                    if isinstance(first.value, str) and "-" in first.value:
                        found.append(first)
            for f in found:
                if isinstance(f, ast.Constant) and isinstance(f.value, str):
                    out.setdefault(f.value, set()).add(severity)
    for code in [*_CODES.values(), "out-of-range", "wrong-type", "usage"]:  # pydantic errors, the usage record
        out.setdefault(code, set()).add("error")
    return out


def test_every_emitted_code_is_in_the_catalogue_with_its_severity() -> None:
    emitted = _emitted()
    assert sorted(set(emitted) - set(PROBLEM_CODES)) == []
    for code, severities in emitted.items():
        assert severities == {PROBLEM_CODES[code].severity}, code


def test_no_code_is_catalogued_in_vain() -> None:
    assert sorted(set(PROBLEM_CODES) - set(_emitted())) == []


def test_every_code_is_documented_in_the_reference() -> None:
    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    for code, spec in PROBLEM_CODES.items():
        assert f"| `{code}` | {spec.severity} |" in text, code


def test_parse_codes_splits_commas_and_suggests_for_an_unknown_code() -> None:
    import pytest

    from kapdecide.core.codes import parse_codes

    assert parse_codes(["tier-gap, never-true", "tier-gap", ""]) == {"tier-gap", "never-true"}
    with pytest.raises(ValueError, match="shadowed-rul: no such problem code; did you mean 'shadowed-rule'"):
        parse_codes(["shadowed-rul"])
    with pytest.raises(ValueError, match=r"^zzz: no such problem code \("):
        parse_codes(["zzz"])


def test_shown_applies_select_then_ignore() -> None:
    from kapdecide.core.codes import shown
    from kapdecide.core.errors import Problem

    ps = [Problem("f", 1, 1, c, "m") for c in ("tier-gap", "never-true", "unused-evidence")]
    codes = lambda xs: [p.code for p in xs]  # noqa: E731
    assert codes(shown(ps, frozenset({"tier-gap", "unused-evidence"}), frozenset({"unused-evidence"}))) == ["tier-gap"]
    assert codes(shown(ps, frozenset(), frozenset({"never-true"}))) == ["tier-gap", "unused-evidence"]
