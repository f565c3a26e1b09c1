"""``kapdecide screen``: a registry's JSONL files screened on a Dask cluster (``kapdecide.population``)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from kapdecide.cli.common import as_of_option, line_option, protocols_option, tz_option
from kapdecide.cli.group import cli
from kapdecide.core.errors import ExitCode


@cli.command()
@click.argument("inputs", nargs=-1, required=True, metavar="FILE.jsonl...")
@protocols_option()
@click.option(
    "--output", "-o", required=True, metavar="DIR", help="New or empty folder for the parts and manifest.json."
)
@click.option(
    "--scheduler",
    default="local",
    show_default=True,
    metavar="ADDRESS|local|sync",
    help="A running Dask scheduler (tcp://HOST:8786), a local cluster of --workers processes, or sync (one process).",
)
@click.option("--workers", type=click.IntRange(1, 256), help="--scheduler local: worker processes [default: the cores]")
@line_option("Each line the full report, or compact (as `assess --batch --line`).")
@as_of_option("Assessment date; wins over each line's assessed_on. Default: assessed_on, else today.")
@tz_option("Time zone of 'today' (IANA name).")
@click.option(
    "--blocksize", type=click.IntRange(1), default=1 << 20, show_default=True, help="Input bytes per partition."
)
def screen(
    inputs: tuple[str, ...],
    protocols_dir: str | None,
    output: str,
    scheduler: str,
    workers: int | None,
    line_format: str,
    as_of: dt.date | None,
    tz: str,
    blocksize: int,
) -> int:
    """Screen a registry of JSONL profiles on a Dask cluster.

    Every line of the files (globs and fsspec URLs too), read one after another and numbered 1..N
    across them, is assessed; the output parts, read in name order, are the lines `assess --batch`
    writes. Needs: pip install 'kapdecide[population]'.

    Examples:

    \b
      kapdecide screen 'registry/*.jsonl' --workers 2 --output screened/
      kapdecide screen 'registry/*.jsonl' --scheduler tcp://10.0.0.5:8786 --output /shared/screened/
    """
    try:
        import dask
        import distributed

        from kapdecide import population
    except ImportError:
        raise click.UsageError("kapdecide screen needs Dask: pip install 'kapdecide[population]'") from None
    line: Any = line_format

    def run() -> dict[str, Any]:
        bag = population.screen(list(inputs), protocols_dir, as_of=as_of, line=line, tz=tz, blocksize=blocksize)
        return population.write(bag, output)

    if scheduler == "sync":
        with dask.config.set(scheduler="sync"):
            manifest = run()
    elif scheduler == "local":
        with (
            distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            client.wait_for_workers(1)
            manifest = run()
    else:
        with distributed.Client(scheduler):
            manifest = run()
    sys.stderr.write(
        f"screen: {manifest['lines']} line(s) in {len(manifest['parts'])} part(s) in {output}: "
        f"{manifest['invalid']} invalid, {manifest['errors']} internal error(s)\n"
    )
    if manifest["errors"]:
        return ExitCode.INTERNAL
    return ExitCode.INVALID_INPUT if manifest["invalid"] else ExitCode.OK
