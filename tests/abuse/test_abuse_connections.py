"""Audit findings 5 and 6: connection hygiene.

Before: 500 half-sent requests stayed open after 40 s; /healthz slowed to 3 s under load; a client
that hung up mid-body was logged as a server error (two tracebacks) and counted as a 500 in the metrics.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from tests.abuse.abuse_helpers import COUNT_PATH, ONE_WORD, assert_google_error, error_of, read_until_closed, wait_for

pytestmark = pytest.mark.slow  # hostile clients against a real server: timeouts to wait out

HEAD = (
    f"POST {COUNT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    "Content-Length: {length}\r\n\r\n"
)


@pytest.mark.parametrize("http", ["httptools", "h11"])  # the C parser, and the pure-Python one without it
def test_headers_that_never_finish_are_cut_off(live: Any, http: str) -> None:
    server = live(header_timeout=1.0, http=http)
    sock = server.connect()
    sock.sendall(f"POST {COUNT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".encode())
    raw, took = read_until_closed(sock, timeout=10)
    sock.close()
    assert took < 5
    status, error = error_of(raw)
    assert (status, error["status"]) == (408, "DEADLINE_EXCEEDED")


def test_a_stalled_body_is_cut_off(live: Any) -> None:
    server = live(body_idle_timeout=1.0)
    sock = server.connect()
    sock.sendall(HEAD.format(length=1000).encode() + b'{"contents": [')
    raw, took = read_until_closed(sock, timeout=10)
    sock.close()
    assert took < 5
    status, error = error_of(raw)
    assert (status, error["status"]) == (408, "DEADLINE_EXCEEDED")


def test_a_slow_body_is_cut_off_at_the_body_timeout(live: Any) -> None:
    server = live(body_timeout=1.5, body_idle_timeout=1.0)
    sock = server.connect()
    sock.sendall(HEAD.format(length=1000).encode())
    start = time.monotonic()
    for _ in range(4):  # a byte every 0.3 s: never idle for 1 s, yet far from done at 1.5 s
        sock.sendall(b" ")
        time.sleep(0.3)
    raw, _ = read_until_closed(sock, timeout=6)  # (nothing unread on the server: a clean close)
    sock.close()
    assert time.monotonic() - start < 5
    status, error = error_of(raw)
    assert (status, error["status"]) == (408, "DEADLINE_EXCEEDED")
    assert "(1.5 s)" in error["message"]  # the total timeout, not the idle one


def test_half_sent_requests_are_closed_and_healthz_stays_fast(live: Any) -> None:
    server = live(header_timeout=1.0, body_idle_timeout=1.0)
    sockets: list[socket.socket] = []
    for i in range(200):
        sock = server.connect()
        if i % 2:
            sock.sendall(f"POST {COUNT_PATH} HTTP/1.1\r\nHost: x\r\n".encode())  # half the headers
        else:
            sock.sendall(HEAD.format(length=100_000).encode() + b'{"contents"')  # headers, part of the body
        sockets.append(sock)
    with server.client() as client:
        for _ in range(5):
            start = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            assert time.perf_counter() - start < 1.0
    closed = 0
    for sock in sockets:
        _, took = read_until_closed(sock, timeout=10)
        closed += took < 10
        sock.close()
    assert closed == len(sockets)
    assert wait_for(lambda: not server.server.server_state.connections, 5)


def test_concurrency_limit_answers_503_in_googles_shape(live: Any) -> None:
    server = live(max_concurrency=4, body_idle_timeout=5.0)
    holders = []
    for _ in range(4):  # four requests in flight, waiting for their bodies
        sock = server.connect()
        sock.sendall(HEAD.format(length=50).encode() + b"{")
        holders.append(sock)
    door = server.server.config.app.state.vertexmeter_fast_lane.door
    # the four are in flight once the server has read their heads (under load that can trail the sends)
    assert wait_for(lambda: door is not None and door.in_flight >= 4, 5)
    with server.client() as client:
        assert wait_for(lambda: client.get("/healthz").status_code == 200, 5)
        over = client.post(COUNT_PATH, json=ONE_WORD)
        assert_google_error(over, 503, "UNAVAILABLE")
        assert over.headers["retry-after"] == "1"
        assert client.get("/healthz").status_code == 200  # health is never limited
    for sock in holders:
        sock.close()
    with server.client() as client:
        assert wait_for(lambda: client.post(COUNT_PATH, json=ONE_WORD).status_code == 200, 5)


def test_client_hang_up_is_499_not_a_server_error(live: Any) -> None:
    server = live()
    sock = server.connect()
    sock.sendall(HEAD.format(length=100_000).encode() + b'{"contents": [{"role": "user", "parts": [{"text": "')
    time.sleep(0.3)
    sock.close()

    def logged() -> list[dict[str, Any]]:
        return [json.loads(line) for line in list(server.logs) if '"event": "access"' in line]

    assert wait_for(lambda: any(line["path"] == COUNT_PATH for line in logged()), 5)
    access = [line for line in logged() if line["path"] == COUNT_PATH]
    assert [line["status"] for line in access] == [499]
    text = "\n".join(server.logs)
    assert "Traceback" not in text and "Exception in ASGI application" not in text
    assert '"level": "error"' not in text
    with server.client() as client:
        metrics = client.get("/metrics").text
    assert 'code="499"' in metrics
    assert 'code="500"' not in metrics


# ---- what a web page the user visits could send (keys off: the loopback default) -------------------
def test_cross_site_posts_are_refused(live: Any) -> None:
    server = live()
    body = json.dumps(ONE_WORD)
    with server.client() as client:
        for headers in (
            {"origin": "https://evil.example", "content-type": "text/plain"},  # a page's simple POST
            {"origin": "https://evil.example", "content-type": "application/json"},
            {"origin": "null", "content-type": "text/plain"},  # a sandboxed frame
            {"sec-fetch-site": "cross-site", "content-type": "text/plain"},
        ):
            answer = client.post(COUNT_PATH, content=body, headers=headers)
            assert_google_error(answer, 403, "PERMISSION_DENIED")
        upload = client.post(
            "/web/api/batch?model=gemini-2.5-flash",
            content=body + "\n",
            headers={"origin": "https://evil.example", "content-type": "text/plain"},
        )
        assert_google_error(upload, 403, "PERMISSION_DENIED")
        same_origin = {"origin": server.base_url, "sec-fetch-site": "same-origin"}
        plain = client.post(COUNT_PATH, content=body, headers={**same_origin, "content-type": "text/plain"})
        assert "application/json" in assert_google_error(plain, 400, "INVALID_ARGUMENT")["message"]
        page = client.post(COUNT_PATH, content=body, headers={**same_origin, "content-type": "application/json"})
        assert page.json()["totalTokens"] == 1  # the server's own page
        for headers in ({}, {"content-type": "application/x-www-form-urlencoded"}):  # curl -d, the SDKs
            assert client.post(COUNT_PATH, content=body, headers=headers).status_code == 200


def test_dns_rebinding_host_names_are_refused_on_loopback(live: Any) -> None:
    server = live()
    with server.client() as client:
        for host in ("evil.example", "evil.example:8080", "192.168.1.5", "localhost.evil.example"):
            answer = client.post(COUNT_PATH, json=ONE_WORD, headers={"host": host})
            assert_google_error(answer, 400, "INVALID_ARGUMENT")
            assert client.get("/healthz", headers={"host": host}).status_code == 400
        for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", "[::1]", "127.0.0.2", "app.localhost"):
            assert client.post(COUNT_PATH, json=ONE_WORD, headers={"host": host}).status_code == 200, host
    named = live(allowed_hosts=("meter.example", ".corp.example"))
    with named.client() as client:
        for host, code in (("meter.example", 200), ("a.corp.example:80", 200), ("evil.example", 400)):
            assert client.post(COUNT_PATH, json=ONE_WORD, headers={"host": host}).status_code == code, host


def test_every_answer_says_nosniff(live: Any) -> None:
    server = live()
    with server.client() as client:
        for answer in (
            client.get("/healthz"),
            client.get("/"),
            client.get("/web/static/app.js"),
            client.get("/nowhere"),
            client.post(COUNT_PATH, json=ONE_WORD),
            client.post(COUNT_PATH, content=b"{"),
        ):
            assert answer.headers["x-content-type-options"] == "nosniff", answer.url


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_the_header_limit_is_64_kib_exactly_however_the_bytes_arrive(live: Any, http: str) -> None:
    server = live(http=http)
    prefix = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "

    def head(size: int) -> bytes:  # a request head of exactly `size` bytes
        return prefix + b"a" * (size - len(prefix) - 4) + b"\r\n\r\n"

    for size, pieces, expected in (
        (65_536, 1, 200),
        (65_537, 1, 431),
        (100_000, 1, 431),
        (100_000, 7, 431),
        (65_536, 5, 200),
        (300_000, 3, 431),
    ):
        sock = server.connect()
        data = head(size)
        step = len(data) // pieces + 1
        try:
            for at in range(0, len(data), step):
                sock.sendall(data[at : at + step])
                time.sleep(0.05)
        except OSError:
            pass  # refused before the rest was sent
        if expected == 200:
            sock.shutdown(socket.SHUT_WR)
        raw, _ = read_until_closed(sock, timeout=10)
        sock.close()
        status = int(raw.split(b" ", 2)[1])
        assert status == expected, (size, pieces, raw[:200])
        if expected == 431:
            _, error = error_of(raw)
            assert error["status"] == "INVALID_ARGUMENT" and "65,536 bytes" in error["message"]
