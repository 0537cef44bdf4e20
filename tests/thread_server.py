"""A real uvicorn server in a thread on a free loopback port, with its log lines kept: what the server and
abuse tests build on (each adds its own helpers)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TypeVar

import uvicorn

from vertexmeter.server import ServerConfig
from vertexmeter.server.access import JsonFormatter


@dataclass
class ThreadServer:
    base_url: str
    port: int
    config: ServerConfig
    server: uvicorn.Server
    thread: threading.Thread
    logs: list[str] = field(default_factory=list)
    handler: logging.Handler | None = None
    loggers: tuple[str, ...] = ()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        if self.handler is not None:
            for name in self.loggers:
                logging.getLogger(name).removeHandler(self.handler)


T = TypeVar("T", bound=ThreadServer)


def serve_in_thread(
    kind: type[T], config: ServerConfig, server: uvicorn.Server, loggers: tuple[str, ...], level: int
) -> T:
    """Run `server` on 127.0.0.1 (a free port) in a daemon thread; every record of `loggers` is kept."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    running = kind(f"http://127.0.0.1:{port}", port, config, server, thread, loggers=loggers)
    running.handler = handler = _ListHandler(running.logs)
    for name in loggers:
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(level)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return running


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__()
        self.sink = sink
        self.setFormatter(JsonFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(self.format(record))
