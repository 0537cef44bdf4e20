"""Structured access logs and request metrics, as one ASGI middleware.

One JSON line per request: method, path (never the query string, which may hold `?key=`), route
template, status, duration, sizes, client, request id and the model counted. No headers and no
bodies are logged, so no key, token or prompt text reaches the log.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vertexmeter.server.metrics import Metrics

access_log = logging.getLogger("vertexmeter.server.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MAX_LOGGED_PATH = 300


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...fields}` — `fields` come from `extra={"fields": {...}}`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


JsonFormatter.converter = time.gmtime  # type: ignore[assignment]


QUERY_KEY = "vertexmeter.query_key"


def hide_query_key(scope: Scope) -> None:
    """Move `?key=` out of the query string (into the scope, for the key checker), so that no logger —
    ours, or uvicorn's access log when someone embeds the app with it on — ever sees the key."""
    query: bytes = scope.get("query_string") or b""
    if b"key=" not in query:
        return
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    keys = [value for name, value in pairs if name == "key"]
    if keys:
        scope[QUERY_KEY] = keys[0]
        scope["query_string"] = urlencode([(n, "REDACTED" if n == "key" else v) for n, v in pairs]).encode("latin-1")


def route_name(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class AccessMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        hide_query_key(scope)
        headers = dict(scope.get("headers") or [])
        given_id = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex
        status = 500
        sent = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("ascii"))]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - start
            route = route_name(scope)
            self.metrics.observe(route, scope["method"], status, elapsed)
            if self.log_requests:
                self._log(scope, headers, route, status, elapsed, sent, request_id)

    @staticmethod
    def _log(
        scope: Scope, headers: dict[bytes, bytes], route: str, status: int, elapsed: float, sent: int, request_id: str
    ) -> None:
        path = scope.get("path", "")
        length = headers.get(b"content-length", b"")
        client = scope.get("client")
        state = scope.get("state") or {}
        fields: dict[str, Any] = {
            "event": "access",
            "method": scope["method"],
            "path": path if len(path) <= _MAX_LOGGED_PATH else path[:_MAX_LOGGED_PATH] + "...",
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "bytes_in": int(length) if length.isdigit() else None,
            "bytes_out": sent,
            "client": f"{client[0]}:{client[1]}" if client else None,
            "request_id": request_id,
        }
        model = state.get("model") if isinstance(state, dict) else None
        if model:
            fields["model"] = model
        access_log.info("%s %s %s", scope["method"], fields["path"], status, extra={"fields": fields})
