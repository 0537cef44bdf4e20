"""Fixtures of the abuse suite: a factory of live servers, each stopped when its test ends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.abuse.abuse_helpers import LiveServer, start_live
from vertexmeter import tokenizing
from vertexmeter.server import ServerConfig


@pytest.fixture(autouse=True)
def heavy_counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Count with the reference engines on whole texts, as before the counting core.

    These tests need a request that keeps a worker busy for seconds; the core counts the suite's
    megabytes of repeated prose in a fraction of a second. Worker and `serve` processes inherit this.
    The engines loaded here are forgotten afterwards, so that later tests get the core again.
    """
    monkeypatch.setenv("VERTEXMETER_ENGINE_ONLY", "1")
    tokenizing.clear_cache()
    yield
    tokenizing.clear_cache()


@pytest.fixture
def live() -> Iterator[Callable[..., LiveServer]]:
    started: list[LiveServer] = []

    def make(**settings: Any) -> LiveServer:
        settings.setdefault("workers", 2)
        settings.setdefault("quota_rpm", 0)
        settings.setdefault("shutdown_timeout", 1)  # teardown does not wait for the large requests left
        server = start_live(ServerConfig(**settings))
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
