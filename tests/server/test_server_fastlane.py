"""The fast lane (server/fastlane.py) against the ASGI app: the same requests, byte for byte the same answers.

Two real servers, configured as `vertexmeter serve` configures uvicorn (its protocol, its timeouts): one with
the fast lane, one with the lane switched off (every request through the ASGI app). Each request goes to
both over raw keep-alive sockets; the status line, every header but `date` (and a random `x-request-id`)
in order, and the body must be equal. The requests: valid and invalid bodies, edge cases of the protocol
(pipelining, a body sent after its head, HTTP/1.0, `Connection: close`), the refusals the lane hands over,
and the recorded request bodies of tests/data.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.lane_wires import (
    DATA,
    ENDPOINT,
    GEMINI,
    VERTEX,
    VERTEX_BETA,
    Pair,
    Wire,
    comparable,
    plain_body,
    request,
    start_lane_server,
)
from tests.server.server_helpers import SDK_KEYS
from tests.thread_server import ThreadServer
from vertexmeter.server.access import AccessEntry, JsonFormatter, format_access
from vertexmeter.server.fastlane import FastLane


def _answered(pair: Pair, data: bytes, answers: int = 1) -> tuple[int, list[tuple[Any, ...]]]:
    before = pair.lane.answered
    got = pair.both(data, answers)
    return pair.lane.answered - before, got


# ---- what the fast lane answers itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("What is your name?")),
        (VERTEX_BETA.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("Hello", "world", "é 가 😀")),
        (GEMINI.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("What is your name?")),
        (VERTEX.format(model="gemini-1.5-pro-002", rpc="countTokens"), plain_body("billed by characters")),
        (VERTEX.format(model="gemini-2.0-flash-001", rpc="countTokens"), plain_body("a\n\tb c")),
        (VERTEX.format(model="gemini-2.5-flash%40default", rpc="countTokens"), plain_body("percent-encoded")),
        (GEMINI.format(model="gemma-3-27b-it", rpc="countTokens"), plain_body("gemma")),
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            b'{"contents":[{"role":"user","parts":[{"text":"\\u00e9\\ud83d\\ude00 escaped"}]}]}',
        ),
        # not the plain shape: counted by the full path (run_job), still in the lane
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b'{"contents":[{"parts":[{"text":"no role"}]}]}'),
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            json.dumps(
                {
                    "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                    "systemInstruction": {"parts": [{"text": "be brief"}]},
                    "tools": [{"functionDeclarations": [{"name": "f", "description": "d"}]}],
                }
            ).encode(),
        ),
        # plain text that merely names a file or a PDF type: nothing for the large lane to do
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("fileUri: application/pdf")),
        (VERTEX.format(model="gemini-2.5-flash", rpc="computeTokens"), plain_body("compute these tokens")),
        (VERTEX.format(model="gemini-2.5-flash", rpc="usageMetadata"), plain_body("usage")),
        (VERTEX.format(model="gemini-2.5-flash", rpc="estimateCost"), plain_body("price")),
        (GEMINI.format(model="gemini-2.5-flash", rpc="estimateCost"), plain_body("price")),
        (ENDPOINT, json.dumps({"model": "gemini-2.5-flash", **json.loads(plain_body("endpoint"))}).encode()),
        (VERTEX.format(model="text-bison@002", rpc="countTokens"), b'{"instances":[{"prompt":"legacy"}]}'),
        # refusals the counting makes (Google's error JSON), also in the lane
        (ENDPOINT, plain_body("no model in the body")),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b'{"contents":'),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b""),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b"[]"),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b'"text"'),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b'{"contents": NaN}'),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b"\xff\xfe"),
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            b'{"contents":[{"role":"user","parts":[{"text":"\\ud800 lone"}]}]}',
        ),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("")),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b'{"contents":[],"contents":[]}'),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b'{"unknownField":1}'),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b"[" * 150 + b"]" * 150),
        (VERTEX.format(model="no-such-model", rpc="countTokens"), plain_body("unknown")),
        (GEMINI.format(model="no-such-model", rpc="countTokens"), plain_body("unknown")),
        ("/v1/models/no-such-model:countTokens", plain_body("unknown, v1")),
        (GEMINI.format(model="text-bison", rpc="countTokens"), plain_body("not on the Gemini API")),
        (VERTEX.format(model="a:b", rpc="countTokens"), plain_body("colon")),
        (VERTEX.format(model="gemini-2.5-flash:countTokens", rpc="countTokens"), plain_body("twice")),
    ],
)
def test_lane_answers_as_the_app(pair: Pair, path: str, body: bytes) -> None:
    served, _ = _answered(pair, request(path, body))
    assert served == 1  # the lane answered it (else this would compare the app with itself)


def test_request_ids_and_keep_alive(pair: Pair) -> None:
    path = VERTEX.format(model="gemini-2.5-flash", rpc="countTokens")
    served, got = _answered(pair, request(path, plain_body("id"), {"X-Request-Id": "my.id-1"}))
    assert served == 1 and (b"x-request-id", b"my.id-1") in got[0][1]
    served, got = _answered(pair, request(path, plain_body("id"), {"X-Request-Id": "not valid!"}))
    assert served == 1 and (b"x-request-id", b"(random)") in got[0][1]
    # several requests in one write (pipelined): answered in order; the lane answers the first, the app the
    # second, and the third too (it waits behind the second, in uvicorn's pipeline)
    pipelined = (
        request(path, plain_body("one")) + request("/healthz", b"", method="GET") + request(path, plain_body("three"))
    )
    served, got = _answered(pair, pipelined, answers=3)
    assert served == 1 and [answer[0] for answer in got] == [b"HTTP/1.1 200 OK"] * 3
    served, got = _answered(pair, request(path, plain_body("last"), {"Connection": "close"}))
    assert served == 1 and (b"connection", b"close") in got[0][1]
    assert all(wire.closed() for wire in pair.wires)
    pair.reconnect()
    served, got = _answered(pair, request(path, plain_body("HTTP/1.0"), version="1.0"))
    assert served == 1 and (b"connection", b"close") in got[0][1]
    assert all(wire.closed() for wire in pair.wires)
    pair.reconnect()


def test_a_body_after_its_head_goes_to_the_app(pair: Pair) -> None:
    path = VERTEX.format(model="gemini-2.5-flash", rpc="countTokens")
    data = request(path, plain_body("sent in two writes"))
    head, body = data.split(b"\r\n\r\n", 1)
    before = pair.lane.answered
    answers = []
    for wire in pair.wires:
        wire.send(head + b"\r\n\r\n")
        wire.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            wire.answer()  # nothing yet: the body is awaited (with the app's body timeouts)
        wire.sock.settimeout(30)
        wire.send(body)
        answers.append(comparable(wire.answer()))
    assert answers[0] == answers[1] and answers[0][0] == b"HTTP/1.1 200 OK"
    assert pair.lane.answered == before


def test_a_hang_up_during_the_body_is_logged_as_499(pair: Pair) -> None:
    data = request(VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("never finished"))
    ports = []
    for server in (pair.fast, pair.asgi):
        wire = Wire(server.port)
        wire.send(data[:-5])
        ports.append(wire.sock.getsockname()[1])
        wire.close()
    deadline = time.monotonic() + 10

    def logged(port: int) -> list[int]:
        lines = [json.loads(line) for line in list(pair.fast.logs) if '"event": "access"' in line]
        return [line["status"] for line in lines if line["client"] == f"127.0.0.1:{port}"]

    while time.monotonic() < deadline and not all(logged(port) for port in ports):
        time.sleep(0.02)
    assert [logged(port) for port in ports] == [[499], [499]]


def test_requests_waiting_for_their_bodies_count_toward_the_concurrency_limit() -> None:
    path = VERTEX.format(model="gemini-2.5-flash", rpc="countTokens")
    data = request(path, plain_body("held"))
    for lane in (True, False):
        server = start_lane_server(lane, max_concurrency=2, body_idle_timeout=5.0)
        try:
            holders = [Wire(server.port) for _ in range(2)]
            for holder in holders:
                holder.send(data[:-3])  # head and part of the body: two RPCs in flight
            over = Wire(server.port)
            over.send(data)
            status, headers, body = over.answer()
            assert status == b"HTTP/1.1 503 Service Unavailable", body
            assert json.loads(body)["error"]["status"] == "UNAVAILABLE" and (b"retry-after", b"1") in headers
            for holder in holders:
                holder.send(data[-3:])  # the rest: both answered
                assert holder.answer()[0] == b"HTTP/1.1 200 OK"
                holder.close()
            over.close()
        finally:
            server.stop()


@pytest.mark.parametrize(
    ("path", "body", "headers"),
    [
        # larger than the inline size: the thread pool, via the app
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("word " * 2000), {}),
        # names a file, holds a PDF: the large lane
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            json.dumps(
                {
                    "contents": [
                        {"role": "user", "parts": [{"fileData": {"fileUri": "gs://b/o", "mimeType": "text/plain"}}]}
                    ]
                }
            ).encode(),
            {},
        ),
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            json.dumps(
                {"contents": [{"role": "user", "parts": [{"inlineData": {"data": "", "mimeType": "application/pdf"}}]}]}
            ).encode(),
            {},
        ),
        # refused before the body: Host, a browser's cross-site POST, a browser's text/plain POST
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), plain_body("x"), {"Host": "evil.example"}),
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            plain_body("x"),
            {"Origin": "https://evil.example"},
        ),
        (
            VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"),
            plain_body("x"),
            {"Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain"},
        ),
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens") + "?key=secret", plain_body("x"), {}),
        # not an RPC route, not a POST, an unknown method
        ("/v1/models/gemini-2.5-flash:generateContent", plain_body("x"), {}),
        ("/v1/models/gemini-2.5-flash:computeTokens", plain_body("x"), {}),
        ("/v1/models", b"", {}),
        # the body in chunks, or behind `Expect: 100-continue`
        (VERTEX.format(model="gemini-2.5-flash", rpc="countTokens"), b"", {"Transfer-Encoding": "chunked"}),
    ],
)
def test_what_the_lane_hands_to_the_app(pair: Pair, path: str, body: bytes, headers: dict[str, str]) -> None:
    data = request(path, body, headers)
    if headers.get("Host"):
        data = data.replace(b"Host: 127.0.0.1\r\n", b"", 1)
    if headers.get("Transfer-Encoding"):
        chunk = plain_body("chunked")
        data += b"%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)
    served, _ = _answered(pair, data)
    assert served == 0


def test_expect_100_continue_goes_to_the_app(pair: Pair) -> None:
    path = VERTEX.format(model="gemini-2.5-flash", rpc="countTokens")
    body = plain_body("continue")
    data = request(path, body, {"Expect": "100-continue"})
    head = data[: -len(body)]
    before = pair.lane.answered
    answers = []
    for wire in pair.wires:
        wire.send(head)
        interim = b""
        while b"\r\n\r\n" not in interim:
            interim += wire.sock.recv(65536)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        wire.send(body)
        answers.append(comparable(wire.answer()))
    assert answers[0] == answers[1] and pair.lane.answered == before


def _recorded() -> list[tuple[str, bytes]]:
    cases: list[tuple[str, bytes]] = []
    for name in ("ground_truth.jsonl", "ground_truth_2026.jsonl", "mined.jsonl", "mined_llm_gemini.jsonl"):
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record.get("kind") != "input" or not isinstance(record.get("request"), dict):
                continue
            model = str(record.get("model", "gemini-2.5-flash")).removeprefix("models/")
            rpc = "usageMetadata" if str(record.get("api", "")).startswith("generateContent") else "countTokens"
            template = GEMINI if record.get("endpoint") == "gemini-api" else VERTEX
            cases.append((template.format(model=model, rpc=rpc), json.dumps(record["request"]).encode()))
    return cases


def test_recorded_bodies(pair: Pair) -> None:
    """Every recorded request of tests/data (countTokens, and usageMetadata for generateContent records)."""
    cases = _recorded()
    assert len(cases) > 500
    before = pair.lane.answered
    statuses = set()
    for path, body in cases:
        statuses.add(pair.both(request(path, body))[0][0])
    assert pair.lane.answered - before > len(cases) // 2  # most are small enough for the lane
    assert b"HTTP/1.1 200 OK" in statuses


_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=60)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["text", "role", "parts", "x"]), inner),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(_TEXT, min_size=1, max_size=4),
    other=_JSON,
    shape=st.sampled_from(["plain", "other", "contents"]),
    where=st.sampled_from([VERTEX, GEMINI]),
)
def test_random_bodies(pair: Pair, texts: list[str], other: Any, shape: str, where: str) -> None:
    body: Any = {"contents": [{"role": "user", "parts": [{"text": t} for t in texts]}]}
    if shape == "other":
        body = other
    elif shape == "contents":
        body = {"contents": other}
    raw = json.dumps(body, ensure_ascii=bool(len(texts) % 2)).encode()
    if len(raw) <= 4096:
        served, _ = _answered(pair, request(where.format(model="gemini-2.5-flash", rpc="countTokens"), raw))
        assert served == 1


def test_access_lines_and_metrics_match(pair: Pair) -> None:
    """After the same requests, both servers logged the same access lines (but for time, port and random
    id) and count the same requests and tokens in /metrics."""
    for server in (pair.fast, pair.asgi):
        server.logs.clear()
    path = VERTEX.format(model="gemini-2.5-flash", rpc="countTokens")
    for body in (plain_body("metrics"), b"{", plain_body("again", "and again")):
        pair.both(request(path, body, {"X-Request-Id": "same"}))

    def access(wire: Wire) -> list[dict[str, Any]]:
        # (both servers log to the same loggers in this process: each one's lines by its client's port)
        client = f"127.0.0.1:{wire.sock.getsockname()[1]}"
        lines = [json.loads(line) for line in list(pair.fast.logs) if '"event": "access"' in line]
        return [
            {k: v for k, v in line.items() if k not in ("ts", "duration_ms", "client")}
            for line in lines
            if line["client"] == client
        ]

    fast, asgi = (access(wire) for wire in pair.wires)
    assert fast == asgi and len(fast) == 3

    def counters(wire: Wire) -> list[bytes]:
        wire.send(request("/metrics", b"", method="GET"))
        body = wire.answer()[2]
        return [
            line
            for line in body.splitlines()
            if line.startswith((b"vertexmeter_requests_total", b"vertexmeter_tokens_counted_total"))
        ]

    # (the same requests reached both servers since they started)
    metrics = counters(pair.wires[0])
    assert metrics == counters(pair.wires[1]) and any(b'rpc="countTokens"' in line for line in metrics)


# ---- the access line written from its fields ----------------------------------------------------------------


def _record_line(entry: AccessEntry) -> str:
    """What JsonFormatter makes of the record `log_access` builds for `entry` (the logger's path)."""
    created, method, path, route, status, duration, bytes_in, bytes_out, client, request_id, model = entry
    record = logging.LogRecord(
        "vertexmeter.server.access", logging.INFO, "", 0, "%s %s %s", (method, path, status), None
    )
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0
    fields: dict[str, Any] = {
        "event": "access",
        "method": method,
        "path": path,
        "route": route,
        "status": status,
        "duration_ms": duration,
        "bytes_in": bytes_in,
        "bytes_out": bytes_out,
        "client": client,
        "request_id": request_id,
    }
    if model:
        fields["model"] = model
    record.fields = fields
    return JsonFormatter().format(record)


@settings(max_examples=300, deadline=None)
@given(
    created=st.floats(0, 4e9),
    method=st.sampled_from(["POST", "GET"]),
    path=st.text(),
    route=st.text(),
    status=st.integers(100, 599),
    duration=st.floats(0, 1e6).map(lambda f: round(f, 3)),
    bytes_in=st.none() | st.integers(0, 2**40),
    bytes_out=st.integers(0, 2**40),
    client=st.none() | st.text(),
    request_id=st.text(),
    model=st.none() | st.text(),
)
def test_format_access_is_the_formatters_line(
    created: float,
    method: str,
    path: str,
    route: str,
    status: int,
    duration: float,
    bytes_in: int | None,
    bytes_out: int,
    client: str | None,
    request_id: str,
    model: str | None,
) -> None:
    entry: AccessEntry = (
        created,
        method,
        path,
        route,
        status,
        duration,
        bytes_in,
        bytes_out,
        client,
        request_id,
        model,
    )
    assert format_access(entry) == _record_line(entry)


# ---- the google-genai SDK, with keys ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_pair() -> Iterator[tuple[ThreadServer, ThreadServer]]:
    fast, asgi = start_lane_server(True, api_keys=SDK_KEYS), start_lane_server(False, api_keys=SDK_KEYS)
    try:
        yield fast, asgi
    finally:
        fast.stop()
        asgi.stop()


@pytest.mark.parametrize("mode", ["vertex-bearer", "vertex-express", "gemini-api"])
def test_sdk_through_the_lane_with_keys(
    keyed_pair: tuple[ThreadServer, ThreadServer], mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_CLOUD_PROJECT", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(name, raising=False)
    from google.genai import errors

    from tests.server.test_server_sdk import make_client

    fast, asgi = keyed_pair
    app: Any = fast.server.config.app
    lane: FastLane = app.state.vertexmeter_fast_lane
    before = lane.answered
    clients = [make_client(mode, server.base_url) for server in (fast, asgi)]
    prompts: tuple[Any, ...] = ("What is your name?", "这是一条unicode测试🤪❤★", ["one", "two"])
    for contents in prompts:
        # (the answers but their HTTP headers: date and request id differ)
        counted = [
            client.models.count_tokens(model="gemini-2.5-flash", contents=contents).model_dump(
                exclude={"sdk_http_response"}
            )
            for client in clients
        ]
        assert counted[0] == counted[1] and counted[0]["total_tokens"] > 0
        if mode != "gemini-api":
            computed = [
                client.models.compute_tokens(model="gemini-2.5-flash", contents=contents).model_dump(
                    exclude={"sdk_http_response"}
                )
                for client in clients
            ]
            assert computed[0] == computed[1] and computed[0]["tokens_info"]
    assert lane.answered > before  # (the SDK's requests were the lane's)
    refused = []
    for server in (fast, asgi):
        wrong = make_client(mode, server.base_url, key="wrong-key")
        with pytest.raises(errors.ClientError) as raised:
            wrong.models.count_tokens(model="gemini-2.5-flash", contents="hi")
        refused.append((raised.value.code, raised.value.status, raised.value.message))
    assert refused[0] == refused[1] and refused[0][0] == 403
