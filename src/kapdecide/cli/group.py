"""The ``kapdecide`` command group; each command module registers itself on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kapdecide import __version__
from kapdecide.cli.common import color_option

if TYPE_CHECKING:
    pass


class _Group(click.Group):
    """The command group: each command's one-line summary in --help is its docstring's first line,
    whole (click would cut it at 45 characters and end it with "...")."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd`` with its full first line as its summary."""
        if cmd.short_help is None and cmd.help:
            cmd.short_help = cmd.help.strip().split("\n\n")[0].replace("\n", " ")
        super().add_command(cmd, name)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kapdecide")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
@color_option()
def cli(debug: bool) -> None:
    """kapdecide: decision support for ketamine-assisted therapy in substance use disorders.

    It evaluates a patient profile against clinical protocols and lists what a clinician must
    review. It supports a decision; it never makes one. 'kapdecide COMMAND --help' shows a command's
    options and examples.

    Shell completion (bash, zsh, fish), e.g. in ~/.bashrc:

    \b
      eval "$(_KAPDECIDE_COMPLETE=bash_source kapdecide)"
    """
