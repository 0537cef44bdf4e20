"""The ASGI app: Vertex AI and Gemini API token routes, operations routes, Google-shaped errors."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

import vertexmeter
from vertexmeter.server.access import access_log
from vertexmeter.server.config import ServerConfig
from vertexmeter.server.door import FrontDoor, RpcTable
from vertexmeter.server.errors import JSONResponse, install_handlers
from vertexmeter.server.fastlane import FastLane
from vertexmeter.server.guard import CLIENT_CLOSED, ClientGone
from vertexmeter.server.openapi import all_component_schemas, web_batch_paths
from vertexmeter.server.routes.gemini import gemini_router
from vertexmeter.server.routes.models import models_router
from vertexmeter.server.routes.ops import ops_router
from vertexmeter.server.routes.vertex import vertex_router
from vertexmeter.server.state import ServerState
from vertexmeter.web import web_router

log = logging.getLogger("vertexmeter.server")

DESCRIPTION = """\
Offline, exact `countTokens` / `computeTokens` for Vertex AI and the Gemini Developer API, on the
same paths and with the same JSON as Google's services, so the official SDKs work unchanged with
`base_url` pointed here. Errors are Google's `{"error": {code, message, status, details}}`.
"""


def create_app(config: ServerConfig | None = None) -> FastAPI:
    config = config or ServerConfig()
    state = ServerState.build(config)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.pool.start()
        await state.large.start()
        # The web page's batch route imports the batch engine (~70 ms) on its first upload: done here,
        # before the port opens, not on the event loop while other requests wait.
        from vertexmeter.batch import estimate_batch  # noqa: F401

        log.info(
            "vertexmeter serve ready",
            extra={
                "fields": {
                    "event": "startup",
                    "executor": config.executor,
                    "workers": config.workers,
                    "auth": "keys" if config.auth_enabled else "off",
                    "keys": len(config.api_keys),
                    "quota_rpm": config.quota_rpm,
                    "max_body_bytes": config.max_body_bytes,
                    "large_workers": config.large_workers,
                    "large_request_bytes": config.large_request_bytes,
                    "max_text_chars": config.max_text_chars,
                    "request_deadline": config.request_deadline,
                    "max_concurrency": config.max_concurrency,
                }
            },
        )
        try:
            yield
        finally:
            state.large.close()
            state.pool.close()
            for handler in access_log.handlers:  # buffered lines out before the process ends
                handler.flush()

    app = FastAPI(
        title="vertexmeter token server",
        version=vertexmeter.__version__,
        description=DESCRIPTION,
        default_response_class=JSONResponse,
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: the web router serves them offline
        redoc_url=None,
        # FastAPI's OpenTelemetry hooks look up the global providers on every request; this server has
        # its own metrics (/metrics) and logs. (Older FastAPI keeps unknown settings in `extra`.)
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.vertexmeter = state
    rpc_routers = (vertex_router(), gemini_router())
    for router in rpc_routers:
        app.include_router(router)
    app.include_router(models_router())
    app.include_router(ops_router())
    app.include_router(web_router())
    install_handlers(app)

    @app.exception_handler(ClientGone)
    async def _client_gone(request: Request, exc: ClientGone) -> Response:
        # Nothing reaches a client that hung up; the status is for the access log and metrics only.
        return Response(status_code=CLIENT_CLOSED)

    # One middleware (door.py) for hygiene, logs, metrics and the RPCs' fast path, outside the stack
    # Starlette and FastAPI build (error middleware, telemetry, body limit, exception middleware,
    # router): each layer costs, and the fast path handles its own errors.
    rpc = RpcTable(route for router in rpc_routers for route in router.routes)
    # Small RPCs are answered below ASGI, by the HTTP protocol (fastlane.py), when it finds this lane.
    lane = app.state.vertexmeter_fast_lane = FastLane(state, rpc)
    build_stack = app.build_middleware_stack

    def build_with_door() -> ASGIApp:
        door = lane.door = FrontDoor(build_stack(), state=state, rpc=rpc)
        return door

    app.build_middleware_stack = build_with_door  # type: ignore[method-assign]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(all_component_schemas())
            schema.setdefault("paths", {}).update(web_batch_paths())  # a web route, served outside the API routers
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
