"""A batch job: inputs -> chunks -> an engine -> ordered result lines + one summary."""

from __future__ import annotations

import itertools
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO, Any

from vertexmeter.batch.engines import ENGINES, Chunk, default_workers, run_local, run_ray
from vertexmeter.batch.inputs import BatchInput, OversizeLine, expand_inputs, file_spans, iter_lines, skip_error
from vertexmeter.batch.tally import Tally
from vertexmeter.batch.work import DEFAULT_MAX_LINE_BYTES, BatchSettings, ChunkResult
from vertexmeter.counting.count import check_api
from vertexmeter.errors import invalid_argument
from vertexmeter.media import MediaOptions
from vertexmeter.pricing.usage import parse_mode, whole_number

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
    if resume:
        if not isinstance(output, str):
            raise invalid_argument("resume needs the results file path (output).", "resume")
        _resume_tally(output, tally)
    done = tally.lines
    started = time.perf_counter()
    stopped = False
    lines_run = input_bytes = 0
    with ExitStack() as stack:
        sink = _open_output(output, append=resume, stack=stack)
        chunks: Iterable[Chunk]
        if _workers_share_files(engine, workers, ray_address) and all(source.local_file for source in sources):
            # workers on this machine read their own lines: the driver sends byte ranges, not the data
            chunks = file_spans(
                [os.path.abspath(source.name) for source in sources], skip=done, chunk_lines=chunk_lines,
                chunk_bytes=CHUNK_BYTES,
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
            if sink is not None:
                sink.write(chunk.text)
            tally.merge(chunk.tally)
            lines_run += chunk.lines
            input_bytes += chunk.input_bytes
            bar.advance(chunk.lines, chunk.input_bytes)
            if chunk.stopped:
                stopped = True
                break
    return BatchResult(
        tally=tally, settings=settings, inputs=sources, engine=engine, workers=workers,
        seconds=time.perf_counter() - started, input_bytes=input_bytes, lines_run=lines_run, resumed_lines=done,
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


def _settings(
    model: str | None, api: str, mode: str, output_tokens: int | None, as_of: str | None,
    media_options: MediaOptions | None, max_line_bytes: int, fail_fast: bool,
) -> BatchSettings:
    check_api(api)
    if output_tokens is not None:
        output_tokens = whole_number(output_tokens, "output_tokens")
    settings = BatchSettings(
        model=model, api=api, mode=parse_mode(mode, "mode"), output_tokens=output_tokens,
        as_of=None if as_of is None else str(as_of), media_options=media_options or MediaOptions(),
        max_line_bytes=whole_number(max_line_bytes, "max_line_bytes"), fail_fast=fail_fast,
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


def _resume_tally(path: str, tally: Tally) -> None:
    """Read a previous run's results into `tally`; a torn last line (an interrupted write) is cut off."""
    if not os.path.exists(path):
        return
    good = 0
    with open(path, "rb+") as results:
        for raw in results:
            if not raw.endswith(b"\n"):
                break
            try:
                result = json.loads(raw)
            except ValueError:
                break
            if (
                not isinstance(result, dict)
                or result.get("line") != tally.lines + 1
                or ("cost" in result) == ("error" in result)
            ):
                raise invalid_argument(
                    f"{path} is not a results file of this job: line {tally.lines + 1} holds "
                    f"{str(raw[:80], 'utf-8', 'replace')!r}.",
                    "resume",
                )
            tally.add(result)
            good += len(raw)
        results.truncate(good)


def _open_output(output: str | IO[str] | None, *, append: bool, stack: ExitStack) -> IO[str] | None:
    if output is None:
        return None
    if not isinstance(output, str):
        return output
    if output == "-":
        return sys.stdout
    return stack.enter_context(open(output, "a" if append else "w", encoding="utf-8", newline="\n"))


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
        self.total = None if any(s is None or src.gzipped for s, src in zip(sizes, sources, strict=True)) else sum(
            s or 0 for s in sizes
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
                TextColumn("[bold]batch"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                TextColumn("{task.fields[lines]:,} lines ({task.fields[rate]:,.0f}/s)"), TimeElapsedColumn(),
                TimeRemainingColumn(), console=Console(stderr=True), transient=False,
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
