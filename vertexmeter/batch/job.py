"""A batch job: inputs -> chunks -> an engine -> ordered result lines + one summary."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

from vertexmeter.batch.engines import ENGINES, Chunk, default_workers, run_local, run_ray, sigint_deferred
from vertexmeter.batch.inputs import BatchInput, OversizeLine, expand_inputs, file_spans, iter_lines, skip_error
from vertexmeter.batch.tally import Tally
from vertexmeter.batch.work import DEFAULT_MAX_LINE_BYTES, BatchSettings, ChunkResult
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.pricing import parse_mode, whole_number
from vertexmeter.vocabulary import check_api

CHUNK_LINES = 200  # lines per task: amortises inter-process traffic, small enough to keep workers busy
CHUNK_BYTES = 4 * 1024 * 1024

EXIT_ALL_COUNTED = 0
EXIT_SOME_REFUSED = 1


@dataclass
class BatchResult:
    """The job's outcome: the tally of every line (resumed ones included) and how the run went."""

    tally: Tally
    settings: BatchSettings
    inputs: list[BatchInput]
    engine: str
    workers: int
    seconds: float
    input_bytes: int  # read in this run
    lines_run: int  # counted in this run (resumed lines excluded)
    resumed_lines: int
    stopped: bool  # fail-fast stopped the job

    @property
    def exit_code(self) -> int:
        """0 when every line was counted, 1 when some lines were refused (docs/batch.md)."""
        return EXIT_SOME_REFUSED if self.tally.refused else EXIT_ALL_COUNTED

    def summary(self) -> dict[str, Any]:
        """The summary JSON: the job's figures, then `run` (how it ran; the only part that varies)."""
        out = self.tally.to_json(
            mode=self.settings.mode, date=self.settings.price_date, output_tokens=self.settings.output_tokens
        )
        seconds = max(self.seconds, 1e-9)
        out["run"] = {
            "inputs": [i.name for i in self.inputs],
            "api": self.settings.api,
            "engine": self.engine,
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "lines_per_second": round(self.lines_run / seconds, 1),
            "mb_per_second": round(self.input_bytes / seconds / 1e6, 2),
            "resumed_lines": self.resumed_lines,
            "stopped_at_first_error": self.stopped,
        }
        return out


def estimate_batch(
    inputs: str | Sequence[str],
    model: str | None = None,
    *,
    output: str | IO[str] | None = None,
    api: str = "vertex",
    mode: str = "batch",
    workers: int | None = None,
    engine: str = "local",
    ray_address: str | None = None,
    output_tokens: int | None = None,
    as_of: str | None = None,
    media_options: MediaOptions | None = None,
    fail_fast: bool = False,
    resume: bool = False,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    chunk_lines: int = CHUNK_LINES,
    progress: bool = False,
) -> BatchResult:
    """Count and price every line of batch-prediction JSONL files (docs/batch.md).

    `output`: a path (or text stream) for the per-line results, in input order; `resume=True` continues
    from an existing results file. Bad lines never stop the job unless `fail_fast`.
    """
    settings = _settings(model, api, mode, output_tokens, as_of, media_options, max_line_bytes, fail_fast)
    if engine not in ENGINES:
        raise invalid_argument(f"engine must be one of {', '.join(ENGINES)}; got {engine!r}.", "engine")
    workers = default_workers() if workers is None else whole_number(workers, "workers")
    if workers < 1:
        raise invalid_argument("workers must be at least 1.", "workers")
    sources = expand_inputs([inputs] if isinstance(inputs, str) else list(inputs))
    tally = Tally()
    if resume and not isinstance(output, str):
        raise invalid_argument("resume needs the results file path (output).", "resume")
    started = time.perf_counter()
    stopped = False
    lines_run = input_bytes = 0
    with ExitStack() as stack:
        sink: IO[str] | ResultsFile | None
        done = 0
        if isinstance(output, str) and output != "-":
            sink = stack.enter_context(ResultsFile.open(output, job_header(sources, settings), resume=resume))
            done = sink.resume_into(tally) if sink.reopened else 0
        else:
            sink = _open_output(output, stack=stack)
        chunks: Iterable[Chunk]
        if _workers_share_files(engine, workers, ray_address) and all(source.local_file for source in sources):
            # workers on this machine read their own lines: the driver sends byte ranges, not the data
            chunks = file_spans(
                [os.path.abspath(source.name) for source in sources],
                skip=done,
                chunk_lines=chunk_lines,
                chunk_bytes=CHUNK_BYTES,
                taper=workers,
            )
        else:
            chunks = _chunks(iter_lines(sources, max_line_bytes), skip=done, chunk_lines=chunk_lines)
        if engine == "ray":
            results = run_ray(settings, chunks, workers, ray_address)
        else:
            results = run_local(settings, chunks, workers)
        results = stack.enter_context(_closing(results))
        # The first result starts the workers (fork): the progress bar's thread starts only after that.
        first = next(results, None)
        bar = stack.enter_context(_Progress(sources, enabled=progress))
        for chunk in itertools.chain([first] if first else [], results):
            if isinstance(sink, ResultsFile):
                with sigint_deferred():  # Ctrl-C: a chunk's results are written and checkpointed whole
                    sink.write(chunk.data)
                    sink.checkpoint()
            elif sink is not None:
                sink.write(chunk.data.decode("utf-8"))
            tally.merge(chunk.tally)
            lines_run += chunk.lines
            input_bytes += chunk.input_bytes
            bar.advance(chunk.lines, chunk.input_bytes)
            if chunk.stopped:
                stopped = True
                break
    return BatchResult(
        tally=tally,
        settings=settings,
        inputs=sources,
        engine=engine,
        workers=workers,
        seconds=time.perf_counter() - started,
        input_bytes=input_bytes,
        lines_run=lines_run,
        resumed_lines=done,
        stopped=stopped,
    )


run = estimate_batch


def _workers_share_files(engine: str, workers: int, ray_address: str | None) -> bool:
    """Whether the workers run on this machine, so that they can read the input files themselves: a local
    pool, or the local Ray cluster a job starts for itself (not one it joins: its nodes may be elsewhere)."""
    if engine == "local":
        return workers > 1
    if ray_address is not None:
        return False
    try:
        import ray
    except ImportError:
        return False  # run_ray says what to install
    return not ray.is_initialized()


def settings_for(
    model: str | None = None,
    *,
    api: str = "vertex",
    mode: str = "batch",
    output_tokens: int | None = None,
    as_of: str | None = None,
    media_options: MediaOptions | None = None,
) -> BatchSettings:
    """A job's settings, checked as `estimate_batch` checks them (a bad API, mode, date or output size is
    refused before any line runs)."""
    return _settings(model, api, mode, output_tokens, as_of, media_options, DEFAULT_MAX_LINE_BYTES, False)


def _settings(
    model: str | None,
    api: str,
    mode: str,
    output_tokens: int | None,
    as_of: str | None,
    media_options: MediaOptions | None,
    max_line_bytes: int,
    fail_fast: bool,
) -> BatchSettings:
    check_api(api)
    if output_tokens is not None:
        output_tokens = whole_number(output_tokens, "output_tokens")
    settings = BatchSettings(
        model=model,
        api=api,
        mode=parse_mode(mode, "mode"),
        output_tokens=output_tokens,
        as_of=None if as_of is None else str(as_of),
        media_options=media_options or MediaOptions(),
        max_line_bytes=whole_number(max_line_bytes, "max_line_bytes"),
        fail_fast=fail_fast,
    )
    _ = settings.price_date  # a bad date is refused before any work
    return settings


def _chunks(lines: Iterable[bytes | OversizeLine], *, skip: int, chunk_lines: int) -> Iterator[Chunk]:
    number = 0
    raws: list[bytes | OversizeLine] = []
    size = 0
    first = skip + 1
    for raw in lines:
        number += 1
        if number <= skip:
            continue
        raws.append(raw)
        size += raw.size if isinstance(raw, OversizeLine) else len(raw)
        if len(raws) >= chunk_lines or size >= CHUNK_BYTES:
            yield first, raws
            first += len(raws)
            raws, size = [], 0
    if raws:
        yield first, raws
    if number < skip:
        raise skip_error(skip, number)


# ---- the results file: a header naming the job, then the result lines -----------------------------
HEADER_FORMAT = 1
_STAMP_PLACEHOLDER = f"{0:016d}:{hashlib.sha256().hexdigest()}"  # bytes of result lines checkpointed : SHA-256


def job_header(sources: Sequence[BatchInput], settings: BatchSettings) -> dict[str, Any]:
    """The results file's first line: `{"line": 0, "job": {...}}`. `fingerprint` is a SHA-256 over the
    options that decide the results and the inputs' content (local files are hashed whole; gs:// objects
    by name and size; stdin cannot be checked), so that --resume continues only this job."""
    options = {
        "model": settings.model,
        "api": settings.api,
        "mode": settings.mode,
        "outputTokens": settings.output_tokens,
        "date": settings.price_date,
        "maxLineBytes": settings.max_line_bytes,
        "media": json.loads(json.dumps(dataclasses.asdict(settings.media_options), default=_plain)),
        "version": sys.modules["vertexmeter"].__version__,  # another version may count or price differently
    }
    digest = hashlib.sha256(json.dumps(options, sort_keys=True).encode())
    for source in sources:
        if source.name == "-" or source.name.startswith("gs://"):
            digest.update(json.dumps([source.name, source.size]).encode())
        else:
            digest.update(_file_sha256(source.name).encode())
    return {
        "line": 0,
        "job": {
            "format": HEADER_FORMAT,
            "fingerprint": digest.hexdigest(),
            "inputs": [s.name for s in sources],
            "options": options,
            "written": _STAMP_PLACEHOLDER,
        },
    }


def _plain(value: Any) -> Any:
    return sorted(value, key=str) if isinstance(value, (set, frozenset)) else str(value)


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _not_this_job(path: str, why: str) -> VertexMeterError:
    return invalid_argument(f"{path} is not a results file of this job: {why}", "resume")


class ResultsFile:
    """The results file: its header, then result lines appended chunk by chunk.

    After every chunk, `checkpoint` rewrites the header's `written` field in place — how many bytes of
    result lines follow the header and their SHA-256 — so that --resume keeps exactly the lines this job
    wrote and checkpointed: lines written after the last checkpoint (an interruption) are cut off and
    run again; a line changed since (by hand, or by another program) is refused.
    """

    def __init__(self, path: str, handle: IO[bytes], header: dict[str, Any], head: bytes) -> None:
        self.path = path
        self.handle = handle
        self.header = header
        self.header_bytes = len(head)
        self.reopened = False  # an existing results file, to resume
        self.written = 0
        self.digest = hashlib.sha256()
        self._stamp_at = head.rindex(b'"written":"') + len(b'"written":"')  # the last field (ASCII: escaped)

    @classmethod
    def open(cls, path: str, header: dict[str, Any], *, resume: bool) -> ResultsFile:
        if resume and os.path.exists(path) and os.path.getsize(path) > 0:
            handle = open(path, "r+b")  # noqa: SIM115 - closed by __exit__
            first = handle.readline()
            try:
                found = json.loads(first)
                job = found["job"]
                ok = found.get("line") == 0 and isinstance(job, dict) and first.endswith(b"\n")
            except (ValueError, TypeError, KeyError):
                ok = False
            if not ok:
                handle.close()
                raise _not_this_job(path, f"its first line is no job header ({str(first[:80], 'utf-8', 'replace')!r}).")
            if job.get("fingerprint") != header["job"]["fingerprint"]:
                handle.close()
                raise _not_this_job(
                    path,
                    "it was written for another input or other options (model, API, mode, output tokens, price "
                    f"date, media options, version); it says {json.dumps(job.get('options'), sort_keys=True)}.",
                )
            reopened = cls(path, handle, found, first)
            reopened.reopened = True
            return reopened
        handle = open(path, "w+b")  # noqa: SIM115 - closed by __exit__
        head = json.dumps(header, separators=(",", ":")).encode() + b"\n"
        handle.write(head)
        handle.flush()
        return cls(path, handle, header, head)

    def __enter__(self) -> ResultsFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def resume_into(self, tally: Tally) -> int:
        """Re-read the checkpointed result lines into `tally` (checked against their digest and re-validated
        line by line), cut off what follows them, and return the last input line they cover (0: none)."""
        stamp = str(self.header["job"].get("written", ""))
        size_text, _, expected = stamp.partition(":")
        if not size_text.isdigit() or len(expected) != 64:
            raise _not_this_job(self.path, f"its header's `written` field is malformed ({stamp[:90]!r}).")
        size = int(size_text)
        self.handle.seek(self.header_bytes)
        last = 0
        left = size
        while left > 0:
            raw = self.handle.readline(left)
            if not raw.endswith(b"\n"):
                break
            left -= len(raw)
            self.digest.update(raw)
            last = self._check_result(raw, last)
            tally.add(json.loads(raw))
        if left or self.digest.hexdigest() != expected:
            raise invalid_argument(
                f"{self.path} was changed after this job wrote it: its result lines do not match the checksum "
                "in its header. Run the job again without --resume (or restore the file).",
                "resume",
            )
        self.written = size
        self.handle.truncate(self.header_bytes + size)  # lines after the last checkpoint run again
        self.handle.seek(0, os.SEEK_END)
        tally.blank_lines += last - tally.lines  # every other line up to `last` was blank
        return last

    def _check_result(self, raw: bytes, last: int) -> int:
        try:
            result = json.loads(raw)
        except ValueError:
            result = None
        line = result.get("line") if isinstance(result, dict) else None
        if (
            not isinstance(line, int)
            or isinstance(line, bool)
            or line <= last
            or ("cost" in result) == ("error" in result)  # type: ignore[operator]
        ):
            raise _not_this_job(self.path, f"after line {last} it holds {str(raw[:80], 'utf-8', 'replace')!r}.")
        return line

    def write(self, data: bytes) -> None:
        self.handle.write(data)
        self.digest.update(data)
        self.written += len(data)

    def checkpoint(self) -> None:
        """Make what was written so far durable for --resume: flushed, then counted in the header."""
        self.handle.flush()
        stamp = f"{self.written:016d}:{self.digest.hexdigest()}".encode()
        self.handle.seek(self._stamp_at)
        self.handle.write(stamp)
        self.handle.flush()
        self.handle.seek(0, os.SEEK_END)


def _open_output(output: str | IO[str] | None, *, stack: ExitStack) -> IO[str] | None:
    if output is None:
        return None
    if not isinstance(output, str):
        return output
    return sys.stdout  # "-": a path is a ResultsFile


class _closing:
    """Close a generator on exit, so an engine stops its workers when the job stops early."""

    def __init__(self, gen: Iterator[ChunkResult]) -> None:
        self.gen = gen

    def __enter__(self) -> Iterator[ChunkResult]:
        return self.gen

    def __exit__(self, *exc: object) -> None:
        close = getattr(self.gen, "close", None)
        if close is not None:
            close()


class _Progress:
    """A rich progress bar (lines, rate, ETA) on stderr, only when stderr is a terminal."""

    def __init__(self, sources: list[BatchInput], *, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        sizes = [s.size for s in sources]
        self.total = (
            None
            if any(s is None or src.gzipped for s, src in zip(sizes, sources, strict=True))
            else sum(s or 0 for s in sizes)
        )
        self.lines = 0

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self.progress = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TextColumn("{task.fields[lines]:,} lines ({task.fields[rate]:,.0f}/s)"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self.progress.start()
            self.started = time.perf_counter()
            self.task = self.progress.add_task("batch", total=self.total, lines=0, rate=0.0)
        return self

    def advance(self, lines: int, size: int) -> None:
        if self.enabled:
            self.lines += lines
            rate = self.lines / max(time.perf_counter() - self.started, 1e-9)
            self.progress.update(self.task, advance=size, lines=self.lines, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.stop()
