"""The lean protocol (server/lean.py) on a real server: a connection answered by the fast lane without
uvicorn's request cycle, switched to the app protocol at its first request that is not the lane's.

As in test_server_fastlane.py, every request goes to two servers over raw sockets, one with the lane and
one without (whose connections use the app protocol from their start), and the answers must be equal byte
for byte (but `date` and random request ids). Each test starts from fresh connections, so that the lane's
server begins in the lean protocol; which protocol holds a connection is read from the server's set.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.server.lane_wires import VERTEX, Pair, Wire, comparable, plain_body, request, start_lane_server
from tests.thread_server import ThreadServer
from vertexmeter.server.guard import MAX_HEAD_BYTES

COUNT = VERTEX.format(model="gemini-2.5-flash", rpc="countTokens")
LEAN, APP = "VertexmeterLeanProtocol", "VertexmeterHttpToolsProtocol"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@pytest.fixture
def fresh(pair: Pair) -> Pair:
    pair.reconnect()
    return pair


def kinds(server: ThreadServer) -> list[str]:
    """The protocols holding the server's connections (read from another thread: a copy of the set)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return sorted(type(protocol).__name__ for protocol in list(server.server.server_state.connections))
        except RuntimeError:  # (the set changed while it was copied)
            if time.monotonic() > deadline:
                raise


def served(pair: Pair, data: bytes, answers: int = 1) -> tuple[int, list[tuple[Any, ...]]]:
    before = pair.lane.answered
    got = pair.both(data, answers)
    return pair.lane.answered - before, got


def test_lane_requests_keep_the_lean_protocol(fresh: Pair) -> None:
    for text in ("one", "two", "three"):
        count, got = served(fresh, request(COUNT, plain_body(text)))
        assert count == 1 and got[0][0] == b"HTTP/1.1 200 OK"
    assert kinds(fresh.fast) == [LEAN] and kinds(fresh.asgi) == [APP]
    # refusals the counting makes are the lane's too (Google's error JSON, as the app answers)
    count, got = served(fresh, request(VERTEX.format(model="no-such-model", rpc="countTokens"), plain_body("?")))
    assert count == 1 and got[0][0] == b"HTTP/1.1 404 Not Found"
    count, got = served(fresh, request(COUNT, b'{"contents":'))
    assert count == 1 and got[0][0] == b"HTTP/1.1 400 Bad Request"
    pipelined = b"".join(request(COUNT, plain_body(f"pipelined {i}"), {"X-Request-Id": f"r{i}"}) for i in range(5))
    count, got = served(fresh, pipelined, answers=5)
    assert count == 5 and [dict(answer[1])[b"x-request-id"] for answer in got] == [b"r%d" % i for i in range(5)]
    assert kinds(fresh.fast) == [LEAN]


def test_a_connection_switches_mid_stream_with_pipelined_requests(fresh: Pair) -> None:
    count, _ = served(fresh, request(COUNT, plain_body("first")))
    assert count == 1 and kinds(fresh.fast) == [LEAN]
    # in one write: a lane request, one for the app, two lane requests behind it; answered in order
    pipelined = (
        request(COUNT, plain_body("a"), {"X-Request-Id": "a"})
        + request("/healthz", b"", method="GET")
        + request(COUNT, plain_body("c"), {"X-Request-Id": "c"})
        + request(COUNT, plain_body("d"), {"X-Request-Id": "d"})
    )
    count, got = served(fresh, pipelined, answers=4)
    assert [answer[0] for answer in got] == [b"HTTP/1.1 200 OK"] * 4
    assert [dict(got[i][1])[b"x-request-id"] for i in (0, 2, 3)] == [b"a", b"c", b"d"]
    assert json.loads(got[1][2])["status"] == "ok"
    assert count == 1  # the lean protocol answered the first; the rest waited behind the app's answer
    assert kinds(fresh.fast) == [APP]
    # the switched connection: the app protocol's own lane answers what is not behind the app
    count, got = served(fresh, request(COUNT, plain_body("after the switch")))
    assert count == 1 and got[0][0] == b"HTTP/1.1 200 OK"


@pytest.mark.parametrize(
    "first",
    [
        request("/healthz", b"", method="GET"),
        request(COUNT, plain_body("browser"), {"Origin": "http://evil.example"}),
        request(COUNT, plain_body("expect"), {"Expect": "100-continue"}),
        request(COUNT, b"x" * 5000),  # over the lane's inline limit
        request(
            COUNT, b"%x\r\n%s\r\n0\r\n\r\n" % (len(plain_body("c")), plain_body("c")), {"Transfer-Encoding": "chunked"}
        ),
        request(COUNT + "?key=abc", plain_body("query key")),
        request(COUNT, plain_body("by PUT"), {"Content-Length": str(len(plain_body("by PUT")))}, method="PUT"),
        request(COUNT, plain_body("wrong host"), {"Host": "evil.example"}).replace(b"Host: 127.0.0.1\r\n", b"", 1),
    ],
    ids=["get", "browser", "expect", "large", "chunked", "key", "put", "host"],
)
def test_the_first_request_not_for_the_lane_switches(fresh: Pair, first: bytes) -> None:
    count, _ = served(fresh, request(COUNT, plain_body("lane")))
    assert count == 1
    if b"Expect" in first:
        got = []
        for wire in fresh.wires:  # (the app answers 100 Continue first)
            wire.send(first)
            while len(wire.buffer) < len(CONTINUE):
                wire._read()
            assert wire.buffer.startswith(CONTINUE)
            wire.buffer = wire.buffer[len(CONTINUE) :]
            got.append(comparable(wire.answer()))
        assert got[0] == got[1]
    else:
        served(fresh, first)
    assert kinds(fresh.fast) == [APP]
    count, got = served(fresh, request(COUNT, plain_body("after")))
    assert got[0][0] == b"HTTP/1.1 200 OK"


def test_http_10_and_connection_close(fresh: Pair) -> None:
    served(fresh, request(COUNT, plain_body("keep")))
    # Connection: close, with a request pipelined behind it that is never answered
    data = request(COUNT, plain_body("close"), {"Connection": "close"}) + request(COUNT, plain_body("never"))
    count, got = served(fresh, data)
    assert count == 1 and (b"connection", b"close") in got[0][1]
    assert all(wire.closed() for wire in fresh.wires)
    fresh.reconnect()
    count, got = served(fresh, request(COUNT, plain_body("HTTP/1.0"), version="1.0"))
    assert count == 1 and (b"connection", b"close") in got[0][1]
    assert all(wire.closed() for wire in fresh.wires)
    fresh.reconnect()
    count, got = served(
        fresh, request(COUNT, plain_body("keep-alive 1.0"), {"Connection": "keep-alive"}, version="1.0")
    )
    assert count == 1 and (b"connection", b"close") in got[0][1]  # (uvicorn keeps no HTTP/1.0 connection)
    assert all(wire.closed() for wire in fresh.wires)


def test_a_lagging_body_after_lane_requests(fresh: Pair) -> None:
    for text in ("one", "two"):
        assert served(fresh, request(COUNT, plain_body(text)))[0] == 1
    head, body = request(COUNT, plain_body("late body")).split(b"\r\n\r\n", 1)
    before = fresh.lane.answered
    answers = []
    for wire in fresh.wires:
        wire.send(head + b"\r\n\r\n" + body[:5])
        time.sleep(0.3)  # past the lane's wait for a body: the app reads it
        wire.send(body[5:])
        answers.append(comparable(wire.answer()))
    assert answers[0] == answers[1] and answers[0][0] == b"HTTP/1.1 200 OK"
    assert fresh.lane.answered == before and kinds(fresh.fast) == [APP]
    assert served(fresh, request(COUNT, plain_body("next")))[1][0][0] == b"HTTP/1.1 200 OK"


def test_a_body_in_a_later_read_within_the_wait_is_the_lanes(fresh: Pair) -> None:
    head, body = request(COUNT, plain_body("two writes")).split(b"\r\n\r\n", 1)
    wire = fresh.wires[0]
    before = fresh.lane.answered
    wire.send(head + b"\r\n\r\n")
    time.sleep(0.005)
    wire.send(body)
    assert wire.answer()[0] == b"HTTP/1.1 200 OK"
    # (a loaded machine may delay the second write past the wait: then the app answered, equally well)
    assert fresh.lane.answered - before in (0, 1)


def test_a_bad_request_after_lane_requests(fresh: Pair) -> None:
    served(fresh, request(COUNT, plain_body("fine")))
    served(fresh, b"NOT HTTP AT ALL\r\n\r\n")  # uvicorn's 400, text/plain, then closed
    assert all(wire.closed() for wire in fresh.wires)


def test_a_hang_up_during_the_body_of_a_lean_connection_is_logged_as_499(fresh: Pair) -> None:
    wire = Wire(fresh.fast.port)
    wire.send(request(COUNT, plain_body("answered")))
    assert wire.answer()[0] == b"HTTP/1.1 200 OK"
    port = wire.sock.getsockname()[1]
    wire.send(request(COUNT, plain_body("never finished"))[:-5])
    time.sleep(0.01)
    wire.close()
    deadline = time.monotonic() + 10

    def logged() -> list[int]:
        lines = [json.loads(line) for line in list(fresh.fast.logs) if '"event": "access"' in line]
        return [line["status"] for line in lines if line["client"] == f"127.0.0.1:{port}"]

    while time.monotonic() < deadline and len(logged()) < 2:
        time.sleep(0.02)
    assert logged() == [200, 499]


def test_head_limit_after_lane_requests(fresh: Pair) -> None:
    served(fresh, request(COUNT, plain_body("fine")))
    big = request(COUNT, plain_body("big head"), {"X-Filler": "a" * MAX_HEAD_BYTES})
    count, got = served(fresh, big)
    assert count == 0 and got[0][0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert all(wire.closed() for wire in fresh.wires)


@pytest.fixture
def timed() -> Iterator[tuple[ThreadServer, ThreadServer]]:
    servers = (start_lane_server(True, header_timeout=2.0), start_lane_server(False, header_timeout=2.0))
    for server in servers:
        server.server.config.timeout_keep_alive = 1.0  # (read by each new connection)
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_keep_alive_timeout_on_a_lean_connection(timed: tuple[ThreadServer, ThreadServer]) -> None:
    """uvicorn's keep-alive timeout counts from each answer: requests 0.3 s apart keep a connection open
    well past 1 s after its first answer; idle after an answer, it is closed."""
    for server in timed:
        wire = Wire(server.port)
        for _ in range(6):
            wire.send(request(COUNT, plain_body("spaced")))
            assert wire.answer()[0] == b"HTTP/1.1 200 OK"
            time.sleep(0.3)
        assert kinds(server) == ([LEAN] if server is timed[0] else [APP])
        wire.sock.settimeout(5)
        start = time.monotonic()
        assert wire.closed()
        assert time.monotonic() - start < 3
        wire.close()


def test_head_timeout_after_an_answer_on_a_lean_connection(timed: tuple[ThreadServer, ThreadServer]) -> None:
    """Part of a head after an answer (a slowloris on a kept-alive connection): 408 at `header_timeout`
    after the answer, as the app protocol's head guard answers, then closed."""
    got = []
    for server in timed:
        wire = Wire(server.port)
        wire.send(request(COUNT, plain_body("answered")))
        assert wire.answer()[0] == b"HTTP/1.1 200 OK"
        wire.send(b"POST " + COUNT.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        answer = wire.answer()
        assert 1.5 < time.monotonic() - start < 6
        got.append(comparable(answer))
        assert wire.closed()
        wire.close()
    assert got[0] == got[1] and got[0][0] == b"HTTP/1.1 408 Request Timeout"


def test_shutdown_closes_idle_lane_connections() -> None:
    server = start_lane_server(True)
    try:
        lean = [Wire(server.port) for _ in range(3)]
        for wire in lean:
            wire.send(request(COUNT, plain_body("idle after this")))
            assert wire.answer()[0] == b"HTTP/1.1 200 OK"
        switched = Wire(server.port)
        switched.send(request("/healthz", b"", method="GET"))
        assert switched.answer()[0] == b"HTTP/1.1 200 OK"
        assert kinds(server) == [APP, LEAN, LEAN, LEAN]
        start = time.monotonic()
        server.server.should_exit = True
        for wire in [*lean, switched]:
            wire.sock.settimeout(10)
            assert wire.closed()
        server.thread.join(timeout=20)
        assert not server.thread.is_alive() and time.monotonic() - start < 10
    finally:
        server.stop()


def test_a_client_that_does_not_read_its_answers_stops_the_reading() -> None:
    """Flow control: pipelined requests from a client that reads no answer fill the transport's write
    buffer; the lean protocol then reads no more (the write buffer stays bounded: the answers to one read
    at most over the high-water mark) until the client reads,
    and every request is answered, in order."""
    server = start_lane_server(True, access_log=False)
    total = 30000
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # (before connecting: a small window)
        sock.connect(("127.0.0.1", server.port))
        data = b"".join(request(COUNT, plain_body("w"), {"X-Request-Id": f"r{i}"}) for i in range(total))
        sender = threading.Thread(target=sock.sendall, args=(data,), daemon=True)
        sender.start()
        deadline = time.monotonic() + 60
        lean: Any = None
        while time.monotonic() < deadline:
            protocols = [p for p in list(server.server.server_state.connections) if type(p).__name__ == LEAN]
            if protocols and protocols[0]._reading_paused:
                lean = protocols[0]
                break
            time.sleep(0.05)
        assert lean is not None, "the server never paused reading"
        time.sleep(0.3)  # (the requests of the read in which the buffer filled are answered)
        assert lean.transport.get_write_buffer_size() < 2 * 1024 * 1024
        lane: Any = server.server.config.app.state.vertexmeter_fast_lane  # type: ignore[attr-defined]
        answered = lane.answered
        time.sleep(0.5)
        assert lean._reading_paused and lane.answered == answered < total  # the rest waits, unread
        wire = Wire(server.port)
        wire.sock.close()
        wire.sock = sock
        for i in range(total):
            status, headers, _ = wire.answer()
            assert status == b"HTTP/1.1 200 OK" and dict(headers)[b"x-request-id"] == b"r%d" % i
        sender.join(timeout=30)
        assert kinds(server) == [LEAN]
        sock.close()
    finally:
        server.stop()


def test_a_request_being_read_at_shutdown_is_answered_and_closed() -> None:
    """A shutdown while the lane waits for a body: the request is still answered, with `connection: close`
    (here by the app, since the rest of its body lags), and the connection closed."""
    server = start_lane_server(True)
    try:
        wire = Wire(server.port)
        wire.send(request(COUNT, plain_body("answered first")))
        assert wire.answer()[0] == b"HTTP/1.1 200 OK"
        data = request(COUNT, plain_body("body at shutdown"))
        wire.send(data[:-5])
        time.sleep(0.01)
        server.server.should_exit = True
        time.sleep(0.3)
        wire.send(data[-5:])
        status, headers, body = wire.answer()
        assert status == b"HTTP/1.1 200 OK" and (b"connection", b"close") in headers, body
        assert json.loads(body)["totalTokens"] > 0
        assert wire.closed()
        server.thread.join(timeout=20)
        assert not server.thread.is_alive()
    finally:
        server.stop()


def test_the_protocol_class_follows_what_the_installed_uvicorn_has(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean protocol on a uvicorn with every method a switch calls; without one of them the lane runs
    inside uvicorn's protocol; without `_start_asgi_task` there is no lane, only the guarded protocol."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    from vertexmeter.server import lean
    from vertexmeter.server.fastlane import FastLaneProtocol
    from vertexmeter.server.guard import GuardedHttpToolsProtocol

    chosen = lean.lane_protocol(5.0)
    assert chosen.__name__ == LEAN and issubclass(chosen, lean.LeanProtocol)
    assert chosen.app_protocol.__name__ == APP and issubclass(chosen.app_protocol, FastLaneProtocol)  # type: ignore[attr-defined]
    assert all(hasattr(HttpToolsProtocol, name) for name in lean.LEAN_NEEDS)

    monkeypatch.setattr(lean, "LEAN_NEEDS", (*lean.LEAN_NEEDS, "a_method_uvicorn_dropped"))
    older = lean.lane_protocol(5.0)
    assert older.__name__ == APP and issubclass(older, FastLaneProtocol) and older.header_timeout == 5.0  # type: ignore[attr-defined]

    monkeypatch.delattr(HttpToolsProtocol, "_start_asgi_task")  # (GuardedHttpToolsProtocol inherits it)
    oldest = lean.lane_protocol(5.0)
    assert oldest.__name__ == APP and not issubclass(oldest, FastLaneProtocol)
    assert issubclass(oldest, GuardedHttpToolsProtocol)
