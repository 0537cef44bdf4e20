"""Helpers of the server tests: real uvicorn servers on loopback ports (in threads), the library's own answers."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

import vertexmeter
from tests.thread_server import ThreadServer, serve_in_thread
from vertexmeter.errors import VertexMeterError
from vertexmeter.server import ServerConfig, create_app

_LOGGERS = ("vertexmeter.server", "uvicorn", "uvicorn.error", "uvicorn.access")
SDK_KEYS = ("test-token", "express-key-1", "gemini-key-2")


@dataclass
class RunningServer(ThreadServer):
    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30, **kwargs)

    def access_lines(self, at_least: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The access-log records so far, waiting for `at_least` of them: a line is written just after
        its response is sent, so the client can be a moment ahead of the log."""
        deadline = time.monotonic() + timeout
        while True:
            lines = [json.loads(line) for line in list(self.logs) if '"event": "access"' in line]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.01)


def start_server(config: ServerConfig) -> RunningServer:
    """Serve `config` on 127.0.0.1 (a free port) until `stop()`; every log line is kept in `.logs`."""
    uv_config = uvicorn.Config(
        create_app(config), log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    return serve_in_thread(RunningServer, config, uvicorn.Server(uv_config), _LOGGERS, logging.DEBUG)


def library_answer(rpc: str, model: str, body: Any, api: str = "vertex") -> tuple[int, dict[str, Any]]:
    """What the library itself says for a request: (HTTP code, JSON), refusals included."""
    try:
        if rpc == "computeTokens":
            return 200, vertexmeter.compute_tokens(model, body)
        return 200, vertexmeter.count_tokens(model, body, api=api)
    except VertexMeterError as error:
        return error.code, error.to_json()
