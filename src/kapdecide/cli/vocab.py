"""``kapdecide vocab``: the words kapdecide knows (the README is not installed with the package)."""

from __future__ import annotations

import sys

import click

from kapdecide.cli.common import console_for, format_option
from kapdecide.cli.group import cli
from kapdecide.core.errors import ExitCode


@cli.command()
@click.argument("what", type=click.Choice(["substances", "conditions", "medications", "next-steps"]), required=False)
@format_option()
def vocab(what: str | None, fmt: str) -> int:
    """List the substances, conditions and other words known.

    Substances, conditions, medication classes and next steps; without an argument, every list.
    Free text and codes are read too; an entry the tables do not recognise is kept, reported and
    checked by hand.

    Examples:

    \b
      kapdecide vocab
      kapdecide vocab conditions --format json
    """
    from kapdecide.reference import VOCAB_LISTS
    from kapdecide.reference import vocab as lists

    chosen = [what] if what else list(VOCAB_LISTS)
    data = {name: lists(name) for name in chosen}
    if fmt == "json":
        from kapdecide.render.json import dumps

        sys.stdout.write(dumps({"schema_version": "1.0", "vocabularies": data}))
        return ExitCode.OK
    from rich.markup import escape
    from rich.table import Table

    out = console_for(sys.stdout)
    for name in chosen:
        out.print(f"[bold]{escape(name)}[/] — written in {escape(VOCAB_LISTS[name])}")
        for section, words in data[name].items():
            if len(data[name]) > 1:
                out.print(f"  [bold]{escape(section)}[/]")
            grid = Table.grid(padding=(0, 2))  # columns keep wrapped meanings under their column
            grid.add_column(no_wrap=True)
            grid.add_column()
            for word, meaning in words.items():
                grid.add_row(f"    {word}", "" if meaning == word.replace("_", " ") else meaning)
            out.print(grid)
    return ExitCode.OK
