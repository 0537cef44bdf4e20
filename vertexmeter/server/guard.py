"""Connection hygiene, below the routes: what must hold however the routes behave.

* What a web page the user visits could send is refused (`door.FrontDoor` applies these): a `Host`
  that is not this server's (DNS rebinding: on a loopback address only loopback names, else
  `allowed_hosts`), a POST from another origin (`Origin` or `Sec-Fetch-Site`), and a browser POST whose
  `Content-Type` a page may send without a CORS preflight (text/plain, forms).
* The protocols (uvicorn's httptools one, or its h11 one without httptools): close a connection whose
  request line and headers do not arrive within `header_timeout` (uvicorn has no such timeout),
  answering a Google-shaped 408 first, and refuse a request line and headers over 64 KiB, counted
  exactly however the bytes arrive, with a Google-shaped 431.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import h11
from starlette.types import Send
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: the pure-Python h11 protocol serves
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

import vertexmeter
from vertexmeter.server.errors import JSON_TYPE, ApiError

log = logging.getLogger("vertexmeter.server")

CLIENT_CLOSED = 499  # nginx's "client closed request"; google.rpc.Code CANCELLED maps to 499
OVERLOADED = "The service is currently unavailable: the server is at its concurrency limit. Retry later."
HEADER_TIMEOUT = "The request headers were not received within {seconds:g} s."
MAX_HEAD_BYTES = 64 * 1024  # request line + headers, counted exactly (h11's own cap depends on how reads fall)
HEAD_TOO_LARGE = "The request line and headers are larger than {limit:,} bytes, the most this server reads."
NOSNIFF = (b"x-content-type-options", b"nosniff")
# What a page may POST cross-origin without a CORS preflight: a browser sending one of these is refused.
_SIMPLE_TYPES = frozenset({"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"})
WRONG_HOST = (
    "The Host header names {host!r}, which this server does not answer to: it listens on a loopback "
    "address and answers loopback names only (--allowed-host adds names)."
)
NOT_ALLOWED_HOST = "The Host header names {host!r}, which is not in this server's --allowed-host list."
CROSS_ORIGIN = "Cross-origin requests are refused: this server answers pages of its own origin only."
BROWSER_TYPE = "Browsers must send Content-Type: application/json (this server refuses form and text/plain posts)."


def host_name(header: str) -> str:
    """The name or address of a Host header, without port, brackets or a trailing dot, lower-cased."""
    try:
        name = urlsplit("//" + header).hostname or ""
    except ValueError:
        return header.lower()
    return name.rstrip(".").lower()


def is_loopback_name(name: str) -> bool:
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=1024)  # clients send the same few Host values; parsing one costs more than a lookup
def host_refusal(host: str, allowed: tuple[str, ...], loopback_bind: bool) -> str | None:
    """Why a Host header is refused (None: served)."""
    name = host_name(host)
    if allowed:
        for entry in allowed:
            entry = entry.lower().rstrip(".")
            if name == entry.lstrip(".") or (entry.startswith(".") and name.endswith(entry)):
                return None
        if loopback_bind and is_loopback_name(name):
            return None
        return NOT_ALLOWED_HOST.format(host=host)
    if loopback_bind and not is_loopback_name(name):
        return WRONG_HOST.format(host=host)
    return None


def browser_refusal(headers: dict[bytes, bytes], host: str) -> str | None:
    """Why a POST that a browser sent is refused (None: not a browser's, or same-origin JSON)."""
    origin = headers.get(b"origin", b"").decode("latin-1").strip()
    site = headers.get(b"sec-fetch-site", b"").decode("latin-1").strip().lower()
    if not origin and not site:
        return None  # curl, the SDKs: no browser, no ambient credentials to abuse
    if site and site not in ("same-origin", "none"):
        return CROSS_ORIGIN
    if origin:
        try:
            netloc = urlsplit(origin).netloc.lower()
        except ValueError:
            netloc = ""
        if origin == "null" or netloc != host.lower():
            return CROSS_ORIGIN
    essence = headers.get(b"content-type", b"").decode("latin-1").split(";", 1)[0].strip().lower()
    if essence in _SIMPLE_TYPES:
        return BROWSER_TYPE
    return None


def error_body(code: int, status: str, message: str) -> bytes:
    return json.dumps(ApiError(code, status, message).to_json()).encode()


def health(pool: Any) -> dict[str, Any]:
    """The /healthz answer (served by the middleware below; the route in routes/ops.py documents it)."""
    return {"status": "ok", "version": vertexmeter.__version__, "executor": pool.kind, "workers": pool.workers}


class ClientGone(Exception):
    """The client closed the connection before the request was read: nothing can be answered."""


async def send_error(send: Send, code: int, status: str, message: str, extra: list[tuple[bytes, bytes]]) -> None:
    await send_json(send, code, error_body(code, status, message), extra)


async def send_json(send: Send, code: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", JSON_TYPE.encode()), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def head_refusal() -> bytes:
    body = error_body(431, "INVALID_ARGUMENT", HEAD_TOO_LARGE.format(limit=MAX_HEAD_BYTES))
    return _closing_answer("431 Request Header Fields Too Large", body)


def header_timeout_answer(seconds: float) -> bytes:
    body = error_body(408, "DEADLINE_EXCEEDED", HEADER_TIMEOUT.format(seconds=seconds))
    return _closing_answer("408 Request Timeout", body)


def _closing_answer(status: str, body: bytes) -> bytes:
    """A whole HTTP answer written before the app sees the request, which closes the connection."""
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {JSON_TYPE}\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    return head + body


def head_progress(head_bytes: int, head_tail: bytes, data: bytes) -> tuple[int, bool, bytes]:
    """A head's exact size once `data` is read, whatever the sizes of the reads: from its bytes so far
    (`head_bytes`, whose last 3 are `head_tail`, to find a blank line split across reads) and `data` up to the
    head's end. Also whether the head ends in `data`, and the last 3 bytes to keep when it does not."""
    window = head_tail + data
    end = window.find(b"\r\n\r\n")
    if end >= 0:
        return head_bytes - len(head_tail) + end + 4, True, b""
    return head_bytes - len(head_tail) + len(window), False, window[-3:]


class HeadCount:
    """An exact cap on a request head's size for a protocol whose parser sets none (llhttp): the head's bytes are
    counted as they arrive, from the first byte after the previous message (or of the connection) to the blank
    line, whatever the sizes of the reads. The protocol class supplies `transport` and `_refuse_head()`, and starts
    the next head (`_next_head`) when a message is complete."""

    _in_head = True  # between the end of a message (or the connection's start) and its head's end
    _head_bytes = 0  # bytes of the current head received so far
    _head_tail = b""  # its last 3 bytes, to find a blank line split across reads
    transport: asyncio.Transport

    def _refuse_head(self) -> None:
        raise NotImplementedError

    def _count_head(self, data: bytes) -> bool:
        """Count `data` against the cap while a head is being read; False when the head was refused."""
        if self._in_head and not self.transport.is_closing():
            size, ended, tail = head_progress(self._head_bytes, self._head_tail, data)
            if size > MAX_HEAD_BYTES:
                self._refuse_head()
                return False
            if ended:
                self._in_head = False
            else:
                self._head_bytes, self._head_tail = size, tail
        return True

    def _next_head(self) -> None:
        # The next head starts here. Its bytes later in this same read (a pipelined request) are not counted: the
        # cap may be passed by at most one read, never without bound.
        self._in_head, self._head_bytes, self._head_tail = True, 0, b""


class _HeadGuard:
    """What both protocols add to uvicorn's: a deadline for each request's line and headers (uvicorn has
    none) and an exact cap on their size. The protocol class supplies `loop`, `transport`, `cycle` and
    `_head_partial()` (whether part of a head is buffered)."""

    header_timeout = 10.0  # set per server by `protocol_class`
    _header_timer: asyncio.TimerHandle | None = None
    _header_deadline = 0.0  # when the head of the request after `_header_cycle` is late
    _header_cycle: Any = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    cycle: Any

    def _head_partial(self) -> bool:
        raise NotImplementedError

    # Both hooks reach the protocol's own through the MRO (_HeadGuard comes first in each protocol class).
    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _refuse_head(self) -> None:
        self._disarm_header_timer()
        with contextlib.suppress(Exception):
            self.transport.write(head_refusal())
        self.transport.close()

    def _arm_header_timer(self) -> None:
        # One timer per connection, moved on lazily: after each answer only the deadline moves, and a timer
        # that fires early sets itself again (a timer made and cancelled per request costs more than that).
        self._header_deadline = self.loop.time() + self.header_timeout
        self._header_cycle = self.cycle
        if self._header_timer is None:
            self._header_timer = self.loop.call_at(self._header_deadline, self._headers_late)

    def _disarm_header_timer(self) -> None:
        timer = self._header_timer
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.loop.time() < self._header_deadline:  # answered since: the deadline moved on
            self._header_timer = self.loop.call_at(self._header_deadline, self._headers_late)
            return
        if self.cycle is not self._header_cycle:
            return  # a new request arrived in time (its body has its own timeouts)
        if self._head_partial():
            with contextlib.suppress(Exception):  # the socket may already be broken; closing is what matters
                self.transport.write(header_timeout_answer(self.header_timeout))
        self.transport.close()  # an idle keep-alive connection is just closed


class GuardedH11Protocol(_HeadGuard, H11Protocol):
    """uvicorn's pure-Python h11 protocol plus the head guard (used when httptools is not installed)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            # A request head in the making: its exact size so far (what is buffered plus this read, up to
            # the blank line that ends it), whatever the sizes of the reads it arrives in.
            head = self.conn.trailing_data[0] + data
            end = head.find(b"\r\n\r\n")
            if (end + 4 if end >= 0 else len(head)) > MAX_HEAD_BYTES:
                self._refuse_head()
                return
        super().data_received(data)

    def _head_partial(self) -> bool:
        if self.conn.their_state is None or self.conn.our_state is None:
            return False
        trailing = getattr(self.conn, "trailing_data", (b"", False))
        return bool(trailing and trailing[0])


_JOIN_AT_MOST = 64 * 1024


class CoalescingTransport:
    """A transport whose writes of one loop step leave in one `send`: uvicorn writes a response's head
    and its body separately, and a system call per write costs more than a small answer's JSON. The
    first write is held; the next one (the body) is joined to it and sent at once; whatever is still
    held is sent at the end of the loop step, or before the transport closes."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is None:
            self._held = bytes(data)
            self._loop.call_soon(self.flush)
        else:
            held, self._held = self._held, None
            if len(data) > _JOIN_AT_MOST:  # a big answer is not copied to save one system call
                self._transport.write(held)
                self._transport.write(data)
            else:
                self._transport.write(held + bytes(data))

    def write_whole(self, data: bytes) -> None:
        """A whole answer at once: sent now (after what is held, in one piece), nothing held for it."""
        held, self._held = self._held, None
        self._transport.write(held + data if held else data)

    def flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:  # pause_reading, get_extra_info, abort, ...
        return getattr(self._transport, name)


if HttpToolsProtocol is not None:

    class GuardedHttpToolsProtocol(_HeadGuard, HeadCount, HttpToolsProtocol):
        """uvicorn's httptools (llhttp, C) protocol plus the head guard; llhttp sets no limit on a head, so
        HeadCount counts its bytes."""

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
            self._arm_header_timer()

        def data_received(self, data: bytes) -> None:
            if self._count_head(data):
                super().data_received(data)

        def on_message_complete(self) -> None:
            super().on_message_complete()
            self._next_head()

        def _head_partial(self) -> bool:
            return self._in_head and self._head_bytes > 0


def protocol_class(header_timeout: float, http: str = "auto") -> type[asyncio.Protocol]:
    """The HTTP/1.1 protocol for uvicorn: httptools (C) when installed (`auto`), else h11 (pure Python)."""
    if http == "httptools" and HttpToolsProtocol is None:
        raise ImportError("httptools is not installed: pip install 'vertexmeter[server]'")
    if http != "h11" and HttpToolsProtocol is not None:
        from vertexmeter.server.lean import lane_protocol  # (it imports the routes, which import this module)

        return lane_protocol(header_timeout)
    return type("VertexmeterH11Protocol", (GuardedH11Protocol,), {"header_timeout": header_timeout})


def event_loop() -> str:
    """uvicorn's `loop` setting: uvloop (libuv) when installed, else asyncio's own."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"
