"""Routes of the web page: `GET /` (the page), `/web/static/*` (its assets), `/web/api/models` (what the
model picker lists), and offline `/docs` (Swagger UI from the `fastapi-offline` wheel). No ReDoc: its
bundle loads a logo from cdn.redoc.ly, whatever the options say.

The page's own routes are left out of the OpenAPI schema: they serve a browser, not API clients. This
module reads the server's state duck-typed from `request.app.state.vertexmeter` (auth on or off) so that
`vertexmeter.web` does not import `vertexmeter.server`, which registers it.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

import vertexmeter
from vertexmeter.errors import VertexMeterError
from vertexmeter.registry import all_models

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
    from vertexmeter.pricing.catalogue import MODES  # loaded on first use, like the top-level package does

    return {
        "version": vertexmeter.__version__,
        "authRequired": auth_required,
        "today": dt.datetime.now(dt.UTC).date().isoformat(),
        "modes": list(MODES),
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
