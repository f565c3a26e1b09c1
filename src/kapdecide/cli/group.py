"""The ``kapdecide`` command group; each command module registers itself on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kapdecide import __version__
from kapdecide.cli.common import color_option

if TYPE_CHECKING:
    pass


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kapdecide")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
@color_option()
def cli(debug: bool) -> None:
    """kapdecide: decision support for ketamine-assisted therapy in substance use disorders.

    It evaluates a patient profile against clinical protocols and lists what a clinician must
    review. It supports a decision; it never makes one.
    """
