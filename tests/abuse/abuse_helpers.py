"""Helpers of the abuse suite: real servers on loopback (uvicorn configured exactly as `vertexmeter serve`
configures it, with its protocol and timeouts), raw sockets for half-sent requests, hostile media."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.abuse.hostile_media import file_body, flat_page_tree_pdf, lying_wav, media_body  # noqa: F401 (re-exported)
from tests.serve_process import ServeProcess, start_serve_process
from tests.thread_server import ThreadServer, serve_in_thread
from vertexmeter.server import ServerConfig
from vertexmeter.server.runner import make_server

_LOGGERS = ("vertexmeter.server", "uvicorn", "uvicorn.error")
COUNT_PATH = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"
ONE_WORD = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}


def text_body(characters: int) -> bytes:
    """A countTokens body holding `characters` characters of ordinary prose."""
    words = ("lorem ipsum dolor sit amet consectetur adipiscing elit " * (characters // 56 + 1))[:characters]
    return json.dumps({"contents": [{"role": "user", "parts": [{"text": words}]}]}).encode()


@dataclass
class LiveServer(ThreadServer):
    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 60)
        return httpx.Client(base_url=self.base_url, **kwargs)

    def state(self) -> Any:
        """The app's ServerState (lanes, quota, config)."""
        return self.server.config.app.state.vertexmeter

    def connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        return sock


def start_live(config: ServerConfig) -> LiveServer:
    """`config` served on a free loopback port in a thread, with `vertexmeter serve`'s uvicorn settings."""
    return serve_in_thread(LiveServer, config, make_server(config, configure_logging=False), _LOGGERS, logging.INFO)


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection (or `timeout`), and how long it took."""
    start = time.monotonic()
    sock.settimeout(0.2)
    received = b""
    while time.monotonic() - start < timeout:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    return received, time.monotonic() - start


def error_of(raw: bytes) -> tuple[int, dict[str, Any]]:
    """(status code, JSON error object) of a raw HTTP/1.1 response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)["error"]


def assert_google_error(response: httpx.Response, code: int, status: str) -> dict[str, Any]:
    assert response.status_code == code, response.text[:300]
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    return error


# ---- a real `vertexmeter serve` process -----------------------------------------------------------
def start_process(args: list[str]) -> ServeProcess:
    return start_serve_process(["--port", "0", *args])
