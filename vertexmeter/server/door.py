"""The one middleware every request passes: hygiene, the access log and metrics, and the RPC fast path.

In order, for every HTTP request:

* `?key=` is taken out of the query string before anything can log it (`access.hide_query_key`);
* what a web page the user visits could send is refused (`guard.host_refusal`, `guard.browser_refusal`),
  every answer is marked `nosniff` and carries an `x-request-id`;
* `GET /healthz` is answered here, on the event loop, before any routing or limit;
* RPCs past `max_concurrency` are refused with 503 UNAVAILABLE;
* a POST to a countTokens / computeTokens / estimateCost / usageMetadata path goes straight to its
  handler (`routes.rpc`), without FastAPI's routing, dependency solving and exception middleware, which
  cost more than counting a small request; its refusals are rendered as the app's exception handlers
  render them. Everything else goes to the FastAPI app;
* a client that hung up is recorded as 499, a request cancelled by a shutdown past its timeout is
  answered 503 in Google's shape (uvicorn would send a plain-text 500);
* one access-log line and the request metrics, whatever happened.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vertexmeter.errors import VertexMeterError
from vertexmeter.server.access import hide_query_key, log_access, route_name
from vertexmeter.server.errors import SHUTTING_DOWN, ApiError, canonical
from vertexmeter.server.guard import (
    CLIENT_CLOSED,
    CROSS_ORIGIN,
    NOSNIFF,
    OVERLOADED,
    ClientGone,
    browser_refusal,
    health,
    host_refusal,
    send_error,
    send_json,
)

log = logging.getLogger("vertexmeter.server")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SKIP_LIMIT = frozenset({"/healthz", "/metrics"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RPC_ATTRIBUTE = "rpc_spec"  # set on an RPC handler (routes.rpc); marks the routes the fast path serves

Handler = Callable[[Request], Awaitable[Response]]


class _Route:
    path = "/healthz"


_HEALTHZ = _Route()


class RpcTable:
    """RPC routes by the `:method` their path ends with, in the app's order (the first full match wins, as
    in Starlette's own matching: POST is their only method, and nothing else the app serves by POST ends
    in `:countTokens`, `:computeTokens`, `:estimateCost` or `:usageMetadata`)."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self._by_method: dict[str, list[APIRoute]] = {}
        for route in routes:
            if isinstance(route, APIRoute) and getattr(route.endpoint, RPC_ATTRIBUTE, None) is not None:
                method = route.path.rpartition(":")[2]
                self._by_method.setdefault(method, []).append(route)

    def __len__(self) -> int:
        return sum(len(routes) for routes in self._by_method.values())

    def methods(self) -> list[str]:
        """The `:method` names of the routes (countTokens, computeTokens, ...)."""
        return list(self._by_method)

    def match(self, path: str) -> tuple[APIRoute, dict[str, Any]] | None:
        _, colon, method = path.rpartition(":")
        if not colon:
            return None
        for route in self._by_method.get(method, ()):
            found = route.path_regex.match(path)
            if found is not None:
                convert = route.param_convertors
                return route, {name: convert[name].convert(value) for name, value in found.groupdict().items()}
        return None


class RequestIds:
    """New request ids (32 hex digits, from os.urandom), drawn in blocks: a system call per request costs
    more than the rest of a small request's bookkeeping."""

    _BLOCK = 128

    def __init__(self) -> None:
        self._ids: list[bytes] = []

    def new(self) -> bytes:
        ids = self._ids
        while True:  # (servers in threads of one process share the block: pop is atomic, the check is not)
            try:
                return ids.pop()
            except IndexError:
                block = os.urandom(16 * self._BLOCK).hex().encode()
                ids.extend(block[i : i + 32] for i in range(0, len(block), 32))


new_request_id = RequestIds().new


class FrontDoor:
    def __init__(self, app: ASGIApp, state: Any, rpc: RpcTable) -> None:
        self.app = app
        self.state = state  # ServerState (typed loosely: state imports the routes' modules)
        self.rpc = rpc
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        hide_query_key(scope)
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"")
        request_id = given if given and _REQUEST_ID.match(given.decode("latin-1")) else new_request_id()
        added = (NOSNIFF, (b"x-request-id", request_id))
        status = 0  # none sent yet
        sent = 0

        async def tracking_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *added]}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self._serve(scope, receive, tracking_send, headers, lambda: status)
        finally:
            if scope.get("vertexmeter.client_gone"):
                status = CLIENT_CLOSED  # nothing reached the client; the status is for the log and metrics
            status = status or 500  # an exception left the app before an answer (uvicorn sends the 500)
            elapsed = time.perf_counter() - start
            route = route_name(scope)
            self.state.metrics.observe(route, scope["method"], status, elapsed)
            if self.state.config.access_log:
                log_access(scope, headers, route, status, elapsed, sent, request_id.decode("latin-1"))

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, bytes], status: Callable[[], int]
    ) -> None:
        method = scope["method"]
        path = scope["path"]
        host = headers.get(b"host", b"").decode("latin-1")
        config = self.state.config
        refusal = host_refusal(host, config.allowed_hosts, self.state.loopback_bind) if host else None
        if refusal is None and method not in _SAFE_METHODS:
            refusal = browser_refusal(headers, host)
        if refusal is not None:
            cross = refusal == CROSS_ORIGIN
            code, reason = (403, "PERMISSION_DENIED") if cross else (400, "INVALID_ARGUMENT")
            await send_error(send, code, reason, refusal, [])
            return
        if path == "/healthz" and method in ("GET", "HEAD"):
            scope["route"] = _HEALTHZ  # the access log and metrics name the route as for any other
            await send_json(send, 200, json.dumps(health(self.state.pool)).encode(), [])
            return
        limited = path not in _SKIP_LIMIT
        if limited and self.in_flight >= config.max_concurrency:
            await send_error(send, 503, "UNAVAILABLE", OVERLOADED, [(b"retry-after", b"1"), (b"connection", b"close")])
            return
        if limited:
            self.in_flight += 1
        try:
            found = self.rpc.match(path) if method == "POST" else None
            if found is not None:
                await self._call_rpc(found[0], found[1], scope, receive, send)
            else:
                await self.app(scope, receive, send)
        except ClientGone:
            scope["vertexmeter.client_gone"] = True
        except asyncio.CancelledError:
            # uvicorn cancels requests still running when --shutdown-timeout is over; answer in
            # Google's shape (uvicorn would send a plain-text 500) and end the request quietly.
            if not status():
                await send_error(send, 503, "UNAVAILABLE", SHUTTING_DOWN, [(b"connection", b"close")])
            log.warning("request cancelled at shutdown: %s %s", method, path)
        finally:
            if limited:
                self.in_flight -= 1

    async def _call_rpc(
        self, route: APIRoute, params: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["route"] = route
        scope["path_params"] = params
        scope["endpoint"] = route.endpoint
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request)
        except ApiError as exc:
            response = exc.response()
        except VertexMeterError as exc:
            response = ApiError.from_core(exc).response()
        except ClientGone:
            scope["vertexmeter.client_gone"] = True
            return  # nothing reaches a client that hung up
        except Exception:
            log.exception("internal error while serving %s %s", scope["method"], scope["path"])
            response = canonical("INTERNAL", "Internal error encountered.").response()
        # What `Response.__call__` sends for a body held whole (these handlers answer no other kind).
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})
