"""Operations: `GET /healthz` (open, for probes) and `GET /metrics` (Prometheus; behind the keys when
keys are configured — Prometheus sends them as `authorization: Bearer`)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from vertexmeter.server.errors import JSONResponse
from vertexmeter.server.guard import health
from vertexmeter.server.openapi import error_responses
from vertexmeter.server.state import server_state


def ops_router() -> APIRouter:
    router = APIRouter(tags=["Operations"])

    @router.get(
        "/healthz",
        response_class=JSONResponse,
        operation_id="healthz",
        summary="Liveness and readiness",
        responses={
            200: {
                "description": "The server is up and its tokenizers are loaded.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "string", "enum": ["ok"]},
                                "version": {"type": "string"},
                                "executor": {"type": "string"},
                                "workers": {"type": "integer"},
                            },
                            "required": ["status"],
                            "additionalProperties": False,
                        }
                    }
                },
            }
        },
    )
    async def healthz(request: Request) -> Response:
        return JSONResponse(health(server_state(request).pool))

    @router.get(
        "/metrics",
        operation_id="metrics",
        response_class=PlainTextResponse,
        summary="Prometheus metrics (text exposition format)",
        responses={
            200: {"description": "Requests, latency and tokens counted.", "content": {"text/plain": {}}},
            **error_responses("401", "403"),
        },
    )
    async def metrics(request: Request) -> Response:
        state = server_state(request)
        state.keys.check(request)
        return Response(state.metrics.render(), media_type=state.metrics.content_type)

    return router
