"""loader: every mistake in a protocol is reported with file:line:col and a stable code."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from kapdecide.core.errors import ProtocolLoadError
from kapdecide.protocol.loader import (
    LoadedProtocol,
    default_protocol_dir,
    load_protocols,
    protocol_files,
    read_protocol,
    validate_paths,
)

#: Lint findings (tests/unit/protocol/test_lint.py covers them); these tests are about the checks.
LINT_CODES = {"rule-without-rationale", "evidence-without-doi", "never-false", "shadowed-rule", "review-overdue"}

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "protocols"
MINI = FIXTURES / "valid" / "mini.yaml"
INVALID = sorted((FIXTURES / "invalid").glob("*.yaml"))
MARK = re.compile(r"#\s*<-\s*(.+)$")


def marked(path: Path) -> list[tuple[str, int]]:
    """The (code, line) pairs a fixture's '# <- code' comments expect."""
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = MARK.search(line)
        if m:
            out += [(code.strip(), number) for code in m.group(1).split(",")]
    return sorted(out)


def errors(problems: list) -> list:  # type: ignore[type-arg]
    return [p for p in problems if p.severity == "error"]


def test_mini_protocol_is_valid() -> None:
    lp, problems = read_protocol(MINI)
    assert problems == []
    assert isinstance(lp, LoadedProtocol)
    assert lp.protocol.id == "mini"
    assert len(lp.sha256) == 64
    from kapdecide.assessment.report import protocol_ref

    assert protocol_ref(lp) == {"id": "mini", "version": "0.1.0", "title": "Mini", "sha256": lp.sha256}


def test_there_is_a_fixture_for_each_class_of_mistake() -> None:
    codes = {code for f in INVALID for code, _ in marked(f)}
    assert {
        "duplicate-id",
        "duplicate-key",
        "unknown-field",
        "unknown-profile-field",
        "value-not-in-vocabulary",
        "type-mismatch",
        "operator-type-mismatch",
        "undefined-evidence",
        "option-without-grade",
        "option-without-citation",
        "unknown-placeholder",
        "engine-limit",
        "yaml-tag",
        "interaction-without-severity",
    } <= codes
    assert all(marked(f) for f in INVALID)


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture(path: Path) -> None:
    _, problems = read_protocol(path)
    found = sorted((p.code, p.line) for p in errors(problems))
    assert found == marked(path), "\n".join(p.format() for p in problems)
    for p in problems:
        assert p.file == str(path)
        assert p.col is not None and p.col >= 1
        assert p.message
    with pytest.raises(ProtocolLoadError) as info:
        load_protocols([path])
    assert info.value.exit_code == 3
    assert sorted((p.code, p.line) for p in info.value.problems) == marked(path)


def test_every_semantic_mistake_is_reported() -> None:
    path = FIXTURES / "invalid" / "several-mistakes.yaml"
    lp, problems = read_protocol(path)
    assert lp is not None  # the schema is valid, so every semantic check ran
    assert len(errors(problems)) == len(marked(path)) == 6
    assert len({p.code for p in problems}) == 6


def test_every_schema_mistake_is_reported() -> None:
    path = FIXTURES / "invalid" / "several-schema-mistakes.yaml"
    lp, problems = read_protocol(path)
    assert lp is None
    assert len(problems) == len(marked(path)) == 4


def test_problem_details() -> None:
    _, problems = read_protocol(FIXTURES / "invalid" / "unknown-profile-field.yaml")
    (p,) = problems
    assert p.path == "rules[1].when.field"
    assert "did you mean 'vitals.bp_systolic_mmhg'" in p.message
    assert p.format().startswith(
        f"{FIXTURES / 'invalid' / 'unknown-profile-field.yaml'}:24:19: error [unknown-profile-field]"
    )
    _, problems = read_protocol(FIXTURES / "invalid" / "undefined-evidence.yaml")
    (p,) = problems
    assert p.path == "rules[1].evidence[1]"
    assert "did you mean 'KARE-2022'" in p.message


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_paths_reports_cross_file_duplicate_rule_ids(tmp_path: Path) -> None:
    text = MINI.read_text(encoding="utf-8")
    a = write(tmp_path, "a.yaml", text)
    b = write(
        tmp_path,
        "b.yaml",
        text.replace("id: mini", "id: mini_two").replace("id: iv_ketamine_clinic", "id: iv_ketamine_two"),
    )
    loaded, problems = validate_paths([tmp_path])
    problems = [p for p in problems if p.code not in LINT_CODES]
    assert [lp.path for lp in loaded] == [str(a), str(b)]
    assert [(p.file, p.code, p.line) for p in problems] == [
        (str(b), "duplicate-id", 12),
        (str(b), "duplicate-id", 19),
        (str(b), "duplicate-id", 26),
    ]
    assert "also defined in" in problems[0].message and str(a) in problems[0].message
    assert "bp_above_hold_threshold" in problems[0].message
    with pytest.raises(ProtocolLoadError):
        load_protocols([tmp_path])


def test_validate_paths_reports_cross_file_duplicate_protocol_and_option_ids(tmp_path: Path) -> None:
    text = MINI.read_text(encoding="utf-8")
    write(tmp_path, "a.yaml", text)
    write(
        tmp_path,
        "b.yaml",
        text.replace("  - id: bp_above", "  - id: other_bp_above")
        .replace("  - id: missing_bp", "  - id: other_missing_bp")
        .replace("  - id: benzodiazepine_interaction", "  - id: other_benzodiazepine_interaction"),
    )
    _, problems = validate_paths([tmp_path])
    problems = [p for p in problems if p.code not in LINT_CODES]
    assert [(p.code, p.path, p.line) for p in problems] == [
        ("duplicate-id", "id", 1),
        ("duplicate-id", "options[0].id", 38),
    ]


def test_problems_from_several_files_are_all_reported(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "invalid" / "duplicate-key.yaml", tmp_path / "a.yaml")
    shutil.copy(FIXTURES / "invalid" / "undefined-evidence.yaml", tmp_path / "b.yaml")
    (tmp_path / "notes.txt").write_text("not a protocol")
    loaded, problems = validate_paths([tmp_path])
    assert [Path(lp.path).name for lp in loaded] == ["b.yaml"]
    assert [(Path(p.file).name, p.code) for p in errors(problems)] == [
        ("a.yaml", "duplicate-key"),
        ("b.yaml", "undefined-evidence"),
    ]


def test_warnings_do_not_block_loading(tmp_path: Path) -> None:
    text = MINI.read_text(encoding="utf-8").replace(
        "evidence:\n  - {id: KARE-2022", "evidence:\n  - {id: UNUSED-1, citation: x, design: other}\n  - {id: KARE-2022"
    )
    path = write(tmp_path, "w.yaml", text)
    loaded = load_protocols([path])
    assert [lp.protocol.id for lp in loaded] == ["mini"]
    _, problems = validate_paths([path])
    problems = [p for p in problems if p.code not in LINT_CODES]
    assert {(p.code, p.severity) for p in problems} == {
        ("unused-evidence", "warning"),
        ("evidence-without-identifier", "warning"),
    }


def test_protocol_files(tmp_path: Path) -> None:
    files, problems = protocol_files([tmp_path])
    assert files == [] and [p.code for p in problems] == ["no-protocols"]
    shutil.copy(MINI, tmp_path / "c.yml")
    files, problems = protocol_files([tmp_path])
    assert files == [tmp_path / "c.yml"] and problems == []
    files, problems = protocol_files([tmp_path / "missing.yaml"])
    assert files == [] and [p.code for p in problems] == ["not-found"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ProtocolLoadError) as info:
        load_protocols([tmp_path / "empty"])
    assert info.value.exit_code == 3


@pytest.mark.parametrize(
    ("text", "code", "line"),
    [
        ("- a\n- b\n", "not-a-mapping", 1),
        ("a: [1\n", "yaml-syntax", None),
        ("id: x\n---\nid: y\n", "yaml-syntax", 2),
    ],
)
def test_unreadable_protocol(tmp_path: Path, text: str, code: str, line: int | None) -> None:
    lp, problems = read_protocol(write(tmp_path, "p.yaml", text))
    assert lp is None
    assert [p.code for p in problems] == [code]
    if line is not None:
        assert problems[0].line == line


def test_json_protocol_is_accepted(tmp_path: Path) -> None:
    import json

    from kapdecide.inputs.yaml_source import load

    data, _ = load(MINI.read_text(encoding="utf-8"), "mini.yaml")
    path = write(tmp_path, "p.json", json.dumps(data, indent=1, default=str))
    lp, problems = read_protocol(path)
    assert problems == [] and lp is not None and lp.protocol.id == "mini"


WHEN = "    when: {field: vitals.bp_systolic_mmhg, op: is_unknown}\n"


def with_when(tmp_path: Path, when: str) -> Path:
    text = MINI.read_text(encoding="utf-8")
    assert WHEN in text
    return write(tmp_path, "p.yaml", text.replace(WHEN, when))


def test_schema_error_inside_nested_condition_is_located(tmp_path: Path) -> None:
    path = with_when(
        tmp_path, "    when:\n      not:\n        all:\n          - field: patient.age\n            op: '=>'\n"
    )
    lp, problems = read_protocol(path)
    assert lp is None
    assert [(p.code, p.line, p.col, p.path) for p in problems] == [
        ("not-in-vocabulary", 26, 17, "rules[1].when.not.all[0].op")
    ]


def test_missing_operator_is_named(tmp_path: Path) -> None:
    path = with_when(tmp_path, "    when:\n      any:\n        - field: patient.age\n          value: 3\n")
    _, problems = read_protocol(path)
    assert [(p.code, p.path) for p in problems] == [("missing-field", "rules[1].when.any[0].op")]


def test_mapping_value_is_one_problem(tmp_path: Path) -> None:
    path = with_when(tmp_path, "    when: {field: patient.age, op: '==', value: {a: 1}}\n")
    _, problems = read_protocol(path)
    # today: five problems with paths rules[1].when.value.bool, ...value.int, ...value.constrained-str, ...
    assert [(p.code, p.path) for p in problems] == [("wrong-type", "rules[1].when.value")]


def test_a_literal_that_can_never_match_an_ingredient_field_is_an_error(tmp_path: Path) -> None:
    """Issue 13 item 7: `contains Lorazepam` (capitalised) or a misspelt name passed validate and never fired."""
    text = (default_protocol_dir() / "kap-sud.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "{field: substance_use.sedatives.treatment, op: not_contains, value: lorazepam}",
        "{field: substance_use.sedatives.treatment, op: not_contains, value: Lorazepam}",
    ).replace(
        "{field: medications.ingredients, op: contains, value: lithium}",
        "{field: medications.ingredients, op: contains, value: lithum}",
    )
    path = tmp_path / "kap-sud.yaml"
    path.write_text(text, encoding="utf-8")
    _, problems = validate_paths([path], dt.date(2026, 11, 21), None)
    errors = [p for p in problems if p.code == "value-not-in-vocabulary"]
    assert {p.message.split(" is not")[0] for p in errors} == {"'Lorazepam'", "'lithum'"}
    assert any("did you mean 'lorazepam'?" in p.message for p in errors)
    assert any("did you mean 'lithium'?" in p.message for p in errors)
    assert all(p.line is not None for p in errors)


def test_a_protocol_folder_warns_about_files_it_skips(tmp_path: Path) -> None:
    shutil.copy(default_protocol_dir() / "kap-sud.yaml", tmp_path / "kap-sud.yaml")
    (tmp_path / "draft.YAML").write_text("id: x\n", encoding="utf-8")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    files, problems = protocol_files([tmp_path])
    assert [f.name for f in files] == ["kap-sud.yaml"]
    assert {(Path(p.file).name, p.severity) for p in problems} == {("draft.YAML", "warning"), ("gone.yaml", "warning")}
