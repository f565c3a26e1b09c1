"""CLI conventions: --version, whole one-line summaries, an example in every command's help (each
one a valid invocation), and shell completion."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import click
import pytest

from cli.helpers import ROOT, run_in_process
from kapdecide import __version__
from kapdecide.cli import cli

COMMANDS = sorted(cli.commands)  # type: ignore[attr-defined]


def test_version() -> None:
    code, out, _ = run_in_process("--version")
    assert (code, out.decode()) == (0, f"kapdecide, version {__version__}\n")


def test_every_summary_in_help_is_whole_and_one_line() -> None:
    code, out, _ = run_in_process("--help")
    assert code == 0
    listing = out.decode().split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in listing] == COMMANDS
    for line in listing:
        name, summary = line.split(None, 1)
        command = cli.commands[name]  # type: ignore[attr-defined]
        assert summary == command.help.strip().splitlines()[0], name  # the docstring's first line, whole
        assert not summary.endswith("...") and summary.endswith("."), line
        assert len(summary) <= 60, f"{name}: keep the first line of the docstring within 60 characters"


def _examples(name: str) -> list[str]:
    code, out, _ = run_in_process(name, "--help")
    assert code == 0
    text = out.decode()
    assert "Example" in text, f"{name} --help has no example"
    return [line.strip() for line in text.splitlines() if line.startswith("    kapdecide ")]


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_help_has_examples_that_are_valid_invocations(name: str) -> None:
    examples = _examples(name)
    assert any(e.startswith(f"kapdecide {name}") for e in examples), examples
    for example in examples:
        args = shlex.split(re.split(r" [<>] ", example)[0])[1:]  # without the shell's redirections
        command = cli.commands[args[0]]  # type: ignore[attr-defined]
        with click.Context(cli) as parent:
            try:  # parses: options, choices, dates, --what-if
                command.make_context(args[0], args[1:], parent=parent)
            except click.BadParameter as exc:
                assert "does not exist" in exc.format_message(), example  # a placeholder folder only


def test_help_names_shell_completion() -> None:
    _, out, _ = run_in_process("--help")
    assert "_KAPDECIDE_COMPLETE=bash_source kapdecide" in out.decode()


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _kapdecide_completion kapdecide"),
        ("zsh", "#compdef kapdecide"),
        ("fish", "complete --no-files --command kapdecide"),
    ],
)
def test_the_completion_script_is_produced(shell: str, marker: str) -> None:
    env = {**os.environ, "_KAPDECIDE_COMPLETE": f"{shell}_source"}
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide"], cwd=ROOT, env=env, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert marker.encode() in proc.stdout


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("kapdecide as", "1", "plain,assess"),
        ("kapdecide assess --format ", "3", "plain,cds-hooks"),
        ("kapdecide assess exa", "2", "file,exa"),
    ],
)
def test_completion_answers_commands_choices_and_files(words: str, cword: str, expected: str) -> None:
    env = {**os.environ, "_KAPDECIDE_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    proc = subprocess.run(
        [sys.executable, "-m", "kapdecide"], cwd=ROOT, env=env, capture_output=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout.decode().splitlines()
