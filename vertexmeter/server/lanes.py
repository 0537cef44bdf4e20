"""The large lane: big or media-fetching requests run in worker processes of their own.

Small requests (most traffic) run in the `WorkPool` threads; a request whose body is over
`large_request_bytes`, or that names a `fileData` / `gcsUri` to read, or whose text the small lane
found costly to encode (`work.long_run_characters`), runs here instead, so that a
few heavy requests can never occupy the threads the small ones need, nor hold the GIL the event loop
needs. A worker process can be stopped, which a thread cannot: a request past its deadline, or whose
worker grows past `max_request_memory`, has its worker killed and replaced; only that request is
refused (DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED).

Admission is bounded: at most `workers` requests run and `queue` more wait; past that the answer is
503 UNAVAILABLE at once, before the body is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from vertexmeter.server.errors import ApiError, canonical
from vertexmeter.server.work import Job, Outcome, run_job_rendered, worker_died

log = logging.getLogger("vertexmeter.server")

_POLL_SECONDS = 0.1
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
LANE_FULL = "The service is currently unavailable: too many large requests are in progress. Retry later."
DEADLINE = "Deadline exceeded: the request was not answered within {seconds:g} s."
TOO_MUCH_MEMORY = (
    "Resource exhausted: counting this request needs more than the {limit:,} bytes of memory this "
    "server allows one request (max_request_memory)."
)


def deadline_exceeded(seconds: float) -> ApiError:
    return canonical("DEADLINE_EXCEEDED", DEADLINE.format(seconds=seconds))


class WorkerGone(Exception):
    """The worker process ended (killed on purpose, or crashed) before answering."""


class MemoryCapExceeded(Exception):
    pass


# A worker runs at a lower CPU priority than the server: when the cores are busy, the event loop
# (small requests, /healthz) is scheduled first and the large request waits, not the other way round.
WORKER_NICENESS = 10


def _worker_main(conn: Connection) -> None:  # pragma: no cover - runs in the worker process
    """One job at a time, forever. Tokenizers load on first use (and stay), not all at start."""
    with contextlib.suppress(OSError, AttributeError):  # (no os.nice on Windows)
        os.nice(WORKER_NICENESS)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(run_job_rendered(job))


def resident_bytes(pid: int) -> int | None:
    """Resident set size of a process (Linux /proc); None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


class _Worker:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # forking a process with threads is unsafe
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child,), daemon=True, name="vertexmeter-large"
        )
        self.process.start()
        child.close()

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout) or self.conn.recv() != "ready":
            raise WorkerGone("the worker process did not start")

    def call(self, job: Job, memory_cap: int) -> Outcome:
        """Run `job` (blocking: called from an I/O thread), watching the worker's memory."""
        try:
            self.conn.send(job)
            while not self.conn.poll(_POLL_SECONDS):
                if not self.process.is_alive():
                    raise WorkerGone("the worker process ended")
                if memory_cap:
                    rss = resident_bytes(self.process.pid or 0)
                    if rss is not None and rss > memory_cap:
                        self.kill()
                        raise MemoryCapExceeded
            outcome: Outcome = self.conn.recv()
            return outcome
        except (EOFError, OSError, BrokenPipeError) as exc:
            raise WorkerGone(str(exc)) from None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.conn.close()

    def reap(self) -> None:
        self.kill()
        with contextlib.suppress(Exception):
            self.process.join(timeout=5)


class LargeLane:
    def __init__(self, workers: int, queue: int, memory_cap: int) -> None:
        self.workers = workers
        self.queue = queue
        self.memory_cap = memory_cap
        self.admitted = 0  # running + waiting
        self._io = ThreadPoolExecutor(max_workers=workers * 2 + 1, thread_name_prefix="vertexmeter-large-io")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._closed = False

    # ---- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the workers in the background: the port opens without waiting for them."""
        self._idle = asyncio.Queue()
        for _ in range(self.workers):
            self._spawn_later()

    def _spawn_later(self) -> None:
        loop = asyncio.get_running_loop()
        task = loop.create_task(self._spawn())
        task.add_done_callback(_log_failure)

    async def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        for attempt in range(3):
            if self._closed:
                return
            try:
                worker = await loop.run_in_executor(self._io, _start_worker)
            except Exception:
                log.exception("could not start a large-lane worker (attempt %d)", attempt + 1)
                await asyncio.sleep(1.0)
                continue
            if self._closed:
                worker.reap()
                return
            self._all.add(worker)
            assert self._idle is not None
            self._idle.put_nowait(worker)
            return

    def stop_respawning(self) -> None:
        self._closed = True

    def close(self) -> None:
        """Kill every worker at once: a shutdown does not wait for a large job."""
        self._closed = True
        for worker in list(self._all):
            worker.kill()
        for worker in list(self._all):
            with contextlib.suppress(Exception):
                worker.process.join(timeout=2)
        self._io.shutdown(wait=False, cancel_futures=True)

    # ---- admission and work -----------------------------------------------------------------------
    def admit(self) -> None:
        """Take a place (running or waiting), or refuse with 503 before any body is read."""
        if self.admitted >= self.workers + self.queue:
            # Connection: close, so that the body the client is still sending is not read for nothing.
            raise ApiError(503, "UNAVAILABLE", LANE_FULL, headers={"Retry-After": "1", "Connection": "close"})
        self.admitted += 1

    def release(self) -> None:
        self.admitted -= 1

    async def run(self, job: Job, deadline: float, deadline_seconds: float) -> Outcome:
        """Run an admitted job; `deadline` is on the event loop's clock."""
        loop = asyncio.get_running_loop()
        assert self._idle is not None, "the large lane is not started"
        try:
            worker = await asyncio.wait_for(self._idle.get(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise deadline_exceeded(deadline_seconds) from None
        future = loop.run_in_executor(self._io, worker.call, job, self.memory_cap)
        future.add_done_callback(_retrieve)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(future), max(0.0, deadline - loop.time()))
        except TimeoutError:
            self._replace(worker)
            raise deadline_exceeded(deadline_seconds) from None
        except asyncio.CancelledError:  # shutdown past its timeout, or the client task was cancelled
            self._replace(worker)
            raise
        except MemoryCapExceeded:
            self._replace(worker)
            raise canonical("RESOURCE_EXHAUSTED", TOO_MUCH_MEMORY.format(limit=self.memory_cap)) from None
        except WorkerGone:
            log.error("a large-lane worker process died; starting a new one")
            self._replace(worker)
            return worker_died()
        self._idle.put_nowait(worker)
        return outcome

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._all.discard(worker)
        self._io.submit(worker.reap)
        if not self._closed:
            self._spawn_later()


def _start_worker() -> _Worker:
    worker = _Worker()
    try:
        worker.wait_ready(60.0)
    except Exception:
        worker.reap()
        raise
    return worker


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Read a finished call's exception so that asyncio never logs it as 'never retrieved'."""
    if not future.cancelled():
        future.exception()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("large-lane worker start failed: %s", task.exception())
