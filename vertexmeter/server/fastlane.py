"""The fast lane: small RPCs answered by the HTTP protocol itself, below ASGI.

A 2 KB countTokens costs the tokenizer ~10 µs; through uvicorn's ASGI cycle, the front door, a task, a
`Request` and the JSON layers it cost ~200 µs. The protocol below (uvicorn's httptools protocol with the
head guard) therefore answers the commonest requests itself, with the answers the ASGI app gives, byte for
byte, and hands everything else to the app unchanged.

A request takes the fast lane only when, at the end of its headers, everything the ASGI path would check
before reading the body passes: a POST to a countTokens / computeTokens / estimateCost / usageMetadata
route (`door.RpcTable`), HTTP without `Expect`, upgrade or chunked body, a `Content-Length` of at most
`INLINE_BYTES` (and within the body cap and under the large lane's threshold), no `?key=`, a served
`Host`, no browser refusal, a valid key when keys are configured, the quota off, the concurrency limit not
reached (a request waiting for its body counts as in flight), no uvicorn `limit_concurrency`. Its body must
then arrive within `BODY_WAIT` of its head, and must not name a file or hold a PDF (`routes.rpc.is_large`):
it is then counted on the event loop, as the ASGI path counts bodies of this size, and answered in one
write. Anything else — a refusal, a body that
lags (whose idle and total timeouts the ASGI path then applies), a larger or costly body, a lost
connection — goes to the ASGI app through uvicorn's own request cycle, which was made for every request,
so keep-alive, pipelining, shutdown and flow control work as for any request.

Counting: a plain-text countTokens body (one user turn of text parts) is decoded with orjson and counted
by the library's plain-text path (`work.run_plain`); anything orjson refuses, or any other body, runs
`work.run_job`, the ASGI path's own code, so its refusals are the same. A bug in the lane's own code
hands the request to the app (logged), never fails the connection.

A connection starts in `lean.LeanProtocol`, which runs the same checks (`FastLane.admit_head`) and the same
answer (`FastLane.answer`) without uvicorn's request cycle, and switches to `FastLaneProtocol` at its first
request that is not the lane's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from vertexmeter.server.access import access_log, log_entry, logged_path
from vertexmeter.server.door import _REQUEST_ID, RPC_ATTRIBUTE, FrontDoor, RpcTable, new_request_id
from vertexmeter.server.errors import JSON_TYPE, ApiError
from vertexmeter.server.guard import CoalescingTransport, GuardedHttpToolsProtocol, browser_refusal, host_refusal
from vertexmeter.server.routes.rpc import INLINE_BYTES, RouteSpec, is_large, resource_name
from vertexmeter.server.state import ServerState
from vertexmeter.server.work import SMALL_LANE_LONG_RUN_CHARS, Job, run_job, run_plain

log = logging.getLogger("vertexmeter.server")
_HEAD_TAIL = b"content-type: " + JSON_TYPE.encode() + b"\r\nx-content-type-options: nosniff\r\nx-request-id: "


@dataclass(frozen=True, slots=True)
class _Route:
    """A path's RPC route, as the front door would match it, and the resource names its handler derives."""

    spec: RouteSpec
    path: str  # the route's template (the access log's and the metrics' name for it)
    model: str | None
    endpoint: str
    logged: str  # the request's path as the access log shows it


@dataclass(slots=True)
class Admitted:
    """What the checks at the end of a request's headers found, for its answer."""

    route: _Route
    headers: dict[bytes, bytes]
    request_id: bytes
    start: float


_MAX_ROUTES = 4096  # paths remembered with their route (clients repeat a few; a flood of new ones starts afresh)


class FastLane:
    """The checks and the answer of a fast-lane request (one per app; the protocol finds it on app.state)."""

    def __init__(self, state: ServerState, rpc: RpcTable) -> None:
        self.state = state
        self.rpc = rpc
        self.methods = frozenset(rpc.methods())
        self.door: FrontDoor | None = None  # set when the app builds its middleware stack
        self.enabled = True
        self.answered = 0  # requests this lane answered (the rest went to the ASGI app)
        self._routes: dict[str, _Route | None] = {}
        self._hosts: dict[str, bool] = {}  # Host header -> served (the check's verdict, looked up once)
        self._head: list[tuple[bytes, bytes]] | None = None  # uvicorn's default headers, as last seen
        self._starts: dict[int, bytes] = {}  # status code -> status line and those headers
        config = state.config
        self._inline_limit = min(INLINE_BYTES, config.max_body_bytes, config.large_request_bytes)

    def route(self, path: str) -> _Route | None:
        known = self._routes.get(path, False)
        if known is not False:
            return known  # type: ignore[return-value]
        found = self.rpc.match(path)
        route = None
        if found is not None:
            spec: RouteSpec = getattr(found[0].endpoint, RPC_ATTRIBUTE)
            model, endpoint = resource_name(spec, found[1])
            route = _Route(spec, found[0].path, model, endpoint, logged_path(path))
        if len(self._routes) >= _MAX_ROUTES:
            self._routes.clear()
        self._routes[path] = route
        return route

    def admit(self, scope: dict[str, Any]) -> Admitted | None:
        """The request's route and what its answer needs, or None for the ASGI app to serve it."""
        return self.admit_head(scope["method"], scope["path"], scope["query_string"], dict(scope["headers"]), scope)

    def admit_head(
        self, verb: str, path: str, query: bytes, headers: dict[bytes, bytes], scope: dict[str, Any] | None
    ) -> Admitted | None:
        """`admit` from a request's parts (its headers as uvicorn's scope holds them, the last of a name
        kept); without a scope, a request when keys are configured is left to the app."""
        _, colon, method = path.rpartition(":")
        door = self.door
        if not colon or method not in self.methods or door is None or verb != "POST":
            return None
        if b"key=" in query:
            return None  # `?key=` is taken out of the query by the front door
        state = self.state
        config = state.config
        if state.quota.enabled or door.in_flight >= config.max_concurrency:
            return None
        declared = headers.get(b"content-length")
        if (
            declared is None
            or not declared.isdigit()
            or int(declared) > self._inline_limit
            or b"transfer-encoding" in headers
        ):
            return None
        host = headers.get(b"host", b"").decode("latin-1")
        if host:
            served = self._hosts.get(host)
            if served is None:
                if len(self._hosts) >= _MAX_ROUTES:
                    self._hosts.clear()
                served = self._hosts[host] = host_refusal(host, config.allowed_hosts, state.loopback_bind) is None
            if not served:
                return None
        if (b"origin" in headers or b"sec-fetch-site" in headers) and browser_refusal(headers, host) is not None:
            return None
        route = self.route(path)
        if route is None:
            return None
        if state.keys.enabled:
            if scope is None:
                return None
            from starlette.requests import Request

            try:
                state.keys.check(Request(scope))
            except ApiError:
                return None
        given = headers.get(b"x-request-id", b"")
        request_id = given if given and _REQUEST_ID.match(given.decode("latin-1")) else new_request_id()
        return Admitted(route, headers, request_id, time.perf_counter())

    def answer(
        self,
        admitted: Admitted,
        raw: bytes,
        keep_alive: bool,
        head: list[tuple[bytes, bytes]],
        client: str | None,
        scope_state: dict[str, Any] | None = None,
    ) -> bytes | None:
        """The whole HTTP answer to an admitted request, or None for the ASGI app to serve it after all.
        `head`: uvicorn's default headers; `client`: "address:port" as the access log shows it."""
        config = self.state.config
        if len(raw) > INLINE_BYTES:
            return None
        route = admitted.route
        spec = route.spec
        plain = run_plain(spec.rpc, spec.api, spec.version, route.model, raw, config.max_text_chars)
        if plain is not None:
            code, body, model_id, tokens = plain
        else:
            if is_large(raw, config.large_request_bytes, spec.rpc):
                return None  # names a file or holds a PDF: the large lane's
            job = Job(
                rpc=spec.rpc,
                api=spec.api,
                api_version=spec.version,
                body=raw,
                model=route.model,
                endpoint=route.endpoint,
                media_options=self.state.media,
                max_text_chars=config.max_text_chars,
                max_long_run_chars=SMALL_LANE_LONG_RUN_CHARS,
            )
            outcome = run_job(job)
            if outcome.too_costly:
                return None  # (not for a body this small; the ASGI path hands such a body to the large lane)
            code, model_id, tokens = outcome.code, outcome.model_id, outcome.tokens
            body = json.dumps(outcome.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        metrics = self.state.metrics
        if model_id:
            if scope_state is not None:
                scope_state["model"] = model_id
            metrics.count_tokens(spec.rpc, model_id, tokens)
        if head is not self._head:  # (uvicorn makes a new list when its date changes, once a second)
            self._head, self._starts = head, {}
        start = self._starts.get(code)
        if start is None:
            start = self._starts[code] = STATUS_LINE[code] + b"".join(n + b": " + v + b"\r\n" for n, v in head)
        answer = b"".join(
            (
                start,
                b"content-length: %d\r\n" % len(body),
                _HEAD_TAIL,
                admitted.request_id,
                b"\r\n\r\n" if keep_alive else b"\r\nconnection: close\r\n\r\n",
                body,
            )
        )
        self.answered += 1
        elapsed = time.perf_counter() - admitted.start
        metrics.observe(route.path, "POST", code, elapsed)
        if config.access_log and access_log.isEnabledFor(logging.INFO):
            log_entry(
                (
                    time.time(),
                    "POST",
                    route.logged,
                    route.path,
                    code,
                    round(elapsed * 1000, 3),
                    len(raw),  # (its Content-Length, which the front door logs)
                    len(body),
                    client,
                    admitted.request_id.decode(),
                    model_id or None,
                )
            )
        return answer


def _status_line(code: int) -> bytes:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(code).phrase.encode()
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (code, phrase)


STATUS_LINE = {code: _status_line(code) for code in range(100, 600)}  # as uvicorn writes them


# How long an admitted request's body may take after its head before the app takes the request over (and
# applies its own body timeouts from then on). Clients such as httpx write a head and its body separately,
# so a body often arrives a read later; a request whose body lags more is no fast-lane request.
BODY_WAIT = 0.05


def fast_lane_of(app: Any) -> FastLane | None:
    """The app's fast lane (the app keeps it on its state), None when it has none or it is switched off."""
    found = getattr(getattr(app, "state", None), "vertexmeter_fast_lane", None)
    return found if isinstance(found, FastLane) and found.enabled else None


class FastLaneProtocol(GuardedHttpToolsProtocol):
    """uvicorn's httptools protocol with the head guard, answering fast-lane requests itself.

    uvicorn makes its request cycle at the end of the headers and starts the ASGI task; for a request the
    lane admits, the start is held back: when the body completes (within `BODY_WAIT`), the lane answers
    and the cycle is marked complete (as `RequestResponseCycle.send` does); otherwise — the body late,
    the connection lost or failed — the task starts as it would have, with what has arrived."""

    _lane: FastLane | None | bool = False  # False: not looked up yet
    _admitting = False
    _pending: tuple[Any, Any, Admitted] | None = None
    _body_timer: asyncio.TimerHandle | None = None

    def _fast_lane(self) -> FastLane | None:
        lane = self._lane
        if lane is False:
            lane = self._lane = fast_lane_of(self.app)
        return lane  # type: ignore[return-value]

    def on_headers_complete(self) -> None:
        self._admitting = True
        try:
            super().on_headers_complete()
        finally:
            self._admitting = False

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if self._admitting and not self.expect_100_continue and self.limit_concurrency is None:
            lane = self._fast_lane()
            if lane is not None and not self.parser.should_upgrade():
                try:
                    admitted = lane.admit(cycle.scope)
                except Exception:  # a bug in the lane: the app serves the request
                    log.exception("fast lane: admitting %s %s failed", cycle.scope["method"], cycle.scope["path"])
                    admitted = None
                if admitted is not None:
                    self._pending = (cycle, app, admitted)
                    lane.door.in_flight += 1  # type: ignore[union-attr]  # an RPC in flight, as in the app
                    return
        super()._start_asgi_task(cycle, app)

    def _hand_over(self) -> None:
        """The held-back request to the app, as uvicorn would have started it."""
        timer, self._body_timer = self._body_timer, None
        if timer is not None:
            timer.cancel()
        pending, self._pending = self._pending, None
        if pending is not None:
            self._release()
            super()._start_asgi_task(pending[0], pending[1])

    def _release(self) -> None:
        door = self._lane.door  # type: ignore[union-attr]
        door.in_flight -= 1  # type: ignore[union-attr]  # (the app counts the request again if it serves it)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        self._release()
        timer, self._body_timer = self._body_timer, None
        if timer is not None:
            timer.cancel()
        cycle, app, admitted = pending
        lane = self._lane
        assert isinstance(lane, FastLane)
        try:
            scope = cycle.scope
            client = scope["client"]
            answer = lane.answer(
                admitted,
                bytes(cycle.body),
                cycle.keep_alive,
                self.server_state.default_headers,
                f"{client[0]}:{client[1]}" if client else None,
                scope["state"],
            )
        except Exception:  # a bug in the lane: the app serves the request
            log.exception("fast lane: answering %s %s failed", cycle.scope["method"], cycle.scope["path"])
            answer = None
        if answer is None:
            super()._start_asgi_task(cycle, app)
            return
        cycle.response_started = cycle.response_complete = True
        transport = self.transport
        if isinstance(transport, CoalescingTransport):
            transport.write_whole(answer)
        else:
            transport.write(answer)
        if not cycle.keep_alive:
            transport.close()
        self.on_response_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._pending is not None:  # the body is still arriving
            if self.transport.is_closing():
                self._hand_over()  # (a bad request after the head: the app's task sees the disconnect)
            elif self._body_timer is None:
                self._body_timer = self.loop.call_later(BODY_WAIT, self._hand_over)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._pending is not None:
            self._hand_over()  # the app records the hang-up (499), as for any request it was reading
        super().connection_lost(exc)
