"""What every request handler shares: settings, the key checker, the quota, metrics and the two work lanes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from vertexmeter.media import MediaOptions
from vertexmeter.server.auth import KeyChecker
from vertexmeter.server.config import ServerConfig
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
        )


def server_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.vertexmeter
    return state
