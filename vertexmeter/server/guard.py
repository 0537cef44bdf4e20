"""Connection hygiene, below the routes: what must hold however the routes behave.

* `GuardMiddleware` (ASGI): answers `GET /healthz` itself, on the event loop, before any routing or
  limit; refuses RPCs past `max_concurrency` with 503 UNAVAILABLE; turns a request cancelled by a
  shutdown past its timeout into a Google-shaped 503 instead of uvicorn's plain-text 500; and
  records a client that hung up as 499 (CANCELLED), not as a server error.
* `GuardMiddleware` also refuses what a web page the user visits could send: a `Host` that is not this
  server's (DNS rebinding: on a loopback address only loopback names, else `allowed_hosts`), a POST
  from another origin (`Origin` or `Sec-Fetch-Site`), and a browser POST whose `Content-Type` a page
  may send without a CORS preflight (text/plain, forms); and marks every answer `nosniff`.
* `GuardedH11Protocol` (uvicorn): closes a connection whose request line and headers do not arrive
  within `header_timeout` (uvicorn has no such timeout), answering a Google-shaped 408 first.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

import vertexmeter
from vertexmeter.server.errors import JSON_TYPE, SHUTTING_DOWN, ApiError

log = logging.getLogger("vertexmeter.server")

CLIENT_CLOSED = 499  # nginx's "client closed request"; google.rpc.Code CANCELLED maps to 499
OVERLOADED = "The service is currently unavailable: the server is at its concurrency limit. Retry later."
HEADER_TIMEOUT = "The request headers were not received within {seconds:g} s."
MAX_HEAD_BYTES = 64 * 1024  # request line + headers, counted exactly (h11's own cap depends on how reads fall)
HEAD_TOO_LARGE = "The request line and headers are larger than {limit:,} bytes, the most this server reads."
_SKIP_LIMIT = frozenset({"/healthz", "/metrics"})
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


class _Route:
    path = "/healthz"


_HEALTHZ = _Route()


def error_body(code: int, status: str, message: str) -> bytes:
    return json.dumps(ApiError(code, status, message).to_json()).encode()


def health(pool: Any) -> dict[str, Any]:
    """The /healthz answer (served by the middleware below; the route in routes/ops.py documents it)."""
    return {"status": "ok", "version": vertexmeter.__version__, "executor": pool.kind, "workers": pool.workers}


class ClientGone(Exception):
    """The client closed the connection before the request was read: nothing can be answered."""


async def send_error(send: Send, code: int, status: str, message: str, extra: list[tuple[bytes, bytes]]) -> None:
    await _send_json(send, code, error_body(code, status, message), extra)


async def _send_json(send: Send, code: int, body: bytes, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", JSON_TYPE.encode()), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state  # ServerState (typed loosely: state imports the routes' modules)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        outer = send

        async def nosniff_send(message: Message) -> None:  # every answer, every path
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), NOSNIFF]}
            await outer(message)

        send = nosniff_send
        headers = dict(scope.get("headers") or ())
        host = headers.get(b"host", b"").decode("latin-1")
        config = self.state.config
        refusal = host_refusal(host, config.allowed_hosts, self.state.loopback_bind) if host else None
        if refusal is None and scope.get("method") not in ("GET", "HEAD", "OPTIONS"):
            refusal = browser_refusal(headers, host)
        if refusal is not None:
            status = "PERMISSION_DENIED" if refusal == CROSS_ORIGIN else "INVALID_ARGUMENT"
            await send_error(send, 403 if refusal == CROSS_ORIGIN else 400, status, refusal, [])
            return
        if path == "/healthz" and scope.get("method") in ("GET", "HEAD"):
            scope["route"] = _HEALTHZ  # the access log and metrics name the route as for any other
            await self._healthz(send)
            return
        limited = path not in _SKIP_LIMIT
        if limited and self.in_flight >= self.state.config.max_concurrency:
            await send_error(send, 503, "UNAVAILABLE", OVERLOADED, [(b"retry-after", b"1"), (b"connection", b"close")])
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        if limited:
            self.in_flight += 1
        try:
            await self.app(scope, receive, tracking_send)
        except ClientGone:
            scope["vertexmeter.client_gone"] = True
        except asyncio.CancelledError:
            # uvicorn cancels requests still running when --shutdown-timeout is over; answer in
            # Google's shape (uvicorn would send a plain-text 500) and end the request quietly.
            if not started:
                await send_error(send, 503, "UNAVAILABLE", SHUTTING_DOWN, [(b"connection", b"close")])
            log.warning("request cancelled at shutdown: %s %s", scope.get("method"), path)
        finally:
            if limited:
                self.in_flight -= 1

    async def _healthz(self, send: Send) -> None:
        await _send_json(send, 200, json.dumps(health(self.state.pool)).encode(), [])


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for the request line and headers of every request."""

    header_timeout = 10.0  # set per server by `protocol_class`
    _header_timer: asyncio.TimerHandle | None = None

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

    def _refuse_head(self) -> None:
        self._disarm_header_timer()
        body = error_body(431, "INVALID_ARGUMENT", HEAD_TOO_LARGE.format(limit=MAX_HEAD_BYTES))
        head = (
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json; charset=UTF-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        with contextlib.suppress(Exception):
            self.transport.write(head + body)
        self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        cycle = self.cycle
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late, cycle)

    def _disarm_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def _headers_late(self, cycle_when_armed: Any) -> None:
        self._header_timer = None
        if self.cycle is not cycle_when_armed or self.transport.is_closing():
            return  # a new request arrived in time (its body has its own timeouts)
        if self.conn.their_state is not None and self.conn.our_state is not None and _has_partial(self):
            body = error_body(408, "DEADLINE_EXCEEDED", HEADER_TIMEOUT.format(seconds=self.header_timeout))
            head = (
                "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=UTF-8\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            ).encode()
            with contextlib.suppress(Exception):  # the socket may already be broken; closing is what matters
                self.transport.write(head + body)
        self.transport.close()


def _has_partial(protocol: H11Protocol) -> bool:
    """Whether part of a request was received (an idle keep-alive connection just gets closed)."""
    trailing = getattr(protocol.conn, "trailing_data", (b"", False))
    return bool(trailing and trailing[0])


def protocol_class(header_timeout: float) -> type[GuardedH11Protocol]:
    return type("VertexmeterH11Protocol", (GuardedH11Protocol,), {"header_timeout": header_timeout})
