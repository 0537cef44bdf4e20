"""Two real servers for the fast lane's tests, one with the lane and one without, and raw keep-alive
connections to them: every request goes to both, and their answers must be equal byte for byte (but `date`
and random request ids)."""

from __future__ import annotations

import json
import logging
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.thread_server import ThreadServer, serve_in_thread
from vertexmeter.server import ServerConfig
from vertexmeter.server.fastlane import FastLane
from vertexmeter.server.runner import make_server

DATA = Path(__file__).resolve().parents[1] / "data"
VERTEX = "/v1/projects/p/locations/us-central1/publishers/google/models/{model}:{rpc}"
VERTEX_BETA = "/v1beta1/publishers/google/models/{model}:{rpc}"
GEMINI = "/v1beta/models/{model}:{rpc}"
ENDPOINT = "/v1/projects/p/locations/us-central1/endpoints/123:countTokens"
_RANDOM_ID = re.compile(rb"^[0-9a-f]{32}$")


def plain_body(*texts: str) -> bytes:
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": t} for t in texts]}]}).encode()


class Wire:
    """One keep-alive connection, raw: requests as bytes, answers as (status line, headers in order, body)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> tuple[bytes, list[tuple[bytes, bytes]], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._read()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status, *lines = head.split(b"\r\n")
        headers = [(name, value) for name, _, value in (line.partition(b": ") for line in lines)]
        length = int(dict(headers)[b"content-length"])
        while len(self.buffer) < length:
            self._read()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def closed(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except OSError:
            return True

    def _read(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def request(
    path: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST", version: str = "1.1"
) -> bytes:
    head = f"{method} {path} HTTP/{version}\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
    if method == "POST" and "Transfer-Encoding" not in (headers or {}):
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def comparable(answer: tuple[bytes, list[tuple[bytes, bytes]], bytes]) -> tuple[Any, ...]:
    status, headers, body = answer
    kept = []
    for name, value in headers:
        if name == b"date":
            continue
        if name == b"x-request-id" and _RANDOM_ID.match(value):
            value = b"(random)"
        kept.append((name, value))
    return status, kept, body


class Pair:
    """The two servers, and a connection to each."""

    def __init__(self, fast: ThreadServer, asgi: ThreadServer) -> None:
        self.fast, self.asgi = fast, asgi
        app: Any = fast.server.config.app
        self.lane: FastLane = app.state.vertexmeter_fast_lane
        self.wires = (Wire(fast.port), Wire(asgi.port))

    def both(self, data: bytes, answers: int = 1) -> list[tuple[Any, ...]]:
        """Send `data` to both servers; their `answers` answers, asserted equal; returns the fast lane's."""
        got = []
        for wire in self.wires:
            wire.send(data)
            got.append([comparable(wire.answer()) for _ in range(answers)])
        assert got[0] == got[1]
        return got[0]

    def reconnect(self) -> None:
        for wire in self.wires:
            wire.close()
        self.wires = (Wire(self.fast.port), Wire(self.asgi.port))


def start_lane_server(lane: bool, **settings: Any) -> ThreadServer:
    config = ServerConfig(workers=1, large_workers=1, **settings)
    server = make_server(config, configure_logging=False)
    app: Any = server.config.app
    app.state.vertexmeter_fast_lane.enabled = lane
    return serve_in_thread(ThreadServer, config, server, ("vertexmeter.server",), logging.INFO)


@contextmanager
def serving_pair() -> Iterator[Pair]:
    """A server with the lane and one without, stopped (with their connections) on leaving."""
    fast, asgi = start_lane_server(True), start_lane_server(False)
    both = Pair(fast, asgi)
    try:
        yield both
    finally:
        for wire in both.wires:
            wire.close()
        fast.stop()
        asgi.stop()
