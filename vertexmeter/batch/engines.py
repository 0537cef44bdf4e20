"""Engines: run `count_chunk` over a stream of chunks and yield the results in input order.

Each keeps a bounded number of chunks in flight (memory stays flat whatever the input size):
- serial: in this process (workers=1, and the reference the others are tested against);
- local: a process pool over the machine's cores; tokenizers and prices load once per worker;
- ray: Ray tasks on a local or remote cluster (extra: ray).
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from vertexmeter.batch.inputs import FileSpan, OversizeLine
from vertexmeter.batch.work import BatchSettings, ChunkResult, count_chunk, warm_up
from vertexmeter.errors import failed_precondition

Chunk = tuple[int, list[bytes | OversizeLine] | FileSpan]  # (number of its first line, its lines or their span)
ENGINES = ("local", "ray")
IN_FLIGHT_PER_WORKER = 3


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_serial(settings: BatchSettings, chunks: Iterable[Chunk]) -> Iterator[ChunkResult]:
    for first, raws in chunks:
        yield count_chunk(settings, first, raws)


def _worker_start(settings: BatchSettings) -> None:
    """A worker ignores SIGINT: Ctrl-C reaches the whole process group, and only the driver acts on it
    (it stops the workers itself); a worker dying of KeyboardInterrupt would break the pool mid-shutdown."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    warm_up(settings)


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """SIGINT held back for a moment, then delivered: while workers are forked (none may start with the
    driver's handler), while a chunk's results and their checkpoint are written (never half of them)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            signal.raise_signal(signal.SIGINT)


STOP_GRACE_SECONDS = 5.0  # a stopped pool's workers may finish the chunk they are counting; then they are killed


def stop_pool(pool: ProcessPoolExecutor, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop a pool soon: queued chunks are dropped, each worker finishes the chunk it is counting (at most
    200 lines or 4 MiB) and exits; one still busy after `grace` seconds is killed. Killing at once could
    cut a worker's result message in half, which leaves the pool's reader thread waiting for ever."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the executor's own workers
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
    for process in processes:
        if process.is_alive():
            with contextlib.suppress(Exception):
                process.kill()
            process.join(timeout=5)


def run_local(settings: BatchSettings, chunks: Iterable[Chunk], workers: int) -> Iterator[ChunkResult]:
    """A process pool; results come back in submission order, at most workers x 3 chunks in flight.

    When the consumer stops early (fail-fast, Ctrl-C, an error downstream) the pool is stopped at once:
    chunks still queued or running are dropped (a resumed job runs them again), no worker is left.
    """
    if workers <= 1:
        yield from run_serial(settings, chunks)
        return
    # fork: workers start in milliseconds and share the parent's loaded modules; spawn elsewhere.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "fork":
        warm_up(settings)  # loaded once here, shared copy-on-write by every worker
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=(settings,))
    pending: collections.deque[Future[ChunkResult]] = collections.deque()
    completed = False
    try:
        for first, raws in chunks:
            if pool._processes:  # type: ignore[attr-defined]  # (the executor's own workers)
                pending.append(pool.submit(count_chunk, settings, first, raws))
            else:
                with sigint_deferred():  # the first submit forks every worker
                    pending.append(pool.submit(count_chunk, settings, first, raws))
            if len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
        completed = True
    finally:
        if completed:
            pool.shutdown(wait=True)
        else:
            stop_pool(pool)


def run_ray(
    settings: BatchSettings, chunks: Iterable[Chunk], workers: int, address: str | None
) -> Iterator[ChunkResult]:
    """Ray tasks over the same chunk function; results in order, bounded in flight.

    With `address` the job joins that cluster (`ray://host:10001`, `auto`, or `host:6379`); else a local
    cluster of `workers` CPUs is started for the job and stopped after it.
    """
    try:
        ray: Any = importlib.import_module("ray")
    except ImportError:
        raise failed_precondition("--engine ray needs Ray: pip install 'vertexmeter[ray]'", "engine") from None
    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, logging_level="WARNING", log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", workers)))
        task = ray.remote(num_cpus=1)(count_chunk)
        settings_ref = ray.put(settings)
        pending: collections.deque[Any] = collections.deque()
        try:
            for first, raws in chunks:
                pending.append(task.remote(settings_ref, first, raws))
                if len(pending) >= cpus * IN_FLIGHT_PER_WORKER:
                    yield ray.get(pending.popleft())
            while pending:
                yield ray.get(pending.popleft())
        finally:
            for ref in pending:
                ray.cancel(ref)
    finally:
        if started:
            ray.shutdown()
