"""Where batch lines come from: local files, `-` (stdin), `.gz`, globs, and gs:// (extra: gcs).

Lines are read with a length cap, so one huge line is skipped (and reported) without being held in memory.
"""

from __future__ import annotations

import fnmatch
import glob
import gzip
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Protocol

from vertexmeter.errors import VertexMeterError, failed_precondition, invalid_argument, not_found

GLOB_CHARS = "*?["
_BLOCK = 1 << 20  # bytes a read: lines are split a block at a time


class ByteSource(Protocol):
    def read(self, size: int, /) -> bytes: ...


@dataclass(frozen=True)
class OversizeLine:
    """A line longer than `max_line_bytes`: skipped unread (bounded memory), reported by its size."""

    size: int


@dataclass(frozen=True)
class FileSpan:
    """Whole lines of a local file, bytes [start, end): a worker reads them itself, so that only this
    is sent to it, not the lines (`file_spans`)."""

    path: str
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class BatchInput:
    """One input: `-`, a local path or a gs://bucket/object URI; `size` (bytes) when known cheaply."""

    name: str
    size: int | None = None

    @property
    def gzipped(self) -> bool:
        return self.name.endswith(".gz")

    @property
    def local_file(self) -> bool:
        """A plain local file: one that workers on this machine can read by byte ranges."""
        return self.name != "-" and not self.name.startswith("gs://") and not self.gzipped


def expand_inputs(names: Sequence[str]) -> list[BatchInput]:
    """Every input file, globs expanded (sorted), checked before any work starts."""
    if not names:
        raise invalid_argument("Give at least one input file (or - for stdin).", "inputs")
    found: list[BatchInput] = []
    for name in names:
        if name == "-":
            found.append(BatchInput("-"))
        elif name.startswith("gs://"):
            found += _gcs_inputs(name)
        elif any(c in name for c in GLOB_CHARS):
            matches = sorted(p for p in glob.glob(name) if os.path.isfile(p))
            if not matches:
                raise not_found(f"No input file matches {name!r}.")
            found += [BatchInput(p, os.path.getsize(p)) for p in matches]
        elif os.path.isfile(name):
            found.append(BatchInput(name, os.path.getsize(name)))
        else:
            raise not_found(f"Input file {name!r} does not exist or is not a file.")
    if sum(1 for i in found if i.name == "-") > 1:
        raise invalid_argument("stdin (-) can be read only once.", "inputs")
    return found


def iter_lines(inputs: Sequence[BatchInput], max_line_bytes: int) -> Iterator[bytes | OversizeLine]:
    """The lines of all inputs in order, without their line ends; over-long lines as OversizeLine."""
    for source in inputs:
        with open_input(source) as stream:
            yield from read_lines(stream, max_line_bytes)


def read_lines(stream: ByteSource, max_line_bytes: int, block: int = _BLOCK) -> Iterator[bytes | OversizeLine]:
    """The stream's lines without their line ends (a final line may lack one); a line longer than
    `max_line_bytes` as an OversizeLine of its size, never held whole.

    Read in `block`-sized pieces split in C: one Python step per line rather than a readline call and
    its checks, which made reading a third of the driver's work.
    """
    carry = b""  # the start of a line that goes on in the next block (at most max_line_bytes)
    oversize = 0  # inside an over-long line: its bytes so far
    read = getattr(stream, "read1", stream.read)  # read1: what a pipe has, without waiting for a full block
    while piece := read(block):
        if oversize:
            end = piece.find(b"\n")
            if end < 0:
                oversize += len(piece)
                continue
            yield OversizeLine(oversize + end + 1)
            oversize, piece = 0, piece[end + 1 :]
        lines = piece.split(b"\n")
        lines[0] = carry + lines[0]
        carry = lines.pop()
        for line in lines:
            yield OversizeLine(len(line) + 1) if len(line) > max_line_bytes else line.rstrip(b"\r")
        if len(carry) > max_line_bytes:
            oversize, carry = len(carry), b""
    if oversize:
        yield OversizeLine(oversize)
    elif carry:
        yield OversizeLine(len(carry)) if len(carry) > max_line_bytes else carry


def file_spans(
    paths: Sequence[str],
    *,
    skip: int,
    chunk_lines: int,
    chunk_bytes: int,
    block: int = _BLOCK,
    taper: int = 0,
    taper_min_bytes: int = 16 * 1024,
) -> Iterator[tuple[int, FileSpan]]:
    """(number of its first line, span) for consecutive runs of at most `chunk_lines` lines (or about
    `chunk_bytes` bytes) of the files in order, after the first `skip` lines; line numbers run on across
    files. The driver only finds line ends, a block at a time; the lines themselves are read by workers.

    taper: the number of workers; near the end of the input a span holds at most the bytes left over
    2 x taper (not under `taper_min_bytes`), so that the workers finish together rather than one of them
    counting a whole last chunk alone.
    """
    total = sum(os.path.getsize(path) for path in paths) if taper else 0
    before = 0  # bytes of the files before this one

    def limit(at: int) -> int:  # the byte cap of a span starting at offset `at` of the current file
        if not taper:
            return chunk_bytes
        return min(chunk_bytes, max(taper_min_bytes, (total - before - at) // (2 * taper)))

    number = 0  # lines passed, over all files
    for path in paths:
        with open(path, "rb") as handle:
            base = start = line_end = 0  # file offsets: this block, the span, after the last line end
            lines = 0  # in the span
            cap = limit(0)
            while piece := handle.read(block):
                at = 0
                while (newline := piece.find(b"\n", at)) >= 0:
                    at = newline + 1
                    line_end = base + at
                    number += 1
                    if number <= skip:
                        start = line_end
                        continue
                    if lines == 0:
                        cap = limit(start)
                    lines += 1
                    if lines >= chunk_lines or line_end - start >= cap:
                        yield number - lines + 1, FileSpan(path, start, line_end)
                        start, lines = line_end, 0
                base += len(piece)
            if base > line_end:  # a last line without its line end
                number += 1
                if number <= skip:
                    start = base
                else:
                    lines += 1
            if lines:
                yield number - lines + 1, FileSpan(path, start, base)
            before += base
    if number < skip:
        raise skip_error(skip, number)


def skip_error(skip: int, lines: int) -> VertexMeterError:
    return invalid_argument(
        f"The results file holds {skip} lines but the input has only {lines}: it is not from this input.", "resume"
    )


def span_lines(span: FileSpan, max_line_bytes: int) -> list[bytes | OversizeLine]:
    """The lines of a span, read as `read_lines` reads any input (an over-long line is drained, not held)."""
    with open(span.path, "rb") as handle:
        handle.seek(span.start)
        return list(read_lines(_Bounded(handle, span.size), max_line_bytes))


class _Bounded:
    """The next `left` bytes of a file, as read_lines reads a stream."""

    def __init__(self, handle: IO[bytes], left: int) -> None:
        self.handle, self.left = handle, left

    def read(self, size: int, /) -> bytes:
        piece = self.handle.read(min(size, self.left))
        self.left -= len(piece)
        return piece


@contextmanager
def open_input(source: BatchInput) -> Iterator[IO[bytes]]:
    if source.name == "-":
        raw: IO[bytes] = sys.stdin.buffer
        close = False
    elif source.name.startswith("gs://"):
        raw = _open_gcs(source.name)
        close = True
    else:
        raw = open(source.name, "rb")  # noqa: SIM115 - closed below
        close = True
    try:
        if source.gzipped:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
                yield unzipped  # type: ignore[misc]
        else:
            yield raw
    finally:
        if close:
            raw.close()


# ---- Google Cloud Storage ------------------------------------------------------------------------
def _storage_client() -> object:
    try:
        storage = importlib.import_module("google.cloud.storage")
    except ImportError:
        raise failed_precondition(
            "Reading gs:// inputs needs google-cloud-storage: pip install 'vertexmeter[gcs]'", "inputs"
        ) from None
    try:
        return storage.Client()
    except Exception as exc:  # google.auth's DefaultCredentialsError and the like: Google's shape, no traceback
        raise failed_precondition(
            f"Cannot use Google Cloud Storage for gs:// inputs: {type(exc).__name__}: {exc} (set up Application "
            "Default Credentials: gcloud auth application-default login, or GOOGLE_APPLICATION_CREDENTIALS).",
            "inputs",
        ) from None


def _split_gcs(uri: str) -> tuple[str, str]:
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket:
        raise invalid_argument(f"{uri!r} names no bucket: expected gs://BUCKET/OBJECT.", "inputs")
    return bucket, name


def _gcs_inputs(uri: str) -> list[BatchInput]:
    """gs://bucket/object, or a glob over object names (listed by the prefix before the first wildcard)."""
    bucket, name = _split_gcs(uri)
    client = _storage_client()
    try:
        if not any(c in name for c in GLOB_CHARS):
            blob = client.bucket(bucket).get_blob(name)  # type: ignore[attr-defined]
            if blob is None:
                raise not_found(f"Input {uri!r} does not exist.")
            return [BatchInput(uri, blob.size)]
        prefix = name[: min(name.find(c) for c in GLOB_CHARS if c in name)]
        blobs = client.list_blobs(bucket, prefix=prefix)  # type: ignore[attr-defined]
        found = [BatchInput(f"gs://{bucket}/{b.name}", b.size) for b in blobs if fnmatch.fnmatchcase(b.name, name)]
    except VertexMeterError:
        raise
    except Exception as exc:  # google.api_core errors: permission, network
        raise failed_precondition(f"Cannot read {uri!r}: {exc}", "inputs") from None
    if not found:
        raise not_found(f"No input object matches {uri!r}.")
    return sorted(found, key=lambda i: i.name)


def _open_gcs(uri: str) -> IO[bytes]:
    bucket, name = _split_gcs(uri)
    blob = _storage_client().bucket(bucket).blob(name)  # type: ignore[attr-defined]
    # A streaming reader: chunks of 8 MiB are fetched as lines are read (bounded memory).
    return blob.open("rb", chunk_size=8 * 1024 * 1024)  # type: ignore[no-any-return]
