"""Reading batch inputs line by line in blocks: the same lines whatever the block size, memory bounded."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from vertexmeter.batch.inputs import read_lines
from vertexmeter.batch.work import OversizeLine


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
