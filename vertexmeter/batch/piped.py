"""A batch job in a process of its own, talking over a pipe: what a server runs for an uploaded file.

The parent starts `run_piped` in a new process and reads, in order:
`{"lines": N, "blank": B}` (request lines and blank lines in the file, once the options are checked) or
an error; then, after it answers "go", up to about `PROGRESS_STEPS` `{"done", "total"}` messages and
one `{"summary": …}` or `{"error": …}`. The parent can stop the job at any moment by killing the
process: nothing it holds outlives it.
"""

from __future__ import annotations

import io
from multiprocessing.connection import Connection
from typing import Any

PROGRESS_STEPS = 50  # progress messages per job at most (plus the last one)


class _Progress(io.StringIO):
    """The job's results stream, read only for progress: one message per `step` result lines (not kept)."""

    def __init__(self, conn: Connection, total: int) -> None:
        super().__init__()
        self.conn = conn
        self.total = total
        self.step = max(1, total // PROGRESS_STEPS)
        self.done = 0
        self.reported = 0

    def write(self, text: str) -> int:
        self.done += text.count("\n")
        if self.done - self.reported >= self.step or (self.done == self.total and self.done != self.reported):
            self.reported = self.done
            self.conn.send({"done": self.done, "total": self.total})
        return len(text)


def count_lines(path: str) -> tuple[int, int]:
    """(request lines, blank lines) of a file, read in blocks."""
    lines = blank = 0
    with open(path, "rb") as data:
        for line in data:
            if line.strip():
                lines += 1
            else:
                blank += 1
    return lines, blank


def run_piped(conn: Connection, path: str, options: dict[str, Any], name: str) -> None:  # pragma: no cover - child
    """Check the options, report the file's size in lines, wait for "go", run the job, send its summary."""
    from vertexmeter.batch.job import estimate_batch, settings_for
    from vertexmeter.errors import VertexMeterError

    try:
        settings_for(**options)  # refused options come back before anything runs
        lines, blank = count_lines(path)
        conn.send({"lines": lines, "blank": blank})
        if conn.recv() != "go":
            return
        chunk_lines = max(1, (lines + blank) // PROGRESS_STEPS)  # blank lines count: a chunk is of input lines
        result = estimate_batch(path, output=_Progress(conn, lines), workers=1, chunk_lines=chunk_lines, **options)
        summary = result.summary()
        summary["run"]["inputs"] = [name]
        conn.send({"summary": summary})
    except VertexMeterError as error:
        conn.send(error.to_json())
    except (EOFError, OSError):  # the parent went away: nothing to tell
        return
    except Exception:  # a bug: Google's INTERNAL shape, never a silent end
        import traceback

        traceback.print_exc()
        conn.send(VertexMeterError("INTERNAL", "Internal error encountered.").to_json())
