"""Routes of the web page: `GET /` (the page), `/web/static/*` (its assets), `/web/api/models` (what the
model picker lists), `/web/api/batch` (a batch JSONL through the batch engine, progress streamed), and
offline `/docs` (Swagger UI from the `fastapi-offline` wheel). No ReDoc: its bundle loads a logo from
cdn.redoc.ly, whatever the options say.

The page's own routes are left out of the OpenAPI schema: they serve a browser, not API clients. This
module reads the server's state duck-typed from `request.app.state.vertexmeter` (keys, limits) so that
`vertexmeter.web` does not import `vertexmeter.server`, which registers it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

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
BATCH_PROGRESS_STEPS = 50  # progress lines per batch at most (the engine reports whole chunks)
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


class _ResultCounter(io.StringIO):
    """The batch engine's results stream, read only for progress: each result is one line (not kept)."""

    def __init__(self, on_lines: Callable[[int], None]) -> None:
        super().__init__()
        self.lines = 0
        self._on_lines = on_lines

    def write(self, text: str) -> int:
        self.lines += text.count("\n")
        self._on_lines(self.lines)
        return len(text)


def _batch_options(request: Request) -> dict[str, Any]:
    query = request.query_params
    for name in query:
        if name not in BATCH_PARAMETERS and name != "key":
            raise invalid_argument(f"Unknown query parameter {name!r}; known: {', '.join(BATCH_PARAMETERS)}.", name)
    output = query.get("outputTokens")
    if output is not None and not output.isdigit():
        raise invalid_argument(f"outputTokens must be a whole number, got {output!r}.", "outputTokens")
    return {
        "model": query.get("model") or None,
        "api": query.get("api", "vertex"),
        "mode": query.get("mode", "batch"),
        "as_of": query.get("date") or None,
        "output_tokens": int(output) if output is not None else None,
    }


async def _save_upload(request: Request, limit: int) -> tuple[str, int]:
    """The body into a temporary .jsonl file (the engine reads files), refused past `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # refused before a byte is read
        raise _TooLarge(limit)
    handle, path = tempfile.mkstemp(prefix="vertexmeter-web-batch-", suffix=".jsonl")
    size = 0
    try:
        with os.fdopen(handle, "wb") as sink:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise _TooLarge(limit)
                sink.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path, size


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def _count_lines(path: str) -> int:
    with open(path, "rb") as data:
        return sum(1 for line in data if line.strip())


async def run_batch(request: Request) -> Response:
    """Upload a batch JSONL, run the batch engine on it, stream NDJSON: {"done","total"}… then {"summary"}."""
    from vertexmeter.batch import estimate_batch  # the batch engine loads pricing and its workers on first use

    state = request.app.state.vertexmeter
    state.keys.check(request)  # the API's own keys (401 / 403 in Google's shape)
    options = _batch_options(request)
    name = request.query_params.get("name") or "upload.jsonl"
    limit = int(state.config.max_body_bytes)
    try:
        path, _ = await _save_upload(request, limit)
    except _TooLarge as too_large:
        message = f"Request payload size exceeds the limit: {too_large.limit} bytes."
        error = VertexMeterError("INVALID_ARGUMENT", message)
        body = error.to_json()
        body["error"]["code"] = 413
        return JSONResponse(body, status_code=413)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    total = await loop.run_in_executor(None, _count_lines, path)  # off the event loop: uploads reach the body cap
    step = max(1, total // BATCH_PROGRESS_STEPS)

    def report(done: int) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, {"done": done, "total": total})

    def work() -> None:
        try:
            result = estimate_batch(
                path, options["model"], api=options["api"], mode=options["mode"], as_of=options["as_of"],
                output_tokens=options["output_tokens"], output=_ResultCounter(report), workers=1,
                chunk_lines=step, media_options=state.media,
            )
            summary = result.summary()
            summary["run"]["inputs"] = [name]
            loop.call_soon_threadsafe(queue.put_nowait, {"summary": summary})
        except VertexMeterError as error:
            loop.call_soon_threadsafe(queue.put_nowait, error.to_json())
        finally:
            os.unlink(path)
            loop.call_soon_threadsafe(queue.put_nowait, None)

    job = loop.run_in_executor(None, work)
    first = await queue.get()
    if first is not None and "error" in first:  # refused before any line ran (bad model, mode, date)
        await job
        return JSONResponse(first, status_code=int(first["error"]["code"]))

    async def lines() -> AsyncIterator[bytes]:
        yield json.dumps({"done": 0, "total": total}).encode() + b"\n"
        item = first
        while item is not None:
            yield json.dumps(item).encode() + b"\n"
            item = await queue.get()
        await job

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=NO_CACHE)


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
