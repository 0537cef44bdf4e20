"""The lean protocol: a connection serves fast-lane requests without uvicorn's per-request machinery.

uvicorn's httptools protocol builds, for every request, an ASGI scope, a `RequestResponseCycle` with its
`asyncio.Event`, a header list and a keep-alive timer, even when the fast lane (`fastlane.py`) then
answers the request itself; that costs more than counting a 2 KB text. `LeanProtocol` therefore owns a
connection for as long as its requests are fast-lane requests: its own llhttp callbacks keep the URL and
the raw headers, the lane's checks (`FastLane.admit_head`) run on them, and the answer (`FastLane.answer`,
the same bytes, access line and metrics) is written on the transport directly.

At the first request the lane does not take — any other route or method, a refusal, `Expect`, an
upgrade, a chunked or too large body, keys configured, a body that lags more than `BODY_WAIT`, a body
the lane hands over, a bad request, a hang-up while a body arrives — the connection is switched, for the
rest of its life, to the app protocol (`FastLaneProtocol`, uvicorn's protocol with the head guard and the
lane as before): it is given the transport, the parser (whose callbacks are passed on to it from then
on) and the callbacks of the request so far replayed, so the request and everything after it (pipelined
requests included, in order) are served exactly as that protocol serves them.

What the lean protocol keeps itself, as the app protocol does: the head guard (an exact 64 KiB cap on a
request line and headers, 431; `header_timeout` for each head after the connection's start or an answer,
408 when part of a head came), uvicorn's keep-alive timeout after each answer, `Connection: close` and
HTTP/1.0 (answer, then close), pipelining (answers written in order, as each request completes), flow
control (reading paused while the transport's write buffer is over its high-water mark), a graceful
shutdown (`shutdown()`: an idle connection is closed, a request being read is answered with
`connection: close`), uvicorn's connection set and request count. One timer per connection serves the
head, keep-alive and body deadlines, moved on lazily (a timer made and cancelled per request costs more).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from vertexmeter.server.fastlane import BODY_WAIT, Admitted, FastLane, FastLaneProtocol, fast_lane_of
from vertexmeter.server.guard import (
    GuardedHttpToolsProtocol,
    HeadCount,
    head_refusal,
    header_timeout_answer,
)

log = logging.getLogger("vertexmeter.server")
_NEVER = float("inf")


class LeanProtocol(HeadCount, asyncio.Protocol):
    """An HTTP/1.1 connection answered by the fast lane until a request is not for it (see the module)."""

    header_timeout = 10.0  # set per server by `lane_protocol`
    app_protocol: type[FastLaneProtocol] = FastLaneProtocol  # what the connection is switched to

    def __init__(
        self,
        config: Any,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()
        self.config = config
        self.server_state = server_state
        self.app_state = app_state
        self.loop = _loop or asyncio.get_event_loop()
        self.connections = server_state.connections
        self.lane = fast_lane_of(config.loaded_app)
        self.parser = httptools.HttpRequestParser(self)
        with contextlib.suppress(AttributeError):  # (as uvicorn: answer the first of pipelined requests)
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.timeout_keep_alive: float = config.timeout_keep_alive
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.client: str | None = None  # "address:port", as the access log shows it
        self.switched: HttpToolsProtocol | None = None  # the app protocol, once the connection is switched
        # The request being read.
        self.url = b""
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.pending: Admitted | None = None  # admitted by the lane, its body arriving
        self.keep_alive = True
        self.in_message = False
        self.head_done = False
        # Deadlines, on the loop's clock, served by one timer.
        self._heads = 0  # heads completed on this connection
        self._header_at = _NEVER
        self._header_mark = 0  # `_heads` when `_header_at` was set: a later head was in time
        self._keep_alive_at = _NEVER  # set by an answer, cleared by any read
        self._body_at = _NEVER
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = _NEVER
        self._close_after = False  # a shutdown began while a request was being read
        self._reading_paused = False

    # ---- the transport's callbacks ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.connections.add(self)
        self.transport = transport  # type: ignore[assignment]
        if self.lane is None or self.config.limit_concurrency is not None or self.config.root_path:
            self._switch()  # nothing for the lane: the app protocol serves the connection from its start
            return
        client = get_remote_addr(transport)  # type: ignore[arg-type]
        self.client = f"{client[0]}:{client[1]}" if client else None
        self._header_at = self.loop.time() + self.header_timeout
        self._wake(self._header_at)

    def data_received(self, data: bytes) -> None:
        self._keep_alive_at = _NEVER
        if not self._count_head(data):  # the head guard's cap
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            proto = self.switched or self._switch()  # (a bad request: answered by uvicorn's own code)
            msg = "Invalid HTTP request received."
            proto.logger.warning(msg)
            proto.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            proto = self.switched or self._switch()  # (an upgrade is never the lane's: switched at its head)
            if proto._should_upgrade():
                proto.handle_websocket_upgrade()
            else:
                proto._unsupported_upgrade_warning()
            return
        if self.pending is not None and self.switched is None and self._body_at == _NEVER:
            self._body_at = self.loop.time() + BODY_WAIT  # the body comes in a later read
            self._wake(self._body_at)

    def eof_received(self) -> None:
        pass  # (the transport closes, as uvicorn's)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.switched is not None:
            self.switched.connection_lost(exc)
            return
        self.connections.discard(self)
        self._stop_timer()
        if self.pending is not None:
            # A hang-up while the body arrived: the app's request cycle records it (499), as for any request.
            self._switch().connection_lost(exc)
            return
        if exc is None:
            self.transport.close()

    def pause_writing(self) -> None:
        # The client does not read its answers: read no more requests until it does.
        if self.switched is not None:
            self.switched.pause_writing()
            return
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.switched is not None:
            self.switched.resume_writing()
            return
        if self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def shutdown(self) -> None:
        """Called by uvicorn's server when a graceful shutdown begins."""
        if self.switched is not None:
            self.switched.shutdown()
        elif self.pending is None:
            self.transport.close()
        else:
            self._close_after = True

    # ---- the parser's callbacks (passed on to the app protocol once switched) ---------------------------
    def on_message_begin(self) -> None:
        if self.switched is not None:
            self.switched.on_message_begin()
            return
        self.url = b""
        self.raw_headers = []
        self.body = b""
        self.in_message = True
        self.head_done = False

    def on_url(self, url: bytes) -> None:
        if self.switched is not None:
            self.switched.on_url(url)
            return
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.switched is not None:
            self.switched.on_header(name, value)
            return
        self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.switched is not None:
            self.switched.on_headers_complete()
            return
        self.head_done = True
        self._heads += 1
        if self.transport.is_closing():
            return  # pipelined behind an answer that closed the connection: never served (as uvicorn)
        lane = self.lane
        assert lane is not None
        try:
            admitted = self._admit(lane)
        except Exception:  # a bug in the lane: the app serves the request
            log.exception("fast lane: admitting a request failed")
            admitted = None
        if admitted is None:
            self._switch()  # the app protocol reads this head afresh (its own lane may still answer it)
            return
        self.pending = admitted
        lane.door.in_flight += 1  # type: ignore[union-attr]  # an RPC in flight, as in the app

    def on_body(self, body: bytes) -> None:
        if self.switched is not None:
            self.switched.on_body(body)
            return
        self.body += body

    def on_message_complete(self) -> None:
        if self.switched is not None:
            self.switched.on_message_complete()
            return
        pending = self.pending
        lane = self.lane
        if pending is None or lane is None:
            return  # (a request after the connection began to close)
        keep_alive = self.keep_alive and not self._close_after
        try:
            answer = lane.answer(pending, self.body, keep_alive, self.server_state.default_headers, self.client)
        except Exception:  # a bug in the lane: the app serves the request
            log.exception("fast lane: answering a request failed")
            answer = None
        if answer is None:
            self._switch(complete=True)
            return
        self.pending = None
        lane.door.in_flight -= 1  # type: ignore[union-attr]
        self.in_message = False
        self._next_head()
        self._body_at = _NEVER
        transport = self.transport
        transport.write(answer)
        self.server_state.total_requests += 1
        if not keep_alive:
            transport.close()
            return
        now = self.loop.time()
        self._keep_alive_at = now + self.timeout_keep_alive
        self._header_at = now + self.header_timeout
        self._header_mark = self._heads
        self._wake(self._keep_alive_at if self._keep_alive_at < self._header_at else self._header_at)

    # ---- the lane's checks -------------------------------------------------------------------------
    def _admit(self, lane: FastLane) -> Admitted | None:
        parser = self.parser
        if parser.get_method() != b"POST" or parser.should_upgrade():
            return None
        headers: dict[bytes, bytes] = {}
        for name, value in self.raw_headers:  # as uvicorn's scope holds them (the last of a name kept)
            headers[name.lower()] = value.rstrip(b" \t")
        if b"expect" in headers:
            return None
        self.keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        url = httptools.parse_url(self.url)
        path = url.path.decode("ascii")  # (what uvicorn refuses, the app protocol refuses after the switch)
        if "%" in path:
            path = unquote(path)
        return lane.admit_head("POST", path, url.query or b"", headers, None)

    # ---- the switch to the app protocol ------------------------------------------------------------
    def _switch(self, complete: bool = False) -> HttpToolsProtocol:
        """Hand the connection to the app protocol for the rest of its life, replaying the request so far.
        A request the lane had admitted starts the app's task directly (the app protocol's lane would only
        hold it again); `complete`: its body has ended too."""
        proto = self.app_protocol(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.app_state, _loop=self.loop
        )
        self.switched = proto
        self.connections.discard(self)
        self._stop_timer()
        transport = self.transport
        proto.connection_made(transport)
        proto.parser = self.parser  # its callbacks reach `proto` through this protocol's
        transport.set_protocol(proto)
        if self._reading_paused:  # (the app protocol's flow control waits for the drain instead)
            self._reading_paused = False
            transport.resume_reading()
            proto.pause_writing()
        pending, self.pending = self.pending, None
        if pending is not None:
            self.lane.door.in_flight -= 1  # type: ignore[union-attr]  # (the app counts it again)
        if self.in_message:
            proto.on_message_begin()
            if self.url:
                proto.on_url(self.url)
            for name, value in self.raw_headers:
                proto.on_header(name, value)
            if self.head_done:
                proto._in_head = False  # type: ignore[attr-defined]  # (the head guard: this head is whole)
                if pending is not None:
                    HttpToolsProtocol.on_headers_complete(proto)  # uvicorn's: the app's task starts now
                else:
                    proto.on_headers_complete()
                if self.body:
                    proto.on_body(self.body)
                if complete:
                    proto.on_message_complete()
        if self._close_after:
            proto.shutdown()  # (a shutdown began while the lane held the request)
        return proto

    # ---- the head guard and the deadlines ----------------------------------------------------------
    def _refuse_head(self) -> None:
        self._stop_timer()
        with contextlib.suppress(Exception):
            self.transport.write(head_refusal())
        self.transport.close()

    def _wake(self, at: float) -> None:
        timer = self._timer
        if timer is not None:
            if at >= self._timer_at:
                return
            timer.cancel()
        self._timer_at = at
        self._timer = self.loop.call_at(at, self._tick)

    def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _tick(self) -> None:
        self._timer = None
        if self.switched is not None or self.transport.is_closing():
            return
        now = self.loop.time()
        if self.pending is not None:
            if self._body_at <= now:
                self._switch()  # the body lags: the app's request cycle reads it, with its body timeouts
                return
        else:
            self._body_at = _NEVER
        if self._keep_alive_at <= now:
            self.transport.close()  # idle after an answer: uvicorn's keep-alive timeout
            return
        if self._header_at <= now:
            if self._header_mark == self._heads:  # no head completed since the connection's start or an answer
                if self._in_head and self._head_bytes > 0:
                    with contextlib.suppress(Exception):  # the socket may be broken; closing is what matters
                        self.transport.write(header_timeout_answer(self.header_timeout))
                self.transport.close()
                return
            self._header_at = _NEVER  # a head came in time (its body has its own deadline)
        at = min(self._keep_alive_at, self._header_at, self._body_at)
        if at != _NEVER:
            self._wake(at)


# What the lean protocol calls on uvicorn's httptools protocol when it hands a connection over (uvicorn
# 0.55's names; the project's floor is older).
LEAN_NEEDS = (
    "on_message_begin",
    "on_url",
    "on_header",
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "send_400_response",
    "_should_upgrade",
    "handle_websocket_upgrade",
    "_unsupported_upgrade_warning",
)


def lane_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """The protocol `vertexmeter serve` runs on httptools: the lean protocol switching to the app protocol
    (`FastLaneProtocol`); the app protocol alone on a uvicorn without what a switch calls (`LEAN_NEEDS`);
    without the fast lane on a uvicorn that starts its ASGI tasks otherwise than through `_start_asgi_task`
    (where the app protocol's lane holds a request back)."""
    if not hasattr(GuardedHttpToolsProtocol, "_start_asgi_task"):
        return type("VertexmeterHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"header_timeout": header_timeout})
    app_protocol = type("VertexmeterHttpToolsProtocol", (FastLaneProtocol,), {"header_timeout": header_timeout})
    if not all(hasattr(HttpToolsProtocol, name) for name in LEAN_NEEDS):
        return app_protocol  # a uvicorn without what a switch hands over: the lane inside uvicorn's protocol
    return type(
        "VertexmeterLeanProtocol", (LeanProtocol,), {"header_timeout": header_timeout, "app_protocol": app_protocol}
    )
