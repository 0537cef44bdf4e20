"""Structured access logs (written by the middleware in `door`, with the request metrics).

One JSON line per request: method, path (never the query string, which may hold `?key=`), route
template, status, duration, sizes, client, request id and the model counted. No headers and no
bodies are logged, so no key, token or prompt text reaches the log.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from json.encoder import encode_basestring
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.types import Scope

access_log = logging.getLogger("vertexmeter.server.access")
_MAX_LOGGED_PATH = 300


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", ...fields}` — `fields` come from `extra={"fields": {...}}`."""

    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # strftime once a second, not once a line
            self._stamp, self._second = self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), second
        line: dict[str, Any] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
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


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes its lines in blocks: one write per line (a system call, with its
    flush) costs more than serving a small request. Lines are written once `max_lines` are held, or at
    most `interval` seconds after the first of them (a daemon thread), and on `flush()` / `close()` (the
    server flushes at the end of its lifespan; `logging.shutdown` at exit)."""

    def __init__(self, stream: Any = None, max_lines: int = 256, interval: float = 0.2) -> None:
        super().__init__(stream)
        self.max_lines = max_lines
        self.interval = interval
        self._lines: list[str | AccessEntry] = []
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self._hold(line)  # under the handler's lock (Handler.handle)

    def emit_access(self, entry: AccessEntry) -> None:
        """An access line's fields, formatted when the block is written (`format_access`: the line the
        JsonFormatter makes of the record `log_access` would make)."""
        with self.lock:  # type: ignore[union-attr]
            self._hold(entry)

    def _hold(self, line: str | AccessEntry) -> None:
        self._lines.append(line)
        if len(self._lines) >= self.max_lines:
            self._write()
        elif len(self._lines) == 1:
            self._start()
            self._wake.set()

    def _write(self) -> None:
        lines, self._lines = self._lines, []
        if lines:
            try:
                text = "\n".join(line if isinstance(line, str) else format_access(line) for line in lines)
                self.stream.write(text + "\n")
                self.stream.flush()
            except Exception:
                logging.Handler.handleError(self, logging.makeLogRecord({"msg": "access log write failed"}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush()
        super().close()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._flusher, name="vertexmeter-access-log", daemon=True)
            self._thread.start()

    def _flusher(self) -> None:
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.interval)  # let a block gather
            self.flush()


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


# (created, method, path, route, status, duration_ms, bytes_in, bytes_out, client, request_id, model)
AccessEntry = tuple[float, str, str, str, int, float, int | None, int, str | None, str, str | None]


def log_access(
    scope: Scope, headers: dict[bytes, bytes], route: str, status: int, elapsed: float, sent: int, request_id: str
) -> None:
    """One access line (the front door and the fast lane call it once per request)."""
    if not access_log.isEnabledFor(logging.INFO):
        return
    logged = logged_path(scope.get("path", ""))
    method = scope["method"]
    length = headers.get(b"content-length", b"")
    client = scope.get("client")
    state = scope.get("state") or {}
    model = state.get("model") if isinstance(state, dict) else None
    entry: AccessEntry = (
        time.time(),
        method,
        logged,
        route,
        status,
        round(elapsed * 1000, 3),
        int(length) if length.isdigit() else None,
        sent,
        f"{client[0]}:{client[1]}" if client else None,
        request_id,
        model or None,
    )
    log_entry(entry)


def logged_path(path: str) -> str:
    """A path as the access log shows it (a long one cut short)."""
    return path if len(path) <= _MAX_LOGGED_PATH else path[:_MAX_LOGGED_PATH] + "..."


def log_entry(entry: AccessEntry) -> None:
    """An access line from its fields (the caller has checked that the logger takes INFO)."""
    handler = _block_handler()
    if handler is not None:
        handler.emit_access(entry)  # formatted with its block, off the request's path
        return
    created, method, logged, route, status, duration, bytes_in, sent, client, request_id, model = entry
    fields: dict[str, Any] = {
        "event": "access",
        "method": method,
        "path": logged,
        "route": route,
        "status": status,
        "duration_ms": duration,
        "bytes_in": bytes_in,
        "bytes_out": sent,
        "client": client,
        "request_id": request_id,
    }
    if model:
        fields["model"] = model
    # A record made here, not by `access_log.info`: the logger would look up the caller's frame and
    # file for every line, which costs more than the rest of the line.
    record = logging.LogRecord(access_log.name, logging.INFO, "", 0, "%s %s %s", (method, logged, status), None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0  # (as LogRecord computes it)
    record.fields = fields
    access_log.handle(record)


def _block_handler() -> BufferedStreamHandler | None:
    """The access logger's one handler when it is `vertexmeter serve`'s own (a BufferedStreamHandler with the
    JsonFormatter, nothing else listening, no filters): its lines can be formatted when written."""
    handlers = access_log.handlers
    if len(handlers) != 1 or access_log.propagate or access_log.filters:
        return None
    handler = handlers[0]
    if type(handler) is not BufferedStreamHandler or type(handler.formatter) is not JsonFormatter:
        return None
    if handler.filters or handler.level > logging.INFO:
        return None
    return handler


_LOGGER_NAME = encode_basestring(access_log.name)
_MAX_KNOWN = 4096  # entries remembered (clients repeat a few paths and models; a flood starts afresh)
_encoded: dict[str, str] = {}
_middles: dict[tuple[str, str, str, int], str] = {}
_stamp: tuple[int, str] = (-1, "")


def _encode(text: str) -> str:
    """`encode_basestring(text)`, remembered: clients and models repeat."""
    known = _encoded.get(text)
    if known is None:
        if len(_encoded) >= _MAX_KNOWN:
            _encoded.clear()
        known = _encoded[text] = encode_basestring(text)
    return known


def _middle(method: str, path: str, route: str, status: int) -> str:
    """The fields from "message" to "status", remembered: a server answers a few (method, path, status)."""
    key = (method, path, route, status)
    known = _middles.get(key)
    if known is None:
        if len(_middles) >= _MAX_KNOWN:
            _middles.clear()
        known = _middles[key] = (
            f'"message": {encode_basestring(f"{method} {path} {status}")}, "event": "access", '
            f'"method": {encode_basestring(method)}, "path": {encode_basestring(path)}, '
            f'"route": {encode_basestring(route)}, "status": {int(status)!r}, '
        )
    return known


def format_access(entry: AccessEntry) -> str:
    """The line JsonFormatter writes for `log_access`'s record of `entry`, built directly (json.dumps of a
    dict of ten fields costs more than the rest of a small request)."""
    global _stamp
    created, method, path, route, status, duration, bytes_in, bytes_out, client, request_id, model = entry
    second = int(created)
    if second != _stamp[0]:  # strftime once a second, not once a line
        _stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)))
    line = (
        f'{{"ts": "{_stamp[1]}.{int((created - second) * 1000):03d}Z", "level": "info", "logger": {_LOGGER_NAME}, '
        f'{_middle(method, path, route, status)}"duration_ms": {float(duration)!r}, '
        f'"bytes_in": {"null" if bytes_in is None else repr(int(bytes_in))}, "bytes_out": {int(bytes_out)!r}, '
        f'"client": {"null" if client is None else _encode(client)}, '
        f'"request_id": {encode_basestring(request_id)}'
    )
    if model:
        return line + f', "model": {_encode(model)}}}'
    return line + "}"
