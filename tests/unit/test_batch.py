"""batch: LF framing with bounded lines, and chunks that never wait for input that has not come."""

from __future__ import annotations

import io
import os
import random

import pytest

from kapdecide.batch import CHUNK, Counts, StreamLines, _Chunks


def _reference(data: bytes, limit: int) -> list[bytes]:
    """What the framing must give: LF-ended lines, each cut to its first limit + 1 bytes when longer."""
    out = []
    for piece in data.split(b"\n"):
        out.append(piece + b"\n")
    out[-1] = out[-1][:-1]
    if out[-1] == b"":
        out.pop()
    return [x if len(x) <= limit + 1 else x[: limit + 1] for x in out]


class _Trickle(io.RawIOBase):
    """A stream that gives a few bytes per read, as a pipe from a slow producer does."""

    def __init__(self, data: bytes, rng: random.Random):
        self.data, self.rng = data, rng

    def readable(self) -> bool:
        return True

    def read1(self, n: int = -1) -> bytes:
        size = self.rng.randint(1, 7)
        out, self.data = self.data[:size], self.data[size:]
        return out


@pytest.mark.parametrize("seed", range(40))
def test_lines_are_framed_on_lf_and_bounded_whatever_the_read_sizes(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.randint(1, 12)
    data = bytes(rng.choice(b"ab\r\n\n") for _ in range(rng.randint(0, 200)))
    expected = _reference(data, limit)
    assert list(StreamLines(io.BytesIO(data), limit)) == expected
    assert list(StreamLines(_Trickle(data, rng), limit)) == expected


def test_a_line_exactly_at_the_limit_is_whole_and_one_byte_more_is_cut() -> None:
    assert list(StreamLines(io.BytesIO(b"abcd\nabcde\nx"), 4)) == [b"abcd\n", b"abcde", b"x"]


def test_a_regular_file_never_waits_and_fills_whole_chunks(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "in.jsonl")
    with open(path, "wb") as fh:
        fh.write(b"{}\n" * (CHUNK + 3))
    with open(path, "rb") as fh:
        chunks = _Chunks(StreamLines(fh))
        assert chunks.waitable is None
        sizes = []
        while (chunk := chunks.next()) is not None:
            sizes.append(len(chunk))
    assert sizes == [CHUNK, 3]


def test_on_a_pipe_a_chunk_ends_when_the_next_line_has_not_come() -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb") as source:
        os.write(write_end, b'{"a": 1}\n{"b": 2}\n{"c"')  # two lines and the start of a third
        chunks = _Chunks(StreamLines(source))
        assert chunks.waitable == read_end
        assert [n for n, _ in chunks.next() or []] == [1, 2]  # does not wait for line 3
        assert not chunks.ready()
        os.write(write_end, b": 3}\n")
        assert chunks.ready()
        os.close(write_end)
        assert chunks.next() == [(3, b'{"c": 3}')]
        assert chunks.next() is None


def test_counts_give_assessed_invalid_errors_and_each_status_most_severe_first() -> None:
    counts = Counts()
    for line, outcome in enumerate(["eligible", "deferred", "invalid", "deferred", "error", "contraindicated"], 1):
        counts.add(outcome, line)
    assert (counts.lines, counts.ok, counts.invalid, counts.errors) == (6, 4, 1, 1)
    assert counts.by_status() == "1 contraindicated, 2 deferred, 1 eligible"
    assert counts.progress() == "6 read · 4 assessed (1 contraindicated, 2 deferred, 1 eligible) · 1 invalid · 1 errors"
    assert counts.summary() == (
        "batch: 6 line(s): 4 assessed (1 contraindicated, 2 deferred, 1 eligible), 1 invalid (lines 3), "
        "1 internal error(s)"
    )


def test_a_batch_with_nothing_assessed_names_no_status() -> None:
    counts = Counts()
    counts.add("invalid", 1)
    assert counts.summary() == "batch: 1 line(s): 0 assessed, 1 invalid (lines 1), 0 internal error(s)"


def test_one_line_writes_what_json_dumps_and_pydantic_core_write() -> None:
    import json

    from pydantic_core import to_json

    from kapdecide.render.json import one_line

    samples: list[object] = [
        {"a": 1e-05, "b": [1.5e-07, 1e16, 5.0, -0.0], "c": "é \u2028 \x00 </script> 💊"},
        {"big": 2**70},  # over 64 bits: orjson refuses, pydantic-core writes it
        {"nested": {"list": [None, True, 3], "t": (1, 2)}},
    ]
    for data in samples:
        assert one_line(data) == to_json(data).decode("utf-8")
    assert one_line(samples[2]) == json.dumps(samples[2], separators=(",", ":"), ensure_ascii=False)
