"""Batch assessment: JSON Lines in, one JSON line out per input line, in input order.

The engine runs in worker processes: a worker that dies (the engine is a C extension) is replaced,
and each line it held becomes an error record, never a lost or skipped line. A bad line yields an
error record and never stops the batch. Memory stays flat: lines stream through a bounded window.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import select
import signal
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any

from kapdecide.core.errors import EXIT_MEANING, ExitCode, InvalidInputError, KapdecideError, Problem
from kapdecide.protocol.loader import LoadedProtocol

if TYPE_CHECKING:
    from kapdecide.assessment.report import Report

CHUNK = 64
#: Chunks a worker may hold: while it assesses one, the next is already waiting, so it never idles
#: while the parent writes results and reads input.
IN_FLIGHT = 2
WINDOW_PER_WORKER = 4
#: A line longer than this is refused before parsing (profiles are small; FHIR bundles can be large).
MAX_LINE_BYTES = 32 << 20

Line = tuple[int, str | bytes]
Output = tuple[int, str, str]  # line number, JSON text, outcome (the report's status, invalid, error)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def error_record(line: int, exit_code: int, code: str, message: str, problems: Sequence[Problem] = ()) -> str:
    """The JSON line written in place of a report for a line that could not be assessed."""
    return _dumps(
        {
            "line": line,
            "status": "error",
            "error": {
                "exit_code": exit_code,
                "meaning": EXIT_MEANING.get(exit_code, "error"),
                "code": code,
                "message": message,
                "problems": [p.to_dict() for p in problems],
            },
        }
    )


def assess_line(
    line: int,
    raw: str | bytes,
    protocols: Sequence[LoadedProtocol],
    default_as_of: dt.date,
    forced: bool = False,
    head: dict[str, Any] | None = None,
) -> Output:
    """One input line → one output line (a report on one line, or an error record).

    The assessment date follows the one rule of single mode: an explicit --as-of (``forced``) wins,
    then the line's own ``assessed_on``, then ``default_as_of`` (today). With ``head`` (the
    protocol-info header) the report is written as a compact line against it."""
    from kapdecide import pipeline
    from kapdecide.inputs.yaml_source import SourceError, SourceMap, load_json

    name = f"line {line}"
    try:
        text = _line_text(raw)
        try:
            data = load_json(text, name)
        except SourceError as exc:
            raise InvalidInputError("the line is not valid JSON", exc.problems) from None
        checked = pipeline.from_data(
            data, SourceMap(name, syntax="json"), as_of=default_as_of if forced else None, today=default_as_of
        )
        from kapdecide.render.json import one_line

        report: Report = {**pipeline.report(checked, protocols), "input_line": line}
        if head is None:
            return line, one_line(report), report["status"]
        from kapdecide.assessment.compact import compact

        return line, one_line(compact(report, head)), report["status"]
    except KapdecideError as exc:
        outcome = "invalid" if exc.exit_code == ExitCode.INVALID_INPUT else "error"
        return line, error_record(line, exc.exit_code, exc.code, exc.message, exc.problems), outcome
    except Exception as exc:  # one line's internal failure must not stop the batch
        message = f"internal error on this line: {type(exc).__name__}"
        return line, error_record(line, ExitCode.INTERNAL, "internal-error", message), "error"


def _line_text(raw: str | bytes) -> str:
    """The line as text, refusing what cannot be a JSON profile before parsing (exit-2 records)."""
    from kapdecide.inputs.sniff import FHIR_XML_MESSAGE, is_fhir_xml

    if len(raw) > MAX_LINE_BYTES:
        raise InvalidInputError(f"line is over {MAX_LINE_BYTES} bytes", code="too-large")
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"line is not valid UTF-8 (byte {exc.start + 1}): re-export it as UTF-8"
            raise InvalidInputError(message, code="not-utf8") from None
    else:
        text = raw
    if not text.strip():
        raise InvalidInputError("empty line: expected one JSON profile", code="empty-line")
    if text.lstrip().startswith(("<", "\ufeff")) and is_fhir_xml(text.encode("utf-8", errors="replace")):
        raise InvalidInputError(FHIR_XML_MESSAGE, code="fhir-xml")
    return text


def _die_with_parent(parent: int) -> None:
    """A worker never outlives its parent: the kernel kills it when the parent dies (Linux), and a
    worker whose parent is already gone exits at once."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the pipes' EOF still ends the worker (the parent ends are closed below)
    if os.getppid() != parent:
        os._exit(0)


def _worker(
    tasks: Connection,
    results: Connection,
    parent_ends: tuple[Connection, ...],
    parent: int,
    protocols: Sequence[LoadedProtocol],
    default_as_of: dt.date,
    forced: bool = False,
    head: dict[str, Any] | None = None,
) -> None:
    import queue
    import threading

    _die_with_parent(parent)
    for end in parent_ends:  # the copies of the parent's ends: a dead parent must mean EOF here
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def receive() -> None:
        # Tasks are read on their own thread, so the parent's send never waits for this worker to
        # finish writing results (with two chunks in flight, both could otherwise block on full pipes).
        while True:
            try:
                task = tasks.recv()
            except (EOFError, OSError):
                task = None
            inbox.put(task)
            if task is None:
                return

    threading.Thread(target=receive, daemon=True).start()
    while True:
        task = inbox.get()
        if task is None:
            return
        chunk_id, lines = task
        results.send((chunk_id, [assess_line(n, t, protocols, default_as_of, forced, head) for n, t in lines]))


@dataclass
class Counts:
    """How a batch went: lines assessed (by status), invalid, in error (and the first invalid lines)."""

    lines: int = 0
    ok: int = 0
    invalid: int = 0
    errors: int = 0
    invalid_lines: list[int] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    """Lines assessed, by the report's status."""

    def add(self, outcome: str, line: int) -> None:
        """Count one output line by its outcome: a status (assessed), ``invalid`` or ``error``."""
        self.lines += 1
        if outcome == "invalid":
            self.invalid += 1
            if len(self.invalid_lines) < 20:
                self.invalid_lines.append(line)
        elif outcome == "error":
            self.errors += 1
        else:
            self.ok += 1
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1

    def by_status(self) -> str:
        """``2 deferred, 1 eligible``: the statuses, most severe first (only those that occurred)."""
        from kapdecide.core.contract import STATUS_ORDER

        order = [*STATUS_ORDER, *sorted(set(self.statuses) - set(STATUS_ORDER))]
        return ", ".join(f"{self.statuses[s]} {s}" for s in order if self.statuses.get(s))

    def progress(self) -> str:
        """The progress line (a terminal only): lines read, assessed by status, invalid, errors."""
        statuses = f" ({self.by_status()})" if self.statuses else ""
        return f"{self.lines} read · {self.ok} assessed{statuses} · {self.invalid} invalid · {self.errors} errors"

    def summary(self) -> str:
        """The summary line on stderr at the end."""
        more = "…" if self.invalid > len(self.invalid_lines) else ""
        where = f" (lines {', '.join(map(str, self.invalid_lines))}{more})" if self.invalid else ""
        statuses = f" ({self.by_status()})" if self.statuses else ""
        return (
            f"batch: {self.lines} line(s): {self.ok} assessed{statuses}, {self.invalid} invalid{where}, "
            f"{self.errors} internal error(s)"
        )


class StreamLines:
    """The LF-framed lines of a binary stream, each read at most ``limit`` + 1 bytes (a longer line
    is given as its first ``limit`` + 1 bytes and the rest skipped unread, which the line check turns
    into an error record: a 200 MB line is never held in memory).

    It also knows whether the next line can be had now (``ready``): a batch from a slow producer on
    a pipe gets each report soon after its line, instead of once a whole chunk has arrived."""

    READ = 1 << 16

    def __init__(self, source: Any, limit: int = MAX_LINE_BYTES):
        self._read = getattr(source, "read1", source.read)  # read1: what is there, with at most one wait
        self._limit = limit
        self._buf = bytearray()
        self._scanned = 0
        self._eof = False
        self._fd = _pollable(source)

    def ready(self) -> bool:
        """Whether the next line (or the end) can be read without waiting for the producer."""
        if self._eof or self._fd is None or self._buf.find(b"\n", self._scanned) >= 0:
            return True
        self._scanned = len(self._buf)
        return bool(select.select([self._fd], [], [], 0)[0])

    def fileno(self) -> int | None:
        """The descriptor to wait on for more input (None when reading never waits)."""
        return self._fd

    def __iter__(self) -> Iterator[bytes]:
        buf, limit = self._buf, self._limit
        while True:
            end = buf.find(b"\n", self._scanned)  # bytes before _scanned hold no LF: never scanned twice
            if 0 <= end <= limit:
                line = bytes(buf[: end + 1])
                del buf[: end + 1]
                self._scanned = 0
                yield line
            elif end > limit or len(buf) > limit:
                yield bytes(buf[: limit + 1])
                self._skip_line()
            elif self._eof:
                if buf:
                    yield bytes(buf)
                return
            else:
                self._scanned = len(buf)
                self._fill()

    def _fill(self) -> None:
        data = self._read(self.READ)
        if data:
            self._buf += data
        else:
            self._eof = True

    def _skip_line(self) -> None:
        """Drop input up to and including the next LF (the rest of an over-long line)."""
        while True:
            end = self._buf.find(b"\n")
            if end >= 0:
                del self._buf[: end + 1]
                self._scanned = 0
                return
            self._buf.clear()
            self._scanned = 0
            if self._eof:
                return
            self._fill()


def _pollable(source: Any) -> int | None:
    """The descriptor of a pipe, socket or terminal (reading may wait there); None otherwise."""
    try:
        fd = int(source.fileno())
        mode = os.fstat(fd).st_mode
    except (AttributeError, OSError, ValueError):
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode) else None


class _Chunks:
    """Lines in numbered chunks of at most CHUNK; a chunk ends early when the next line is not there
    yet, so that nothing waits for input that may be slow to come."""

    def __init__(self, lines: Iterable[str | bytes]):
        self._lines = enumerate(lines, 1)
        self._ready: Callable[[], bool] = getattr(lines, "ready", lambda: True)
        fd = getattr(lines, "fileno", lambda: None)()
        self.waitable: int | None = fd if isinstance(fd, int) else None

    def ready(self) -> bool:
        return self._ready()

    def next(self) -> list[Line] | None:
        """The next chunk (waiting for its first line if need be), or None at the end."""
        chunk: list[Line] = []
        for number, text in self._lines:
            chunk.append((number, _strip_end(text)))
            if len(chunk) >= CHUNK or not self._ready():
                break
        return chunk or None


def _strip_end(text: str | bytes) -> str | bytes:
    # Lines end at LF only: a lone CR is JSON whitespace inside a line, never a line end (framing
    # on universal newlines paired every later report with the wrong patient). A CRLF end is one end.
    if isinstance(text, bytes):
        text = text[:-1] if text.endswith(b"\n") else text
        return text[:-1] if text.endswith(b"\r") else text
    text = text[:-1] if text.endswith("\n") else text
    return text[:-1] if text.endswith("\r") else text


class _Worker:
    """One worker process with a task pipe and a result pipe; the parent knows which chunks it holds."""

    def __init__(self, ctx: Any, args: tuple[Any, ...]):
        task_out, self.tasks = ctx.Pipe(duplex=False)
        self.results, result_in = ctx.Pipe(duplex=False)
        ends = (self.tasks, self.results)
        self.proc = ctx.Process(target=_worker, args=(task_out, result_in, ends, os.getpid(), *args), daemon=True)
        self.proc.start()
        task_out.close()
        result_in.close()
        self.held: deque[tuple[int, list[Line]]] = deque()

    def close_pipes(self) -> None:
        self.tasks.close()
        self.results.close()


class _Pool:
    """Worker processes, each holding at most IN_FLIGHT chunks.

    Deadlock-free: a worker reads tasks on a thread of its own, so the parent's send completes
    whatever the worker is doing, and the parent reads every result that is ready before it sends.
    """

    def __init__(
        self,
        jobs: int,
        protocols: Sequence[LoadedProtocol],
        default_as_of: dt.date,
        forced: bool = False,
        head: dict[str, Any] | None = None,
    ):
        self.ctx = multiprocessing.get_context("fork")
        self.args = (protocols, default_as_of, forced, head)
        self.workers = [_Worker(self.ctx, self.args) for _ in range(jobs)]

    def idle(self) -> int | None:
        """The worker holding the fewest chunks, if it can take another."""
        i = min(range(len(self.workers)), key=lambda k: len(self.workers[k].held))
        return i if len(self.workers[i].held) < IN_FLIGHT else None

    def send(self, worker: int, chunk_id: int, lines: list[Line]) -> None:
        w = self.workers[worker]
        w.held.append((chunk_id, lines))
        try:
            w.tasks.send((chunk_id, lines))
        except OSError:
            pass  # the worker died: collect() turns its chunks into error records

    def collect(self, also: int | None = None) -> list[tuple[int, list[Output]]]:
        """Wait for results (or for ``also``, more input, to become readable); a dead worker's chunks
        come back as error records, and it is replaced."""
        waitables: list[Any] = [w.results for w in self.workers] + [w.proc.sentinel for w in self.workers]
        ready = wait(waitables if also is None else [*waitables, also])
        done: list[tuple[int, list[Output]]] = []
        for i, w in enumerate(self.workers):
            if w.results in ready:
                try:
                    while w.results.poll():
                        chunk_id, outputs = w.results.recv()
                        w.held.popleft()
                        done.append((chunk_id, outputs))
                except (EOFError, OSError):
                    pass  # the worker died mid-message: handled below
            if not w.proc.is_alive():
                message = (
                    f"the assessing process died (exit {w.proc.exitcode}); this line was not assessed: retry it alone"
                )
                # A worker assesses its chunks in order: the first was in progress when it died; the
                # ones queued behind it were not started and go to its replacement.
                if w.held:
                    chunk_id, lines = w.held.popleft()
                    records = [
                        (n, error_record(n, ExitCode.INTERNAL, "worker-died", message), "error") for n, _ in lines
                    ]
                    done.append((chunk_id, records))
                w.close_pipes()
                self.workers[i] = _Worker(self.ctx, self.args)
                for chunk_id, lines in w.held:
                    self.send(i, chunk_id, lines)
        return done

    def close(self) -> None:
        for w in self.workers:
            try:
                w.tasks.send(None)
            except (OSError, ValueError):
                pass
        for w in self.workers:
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.proc.kill()

    def kill(self) -> None:
        for w in self.workers:
            if w.proc.is_alive():
                w.proc.kill()


def run_batch(
    lines: Iterable[str | bytes],
    protocols: Sequence[LoadedProtocol],
    write: Callable[[str], None],
    *,
    jobs: int = 1,
    default_as_of: dt.date,
    progress: Callable[[Counts], None] | None = None,
    forced_as_of: bool = False,
    compact_header: dict[str, Any] | None = None,
) -> Counts:
    """Assess every line; ``write`` receives each output line (with its newline) in input order.
    With ``compact_header`` each report is a compact line against it (``assessment.compact``)."""
    counts = Counts()
    pool = _Pool(max(1, jobs), protocols, default_as_of, forced_as_of, compact_header)
    window = max(1, jobs) * WINDOW_PER_WORKER
    pending: dict[int, list[Output]] = {}
    next_out = 0
    sent = 0
    source = _Chunks(lines)
    exhausted = False
    try:
        while True:
            while not exhausted and sent - next_out < window and (worker := pool.idle()) is not None:
                if sent > next_out and not source.ready():
                    break  # reports are due: write them rather than wait here for the next line
                chunk = source.next()
                if chunk is None:
                    exhausted = True
                    break
                pool.send(worker, sent, chunk)
                sent += 1
            if next_out == sent and exhausted:
                break
            can_take = not exhausted and sent - next_out < window and pool.idle() is not None
            for chunk_id, outputs in pool.collect(source.waitable if can_take else None):
                pending[chunk_id] = outputs
            while next_out in pending:
                for number, text, outcome in pending.pop(next_out):
                    write(text + "\n")
                    counts.add(outcome, number)
                next_out += 1
                if progress is not None:
                    progress(counts)
    except BaseException:
        pool.kill()
        raise
    pool.close()
    return counts
