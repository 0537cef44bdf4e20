"""The HTTP stack and the request path: the RPC fast path routes as Starlette would, small bodies are
counted on the event loop, a response leaves in one write, access lines are written in blocks, and the
stack is httptools + uvloop when installed (h11 on asyncio otherwise)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.serve_process import start_serve_process
from tests.server.server_helpers import RunningServer
from tests.thread_server import serve_in_thread
from vertexmeter.server import ServerConfig, create_app
from vertexmeter.server.access import BufferedStreamHandler, JsonFormatter
from vertexmeter.server.door import FrontDoor, RpcTable
from vertexmeter.server.fastlane import FastLaneProtocol
from vertexmeter.server.guard import CoalescingTransport, GuardedH11Protocol, event_loop, protocol_class
from vertexmeter.server.lanes import WORKER_NICENESS
from vertexmeter.server.lean import LeanProtocol
from vertexmeter.server.routes.rpc import INLINE_BYTES
from vertexmeter.server.runner import make_server, uvicorn_config

COUNT = "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:countTokens"
ONE_WORD = {"contents": [{"role": "user", "parts": [{"text": "hello"}]}]}
_PARAM = re.compile(r"\{(\w+)\}")
_VALUES = {"model": "gemini-2.0-flash-001", "project": "p", "location": "us-central1", "publisher": "google"}


def _door(app: Any) -> FrontDoor:
    stack = app.build_middleware_stack()
    assert isinstance(stack, FrontDoor)  # the outermost layer: nothing of FastAPI's runs before it
    return stack


def _starlette_match(app: Any, path: str) -> Any:
    """The route FastAPI's own routing serves a POST to `path` with (run through the router itself,
    without the front door; the empty body is the empty request)."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "app": app,
        "state": {},
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
        "http_version": "1.1",
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    with contextlib.suppress(Exception):  # (a refusal raised past the router: the route was still chosen)
        asyncio.run(app.router(scope, receive, send))
    return scope.get("route")


def _all_routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None) or getattr(route, "routes", None) and route
        if inner is not None and not hasattr(route, "path_regex"):
            yield from _all_routes(list(inner.routes))
        else:
            yield route


def test_the_fast_path_picks_the_route_starlette_would_pick() -> None:
    app = create_app(ServerConfig())
    table = _door(app).rpc
    assert len(table) == 32  # every countTokens / computeTokens / estimateCost / usageMetadata / interactions:usage
    checked = 0
    for route in _all_routes(list(app.router.routes)):
        path = getattr(route, "path", "")
        if "POST" not in (getattr(route, "methods", None) or ()) or ":" not in path:
            continue
        for model in ("gemini-2.0-flash-001", "text-bison@002", "a:b", "gemini-2.5-flash:countTokens"):
            values = {**_VALUES, "model": model}
            concrete = _PARAM.sub(lambda m, values=values: values.get(m.group(1), "x"), path)
            found = table.match(concrete)
            assert found is not None, concrete
            assert found[0] is _starlette_match(app, concrete), concrete
            if "{model}" in path:
                assert found[1]["model"] == model
            checked += 1
    assert checked == 4 * len(table)
    for path in (
        "/v1/models/m:generateContent",
        "/healthz",
        "/v1/models/m",
        "/web/api/batch",
        "/v1/x:countTokens/y",
        "/v1beta/interactions",
        "/v1beta/x/interactions:usage",
    ):
        assert table.match(path) is None and (
            path != "/v1/models/m:generateContent" or _starlette_match(app, path) is None
        )


def test_rpc_table_ignores_other_routes() -> None:
    assert len(RpcTable([])) == 0


def test_small_bodies_are_counted_on_the_loop_larger_ones_in_the_pool(open_server: Any) -> None:
    state = open_server.server.config.app.state.vertexmeter
    calls: list[int] = []
    run = state.pool.run

    async def spy(job: Any) -> Any:
        calls.append(len(job.body))
        return await run(job)

    state.pool.run = spy
    try:
        with open_server.client() as client:
            small = client.post(COUNT, json=ONE_WORD)
            text = "word " * ((INLINE_BYTES + 200) // 5)
            larger = client.post(COUNT, json={"contents": [{"role": "user", "parts": [{"text": text}]}]})
    finally:
        state.pool.run = run
    assert small.status_code == 200 and small.json()["totalTokens"] == 1
    assert larger.status_code == 200 and larger.json()["totalTokens"] > 100
    assert len(calls) == 1 and calls[0] > INLINE_BYTES  # only the larger body took the thread hop


def test_the_stack_is_httptools_and_uvloop_when_installed() -> None:
    pytest.importorskip("httptools")
    pytest.importorskip("uvloop")
    config = uvicorn_config(ServerConfig(), configure_logging=False)
    assert config.loop == "uvloop" == event_loop()
    assert config.http.__name__ == "VertexmeterLeanProtocol"  # type: ignore[union-attr]
    assert issubclass(config.http, LeanProtocol)  # type: ignore[arg-type]  # small RPCs without uvicorn's cycle
    # ... switching to uvicorn's protocol with the head guard and the lane, below ASGI
    assert issubclass(config.http.app_protocol, FastLaneProtocol)  # type: ignore[union-attr]
    assert issubclass(protocol_class(10.0, "h11"), GuardedH11Protocol)  # h11: everything through the app


def test_large_lane_workers_yield_the_cpu_to_the_event_loop(live_stack: Any) -> None:
    server = live_stack()
    lane = server.server.config.app.state.vertexmeter.large
    deadline = time.monotonic() + 60
    while not lane._all and time.monotonic() < deadline:
        time.sleep(0.05)
    (worker,) = lane._all
    pid = worker.process.pid
    # Linux caps a niceness at 19: a server already run under `nice` gets workers at the cap.
    expected = min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, pid) == expected


def test_h11_still_serves(live_stack: Any) -> None:
    server = live_stack(http="h11")
    with server.client() as client:
        answer = client.post(COUNT, json=ONE_WORD)
        assert answer.status_code == 200 and answer.json()["totalTokens"] == 1
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_an_answer_leaves_in_one_write(live_stack: Any) -> None:
    """Head and body in one segment: a client reading once after the request gets the whole answer."""
    server = live_stack()
    body = json.dumps(ONE_WORD).encode()
    request = (
        f"POST {COUNT} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(20):
            sock.sendall(request)
            first = sock.recv(65536)
            head, _, rest = first.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))  # type: ignore[union-attr]
            assert head.startswith(b"HTTP/1.1 200") and len(rest) == length, first


def test_coalescing_transport() -> None:
    class Fake:
        def __init__(self) -> None:
            self.writes: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.writes.append(data)

        def is_closing(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

        def get_extra_info(self, name: str) -> str:
            return name

    async def scenario() -> Fake:
        fake = Fake()
        transport = CoalescingTransport(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"head")
        assert fake.writes == []
        transport.write(b"body")  # the second write sends both at once
        assert fake.writes == [b"headbody"]
        transport.write(b"alone")  # held until the end of the loop step
        await asyncio.sleep(0)
        assert fake.writes == [b"headbody", b"alone"]
        transport.write(b"head")
        transport.write(b"x" * 100_000)  # a big body is not copied to be joined
        assert fake.writes[-2:] == [b"head", b"x" * 100_000]
        transport.write(b"last")
        transport.close()  # nothing held is lost on close
        assert fake.writes[-1] == b"last" and fake.closed
        assert transport.get_extra_info("peername") == "peername"
        return fake

    fake = asyncio.run(scenario())
    assert fake.writes == [b"headbody", b"alone", b"head", b"x" * 100_000, b"last"]


def _record(n: int) -> logging.LogRecord:
    record = logging.LogRecord("vertexmeter.server.access", logging.INFO, "", 0, "line %d", (n,), None)
    record.fields = {"event": "access", "n": n}
    return record


def test_access_lines_are_written_in_blocks_and_none_is_lost() -> None:
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, max_lines=4, interval=0.05)
    handler.setFormatter(JsonFormatter())
    for n in range(3):
        handler.handle(_record(n))
    assert stream.getvalue() == ""  # held
    handler.handle(_record(3))  # the fourth fills a block
    assert [json.loads(line)["n"] for line in stream.getvalue().splitlines()] == [0, 1, 2, 3]
    handler.handle(_record(4))
    deadline = time.monotonic() + 5
    while "line 4" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert '"n": 4' in stream.getvalue()  # written by the flusher within its interval
    handler.handle(_record(5))
    handler.close()  # and on close
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["n"] for line in lines] == [0, 1, 2, 3, 4, 5]
    assert all(line["ts"].endswith("Z") and len(line["ts"]) == 24 for line in lines)


def test_a_real_serve_process_writes_every_access_line() -> None:
    """Access lines are held for a moment, yet every one reaches stderr when the process is stopped."""
    served = start_serve_process(["--port", "0"])
    try:
        with httpx.Client(base_url=served.base_url, timeout=30) as client:
            for _ in range(7):
                assert client.post(COUNT, json=ONE_WORD).status_code == 200
    finally:
        served.stop()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and served.output().count('"event": "access"') < 7:
        time.sleep(0.05)  # the pump thread may still be reading the last lines
    access = [json.loads(line) for line in served.lines if '"event": "access"' in line]
    assert [line["path"] for line in access] == [COUNT] * 7
    # answered by the fast lane, logged from their fields (format_access): the lines the formatter writes
    assert all(line["status"] == 200 and line["model"] == "gemini-2.5-flash" for line in access)
    assert all(line["logger"] == "vertexmeter.server.access" and line["ts"].endswith("Z") for line in access)


@pytest.fixture
def live_stack() -> Iterator[Callable[..., RunningServer]]:
    """Servers configured as `vertexmeter serve` configures uvicorn (its protocol, loop and timeouts)."""
    started: list[RunningServer] = []

    def make(**settings: Any) -> RunningServer:
        config = ServerConfig(quota_rpm=0, shutdown_timeout=1, **settings)
        server = serve_in_thread(
            RunningServer, config, make_server(config, configure_logging=False), ("vertexmeter.server",), logging.INFO
        )
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
