"""Helpers of the server tests: real uvicorn servers on loopback ports (in threads), the library's own answers."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.server import ServerConfig, create_app
from vertexmeter.server.access import JsonFormatter

_LOGGERS = ("vertexmeter.server", "uvicorn", "uvicorn.error", "uvicorn.access")
SDK_KEYS = ("test-token", "express-key-1", "gemini-key-2")


@dataclass
class RunningServer:
    base_url: str
    config: ServerConfig
    server: uvicorn.Server
    thread: threading.Thread
    logs: list[str] = field(default_factory=list)
    handler: logging.Handler | None = None

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

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        if self.handler is not None:
            for name in _LOGGERS:
                logging.getLogger(name).removeHandler(self.handler)


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__()
        self.sink = sink
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(self.format(record))


def start_server(config: ServerConfig) -> RunningServer:
    """Serve `config` on 127.0.0.1 (a free port) until `stop()`; every log line is kept in `.logs`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    uv_config = uvicorn.Config(
        create_app(config), log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(uv_config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    running = RunningServer(f"http://127.0.0.1:{port}", config, server, thread)
    running.handler = handler = _ListHandler(running.logs)
    for name in _LOGGERS:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.DEBUG)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return running


def library_answer(rpc: str, model: str, body: Any, api: str = "vertex") -> tuple[int, dict[str, Any]]:
    """What the library itself says for a request: (HTTP code, JSON), refusals included."""
    try:
        if rpc == "computeTokens":
            return 200, vertexmeter.compute_tokens(model, body)
        return 200, vertexmeter.count_tokens(model, body, api=api)
    except VertexMeterError as error:
        return error.code, error.to_json()
