"""Fixtures of the server tests: session-wide servers (open, keyed) and a factory for special configs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.server.lane_wires import Pair, serving_pair
from tests.server.server_helpers import SDK_KEYS, RunningServer, start_server
from vertexmeter.server import ServerConfig


@pytest.fixture(scope="session")
def server_factory() -> Iterator[Callable[..., RunningServer]]:
    started: list[RunningServer] = []

    def make(**settings: Any) -> RunningServer:
        settings.setdefault("workers", 2)
        running = start_server(ServerConfig(**settings))
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


@pytest.fixture(scope="session")
def open_server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    """No keys, no quota: the plain drop-in server."""
    return server_factory(quota_rpm=0)


@pytest.fixture(scope="session")
def keyed_server(server_factory: Callable[..., RunningServer]) -> RunningServer:
    """Keys configured (the ones the SDK tests use); no quota."""
    return server_factory(quota_rpm=0, api_keys=SDK_KEYS)


@pytest.fixture
def http(open_server: RunningServer) -> Iterator[httpx.Client]:
    with open_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    """A server with the fast lane and one without, for each module that compares their answers."""
    with serving_pair() as both:
        yield both
