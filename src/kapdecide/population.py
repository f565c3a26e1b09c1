"""Screening a registry at population scale: ``assess --batch`` as a map over partitions of JSONL, with Dask.

``screen(paths)`` gives a ``dask.bag.Bag`` of output lines, one for each input line, in input order:
exactly the lines ``kapdecide assess --batch`` writes for the files read one after another (each
file's last line is a line of its own, as if every file ended with a newline). Lines are numbered
1..N across all the files, in the order given (a glob is expanded in sorted order); each output line
carries its number (``input_line`` in a report, ``line`` in an error record), as in ``--batch``.

How: the files are cut into blocks at line ends (``dask.bytes.read_bytes``, which also reads any
fsspec URL). A first quick pass counts the lines of each block, so that every block knows the number
of its first line; each block is then one partition, assessed line by line by
``kapdecide.batch.assess_line``, the function ``--batch`` runs. A worker process loads and compiles
the protocols once (cached by folder and sha256), and refuses to assess if its protocol files are not
byte for byte those the caller checked. Each partition checks that it gives as many output lines as
its block has lines, so a line is never dropped; a bad line is an error record; a partition that
fails (or a worker that dies more often than Dask retries) raises from ``compute``, never a short
result. Requires the ``population`` extra: ``pip install 'kapdecide[population]'``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kapdecide.core.errors import ExitCode, InvalidInputError, KapdecideError

if TYPE_CHECKING:
    import dask.bag

    from kapdecide.protocol.loaded import LoadedProtocol

__all__ = [
    "DEFAULT_BLOCKSIZE",
    "MANIFEST",
    "PopulationError",
    "Settings",
    "assess_block",
    "count_lines",
    "screen",
    "settings",
    "write",
]

#: Bytes of input per partition (about 850 generated profiles; a partition's output is held in memory).
DEFAULT_BLOCKSIZE = 1 << 20
#: The file that ``write`` adds last: the output folder is complete only when it is there.
MANIFEST = "manifest.json"


@dataclass
class PopulationError(KapdecideError):
    """A screening that cannot give every line its output (a lost line, other protocols, the output)."""

    code: str = "population-error"


@dataclass(frozen=True)
class Settings:
    """What every partition needs to assess its lines, small enough to travel with each task."""

    protocols_dir: str | None  # None: the protocols shipped with kapdecide, wherever it is installed
    sha256s: tuple[str, ...]  # the protocol files the caller checked, in load order
    version: str  # kapdecide's version on the caller (a worker with another one refuses)
    as_of: dt.date
    forced: bool  # True: as_of wins over each line's assessed_on (an explicit --as-of)
    compact: bool
    zone: str  # the time zone of the day's end (--tz)


_LOADED: dict[tuple[str | None, tuple[str, ...], bool], tuple[list[LoadedProtocol], dict[str, Any] | None]] = {}


def _protocols(s: Settings) -> tuple[list[LoadedProtocol], dict[str, Any] | None]:
    """The protocols (and the compact header) of this process, loaded and compiled once."""
    key = (s.protocols_dir, s.sha256s, s.compact)
    found = _LOADED.get(key)
    if found is not None:
        return found
    from kapdecide import __version__
    from kapdecide.assessment.compact import header
    from kapdecide.assessment.compiled import compile_protocol
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    if __version__ != s.version:
        raise PopulationError(f"this worker runs kapdecide {__version__}, the screening was started with {s.version}")
    loaded = load_protocols([s.protocols_dir or default_protocol_dir()])
    here = tuple(lp.sha256 for lp in loaded)
    if here != s.sha256s:
        raise PopulationError(
            f"the protocols a worker read from {s.protocols_dir or 'the installed package'} are not those the "
            "screening was started with (sha256 differ): every worker must see the same protocol files"
        )
    for lp in loaded:
        compile_protocol(lp)  # once per process (cached by sha256); not on a partition's first line
    found = (loaded, header(loaded) if s.compact else None)
    _LOADED[key] = found
    return found


def count_lines(block: bytes) -> int:
    """The lines in a block cut at line ends (LF); only a file's last line may lack its LF."""
    return block.count(b"\n") + (1 if block and not block.endswith(b"\n") else 0)


def assess_block(block: bytes, first: int, expected: int, s: Settings) -> list[str]:
    """The output lines of one partition: one per line of ``block``, the first numbered ``first``."""
    from kapdecide.batch import assess_line
    from kapdecide.core import clock

    protocols, head = _protocols(s)
    lines = block.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # the LF that ends the block's last line (or an empty block) starts no line
    if len(lines) != expected:
        raise PopulationError(f"a block starting at line {first} has {len(lines)} line(s), {expected} were counted")
    out: list[str] = []
    with clock.using(clock.zone_named(s.zone)):
        for i, raw in enumerate(lines):
            raw = raw[:-1] if raw.endswith(b"\r") else raw  # a CRLF end is one end, as in --batch
            out.append(assess_line(first + i, raw, protocols, s.as_of, s.forced, head)[1])
    return out


def settings(
    protocols_dir: str | os.PathLike[str] | None = None,
    *,
    as_of: dt.date | None = None,
    line: Literal["full", "compact"] = "full",
    tz: str = "UTC",
) -> Settings:
    """Check the protocols here (a broken protocol fails before any work is sent) and fix the run's
    settings: without ``as_of``, each line's ``assessed_on``, else today in ``tz`` (taken once, here)."""
    from kapdecide import __version__
    from kapdecide.core import clock
    from kapdecide.protocol.loader import default_protocol_dir, load_protocols

    if line not in ("full", "compact"):
        raise ValueError(f"line must be 'full' or 'compact', not {line!r}")
    folder = None if protocols_dir is None else str(Path(protocols_dir).resolve())
    loaded = load_protocols([folder or default_protocol_dir()])
    zone = clock.zone_named(tz)
    with clock.using(zone):
        today = clock.today()
    return Settings(
        folder, tuple(lp.sha256 for lp in loaded), __version__, as_of or today, as_of is not None, line == "compact", tz
    )


def screen(
    paths: str | Sequence[str],
    protocols_dir: str | os.PathLike[str] | None = None,
    *,
    as_of: dt.date | None = None,
    line: Literal["full", "compact"] = "full",
    tz: str = "UTC",
    blocksize: int = DEFAULT_BLOCKSIZE,
) -> dask.bag.Bag:
    """A bag of the output lines (str, without newline) of every line of ``paths`` (JSONL files,
    globs or fsspec URLs), one partition per block, in input order. The lines of each block are
    counted here (one pass over the files, on the current Dask scheduler); the assessment runs when
    the bag is computed or written."""
    import dask
    import dask.bag
    from dask.bytes import read_bytes

    run = settings(protocols_dir, as_of=as_of, line=line, tz=tz)
    try:
        _, per_file = read_bytes(paths, delimiter=b"\n", blocksize=blocksize)
    except OSError as exc:  # no such file, or a glob that matches none
        raise InvalidInputError(f"cannot read {paths}: {exc}") from None
    blocks = [b for file_blocks in per_file for b in file_blocks]
    counts: tuple[int, ...] = dask.compute(*[dask.delayed(count_lines, pure=True)(b) for b in blocks])
    parts, first = [], 1
    for block, n in zip(blocks, counts, strict=True):
        parts.append(dask.delayed(assess_block, pure=True)(block, first, n, run))
        first += n
    return dask.bag.from_delayed(parts) if parts else dask.bag.from_sequence([], npartitions=1)


def _write_part(lines: list[str], path: str) -> tuple[int, int, int]:
    """Write one part whole (a temporary file renamed into place); its lines, invalid and errors."""
    tmp = f"{path}.tmp"
    invalid = errors = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for text in lines:
            f.write(text + "\n")
            if text.startswith('{"line":'):  # an error record (a report starts with its schema_version or header)
                if json.loads(text)["error"]["exit_code"] == ExitCode.INVALID_INPUT:
                    invalid += 1
                else:
                    errors += 1
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return len(lines), invalid, errors


def write(bag: dask.bag.Bag, directory: str | os.PathLike[str], *, expected: int | None = None) -> dict[str, Any]:
    """Write the bag's lines as ``part-00000.jsonl``, ``part-00001.jsonl``, … in ``directory`` (new
    or empty; written by the workers, so on a cluster a folder they all share), each part whole, then
    ``manifest.json``: the lines, invalid lines and internal errors in all and for each part. Read in
    name order, the parts are the ``--batch`` output. Returns the manifest; with ``expected`` (the
    input's line count), any other number of lines written is an error."""
    import dask

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        message = f"output folder {out} is not empty: give a new or empty folder"
        raise PopulationError(message, exit_code=ExitCode.INVALID_INPUT, code="output-not-empty")
    names = [f"part-{i:05d}.jsonl" for i in range(bag.npartitions)]
    tasks = [
        dask.delayed(_write_part)(part, str(out / name)) for part, name in zip(bag.to_delayed(), names, strict=True)
    ]
    counts: tuple[tuple[int, int, int], ...] = dask.compute(*tasks)
    total = sum(c[0] for c in counts)
    if expected is not None and total != expected:
        raise PopulationError(f"{total} output line(s) for {expected} input line(s)")
    parts = [{"file": n, "lines": c[0], "invalid": c[1], "errors": c[2]} for n, c in zip(names, counts, strict=True)]
    manifest = {
        "lines": total,
        "invalid": sum(c[1] for c in counts),
        "errors": sum(c[2] for c in counts),
        "parts": parts,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
