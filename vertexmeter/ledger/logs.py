"""Usage log files -> lines -> billed calls, every bad line kept with its place and reason.

A file is JSONL (one item a line) or one JSON array of items. What an item may be (generateContent responses
and stream chunks, Anthropic messages, OpenAI chat completions, OTLP GenAI spans, batch output lines,
request/response envelopes) is the recogniser table in `formats`. Reading never stops at a bad line: each
line comes out as a `LogLine` with either its calls or its error, and the caller decides (bill: report,
quarantine, or fail with --strict).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.ledger.formats import LoggedRequest, read_item, usage_from_metadata
from vertexmeter.requests import decode_json

MAX_LINE_BYTES = 32 * 1024 * 1024  # a response with inline images stays far below; bound heavy input first
Fast = TypeVar("Fast")
__all__ = ["MAX_LINE_BYTES", "BadLine", "LogLine", "LoggedRequest", "read_log", "read_logs", "usage_from_metadata"]


@dataclass(frozen=True)
class BadLine:
    """A line that was not billed: where, why (Google's status and message), and its text for a quarantine."""

    file: str
    line: int  # 1-based line number (a JSON array log: the item's 1-based position)
    status: str
    reason: str
    text: str = ""

    def to_json(self, *, with_text: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line, "status": self.status, "reason": self.reason}
        if with_text:
            out["text"] = self.text
        return out


@dataclass
class LogLine:
    file: str
    line: int
    where: str  # file:line, or file[index] in a JSON array
    raw: bytes
    requests: list[LoggedRequest] = field(default_factory=list)
    error: VertexMeterError | None = None

    def bad(self, error: VertexMeterError | None = None) -> BadLine:
        error = error or self.error
        assert error is not None
        message = error.message
        if message.startswith(self.where + ": "):
            message = message[len(self.where) + 2 :]
        return BadLine(self.file, self.line, error.status, message, self.raw.decode("utf-8", "replace").rstrip("\r\n"))


def read_logs(
    paths: list[str],
    *,
    model: str | None = None,
    day: dt.date | None = None,
    fast: Callable[[bytes, str, int], Fast | None] | None = None,
) -> Iterator[LogLine | Fast]:
    for path in paths:
        yield from read_log(path, model=model, day=day, fast=fast)


def read_log(
    path: str,
    *,
    model: str | None = None,
    day: dt.date | None = None,
    fast: Callable[[bytes, str, int], Fast | None] | None = None,
) -> Iterator[LogLine | Fast]:
    """The file's lines in order; blank lines are skipped. An unreadable file is an error of its own.

    `fast(raw, path, number)`, when given, reads a JSONL line first; what it returns (not None) comes out in
    place of the line's LogLine (the bill's fast path)."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # the file:line of each call is stored; a database refuses text that is not UTF-8
        raise invalid_argument(f"The usage log's name {path!r} is not UTF-8: rename it.", "logs") from None
    file = Path(path)
    try:
        handle = file.open("rb")
    except OSError as exc:
        raise invalid_argument(f"Cannot read usage log {path!r}: {exc.strerror}.", "logs") from None
    with handle:
        first = handle.readline(MAX_LINE_BYTES + 1)
        handle.seek(0)
        if first.lstrip().startswith(b"[") and not _complete_json(first):  # one (pretty-printed) JSON array
            yield from _array(path, handle.read(MAX_LINE_BYTES + 1), model, day)
            return
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # drain the rest of the line, never hold it
                    raw = handle.readline(1024 * 1024)
                error = invalid_argument(f"line longer than {MAX_LINE_BYTES} bytes.", "logs")
                yield LogLine(path, number, f"{path}:{number}", b"", error=error)
                continue
            if raw.isspace():  # (not empty here; isspace stops at the first other byte, strip() copies)
                continue
            if fast is not None:
                call = fast(raw, path, number)
                if call is not None:
                    yield call
                    continue
            yield _line(path, number, f"{path}:{number}", raw, model, day)


def _complete_json(line: bytes) -> bool:
    try:
        decode_json(line)
    except VertexMeterError:
        return False
    return True


def read_line(path: str, number: int, raw: bytes, model: str | None, day: dt.date | None) -> LogLine:
    """One JSONL line by the checked path (what a fast path hands back)."""
    return _line(path, number, f"{path}:{number}", raw, model, day)


def _line(path: str, number: int, where: str, raw: bytes, model: str | None, day: dt.date | None) -> LogLine:
    out = LogLine(path, number, where, raw)
    try:
        item = decode_json(raw, decimals=True)  # the one decoder: depth, NaN, huge numbers, UTF-8 refused alike
    except VertexMeterError as exc:
        out.error = invalid_argument(f"not valid JSON ({exc.message.rstrip('.')}).", "logs")
        return out
    _read(out, item, model, day)
    return out


def _read(out: LogLine, item: Any, model: str | None, day: dt.date | None) -> None:
    try:
        out.requests = read_item(item, out.where, model=model, day=day)
    except VertexMeterError as exc:
        out.error = exc
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # a shape no reader foresaw
        out.error = invalid_argument(f"unreadable line ({type(exc).__name__}).", "logs")


def _array(path: str, text: bytes, model: str | None, day: dt.date | None) -> Iterator[LogLine]:
    if len(text) > MAX_LINE_BYTES:
        raise invalid_argument(f"{path}: a JSON array log is limited to {MAX_LINE_BYTES} bytes; use JSONL.", "logs")
    try:
        items = decode_json(text, decimals=True)
    except VertexMeterError as exc:
        raise invalid_argument(f"{path}: not valid JSON ({exc.message.rstrip('.')}).", "logs") from None
    if not isinstance(items, list):
        raise invalid_argument(f"{path}: expected a JSON array of responses.", "logs")
    for index, item in enumerate(items):
        raw = json.dumps(item, default=str).encode()
        out = LogLine(path, index + 1, f"{path}[{index}]", raw)
        _read(out, item, model, day)
        yield out
