"""Reading batch inputs: lines read in blocks, and file spans that workers read themselves, give the same lines."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vertexmeter.batch.inputs import OversizeLine, file_spans, read_lines, span_lines
from vertexmeter.errors import VertexMeterError


def expected_lines(data: bytes, max_line_bytes: int) -> list[bytes | OversizeLine]:
    """The lines by their definition: split at \\n; a line's trailing \\r dropped; an unterminated last line
    kept as it is; a line longer than the limit reported by its size (its newline included)."""
    *ended, last = data.split(b"\n")
    out: list[bytes | OversizeLine] = [
        OversizeLine(len(line) + 1) if len(line) > max_line_bytes else line.rstrip(b"\r") for line in ended
    ]
    if last:
        out.append(OversizeLine(len(last)) if len(last) > max_line_bytes else last)
    return out


class Trickle(io.RawIOBase):
    """A pipe that hands out at most `step` bytes a read (no read1: read is used)."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.step if size < 0 else min(size, self.step)
        piece = self.data[self.pos : self.pos + size]
        self.pos += len(piece)
        return piece


@settings(max_examples=400, deadline=None)
@given(
    data=st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r", b"\r\n", b"{}", b"xyz" * 7]), max_size=60).map(b"".join),
    max_line_bytes=st.integers(1, 30),
    block=st.integers(1, 40),
    trickle=st.booleans(),
)
def test_lines_are_the_same_whatever_the_block_size(
    data: bytes, max_line_bytes: int, block: int, trickle: bool
) -> None:
    stream = Trickle(data, max(1, block // 2)) if trickle else io.BytesIO(data)
    assert list(read_lines(stream, max_line_bytes, block)) == expected_lines(data, max_line_bytes)


def test_an_over_long_line_is_reported_by_its_size() -> None:
    huge = b"x" * 5_000_000
    data = b'{"a": 1}\n' + huge + b"\n" + b'{"b": 2}'
    lines = list(read_lines(io.BytesIO(data), max_line_bytes=1000, block=4096))
    assert lines == [b'{"a": 1}', OversizeLine(len(huge) + 1), b'{"b": 2}']


@settings(max_examples=200, deadline=None)
@given(
    files=st.lists(
        st.lists(st.sampled_from([b"a", b"bc", b"\n", b"\r\n", b"xyz" * 9]), max_size=40).map(b"".join),
        min_size=1,
        max_size=3,
    ),
    chunk_lines=st.integers(1, 7),
    chunk_bytes=st.integers(1, 60),
    block=st.integers(1, 50),
    skip=st.integers(0, 12),
    max_line_bytes=st.integers(1, 40),
    taper=st.integers(0, 3),
    taper_min_bytes=st.integers(1, 30),
)
def test_file_spans_give_the_lines_read_lines_gives(
    tmp_path_factory: pytest.TempPathFactory,
    files: list[bytes],
    chunk_lines: int,
    chunk_bytes: int,
    block: int,
    skip: int,
    max_line_bytes: int,
    taper: int,
    taper_min_bytes: int,
) -> None:
    folder = tmp_path_factory.mktemp("spans")
    paths = []
    for i, data in enumerate(files):
        path = folder / f"part-{i}.jsonl"
        path.write_bytes(data)
        paths.append(str(path))
    every = [line for data in files for line in read_lines(io.BytesIO(data), max_line_bytes)]
    if skip > len(every):
        with pytest.raises(VertexMeterError, match="not from this input"):
            list(
                file_spans(
                    paths,
                    skip=skip,
                    chunk_lines=chunk_lines,
                    chunk_bytes=chunk_bytes,
                    block=block,
                    taper=taper,
                    taper_min_bytes=taper_min_bytes,
                )
            )
        return
    spans = list(
        file_spans(
            paths,
            skip=skip,
            chunk_lines=chunk_lines,
            chunk_bytes=chunk_bytes,
            block=block,
            taper=taper,
            taper_min_bytes=taper_min_bytes,
        )
    )
    got: list[bytes | OversizeLine] = []
    for first, span in spans:
        assert first == skip + len(got) + 1  # numbered on from the lines before, across files
        lines = span_lines(span, max_line_bytes)
        assert 1 <= len(lines) <= chunk_lines
        got.extend(lines)
    assert got == every[skip:]


def test_file_spans_taper_to_small_spans_at_the_end(tmp_path: Path) -> None:
    """With `taper` workers the last spans shrink (to the bytes left over 2 x taper), so that no worker counts
    a whole chunk alone at the end; without it every span but the last holds `chunk_lines` lines."""
    path = tmp_path / "even.jsonl"
    path.write_bytes(b"".join(b'{"n": %03d}\n' % i for i in range(400)))  # 11 bytes a line
    plain = [span for _, span in file_spans([str(path)], skip=0, chunk_lines=50, chunk_bytes=1 << 20)]
    assert [s.size for s in plain] == [550] * 8
    tapered = list(file_spans([str(path)], skip=0, chunk_lines=50, chunk_bytes=1 << 20, taper=2, taper_min_bytes=22))
    sizes = [span.size for _, span in tapered]
    assert sum(sizes) == 4400 and sizes[0] == 550  # the whole file, full spans first
    assert sizes[-3:-1] == [22, 22] and sizes[-1] <= 22  # the end: spans of the minimum size (and the rest)
    assert sizes == sorted(sizes, reverse=True)
    assert [first for first, _ in tapered] == [1 + sum(sizes[:i]) // 11 for i in range(len(sizes))]
