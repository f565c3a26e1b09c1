"""yaml_source: plain data with 1-based positions; everything clever in YAML is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from kapdecide.inputs.yaml_source import (
    HAVE_LIBYAML,
    MAX_DEPTH,
    SourceError,
    SourceMap,
    _load_yaml,
    decode,
    format_path,
    load,
    looks_like_json,
)


def problems_of(text: str, file: str = "p.yaml") -> list:
    with pytest.raises(SourceError) as info:
        load(text, file)
    return info.value.problems


# ---------------------------------------------------------------- positions


def test_positions_are_one_based_for_keys_and_values() -> None:
    text = "patient:\n  age: 42\n  sex_at_birth: male\nlist:\n  - a\n  - b\n"
    data, smap = load(text, "p.yaml")
    assert data == {"patient": {"age": 42, "sex_at_birth": "male"}, "list": ["a", "b"]}
    assert smap.keys[("patient",)] == (1, 1)
    assert smap.keys[("patient", "age")] == (2, 3)
    assert smap.values[("patient", "age")] == (2, 8)
    assert smap.keys[("patient", "sex_at_birth")] == (3, 3)
    assert smap.values[("patient", "sex_at_birth")] == (3, 17)
    assert smap.values[("list", 0)] == (5, 5)
    assert smap.values[("list", 1)] == (6, 5)


def test_flow_style_positions() -> None:
    _, smap = load("a: {b: [1, 22]}\n", "p.yaml")
    assert smap.keys[("a", "b")] == (1, 5)
    assert smap.values[("a", "b", 0)] == (1, 9)
    assert smap.values[("a", "b", 1)] == (1, 12)


def test_locate_falls_back_to_nearest_ancestor_and_problem_carries_position() -> None:
    _, smap = load("patient:\n  age: 42\n", "p.yaml")
    assert smap.locate(("patient", "age", "nonexistent")) == (2, 8)
    assert smap.locate(("patient", "age"), key=True) == (2, 3)
    assert smap.locate(("nowhere",)) == (1, 1)  # the root mapping
    assert SourceMap("x").locate(("a",)) == (None, None)
    p = smap.problem(("patient", "age"), "some-code", "msg", key=True)
    assert (p.file, p.line, p.col, p.code, p.path) == ("p.yaml", 2, 3, "some-code", "patient.age")


def test_format_path() -> None:
    assert format_path(("vitals", "blood_pressure", 0, "systolic_mmhg")) == "vitals.blood_pressure[0].systolic_mmhg"
    assert format_path(()) == ""
    assert format_path((3, "a")) == "[3].a"


# ---------------------------------------------------------------- refusals


def test_duplicate_key_rejected_with_both_lines() -> None:
    (p,) = problems_of("a: 1\nb: 2\na: 3\n")
    assert p.code == "duplicate-key"
    assert (p.line, p.col) == (3, 1)
    assert "first given on line 1" in p.message
    assert p.path == "a"


def test_nested_duplicate_key_in_flow_mapping() -> None:
    (p,) = problems_of("x:\n  y: {b: 1, b: 2}\n")
    assert p.code == "duplicate-key"
    assert (p.line, p.col) == (2, 13)
    assert p.path == "x.y.b"


def test_all_duplicate_keys_reported_not_just_first() -> None:
    probs = problems_of("a: 1\na: 2\nb: 1\nb: 2\n")
    assert [(p.code, p.line) for p in probs] == [("duplicate-key", 2), ("duplicate-key", 4)]


def test_alias_rejected() -> None:
    (p,) = problems_of("a: &x 1\nb: *x\n")
    assert p.code == "yaml-alias"
    assert "alias" in p.message
    assert (p.line, p.col) == (2, 4)


def test_alias_bomb_rejected_quickly() -> None:
    text = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n'
    (p,) = problems_of(text)
    assert p.code == "yaml-alias" and p.line == 2


@pytest.mark.parametrize(
    "text",
    [
        "a: !!int 1\n",
        "a: !!python/object:os.system x\n",
        "a: !custom x\n",
        "a: !!float 1\n",
        "a: !!binary aGk=\n",
        "a: !!set {b}\n",
        "a: !!omap [b: 1]\n",
    ],
)
def test_tags_rejected(text: str) -> None:
    (p,) = problems_of(text)
    assert p.code == "yaml-tag"
    assert (p.line, p.col) == (1, 4)


def test_explicit_str_tag_is_refused_or_kept_as_text() -> None:
    # `a: !!str 42` asks for text; the loader silently returns the integer 42 (and `!!str true` -> True).
    try:
        data, _ = load("a: !!str 42\n", "p.yaml")
    except SourceError:
        return  # refusing the tag would be fine
    assert data == {"a": "42"}


def test_non_scalar_key_rejected() -> None:
    (p,) = problems_of("a: 1\n? [1, 2]\n: 3\n")
    assert p.code == "yaml-key"
    assert p.line == 2


def test_several_documents_rejected() -> None:
    (p,) = problems_of("a: 1\n---\nb: 2\n")
    assert p.code == "yaml-syntax"
    assert "several YAML documents" in p.message
    assert p.line == 2


def test_deep_nesting_rejected() -> None:
    deep = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    (p,) = problems_of(deep)
    assert p.code == "too-deep"
    assert "nested deeper" in p.message


def test_nesting_within_limit_accepted() -> None:
    depth = MAX_DEPTH - 2
    data, _ = load("[" * depth + "]" * depth, "p.yaml")
    for _ in range(depth - 1):
        assert isinstance(data, list) and len(data) == 1
        data = data[0]
    assert data == []


def test_syntax_error_located() -> None:
    (p,) = problems_of("a: [1, 2\nb: 3\n")
    assert p.code == "yaml-syntax"
    assert p.line is not None and p.col is not None


# ---------------------------------------------------------------- scalar typing


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "y", "n", "Yes", "NO", "On"])
def test_yaml11_booleans_stay_strings(word: str) -> None:
    data, _ = load(f"a: {word}\n", "p.yaml")
    assert data == {"a": word}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("NULL", None),
    ],
)
def test_core_schema_constants(text: str, value: object) -> None:
    data, _ = load(f"a: {text}\n", "p.yaml")
    assert data["a"] is value


@pytest.mark.parametrize("text", ["2026-01-01", "2026-01-01T10:00:00", "2026-02-30", "12:30"])
def test_dates_and_times_stay_strings(text: str) -> None:
    data, _ = load(f"a: {text}\n", "p.yaml")
    assert data == {"a": text}


@pytest.mark.parametrize("text", [".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1e999", "-1e999"])
def test_nan_and_infinity_do_not_become_floats(text: str) -> None:
    data, _ = load(f"a: {text}\n", "p.yaml")
    assert data == {"a": text}
    assert isinstance(data["a"], str)


@pytest.mark.parametrize("text", ["'42'", '"42"', "'1.5'", "'true'", "'null'", '""'])
def test_quoted_scalars_stay_strings(text: str) -> None:
    data, _ = load(f"a: {text}\n", "p.yaml")
    assert isinstance(data["a"], str)
    assert data["a"] == text[1:-1]


def test_block_scalar_stays_string() -> None:
    data, _ = load("a: |\n  42\n", "p.yaml")
    assert data == {"a": "42\n"}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-7", -7),
        ("+3", 3),
        ("0", 0),
        ("1.5", 1.5),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("-0.25", -0.25),
    ],
)
def test_decimal_numbers(text: str, value: float) -> None:
    data, _ = load(f"a: {text}\n", "p.yaml")
    assert data["a"] == value
    assert type(data["a"]) is type(value)


@pytest.mark.parametrize("text", ["0x1F", "0o17", "1_000", "0b101", "1:30", "12abc"])
def test_other_number_spellings_stay_strings(text: str) -> None:
    data, _ = load(f"a: {text}\n", "p.yaml")
    assert data == {"a": text}


def test_empty_document_is_none() -> None:
    data, smap = load("# only a comment\n", "p.yaml")
    assert data is None
    assert smap.values == {}


# ---------------------------------------------------------------- JSON


def test_json_detection() -> None:
    assert looks_like_json("{}", "p.yaml")
    assert looks_like_json('  \n {"a": 1}', "p.yaml")
    assert looks_like_json("[1]", "p.json")
    assert not looks_like_json("a: 1", "p.yaml")
    assert not looks_like_json("[1]", "p.yaml")


def test_json_loaded_with_positions() -> None:
    data, smap = load('{"a": 1,\n "b": [true, null, "yes", 2.5]}', "p.json")
    assert data == {"a": 1, "b": [True, None, "yes", 2.5]}
    assert smap.keys[("b",)] == (2, 2)
    assert smap.values[("b", 2)] == (2, 20)


def test_json_duplicate_keys_rejected() -> None:
    (p,) = problems_of('{"a": 1,\n "a": 2}', "p.json")
    assert p.code in ("duplicate-key", "json-invalid")
    assert "duplicate key 'a'" in p.message
    if p.code == "duplicate-key":  # located through the YAML composer
        assert (p.line, p.col) == (2, 2)


def test_json_nested_duplicate_keys_rejected() -> None:
    (p,) = problems_of('{"x": {"a": 1, "a": 1}}', "p.json")
    assert p.code in ("duplicate-key", "json-invalid")
    assert "'a'" in p.message


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_json_nan_and_infinity_rejected(token: str) -> None:
    (p,) = problems_of(f'{{"a": {token}}}', "p.json")
    assert p.code == "json-invalid"


def test_json_syntax_error_has_line_and_column() -> None:
    (p,) = problems_of('{"a": 1,\n "b": 2,\n}', "p.json")
    assert p.code == "json-syntax"
    assert p.line == 3 and p.col == 1


def test_json_that_yaml_cannot_compose_still_loads_without_positions() -> None:
    key = "k" * 1100  # JSON allows any key length; a YAML flow key is at most 1024 characters
    data, smap = load('{"' + key + '": 1}', "p.json")
    assert data == {key: 1}
    assert smap.values == {}


# ---------------------------------------------------------------- bytes


def test_decode_refusals() -> None:
    with pytest.raises(SourceError) as info:
        decode(b"a" * 11, "p.yaml", 10)
    assert info.value.problems[0].code == "too-large"
    with pytest.raises(SourceError) as info:
        decode(b"\xef\xbb\xbfa: 1", "p.yaml", 100)
    assert info.value.problems[0].code == "byte-order-mark"
    with pytest.raises(SourceError) as info:
        decode(b"a: 1\nb: \xff\n", "p.yaml", 100)
    p = info.value.problems[0]
    assert (p.code, p.line, p.col) == ("not-utf8", 2, 4)
    assert decode("a: é".encode(), "p.yaml", 100) == "a: é"


# ---------------------------------------------------------------- libyaml and PyYAML's parser agree

ROOT = Path(__file__).resolve().parents[3]
YAML_FILES = sorted(
    p.relative_to(ROOT)
    for p in [
        *ROOT.glob("protocols/**/*.yaml"),
        *ROOT.glob("tests/fixtures/**/*.yaml"),
        *ROOT.glob("examples/**/*.yaml"),
    ]
)


def _outcome(text: str, pure: bool) -> object:
    try:
        data, smap = _load_yaml(text, "f.yaml", pure=pure)
    except SourceError as exc:
        return [(p.code, p.line, p.col) for p in exc.problems]
    return data, smap.values, smap.keys


@pytest.mark.skipif(not HAVE_LIBYAML, reason="PyYAML without libyaml: only its own parser is used")
@pytest.mark.parametrize("path", YAML_FILES, ids=str)
def test_libyaml_and_the_python_parser_give_the_same_data_and_positions(path: Path) -> None:
    # The fast parser is only an accelerator: values, positions and refusals must not depend on it.
    text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
    assert _outcome(text, pure=False) == _outcome(text, pure=True)


def test_a_tab_in_the_indentation_is_named() -> None:
    (p,) = problems_of("patient:\n\tage: 42\n", "p.yaml")
    assert (p.code, p.line, p.col) == ("yaml-syntax", 2, 1)
    assert "tab" in p.message and "spaces" in p.message
