"""What every request handler shares: settings, the key checker, the quota, metrics and the two work lanes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.requests import Request

from vertexmeter.media import MediaOptions
from vertexmeter.server.auth import KeyChecker
from vertexmeter.server.config import ServerConfig, is_loopback
from vertexmeter.server.errors import SHUTTING_DOWN, ApiError
from vertexmeter.server.lanes import LargeLane
from vertexmeter.server.metrics import Metrics
from vertexmeter.server.quota import Quota
from vertexmeter.server.work import WorkPool


@dataclass
class ServerState:
    config: ServerConfig
    keys: KeyChecker
    quota: Quota
    metrics: Metrics
    pool: WorkPool  # small requests (threads by default)
    large: LargeLane  # large requests (worker processes)
    media: MediaOptions
    stopping: asyncio.Event = field(default_factory=asyncio.Event)  # set shortly before the shutdown timeout
    shutting_down: asyncio.Event = field(default_factory=asyncio.Event)  # set when a shutdown starts
    batch_jobs: int = 0  # web batch uploads being received or run (each runs in a process of its own)

    loopback_bind: bool = False  # whether `config.host` is a loopback address (set by `build`)

    @classmethod
    def build(cls, config: ServerConfig) -> ServerState:
        return cls(
            config=config,
            keys=KeyChecker(config.api_keys),
            quota=Quota(config.quota_rpm),
            metrics=Metrics(),
            pool=WorkPool(config.executor, config.workers),
            large=LargeLane(config.large_workers, config.large_queue, config.max_request_memory),
            media=config.media_options(),
            loopback_bind=is_loopback(config.host),
        )

    # ---- what the web page's batch route needs (it reads this object duck-typed) ------------------
    def admit_batch(self) -> None:
        """A place for one batch upload (at most `large_workers` at once), or 503 before its body is read."""
        if self.batch_jobs >= self.config.large_workers:
            raise ApiError(
                503,
                "UNAVAILABLE",
                "The service is currently unavailable: too many batch jobs are in progress. Retry later.",
                headers={"Retry-After": "1", "Connection": "close"},
            )
        self.batch_jobs += 1

    def release_batch(self) -> None:
        self.batch_jobs -= 1

    async def receive_body(self, request: Request, sink: Callable[[bytes], object]) -> int:
        """The request body into `sink`, with the RPC routes' cap and timeouts (413, 408, ClientGone)."""
        from vertexmeter.server.routes.rpc import receive_body  # the routes import this module

        config = self.config
        return await receive_body(request, config.max_body_bytes, config.body_timeout, config.body_idle_timeout, sink)

    def charge_lines(self, request: Request, key_id: str | None, lines: int) -> None:
        from vertexmeter.server.routes.rpc import charge_lines

        charge_lines(self, request, key_id, lines)

    def begin_shutdown(self, timeout: float | None) -> None:
        """Called when a shutdown starts: past most of `timeout`, stop what still runs (see `until_stopped`)."""
        self.shutting_down.set()
        grace = max(0.0, (timeout or 0) - min(0.5, (timeout or 0) / 4)) if timeout is not None else None
        if grace is not None:
            asyncio.get_running_loop().call_later(grace, self._stop_now)

    def _stop_now(self) -> None:
        self.large.stop_respawning()
        self.stopping.set()

    async def until_stopped(self, work: Awaitable[T]) -> T:
        """`work`'s result, or 503 UNAVAILABLE when a shutdown runs out of time first (the work is cancelled)."""
        task = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise ApiError(503, "UNAVAILABLE", SHUTTING_DOWN, headers={"Connection": "close"})


T = TypeVar("T")


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.vertexmeter
    return state
