"""Routes of the web page: `GET /` (the page), `/web/static/*` (its assets), `/web/api/models` (what the
model picker lists), `/web/api/batch` (a batch JSONL through the batch engine, progress streamed), and
offline `/docs` (Swagger UI from the `fastapi-offline` wheel). No ReDoc: its bundle loads a logo from
cdn.redoc.ly, whatever the options say.

The page's own routes are left out of the OpenAPI schema (they serve a browser), except the batch route,
which scripts may call too: the server's OpenAPI document describes it (`server/openapi.py`). This
module reads the server's state duck-typed from `request.app.state.vertexmeter` (keys, limits) so that
`vertexmeter.web` does not import `vertexmeter.server`, which registers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import multiprocessing
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

import vertexmeter
from vertexmeter.errors import VertexMeterError, invalid_argument
from vertexmeter.registry import all_models
from vertexmeter.vocabulary import MODES

STATIC_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
DOCS_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
# The page: nothing inline, nothing from another origin. `blob:`/`data:` are the page's own previews.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# FastAPI's Swagger UI page starts with an inline script.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
NO_CACHE = {"Cache-Control": "no-cache"}
BATCH_PARAMETERS = ("model", "api", "mode", "date", "outputTokens", "name")
DOCS_TITLE = "vertexmeter token server"


def _static_text(name: str) -> bytes:
    return resources.files("vertexmeter.web").joinpath("static", name).read_bytes()


@cache
def _docs_assets_dir() -> Path:
    import fastapi_offline  # the `server` extra: the Swagger UI bundle without a CDN

    return Path(fastapi_offline.__file__).parent / "static"


def _not_found(path: str) -> Response:
    error = VertexMeterError("NOT_FOUND", f"The requested URL {path} was not found on this server.")
    return JSONResponse(error.to_json(), status_code=404)


def models_listing(auth_required: bool) -> dict[str, Any]:
    """What the page's pickers need: every registry model with its aliases and limits."""

    return {
        "version": vertexmeter.__version__,
        "authRequired": auth_required,
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
        "modes": list(MODES),
        "batch": True,
        "models": [
            {
                "id": m.id,
                "aliases": list(m.aliases),
                "generation": m.generation,
                "inputTokenLimit": m.input_token_limit,
                "outputTokenLimit": m.output_token_limit,
                "modalities": list(m.modalities),
                "billedBy": m.billed_by,
                "legacy": m.is_legacy,
                "instanceSchema": m.instance_schema,  # legacy models take `instances` of this shape
            }
            for m in all_models()
        ],
    }


def _batch_options(request: Request) -> dict[str, Any]:
    query = request.query_params
    for name in query:
        if name not in BATCH_PARAMETERS and name != "key":
            raise invalid_argument(f"Unknown query parameter {name!r}; known: {', '.join(BATCH_PARAMETERS)}.", name)
    output = query.get("outputTokens")
    if output is not None and not (output.isascii() and output.isdigit()):  # "²".isdigit(), but int() refuses it
        raise invalid_argument(f"outputTokens must be a whole number, got {output!r}.", "outputTokens")
    return {
        "model": query.get("model") or None,
        "api": query.get("api", "vertex"),
        "mode": query.get("mode", "batch"),
        "as_of": query.get("date") or None,
        "output_tokens": int(output) if output is not None else None,
    }


async def run_batch(request: Request) -> Response:
    """Upload a batch JSONL, run the batch engine on it, stream NDJSON: {"done","total"}… then {"summary"}.

    The RPC routes' rules: keys, then a place among at most `large_workers` batch jobs (503 before the body
    is read), the body with the cap and timeouts, then one quota unit per request line (429), then the job
    in a process of its own, stopped (killed) at the request deadline, when the client hangs up, or when
    the server shuts down.
    """
    state = request.app.state.vertexmeter
    caller = state.keys.check(request)  # the API's own keys (401 / 403 in Google's shape)
    options = _batch_options(request)
    name = request.query_params.get("name") or "upload.jsonl"
    loop = asyncio.get_running_loop()
    deadline = loop.time() + state.config.request_deadline
    state.admit_batch()
    try:
        upload = _Upload(state)
    except BaseException:
        state.release_batch()
        raise
    try:
        with upload.file() as sink:
            await state.receive_body(request, sink.write)
        job = upload.start({**options, "media_options": state.media}, name)
        first = await job.next_message(deadline, state, request)
        total = 0
        if first is not _GONE and "error" not in first:
            state.charge_lines(request, caller.key_id, int(first["lines"]))
            total = int(first["lines"])
            job.go()
            first = await job.next_message(deadline, state, request)
        if first is _GONE:
            upload.end()
            return Response(status_code=CLIENT_CLOSED)  # nobody to answer: for the access log and metrics
        if "error" in first:  # refused before any line ran (bad mode, date, output tokens), or stopped
            upload.end()
            return JSONResponse(first, status_code=int(first["error"]["code"]))
    except BaseException:
        upload.end()
        raise
    return _JobResponse(
        _stream(job, first, total, deadline, state, upload.end),
        upload.end,
        media_type="application/x-ndjson",
        headers=NO_CACHE,
    )


async def _stream(
    job: _BatchProcess, first: dict[str, Any], total: int, deadline: float, state: Any, end: Callable[[], None]
) -> AsyncIterator[bytes]:
    """The job's messages as NDJSON lines, up to its summary or error (a hang-up cancels this)."""
    yield json.dumps({"done": 0, "total": total}).encode() + b"\n"
    item = first
    while True:
        yield json.dumps(item).encode() + b"\n"
        if "summary" in item or "error" in item:
            # Free the job's place before the answer's last chunk: a client that sends its next upload as
            # soon as this one ends must find the place free (else it got a spurious 503).
            end()
            return
        item = await job.next_message(deadline, state)


class _JobResponse(StreamingResponse):
    """A streamed answer that ends its job however the stream ends: done, hang-up (cancelled), shutdown."""

    def __init__(self, content: AsyncIterator[bytes], end: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._end = end

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._end()


class _Upload:
    """One batch upload's resources: its place among the batch jobs, its temporary file, its process."""

    def __init__(self, state: Any) -> None:
        self.state = state
        self.handle, self.path = tempfile.mkstemp(prefix="vertexmeter-web-batch-", suffix=".jsonl")
        self.job: _BatchProcess | None = None
        self.ended = False

    def file(self) -> IO[bytes]:
        """The temporary file, open for writing; it owns the descriptor from here on."""
        handle, self.handle = self.handle, -1
        return os.fdopen(handle, "wb")

    def start(self, options: dict[str, Any], name: str) -> _BatchProcess:
        self.job = _BatchProcess(self.path, options, name)
        return self.job

    def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.job is not None:
            self.job.stop()
        if self.handle >= 0:  # never handed to `file()` (a closed number may be another file's by now)
            os.close(self.handle)
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        self.state.release_batch()


CLIENT_CLOSED = 499  # the client hung up: nothing is sent (as the RPC routes record it)
_GONE: dict[str, Any] = {}  # next_message: the client hung up before the answer started


_POLL_SECONDS = 0.05


class _BatchProcess:
    """`vertexmeter.batch.run_piped` in a process of its own: killed, not waited for, when the job must stop."""

    def __init__(self, path: str, options: dict[str, Any], name: str) -> None:
        from vertexmeter.batch import run_piped  # the batch engine loads pricing on first use

        context = multiprocessing.get_context("spawn")  # forking a process with threads is unsafe
        self.conn, child = context.Pipe(duplex=True)
        self.process = context.Process(
            target=run_piped, args=(child, path, options, name), daemon=True, name="vertexmeter-web-batch"
        )
        self.process.start()
        child.close()

    def go(self) -> None:
        self.conn.send("go")

    async def next_message(self, deadline: float, state: Any, request: Request | None = None) -> dict[str, Any]:
        """The job's next message; Google's error shape when the deadline passes, the server shuts down, or
        the process ends without a word; `_GONE` when `request`'s client hangs up first (while streaming,
        a hang-up cancels the stream instead)."""
        loop = asyncio.get_running_loop()
        polls = 0
        while not self.conn.poll():
            polls += 1
            if request is not None and polls % 10 == 0 and await request.is_disconnected():
                return _GONE
            if loop.time() >= deadline:
                return _error_body("DEADLINE_EXCEEDED", DEADLINE.format(seconds=state.config.request_deadline))
            if state.shutting_down.is_set():
                return _error_body("UNAVAILABLE", SHUTTING_DOWN)
            if not self.process.is_alive() and not self.conn.poll():
                return _error_body("INTERNAL", "The batch job stopped unexpectedly; the file was not counted.")
            await asyncio.sleep(_POLL_SECONDS)
        try:
            message: dict[str, Any] = self.conn.recv()
        except (EOFError, OSError):
            return _error_body("INTERNAL", "The batch job stopped unexpectedly; the file was not counted.")
        return message

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(timeout=2)
        with contextlib.suppress(Exception):
            self.conn.close()


DEADLINE = "Deadline exceeded: the request was not answered within {seconds:g} s."
SHUTTING_DOWN = "The service is currently unavailable: the server is shutting down. Run the batch again."


def _error_body(status: str, message: str) -> dict[str, Any]:
    return VertexMeterError(status, message).to_json()


def _auth_required(request: Request) -> bool:
    state = getattr(request.app.state, "vertexmeter", None)
    return bool(state is not None and state.config.auth_enabled)


def web_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    async def page() -> Response:
        return Response(
            _static_text("index.html"),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": PAGE_CSP, **NO_CACHE},
        )

    @router.get("/web/static/{name}")
    async def static(name: str, request: Request) -> Response:
        if name not in STATIC_TYPES:
            return _not_found(request.url.path)
        return Response(_static_text(name), media_type=STATIC_TYPES[name], headers=NO_CACHE)

    @router.get("/web/api/models")
    async def models(request: Request) -> Response:
        return JSONResponse(models_listing(_auth_required(request)))

    router.add_api_route("/web/api/batch", run_batch, methods=["POST"])

    @router.get("/web/docs-assets/{name}")
    async def docs_asset(name: str, request: Request) -> Response:
        if name not in DOCS_ASSET_TYPES:
            return _not_found(request.url.path)
        body = (_docs_assets_dir() / name).read_bytes()
        return Response(body, media_type=DOCS_ASSET_TYPES[name], headers={"Cache-Control": "max-age=86400"})

    @router.get("/docs", response_class=HTMLResponse)
    async def swagger_ui(request: Request) -> Response:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{DOCS_TITLE} - Swagger UI",
            oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
            swagger_js_url=f"{root}/web/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/web/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/web/docs-assets/favicon.png",
            # Swagger UI would otherwise send the schema to validator.swagger.io for its badge.
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
    async def swagger_ui_redirect() -> Response:
        return get_swagger_ui_oauth2_redirect_html()

    return router
